/** One approval as a ranker learns it: who approved a change touching these paths, and when. */
export interface LearnedApproval {
  reviewer: string;
  /** The change's paths, project first (`platform/sdk/files/ant/build.xml`). */
  paths: readonly string[];
  /** The project the paths start with, if any. */
  project?: string;
  at: number;
}

/** A change to route: its paths and its submission time. */
export interface RoutedChange {
  paths: readonly string[];
  project?: string;
  at: number;
}

/**
 * A way of ranking reviewers that learns from approvals one at a time. The replay only ever calls
 * `rank` with approvals learned strictly before the change's submission, so nothing leaks.
 */
export interface ReviewerRanker {
  /** The name the replay prints. */
  readonly name: string;
  learn(approval: LearnedApproval): void;
  /** The candidates best first; every candidate appears once. */
  rank(change: RoutedChange, candidates: readonly string[]): string[];
}
