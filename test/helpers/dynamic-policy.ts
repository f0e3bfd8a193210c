import { randomUUID } from 'node:crypto';
import type { OutcomeStore } from '../../adapters/outcome-store/store.js';
import type { EscalationOutcome } from '../../domain/escalation.js';

/**
 * Changed files of which bob (by his handle) owns two thirds and carol (by her email) one third under
 * {@link dynamicPolicy}'s CODEOWNERS; alice owns none, though a broader rule names her.
 */
export const basketChange = ['src/basket/totals.ts', 'src/basket/rounding.ts', 'docs/basket.md'];

/**
 * A policy of dynamic gates, one per behaviour under test. Each gate's `coldStart.minHistory` says
 * whether a fresh outcome store routes (0) or runs the cold-start model (3). `fastTimeout` is the
 * routing window of the gates about timeouts and the lead tier's timeout.
 *
 * - `owner-routing`: routes on ownership, working hours, response history and load once the gate
 *   and the service have 3 ended escalations; parallel cold start before.
 * - `cold-sequential`: like `owner-routing`, with a sequential cold start.
 * - `routed`: routes at once, 10m to decide, the `team-leads` tier (lead: `lead`) in its path.
 * - `routed-timeout`: routes at once, `fastTimeout` to decide, then the fallback chain `[erin]`.
 * - `default-fallback`: routes at once, `fastTimeout` to decide, no chain of its own: the fallback
 *   asks the next-best candidates; the `team-leads` tier after them; maximum depth 3.
 * - `authored` / `authored-timeout`: mallory, the usual change author, owns the changed files and
 *   is a candidate; the second has `fastTimeout` to decide and no chain of its own.
 */
export function dynamicPolicy(options: { fastTimeout?: string } = {}): string {
  const fast = options.fastTimeout ?? '1s';
  const codeowners = `
    codeowners: |
      *             @acme/platform
      src/          @alice-gh
      src/basket/   @bob-gh
      docs/         carol@example.com`;
  const mallorysCode = `
    codeowners: |
      src/basket/   @mallory-gh`;
  return `
version: 1
defaults: { maxDepth: 3, requireComment: on-reject }
people:
  alice:   { name: Alice Adler, email: alice@example.com, handles: [alice-gh], workingHours: "Mon-Sun 00:00-24:00" }
  bob:     { name: Bob Brandt, email: bob@example.com, handles: [bob-gh] }
  carol:   { name: Carol Chen, email: carol@example.com }
  erin:    { name: Erin Eze, email: erin@example.com }
  lead:    { name: Lee Lead, email: lead@example.com }
  mallory: { name: Mallory Maker, email: mallory@example.com, handles: [mallory-gh] }
tiers:
  team-leads: { reviewers: [lead], timeout: ${fast}, lead: lead }
gates:
  owner-routing:
    model: dynamic
    candidates: [alice, bob, carol]
    routeBy: [codeowners, workingHours, responseHistory, load]
    decideWithin: 10m
    coldStart: { model: parallel, minHistory: 3 }${codeowners}
  cold-sequential:
    model: dynamic
    candidates: [alice, bob, carol]
    routeBy: [codeowners, workingHours, responseHistory, load]
    decideWithin: 10m
    coldStart: { model: sequential, minHistory: 3 }${codeowners}
  routed:
    model: dynamic
    candidates: [alice, bob, carol]
    routeBy: [codeowners, load]
    decideWithin: 10m
    coldStart: { model: parallel, minHistory: 0 }
    escalateTo: [team-leads]
    maxDepth: 2${codeowners}
  routed-timeout:
    model: dynamic
    candidates: [alice, bob, carol]
    routeBy: [codeowners]
    decideWithin: ${fast}
    coldStart: { model: parallel, minHistory: 0 }
    chain:
      - { reviewers: [erin], timeout: 10m }${codeowners}
  default-fallback:
    model: dynamic
    candidates: [alice, bob, carol]
    routeBy: [codeowners]
    decideWithin: ${fast}
    coldStart: { model: parallel, minHistory: 0 }
    escalateTo: [team-leads]
    maxDepth: 3${codeowners}
  authored:
    model: dynamic
    candidates: [mallory, alice, bob]
    routeBy: [codeowners, load]
    decideWithin: 10m
    coldStart: { model: parallel, minHistory: 0 }${mallorysCode}
  authored-timeout:
    model: dynamic
    candidates: [mallory, alice, bob]
    routeBy: [codeowners]
    decideWithin: ${fast}
    coldStart: { model: parallel, minHistory: 0 }${mallorysCode}
`;
}

/** One past escalation: `reviewer` was asked at its start and approved after `respondedAfterMinutes`. */
export interface PastEscalation {
  gate: string;
  service: string;
  reviewer: string;
  respondedAfterMinutes: number;
}

const historyStart = Date.parse('2026-01-05T09:00:00.000Z');
const MINUTE = 60_000;

/** An ended, passed escalation as the workflow records it, with one decision whose response time is known. */
export function pastEscalation(past: PastEscalation, index = 0): EscalationOutcome {
  const startedAt = new Date(historyStart + index * 24 * 60 * MINUTE);
  const at = (minutes: number) => new Date(startedAt.getTime() + minutes * MINUTE).toISOString();
  const decidedAt = at(past.respondedAfterMinutes);
  return {
    escalationId: `escalation-history-${randomUUID()}`,
    outcome: 'passed',
    reason: `approved by ${past.reviewer}, chosen by routing`,
    postmortem: false,
    gate: past.gate,
    service: past.service,
    severity: 'high',
    model: 'dynamic',
    depth: 0,
    policyVersion: 'sha256:history',
    startedAt: at(0),
    endedAt: decidedAt,
    decisions: [{ reviewer: past.reviewer, decision: 'approve', channel: 'client', at: decidedAt, step: 0, stage: { kind: 'primary' } }],
    timeline: [
      { at: at(0), event: 'raised', gate: past.gate, service: past.service, severity: 'high' },
      { at: at(0), event: 'policy-snapshot', policyVersion: 'sha256:history', gateKey: past.gate, model: 'dynamic', selectedBy: `gate ${past.gate}'s own model`, notes: [] },
      { at: at(0), event: 'assigned', step: 0, stage: { kind: 'primary' }, reviewers: [past.reviewer], deadline: at(600), depth: 0 },
      { at: decidedAt, event: 'decided', reviewer: past.reviewer, decision: 'approve', channel: 'client', step: 0 },
      { at: decidedAt, event: 'ended', outcome: 'passed', reason: `approved by ${past.reviewer}, chosen by routing` },
    ],
  };
}

/** Records ended escalations in the worker's store: routing's history (size and response times). */
export async function recordHistory(store: OutcomeStore, history: PastEscalation[]): Promise<void> {
  for (const [index, past] of history.entries()) await store.recordOutcome(pastEscalation(past, index));
}
