import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DecisionRefusedError } from '../client/errors.js';
import type { EscalationView } from '../domain/escalation.js';
import type { Receipt } from '../domain/engine/view.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { placeWindows, type WindowPlacement } from './helpers/policy-windows.js';

// Random gates (chains with people on several steps, backups, parallel votes) and random sequences
// of decisions and reassignments, in and out of quiet hours, on the real workflow: nobody decides
// two steps or votes twice, the author never approves, nobody outside the awaited set decides, and
// the update's answer agrees with the query.
const people = ['p1', 'p2', 'p3', 'p4', 'p5'];
const person = fc.constantFrom(...people);
const reviewers = fc.uniqueArray(person, { minLength: 1, maxLength: 3 });
const sequentialGate = fc.array(fc.record({ reviewers, backup: fc.option(person, { nil: undefined }) }), { minLength: 1, maxLength: 4 }).map((steps) => ({ model: 'sequential' as const, steps }));
const parallelGate = fc.record({ group: fc.uniqueArray(person, { minLength: 2, maxLength: 5 }), approve: fc.integer({ min: 1, max: 3 }) }).map((gate) => ({ model: 'parallel' as const, ...gate, approve: Math.min(gate.approve, gate.group.length) }));
const gates = fc.sample(fc.oneof(sequentialGate, parallelGate), { seed: 20261202, numRuns: 12 });

function policyYaml(): string {
  const gateYaml = gates.map((gate, i) => {
    if (gate.model === 'parallel') return `  gate-${i}: { model: parallel, reviewers: [${gate.group.join(', ')}], quorum: { approve: ${gate.approve} }, decideWithin: 10m }`;
    const steps = gate.steps.map((step) => `      - { reviewers: [${step.reviewers.join(', ')}], timeout: 10m${step.backup ? `, backup: [${step.backup}]` : ''} }`);
    return `  gate-${i}:\n    model: sequential\n    chain:\n${steps.join('\n')}`;
  });
  return `
version: 1
timezone: Europe/Berlin
defaults: { maxDepth: 5, requireComment: never }
people:
${people.map((id) => `  ${id}: { email: ${id}@example.com, handles: [${id}-gh] }`).join('\n')}
rotations:
  primary: { members: [${people.join(', ')}], handoff: weekly, start: 2026-01-05 }
quietHours: { from: "22:00", to: "07:00", notify: primary-oncall-only, oncall: primary }
gates:
${gateYaml.join('\n')}
`;
}

// `who` is a person, or someone the escalation awaits right now (`awaited`, by position), or the last
// person who decided (`last`): random names alone seldom reach the interesting cases.
type Who = string | { awaited: number } | 'last';
type Step = { kind: 'approve' | 'reject'; who: Who } | { kind: 'reassign'; who: string; to: string };
const who: fc.Arbitrary<Who> = fc.oneof(person, fc.record({ awaited: fc.nat(4) }), fc.constant('last' as const));
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('approve' as const), who }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reject' as const), who }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('reassign' as const), who: person, to: person }) },
);

describe.each<{ placement: WindowPlacement; onCall: string }>([
  { placement: 'inside', onCall: 'p2' },
  { placement: 'outside', onCall: 'p1' },
])('one decision per person, quiet hours $placement', ({ placement, onCall }) => {
  let env: EscalatorEnv;

  beforeAll(async () => {
    env = await startEscalator(placeWindows(policyYaml(), new Date(), placement, { onCall: { primary: onCall } }));
  });
  afterAll(async () => env?.close());

  it('holds over random gates and random decisions', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(gates.length - 1), fc.option(person, { nil: 'someone-else' }), fc.array(step, { minLength: 1, maxLength: 7 }), async (gateIndex, author, steps) => {
        const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: `gate-${gateIndex}`, kind: 'tests' }, severity: 'low', change: { ...gateFailure().change, author } }));
        await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).status).toBe('waiting'));
        let before = await env.escalator.status(escalationId);
        for (const move of steps) {
          if (before.outcome) break;
          const reviewer = move.kind === 'reassign' ? move.who : resolve(move.who, before);
          let answer: Receipt;
          try {
            answer =
              move.kind === 'reassign'
                ? await env.escalator.reassign(escalationId, { by: move.who, to: move.to, reason: 'property', channel: 'client' })
                : await env.escalator.decide(escalationId, { reviewer, decision: move.kind, channel: 'client' });
          } catch (error) {
            if (!(error instanceof DecisionRefusedError)) throw error;
            const after = await env.escalator.status(escalationId);
            expect(after.decisions).toEqual(before.decisions);
            before = after;
            continue;
          }
          if (move.kind !== 'reassign') {
            expect(before.awaitedReviewers).toContain(reviewer);
            expect(before.decisions.map((d) => d.reviewer)).not.toContain(reviewer);
            if (move.kind === 'approve') expect(reviewer).not.toBe(author);
          } else {
            expect(before.decisions.map((d) => d.reviewer)).not.toContain(move.to);
          }
          const query = await env.escalator.status(escalationId);
          expect(query.awaitedReviewers).toEqual(answer.awaitedReviewers);
          expect(query.heldReviewers).toEqual(answer.heldReviewers);
          expect(answer.awaitedReviewers.filter((id) => query.decisions.some((d) => d.reviewer === id))).toEqual([]);
          before = query;
        }
        const deciders = before.decisions.map((d) => d.reviewer);
        expect(new Set(deciders).size).toBe(deciders.length);
        if (!before.outcome) await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'property run done' });
      }),
      { numRuns: 25, seed: placement === 'inside' ? 101 : 202 },
    );
  }, 240_000);
});

function resolve(who: Who, state: EscalationView): string {
  if (who === 'last') return state.decisions.at(-1)?.reviewer ?? 'p1';
  if (typeof who === 'string') return who;
  return state.awaitedReviewers[who.awaited % Math.max(1, state.awaitedReviewers.length)] ?? 'p1';
}
