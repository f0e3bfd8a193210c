import { type RankingAccuracy, rankingAccuracy } from './metrics.js';
import type { ReviewerRanker } from './ranker.js';
import type { ReviewedChange } from './review-history.js';

/** How to replay a review history. */
export interface ReplayOptions {
  /** Changes submitted before this (epoch ms) only teach the rankers; absent: every change is scored. */
  from?: number;
  /** A clock for each ranker's time (learning and ranking), e.g. `performance.now`; absent: times are 0. */
  now?: () => number;
}

/** One ranker's result on the replay. */
export interface RankerResult {
  ranker: string;
  accuracy: RankingAccuracy;
  /** Time spent learning and ranking, in the clock's unit (ms for `performance.now`). */
  elapsedMs: number;
}

/** What the replay measured, for every ranker on the same changes. */
export interface ReplayReport {
  /**
   * Changes in the history; changes scored (submitted at or after `from`, with at least one earlier
   * approval); changes left out because no approval was known yet; scored changes whose approvers had
   * never approved before (every ranker misses them).
   */
  changes: { total: number; scored: number; withoutHistory: number; approverUnseen: number };
  reviewers: number;
  results: RankerResult[];
}

/**
 * Replays a review history leak-free: changes in submission order, each ranked by every ranker from
 * the approvals granted strictly before it was submitted. The candidates are everyone who approved
 * something before; the truth is the set of people who approved the change. A change whose approvers
 * were all unseen so far counts as a miss for every ranker; a change submitted before any approval
 * is left out (there is no one to rank).
 */
export function replayReviews(history: readonly ReviewedChange[], rankers: readonly ReviewerRanker[], options: ReplayOptions = {}): ReplayReport {
  const now = options.now ?? (() => 0);
  const from = options.from ?? Number.NEGATIVE_INFINITY;
  const changes = [...history].sort((a, b) => a.submittedAt - b.submittedAt);
  const approvals = history
    .flatMap((change) => change.approvals.map((approval) => ({ ...approval, paths: pathsOf(change), project: change.project })))
    .sort((a, b) => a.at - b.at);
  const candidates: string[] = [];
  const seen = new Set<string>();
  const everyone = new Set(approvals.map((approval) => approval.reviewer));
  const ranks = rankers.map(() => [] as Array<number | null>);
  const firsts = rankers.map(() => [] as Array<string | undefined>);
  const elapsed = rankers.map(() => 0);
  const counts = { total: changes.length, scored: 0, withoutHistory: 0, approverUnseen: 0 };
  let learned = 0;
  for (const change of changes) {
    for (; learned < approvals.length && approvals[learned]!.at < change.submittedAt; learned++) {
      const approval = approvals[learned]!;
      rankers.forEach((ranker, index) => {
        const started = now();
        ranker.learn(approval);
        elapsed[index]! += now() - started;
      });
      if (!seen.has(approval.reviewer)) {
        seen.add(approval.reviewer);
        candidates.push(approval.reviewer);
      }
    }
    if (change.submittedAt < from) continue;
    // Before the first approval there is nobody to rank: such changes are counted, not scored.
    if (candidates.length === 0) {
      counts.withoutHistory++;
      continue;
    }
    counts.scored++;
    const truth = new Set(change.approvals.map((approval) => approval.reviewer));
    if (![...truth].some((reviewer) => seen.has(reviewer))) counts.approverUnseen++;
    rankers.forEach((ranker, index) => {
      const started = now();
      const ranking = ranker.rank({ paths: pathsOf(change), project: change.project, at: change.submittedAt }, candidates);
      elapsed[index]! += now() - started;
      const hit = ranking.findIndex((reviewer) => truth.has(reviewer));
      ranks[index]!.push(hit < 0 ? null : hit + 1);
      firsts[index]!.push(ranking[0]);
    });
  }
  return {
    changes: counts,
    reviewers: everyone.size,
    results: rankers.map((ranker, index) => ({ ranker: ranker.name, accuracy: rankingAccuracy(ranks[index]!, firsts[index]!, everyone), elapsedMs: elapsed[index]! })),
  };
}

/** A change's paths with its project in front, so that the same file name in two projects differs. */
export function pathsOf(change: Pick<ReviewedChange, 'project' | 'files'>): string[] {
  return change.files.map((file) => (change.project ? `${change.project}/${file}` : file));
}
