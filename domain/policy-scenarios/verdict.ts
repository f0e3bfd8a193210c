import type { Policy } from '../policy.js';
import type { ObservedEntry, ScenarioObservation } from './run-scenario.js';
import type { Scenario } from './scenario-file.js';

/** One expectation the engine did not meet: what the scenario says, and what happened. */
export interface Mismatch {
  what: string;
  expected: string;
  actual: string;
}

/**
 * Compares what a scenario expects with what the engine did. Each expectation given is checked;
 * timeline entries are matched in order (other entries may come between them), each on the fields
 * it names. Messages the escalation refused are mismatches unless they are expected.
 */
export function mismatchesOf(scenario: Scenario, observed: ScenarioObservation): Mismatch[] {
  const { expect } = scenario;
  const found: Mismatch[] = [];
  const check = (what: string, expected: unknown, actual: unknown) => {
    if (expected !== undefined && JSON.stringify(expected) !== JSON.stringify(actual)) found.push({ what, expected: text(expected), actual: text(actual) });
  };
  check('model', expect.model, observed.model);
  check('rule', expect.rule, observed.rule);
  check('first asked', expect.firstAsked, observed.firstAsked);
  check('first held back by quiet hours', expect.firstHeld, observed.firstHeld);
  check('outcome', expect.outcome, observed.outcome);
  check('depth', expect.depth, observed.depth);
  if (expect.endedAfter !== undefined) check('ended after', duration(expect.endedAfter), observed.endedAfter === null ? 'never ended' : duration(observed.endedAfter));
  for (const refusal of observed.refused) {
    found.push({ what: `events[${refusal.event}]`, expected: 'taken', actual: `refused (${refusal.code}): ${refusal.message}` });
  }
  let from = 0;
  for (const [i, wanted] of (expect.timeline ?? []).entries()) {
    const at = observed.timeline.findIndex((entry, index) => index >= from && matches(entry, wanted));
    if (at < 0) {
      const rest = observed.timeline.slice(from).map(line).join('\n') || '(nothing)';
      found.push({ what: `timeline[${i}]`, expected: line(wanted), actual: `no such entry in order; from there on the timeline is:\n${rest}` });
      break;
    }
    from = at + 1;
  }
  return found;
}

/** People a scenario names who are not in the policy: a typo would otherwise make it pass vacuously. */
export function unknownPeople(policy: Policy, scenario: Scenario): string[] {
  const named = [
    ...scenario.outOfOffice,
    ...scenario.events.flatMap((e) => [e.decide?.reviewer, e.acknowledge, e.reassign?.by, e.reassign?.to, e.breakGlass?.by, e.withdraw?.by]),
    ...(scenario.expect.firstAsked ?? []),
    ...(scenario.expect.firstHeld ?? []),
    ...(scenario.expect.timeline ?? []).flatMap((e) => e.reviewers ?? []),
  ].filter((id): id is string => id !== undefined);
  // A withdrawal comes from the raising service, which need not be a person in the policy.
  const services = new Set(scenario.events.flatMap((e) => (e.withdraw ? [e.withdraw.by] : [])));
  return [...new Set(named.filter((id) => !(id in policy.people) && !services.has(id)))];
}

function matches(entry: ObservedEntry, wanted: { after?: number; event: string; reviewers?: string[]; depth?: number }): boolean {
  if (entry.event !== wanted.event) return false;
  if (wanted.after !== undefined && entry.after !== wanted.after) return false;
  if (wanted.depth !== undefined && entry.depth !== wanted.depth) return false;
  return wanted.reviewers === undefined || JSON.stringify(entry.reviewers ?? []) === JSON.stringify(wanted.reviewers);
}

function line(entry: { after?: number; event: string; reviewers?: string[]; depth?: number }): string {
  const parts = [entry.after === undefined ? '' : `+${duration(entry.after)}`, entry.event, entry.reviewers ? `[${entry.reviewers.join(', ')}]` : '', entry.depth === undefined ? '' : `depth ${entry.depth}`];
  return parts.filter(Boolean).join(' ');
}

function text(value: unknown): string {
  if (value === null) return 'none';
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  return String(value);
}

/** 0, 45s, 20m, 2h30m: how long after the failure. */
export function duration(ms: number): string {
  if (ms === 0) return '0';
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  let rest = ms;
  let out = '';
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    if (n) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out || `${ms}ms`;
}
