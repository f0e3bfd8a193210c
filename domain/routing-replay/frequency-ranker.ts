import type { LearnedApproval, ReviewerRanker, RoutedChange } from './ranker.js';

/** The frequency baseline: most approvals so far first, whatever the change touches. */
export function frequencyRanker(): ReviewerRanker {
  const approvals = new Map<string, number>();
  return {
    name: 'frequency',
    learn(approval: LearnedApproval) {
      approvals.set(approval.reviewer, (approvals.get(approval.reviewer) ?? 0) + 1);
    },
    rank(_change: RoutedChange, candidates: readonly string[]) {
      return [...candidates].sort((a, b) => (approvals.get(b) ?? 0) - (approvals.get(a) ?? 0));
    },
  };
}
