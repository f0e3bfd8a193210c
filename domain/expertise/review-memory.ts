import { DecayedCount } from './decayed-count.js';
import { ExpertiseIndex, type ExpertiseOptions, defaultExpertiseOptions } from './expertise-index.js';

/** One decision as the memory learns it (the outcome store's decision feed). */
export interface RememberedDecision {
  reviewer: string;
  gate: string;
  service: string;
  /** The change's paths, repository first; empty when unknown. */
  paths: readonly string[];
  /** Epoch ms. */
  at: number;
  responseMs: number | null;
}

/** Decisions in one gate and service count half as much after this long. */
const APPROVALS_HALF_LIFE_MS = 90 * 86_400_000;
/** Response times kept per person and gate for the median: the latest ones, so that the median follows habits as they change. */
const RESPONSES_KEPT = 101;

/**
 * What routing remembers of past decisions, learned one at a time so that routing never scans the
 * history: path expertise (an `ExpertiseIndex`), each person's decisions per gate and service (fading),
 * when they last decided, and their latest response times per gate.
 */
export class ReviewMemory {
  readonly expertise: ExpertiseIndex;
  private readonly approvals = new Map<string, DecayedCount>();
  private readonly lastDecided = new Map<string, number>();
  private readonly responses = new Map<string, number[]>();

  constructor(options: ExpertiseOptions = defaultExpertiseOptions) {
    this.expertise = new ExpertiseIndex(options);
  }

  learn(decision: RememberedDecision): void {
    if (decision.paths.length > 0) this.expertise.add({ reviewer: decision.reviewer, paths: decision.paths, at: decision.at });
    const scope = scopeKey(decision.reviewer, decision.gate, decision.service);
    let count = this.approvals.get(scope);
    if (!count) this.approvals.set(scope, (count = new DecayedCount(APPROVALS_HALF_LIFE_MS)));
    count.add(1, decision.at);
    this.lastDecided.set(decision.reviewer, Math.max(decision.at, this.lastDecided.get(decision.reviewer) ?? Number.NEGATIVE_INFINITY));
    if (decision.responseMs !== null) {
      const key = `${decision.reviewer}\0${decision.gate}`;
      const kept = this.responses.get(key) ?? [];
      kept.push(decision.responseMs);
      if (kept.length > RESPONSES_KEPT) kept.shift();
      this.responses.set(key, kept);
    }
  }

  /** Each candidate's fading count of decisions in this gate and service at time `at`. */
  approvalsIn(gate: string, service: string, candidates: readonly string[], at: number): Record<string, number> {
    return Object.fromEntries(candidates.map((person) => [person, this.approvals.get(scopeKey(person, gate, service))?.valueAt(at) ?? 0]));
  }

  /** Days from each candidate's last decision to `at`; null for someone who never decided. */
  daysSinceDecision(candidates: readonly string[], at: number): Record<string, number | null> {
    return Object.fromEntries(candidates.map((person) => {
      const last = this.lastDecided.get(person);
      return [person, last === undefined ? null : Math.max(0, at - last) / 86_400_000];
    }));
  }

  /** Each candidate's median response time in this gate over their latest decisions there; null without any. */
  medianResponseMs(gate: string, candidates: readonly string[]): Record<string, number | null> {
    return Object.fromEntries(candidates.map((person) => [person, median(this.responses.get(`${person}\0${gate}`) ?? [])]));
  }
}

const scopeKey = (reviewer: string, gate: string, service: string) => `${reviewer}\0${gate}\0${service}`;

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}
