import type { TimelineEntry } from '../escalation.js';
import type { Policy } from '../policy.js';
import { isWorking, parseWorkingHours } from '../schedule.js';
import type { EscalationFacts } from './facts.js';
import type { MetricsQuery } from './query.js';
import type { GateFigures, GateMode, GateReport, MetricsReport } from './report.js';

/** Above this share of overrides, the guide says the gate's thresholds are likely too strict. */
export const overrideAlertShare = 0.2;

/** Ratings of ended escalations, for the satisfaction figures (by escalation id). */
export interface Ratings {
  /** Escalations whose people were asked to rate, and how many people each. */
  asked: ReadonlyMap<string, number>;
  /** The ratings given, 1–5, per escalation. */
  given: ReadonlyMap<string, readonly number[]>;
}

export interface ReportInput {
  query: MetricsQuery;
  window: { from: Date; to: Date };
  previousWindow: { from: Date; to: Date };
  current: readonly EscalationFacts[];
  previous: readonly EscalationFacts[];
  policy: Policy;
  ratings?: Ratings;
}

type Entry<K extends TimelineEntry['event']> = Extract<TimelineEntry, { event: K }>;

/**
 * The metrics report: one row per group (gate, service, team or model) and mode, with the same
 * figures for the window before. A pure function of the stored facts and the policy, so every
 * figure can be checked by hand; README "Metrics" defines each one.
 */
export function metricsReport(input: ReportInput): MetricsReport {
  const { query, policy } = input;
  const keyOf = groupKey(query.groupBy, policy);
  const only = (facts: readonly EscalationFacts[]) => (query.gate ? facts.filter((f) => f.gate === query.gate) : facts);
  const current = groups(only(input.current), keyOf);
  const previous = groups(only(input.previous), keyOf);
  const rows: GateReport[] = [...current.keys()].sort().map((id) => {
    const [key, mode] = JSON.parse(id) as [string, GateMode];
    const facts = current.get(id)!;
    return {
      key,
      mode,
      current: gateFigures(facts, policy, input.window.to, input.ratings, mode),
      previous: gateFigures(previous.get(id) ?? [], policy, input.previousWindow.to, input.ratings, mode),
      slowest: slowest(facts, input.window.to),
    };
  });
  const iso = (range: { from: Date; to: Date }) => ({ from: range.from.toISOString(), to: range.to.toISOString() });
  return { groupBy: query.groupBy, window: iso(input.window), previousWindow: iso(input.previousWindow), rows };
}

/** The figures of one group of escalations; open ones are measured up to `until` (the window's end). */
export function gateFigures(facts: readonly EscalationFacts[], policy: Policy, until: Date, ratings?: Ratings, mode: GateMode = 'live'): GateFigures {
  const ended = facts.filter((f) => f.endedAt !== null && f.outcome !== null);
  const ofRaised = (count: number) => (facts.length ? count / facts.length : null);
  const ofEnded = (count: number) => (ended.length ? count / ended.length : null);
  const outcomes: Record<string, number> = {};
  for (const f of ended) outcomes[f.outcome!] = (outcomes[f.outcome!] ?? 0) + 1;
  const overrideShare = ofEnded(outcomes.overridden ?? 0);
  const deciders = decisionsByPerson(facts);
  const totalDecisions = [...deciders.values()].reduce((sum, n) => sum + n, 0);
  const shares = [...deciders.values()].map((n) => n / totalDecisions);
  return {
    raised: facts.length,
    ended: ended.length,
    open: facts.length - ended.length,
    timeToResolution: durationStats(ended.map((f) => Date.parse(f.endedAt!) - Date.parse(f.startedAt))),
    timeToFirstResponse: durationStats(facts.flatMap((f) => firstResponse(f) ?? [])),
    timeoutShare: ofRaised(facts.filter((f) => f.timeline.some((e) => e.event === 'timed-out')).length),
    exhaustedShare: ofRaised(facts.filter((f) => f.timeline.some((e) => e.event === 'exhausted')).length),
    rollbackShare: ofEnded(outcomes['rolled-back'] ?? 0),
    overrideShare,
    overrideAlert: overrideShare !== null && overrideShare > overrideAlertShare,
    falsePositiveShare: ofEnded(ended.filter(isFalsePositive).length),
    outcomes,
    resolutionHistogram: resolutionHistogram(ended),
    outcomesByWeek: outcomesByWeek(ended),
    topResponderShare: totalDecisions ? Math.max(...shares) : null,
    concentration: totalDecisions ? shares.reduce((sum, s) => sum + s * s, 0) : null,
    load: load(facts, policy),
    costOfDelay: costOfDelay(facts, policy, until),
    routingAccuracy: routingAccuracy(facts),
    satisfaction: satisfaction(ended, ratings),
    shadow: mode === 'shadow' ? shadowComparison(facts, ended) : null,
  };
}

/**
 * A shadow gate beside the way the team decides today: runs the team's own process ended (it
 * reported `withdraw` or `recovered`), how long that took, runs whose timers ran out of people first,
 * and how many people the shadow run would have notified.
 */
