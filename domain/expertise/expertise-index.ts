import { DecayedCount } from './decayed-count.js';

/** How the index weighs what it learned. */
export interface ExpertiseOptions {
  /** A review counts half as much after this long (ms); null: reviews never fade. */
  halfLifeMs: number | null;
  /**
   * How much a shared leading part of a path counts, by its depth k out of the new path's n
   * components: (k/n)^prefixExponent. 0 counts every shared directory alike; higher favours people
   * who reviewed the very same folder or file.
   */
  prefixExponent: number;
  /** Weight of shared trailing parts (same file name, same `dir/file`), relative to prefixes; 0 ignores them. */
  suffixWeight: number;
  /**
   * Count a reviewer's share of what was reviewed under a path rather than their amount, so that one
   * prolific reviewer does not lead every folder they ever touched.
   */
  share: boolean;
}

/** Chosen on the Android replay's changes submitted before 2010-10-01 (the first half); see `routing replay`. */
export const defaultExpertiseOptions: ExpertiseOptions = { halfLifeMs: 60 * 24 * 3_600_000, prefixExponent: 1, suffixWeight: 0, share: true };

/** A review as the index learns it: who reviewed a change touching these paths, and when. */
export interface ReviewedPaths {
  reviewer: string;
  /** Paths with `/` between components, repository or project first. */
  paths: readonly string[];
  /** Epoch milliseconds. */
  at: number;
}

/**
 * Path expertise learned from review history, in the spirit of RevFinder but incremental: for every
 * leading and trailing part of every reviewed path, each reviewer's decayed count of reviews. The sum
 * over shared leading parts is RevFinder's longest-common-prefix similarity summed over past files, so
 * a query costs (paths × depth × reviewers under them), never a scan of the history.
 */
export class ExpertiseIndex {
  private readonly byPart = new Map<string, Map<string, DecayedCount>>();
  private readonly totals = new Map<string, DecayedCount>();
  private readonly approvals = new Map<string, DecayedCount>();

  constructor(readonly options: ExpertiseOptions = defaultExpertiseOptions) {}

  /** Learns one review. A change with many files counts 1/files per file, as in RevFinder, so one sweeping change does not outweigh many focused ones. */
  add(review: ReviewedPaths): void {
    const paths = [...new Set(review.paths)];
    this.count(this.approvals, review.reviewer, 1, review.at);
    for (const path of paths) {
      for (const part of partsOf(path, this.options.suffixWeight > 0)) {
        let reviewers = this.byPart.get(part.key);
        if (!reviewers) this.byPart.set(part.key, (reviewers = new Map()));
        this.count(reviewers, review.reviewer, 1 / paths.length, review.at);
        if (this.options.share) this.count(this.totals, part.key, 1 / paths.length, review.at);
      }
    }
  }

  /**
   * Each candidate's affinity (≥ 0) to a change touching `paths`, as seen at time `at`: the mean over
   * the paths of the weighted, decayed reviews they gave under the path's leading and trailing parts
   * (with `share`, their share of all reviews there). A candidate with no reviews under any of them
   * scores 0. Only comparable between candidates of the same query.
   */
  affinity(paths: readonly string[], candidates: readonly string[], at: number): Map<string, number> {
    const unique = [...new Set(paths)];
    const weights = new Map<string, number>();
    for (const path of unique) {
      for (const part of partsOf(path, this.options.suffixWeight > 0)) {
        const weight = (part.depth / part.of) ** this.options.prefixExponent * (part.suffix ? this.options.suffixWeight : 1);
        weights.set(part.key, (weights.get(part.key) ?? 0) + weight / unique.length);
      }
    }
    const affinity = new Map(candidates.map((candidate) => [candidate, 0]));
    for (const [key, weight] of weights) {
      const reviewers = this.byPart.get(key);
      if (!reviewers) continue;
      const total = this.options.share ? this.totals.get(key)!.valueAt(at) : 1;
      if (!(total > 0)) continue; // faded out of floating point entirely
      const scale = weight / total;
      for (const candidate of candidates) {
        const count = reviewers.get(candidate);
        if (count) affinity.set(candidate, affinity.get(candidate)! + scale * count.valueAt(at));
      }
    }
    return affinity;
  }

  /** Each candidate's decayed number of approvals at time `at`, whatever they touched. */
  approvalCounts(candidates: readonly string[], at: number): Map<string, number> {
    return new Map(candidates.map((candidate) => [candidate, this.approvals.get(candidate)?.valueAt(at) ?? 0]));
  }

  private count(counts: Map<string, DecayedCount>, key: string, amount: number, at: number): void {
    let count = counts.get(key);
    if (!count) counts.set(key, (count = new DecayedCount(this.options.halfLifeMs)));
    count.add(amount, at);
  }
}

interface PathPart {
  key: string;
  /** Components in the part. */
  depth: number;
  /** Components in the whole path. */
  of: number;
  suffix: boolean;
}

// Trailing parts get a key no leading part can have (a path never starts with a NUL).
function partsOf(path: string, withSuffixes: boolean): PathPart[] {
  const components = path.split('/').filter((component) => component !== '');
  const parts: PathPart[] = [];
  for (let depth = 1; depth <= components.length; depth++) {
    parts.push({ key: components.slice(0, depth).join('/'), depth, of: components.length, suffix: false });
    if (withSuffixes) parts.push({ key: `\0${components.slice(-depth).join('/')}`, depth, of: components.length, suffix: true });
  }
  return parts;
}
