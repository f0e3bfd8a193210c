import { defaultExpertiseOptions, ExpertiseIndex, type ExpertiseOptions } from '../expertise/expertise-index.js';
import type { LearnedApproval, ReviewerRanker, RoutedChange } from './ranker.js';

/** Escalator's expertise ranking: path affinity from the index, with recent approval volume behind it. */
export interface ExpertiseRankerOptions extends ExpertiseOptions {
  /** Weight of the (decayed) approval count, each feature scaled to the best candidate's; 0: approvals only break ties. */
  frequencyWeight: number;
}

export const defaultExpertiseRankerOptions: ExpertiseRankerOptions = { ...defaultExpertiseOptions, frequencyWeight: 0 };

/** Ranks candidates by path affinity (`ExpertiseIndex`), ties by recent approvals, then candidate order. */
export function expertiseRanker(options: ExpertiseRankerOptions = defaultExpertiseRankerOptions): ReviewerRanker {
  const index = new ExpertiseIndex(options);
  return {
    name: 'path expertise',
    learn(approval: LearnedApproval) {
      index.add(approval);
    },
    rank(change: RoutedChange, candidates: readonly string[]) {
      const affinity = scaled(index.affinity(change.paths, candidates, change.at));
      const approvals = scaled(index.approvalCounts(candidates, change.at));
      const score = (candidate: string) => affinity.get(candidate)! + options.frequencyWeight * approvals.get(candidate)!;
      return [...candidates].sort((a, b) => score(b) - score(a) || approvals.get(b)! - approvals.get(a)!);
    },
  };
}

/** Each value over the largest (all 0 when the largest is 0). */
function scaled(values: Map<string, number>): Map<string, number> {
  const largest = Math.max(0, ...values.values());
  return new Map([...values].map(([key, value]) => [key, largest > 0 ? value / largest : 0]));
}