function shadowComparison(facts: readonly EscalationFacts[], ended: readonly EscalationFacts[]): NonNullable<GateFigures['shadow']> {
  const elsewhere = ended.filter((f) => f.outcome === 'withdrawn' || f.outcome === 'recovered');
  const asked = facts.map((f) => new Set(f.timeline.filter((e) => e.event === 'would-notify').map((e) => (e as Entry<'would-notify'>).reviewer)).size);
  return {
    decidedElsewhere: elsewhere.length,
    teamResolution: durationStats(elsewhere.map((f) => Date.parse(f.endedAt!) - Date.parse(f.startedAt))),
    escalatorExhausted: facts.filter((f) => f.timeline.some((e) => e.event === 'exhausted')).length,
    wouldHaveAsked: facts.length ? asked.reduce((sum, n) => sum + n, 0) / facts.length : null,
  };
}

/** The histogram's upper bounds, as the worker's Prometheus histogram has them (a minute left out). */
export const resolutionBucketsMs = [5, 15, 30, 60, 120, 240, 480, 1440, 2880].map((minutes) => minutes * 60_000);

function resolutionHistogram(ended: readonly EscalationFacts[]): GateFigures['resolutionHistogram'] {
  const counts = new Array<number>(resolutionBucketsMs.length + 1).fill(0);
  for (const f of ended) {
    const took = Date.parse(f.endedAt!) - Date.parse(f.startedAt);
    const bucket = resolutionBucketsMs.findIndex((bound) => took <= bound);
    counts[bucket === -1 ? resolutionBucketsMs.length : bucket]!++;
  }
  return counts.map((count, i) => ({ upToMs: resolutionBucketsMs[i] ?? null, count }));
}

function outcomesByWeek(ended: readonly EscalationFacts[]): GateFigures['outcomesByWeek'] {
  const weeks = new Map<string, Record<string, number>>();
  for (const f of ended) {
    const end = new Date(f.endedAt!);
    // Back to Monday, UTC: getUTCDay() is 0 on Sunday.
    const monday = new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate() - ((end.getUTCDay() + 6) % 7))).toISOString().slice(0, 10);
    const outcomes = weeks.get(monday) ?? {};
    outcomes[f.outcome!] = (outcomes[f.outcome!] ?? 0) + 1;
    weeks.set(monday, outcomes);
  }
  return [...weeks].sort(([a], [b]) => a.localeCompare(b)).map(([weekStart, outcomes]) => ({ weekStart, outcomes }));
}

/** Nearest-rank percentiles and the mean; nulls when there is nothing to measure. */
export function durationStats(values: readonly number[]): GateFigures['timeToResolution'] {
  if (!values.length) return { count: 0, p50: null, p90: null, mean: null };
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
  return { count: sorted.length, p50: rank(0.5), p90: rank(0.9), mean: sorted.reduce((sum, v) => sum + v, 0) / sorted.length };
}

function groups(facts: readonly EscalationFacts[], keyOf: (f: EscalationFacts) => string): Map<string, EscalationFacts[]> {
  const grouped = new Map<string, EscalationFacts[]>();
  for (const f of facts) {
    const id = JSON.stringify([keyOf(f), modeOf(f)]);
    const group = grouped.get(id);
    if (group) group.push(f);
    else grouped.set(id, [f]);
  }
  return grouped;
}

/** A run's mode from its policy snapshot; runs from before modes existed were live. */
export function modeOf(f: EscalationFacts): GateMode {
  const snapshot = f.timeline.find((e): e is Entry<'policy-snapshot'> => e.event === 'policy-snapshot') as (Entry<'policy-snapshot'> & { mode?: GateMode }) | undefined;
  return snapshot?.mode ?? 'live';
}

/**
 * A team is the policy team of the first reviewer the escalation asked (the team that owns the
 * gate's first step); `(no team)` when that person has none.
 */
function groupKey(groupBy: MetricsQuery['groupBy'], policy: Policy): (f: EscalationFacts) => string {
  switch (groupBy) {
    case 'gate':
      return (f) => f.gate;
    case 'service':
      return (f) => f.service;
    case 'model':
      return (f) => f.model ?? 'none';
    case 'team':
      return (f) => teamOf(f, policy);
  }
}

/** The policy team of the first reviewer the escalation asked; `(no team)` when that person has none. */
export function teamOf(f: EscalationFacts, policy: Policy): string {
  const first = f.timeline.find((e): e is Entry<'assigned'> => e.event === 'assigned')?.reviewers[0];
  return (first && policy.people[first]?.team) || '(no team)';
}

function firstResponse(f: EscalationFacts): number | undefined {
  const first = f.timeline.find((e) => e.event === 'decided' || e.event === 'acknowledged' || e.event === 'break-glass');
  return first ? Date.parse(first.at) - Date.parse(f.startedAt) : undefined;
}

