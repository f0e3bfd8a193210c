import { PathComparisons } from './path-comparisons.js';
import type { LearnedApproval, ReviewerRanker, RoutedChange } from './ranker.js';

/** Which paths RevFinder compares: with the project in front (as the replay passes them) or the file path alone, as in the paper. */
export interface RevfinderOptions {
  withProject: boolean;
}

/**
 * RevFinder (Thongtanunam et al., SANER 2015) as published: a past review's similarity to the new
 * change is the mean over file pairs of StringComparison(f_new, f_past) / max(length), with paths
 * compared as sequences of components; a reviewer scores the sum over the past reviews they approved.
 * Four comparisons (longest common prefix, suffix, substring, subsequence) each rank the candidates,
 * and a Borda count combines the four rankings.
 *
 * Computed per distinct past file rather than per past review (the sums are the same), so a replay of
 * a few thousand changes stays within minutes; it is still a scan of the whole history per change,
 * which is why Escalator's own ranking uses an index instead.
 */
export function revfinderRanker(options: RevfinderOptions = { withProject: false }): ReviewerRanker {
  const componentIds = new Map<string, number>();
  const fileIds = new Map<string, number>();
  const fileComponents: Int32Array[] = [];
  // Per distinct past file: each reviewer's Σ 1/|files of the review| over the reviews they approved.
  const fileReviewers: Array<Map<number, number>> = [];
  const reviewerIds = new Map<string, number>();
  const comparisons = new PathComparisons();

  const componentsOf = (path: string) => Int32Array.from(path.split('/'), (component) => intern(componentIds, component));
  const comparedPath = (path: string, project: string | undefined) => (options.withProject || !project ? path : path.slice(project.length + 1));
  return {
    name: 'revfinder',
    learn(approval: LearnedApproval) {
      const reviewer = intern(reviewerIds, approval.reviewer);
      const paths = new Set(approval.paths.map((path) => comparedPath(path, approval.project)));
      for (const path of paths) {
        let file = fileIds.get(path);
        if (file === undefined) {
          file = fileComponents.length;
          fileIds.set(path, file);
          fileComponents.push(componentsOf(path));
          fileReviewers.push(new Map());
        }
        const reviewers = fileReviewers[file]!;
        reviewers.set(reviewer, (reviewers.get(reviewer) ?? 0) + 1 / paths.size);
      }
    },
    rank(change: RoutedChange, candidates: readonly string[]) {
      const files = fileComponents.length;
      // similarities[t * files + file]: comparison t of the past file with the change, averaged over the change's paths.
      const similarities = new Float64Array(4 * files);
      const paths = [...new Set(change.paths.map((path) => comparedPath(path, change.project)))];
      for (const path of paths) {
        comparisons.setQuery(componentsOf(path), componentIds.size);
        for (let file = 0; file < files; file++) {
          const past = fileComponents[file]!;
          if (!comparisons.compare(past)) continue;
          const length = Math.max(comparisons.queryLength, past.length) * paths.length;
          for (let t = 0; t < 4; t++) similarities[t * files + file]! += comparisons.result[t]! / length;
        }
      }
      const size = reviewerIds.size;
      const scores = new Float64Array(4 * size);
      for (let file = 0; file < files; file++) {
        for (const [reviewer, weight] of fileReviewers[file]!) {
          for (let t = 0; t < 4; t++) scores[t * size + reviewer]! += similarities[t * files + file]! * weight;
        }
      }
      const borda = new Map<string, number>(candidates.map((candidate) => [candidate, 0]));
      for (let t = 0; t < 4; t++) {
        const scoreOf = (candidate: string) => {
          const id = reviewerIds.get(candidate);
          return id === undefined ? 0 : scores[t * size + id]!;
        };
        const ordered = [...candidates].sort((a, b) => scoreOf(b) - scoreOf(a));
        // Tied scores share a rank, so the order candidates were listed in does not decide.
        let rank = 0;
        ordered.forEach((candidate, index) => {
          if (index > 0 && scoreOf(candidate) !== scoreOf(ordered[index - 1]!)) rank = index;
          borda.set(candidate, borda.get(candidate)! + candidates.length - rank);
        });
      }
      return [...candidates].sort((a, b) => borda.get(b)! - borda.get(a)!);
    },
  };
}

function intern(ids: Map<string, number>, key: string): number {
  let id = ids.get(key);
  if (id === undefined) ids.set(key, (id = ids.size));
  return id;
}
