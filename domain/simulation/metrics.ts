import type { OutcomeKind } from '../escalation.js';

/** How one simulated escalation went, as the metrics need it. */
export interface EndedEscalation {
  gate: string;
  outcome: OutcomeKind;
  /** The gate failure's arrival and the end, virtual epoch ms. */
  raisedAt: number;
  endedAt: number;
  depth: number;
  /** Some step, vote or routed pick timed out. */
  timedOut: boolean;
  /** The depth or the reviewers ran out (the exhausted action ran). */
  exhausted: boolean;
}

/** Who answered how often: the top responder's share of the decisions and their HHI (sum of squared shares, 1 = one person decides everything). */
export interface Concentration {
  decisions: number;
  topResponder: string | null;
  topShare: number;
  hhi: number;
}

export interface GateReport {
  gate: string;
  escalations: number;
  /** From the failure to the escalation's end (nearest-rank percentiles); null without escalations. */
  resolution: { p50Ms: number | null; p90Ms: number | null; meanMs: number | null };
  /** Shares of the escalations, 0..1. */
  timeoutShare: number;
  exhaustedShare: number;
  rollbackShare: number;
  overrideShare: number;
  outcomes: Partial<Record<OutcomeKind, number>>;
  /** How many escalations ended at each depth (hand-offs), by depth. */
  depth: Record<string, number>;
  concentration: Concentration;
  /** Where the policy gives the gate a `costPerHour`: hours from failure to end, priced. */
  costOfDelay: { perHour: number; total: number; perEscalation: number } | null;
}

export interface PersonReport {
  person: string;
  /** Decision requests and reminders delivered (quiet hours held back are counted when delivered). */
  requests: number;
  /** Decisions that counted. */
  decisions: number;
  /** Requests delivered outside the person's working hours, on their own clock. */
  outOfHoursRequests: number;
}

export interface RunReport {
  escalations: number;
  gates: GateReport[];
  people: PersonReport[];
  concentration: Concentration;
}

interface GateTally {
  durations: number[];
  timedOut: number;
  exhausted: number;
  outcomes: Partial<Record<OutcomeKind, number>>;
  depths: number[];
  decisions: Map<string, number>;
}

/** Counts what happens during a run; `report` turns the counts into the figures the CLI prints. */
export class Metrics {
  private readonly gates = new Map<string, GateTally>();
  private readonly people = new Map<string, PersonReport>();

  constructor(gateNames: readonly string[], personIds: readonly string[]) {
    for (const gate of gateNames) this.gate(gate);
    for (const person of personIds) this.person(person);
  }

  request(person: string, outOfHours: boolean): void {
    const tally = this.person(person);
    tally.requests++;
    if (outOfHours) tally.outOfHoursRequests++;
  }

  decision(gate: string, person: string): void {
    this.person(person).decisions++;
    const decisions = this.gate(gate).decisions;
    decisions.set(person, (decisions.get(person) ?? 0) + 1);
  }

  ended(escalation: EndedEscalation): void {
    const tally = this.gate(escalation.gate);
    tally.durations.push(escalation.endedAt - escalation.raisedAt);
    if (escalation.timedOut) tally.timedOut++;
    if (escalation.exhausted) tally.exhausted++;
    tally.outcomes[escalation.outcome] = (tally.outcomes[escalation.outcome] ?? 0) + 1;
    tally.depths[escalation.depth] = (tally.depths[escalation.depth] ?? 0) + 1;
  }

  report(costPerHour: (gate: string) => number | null): RunReport {
    const gates = [...this.gates].map(([gate, tally]) => gateReport(gate, tally, costPerHour(gate)));
    const all = new Map<string, number>();
    for (const tally of this.gates.values()) for (const [person, n] of tally.decisions) all.set(person, (all.get(person) ?? 0) + n);
    return {
      escalations: gates.reduce((sum, gate) => sum + gate.escalations, 0),
      gates,
      people: [...this.people.values()].map((person) => ({ ...person })),
      concentration: concentrationOf(all),
    };
  }

  private gate(gate: string): GateTally {
    let tally = this.gates.get(gate);
    if (!tally) this.gates.set(gate, (tally = { durations: [], timedOut: 0, exhausted: 0, outcomes: {}, depths: [], decisions: new Map() }));
    return tally;
  }

  private person(person: string): PersonReport {
    let tally = this.people.get(person);
    if (!tally) this.people.set(person, (tally = { person, requests: 0, decisions: 0, outOfHoursRequests: 0 }));
    return tally;
  }
}

function gateReport(gate: string, tally: GateTally, perHour: number | null): GateReport {
  const n = tally.durations.length;
  const sorted = [...tally.durations].sort((a, b) => a - b);
  const totalMs = sorted.reduce((sum, ms) => sum + ms, 0);
  const share = (count: number | undefined) => (n ? (count ?? 0) / n : 0);
  const cost = perHour === null ? null : (perHour * totalMs) / 3_600_000;
  return {
    gate,
    escalations: n,
    resolution: { p50Ms: percentile(sorted, 50), p90Ms: percentile(sorted, 90), meanMs: n ? totalMs / n : null },
    timeoutShare: share(tally.timedOut),
    exhaustedShare: share(tally.exhausted),
    rollbackShare: share(tally.outcomes['rolled-back']),
    overrideShare: share(tally.outcomes.overridden),
    outcomes: { ...tally.outcomes },
    depth: Object.fromEntries(tally.depths.flatMap((count, depth) => (count ? [[String(depth), count]] : []))),
    concentration: concentrationOf(tally.decisions),
    costOfDelay: cost === null || perHour === null ? null : { perHour, total: cost, perEscalation: n ? cost / n : 0 },
  };
}

/** Nearest-rank percentile of values sorted ascending; null when there are none. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function concentrationOf(decisions: ReadonlyMap<string, number>): Concentration {
  const total = [...decisions.values()].reduce((sum, n) => sum + n, 0);
  if (total === 0) return { decisions: 0, topResponder: null, topShare: 0, hhi: 0 };
  let top: [string, number] = ['', -1];
  let hhi = 0;
  // Ties go to the name first in alphabetical order, so the answer never depends on insertion order.
  for (const [person, n] of [...decisions].sort(([a], [b]) => a.localeCompare(b))) {
    if (n > top[1]) top = [person, n];
    hhi += (n / total) ** 2;
  }
  return { decisions: total, topResponder: top[0], topShare: top[1] / total, hhi };
}