/** A decision said the failure was not real (false positive, flaky), or the gate re-ran green. */
function isFalsePositive(f: EscalationFacts): boolean {
  if (f.outcome === 'recovered') return true;
  return f.timeline.some((e) => e.event === 'decided' && ['false-positive', 'flaky'].includes((e as Entry<'decided'> & { reason?: string }).reason ?? ''));
}

/** Decisions per person: each `decided`, and each break-glass override by its holder. */
function decisionsByPerson(facts: readonly EscalationFacts[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const f of facts) {
    for (const e of f.timeline) {
      const person = e.event === 'decided' ? e.reviewer : e.event === 'break-glass' ? e.by : undefined;
      if (person) counts.set(person, (counts.get(person) ?? 0) + 1);
    }
  }
  return counts;
}

/**
 * Per person: how often they were asked (each assignment or reassignment to them), how often they
 * decided, and how many of those asks came outside their working hours in their own time zone (the
 * policy's business hours and time zone when they have none of their own).
 */
function load(facts: readonly EscalationFacts[], policy: Policy): GateFigures['load'] {
  const people = new Map<string, { asked: number; decided: number; outsideWorkingHours: number }>();
  const atWork = workingHoursOf(policy);
  const person = (id: string) => people.get(id) ?? people.set(id, { asked: 0, decided: 0, outsideWorkingHours: 0 }).get(id)!;
  for (const f of facts) {
    for (const e of f.timeline) {
      const asked = e.event === 'assigned' ? e.reviewers : e.event === 'reassigned' ? [e.to] : [];
      for (const id of asked) {
        const row = person(id);
        row.asked++;
        if (!atWork(id, new Date(e.at))) row.outsideWorkingHours++;
      }
      if (e.event === 'decided') person(e.reviewer).decided++;
      if (e.event === 'break-glass') person(e.by).decided++;
    }
  }
  return [...people].map(([id, row]) => ({ person: id, ...row })).sort((a, b) => b.asked - a.asked || b.decided - a.decided || a.person.localeCompare(b.person));
}

/** Whether a person works at a moment; each person's hours are parsed once per report. */
function workingHoursOf(policy: Policy): (id: string, at: Date) => boolean {
  const parsed = new Map<string, { hours: ReturnType<typeof parseWorkingHours>; zone: string }>();
  return (id, at) => {
    let person = parsed.get(id);
    if (!person) {
      const known = Object.hasOwn(policy.people, id) ? policy.people[id] : undefined;
      person = { hours: parseWorkingHours(known?.workingHours ?? policy.businessHours), zone: known?.timezone ?? policy.timezone };
      parsed.set(id, person);
    }
    return isWorking(person.hours, person.zone, at);
  };
}

/** The gate's `costPerHour` × the hours each escalation waited (open ones up to `until`), summed. */
function costOfDelay(facts: readonly EscalationFacts[], policy: Policy, until: Date): number | null {
  let total: number | null = null;
  for (const f of facts) {
    const perHour = (policy.gates[f.gate] ?? policy.gates['*'])?.costPerHour;
    if (perHour === undefined) continue;
    total = (total ?? 0) + (perHour * waitedMs(f, until)) / 3_600_000;
  }
  return total;
}

/** Of the routed escalations someone decided, the share where one of the first routed reviewers did. */
function routingAccuracy(facts: readonly EscalationFacts[]): number | null {
  let decided = 0;
  let hit = 0;
  for (const f of facts) {
    const routed = f.timeline.find((e): e is Entry<'routed'> => e.event === 'routed' && !e.coldStart);
    const deciders = f.timeline.filter((e): e is Entry<'decided'> => e.event === 'decided').map((e) => e.reviewer);
    if (!routed || !deciders.length) continue;
    decided++;
    if (deciders.some((reviewer) => routed.chosen.includes(reviewer))) hit++;
  }
  return decided ? hit / decided : null;
}

function satisfaction(ended: readonly EscalationFacts[], ratings: Ratings | undefined): GateFigures['satisfaction'] {
  const given = ended.flatMap((f) => ratings?.given.get(f.escalationId) ?? []);
  const asked = ended.reduce((sum, f) => sum + (ratings?.asked.get(f.escalationId) ?? 0), 0);
  return {
    average: given.length ? given.reduce((sum, r) => sum + r, 0) / given.length : null,
    responses: given.length,
    asked,
    responseRate: asked ? given.length / asked : null,
  };
}

function waitedMs(f: EscalationFacts, until: Date): number {
  return Math.max(0, (f.endedAt ? Date.parse(f.endedAt) : until.getTime()) - Date.parse(f.startedAt));
}

function slowest(facts: readonly EscalationFacts[], until: Date): GateReport['slowest'] {
  return [...facts]
    .map((f) => ({ escalationId: f.escalationId, startedAt: f.startedAt, endedAt: f.endedAt, waitedMs: waitedMs(f, until), outcome: f.outcome }))
    .sort((a, b) => b.waitedMs - a.waitedMs || a.escalationId.localeCompare(b.escalationId))
    .slice(0, 5);
}
