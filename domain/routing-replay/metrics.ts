/** The cut-offs the replay reports: share of changes with an actual approver among the first k. */
export const topCutoffs = [1, 3, 5, 10] as const;

/** A ranking's accuracy over the scored changes. */
export interface RankingAccuracy {
  changes: number;
  /** `top[k]`: share of changes (0..1) with an actual approver among the first k. */
  top: Record<(typeof topCutoffs)[number], number>;
  /** Mean reciprocal rank of the first actual approver; a change with no approver ranked counts 0. */
  mrr: number;
  /** Gini coefficient of how often each reviewer was ranked first (0: evenly spread, 1: always the same person). */
  firstChoiceGini: number;
}

/**
 * Accuracy from the rank (1-based) of each change's first actual approver, `null` when none was
 * ranked, and the first choice of each change. `reviewers` are everyone who could have been first,
 * so people never chosen count as zeros in the Gini.
 */
export function rankingAccuracy(ranks: ReadonlyArray<number | null>, firstChoices: ReadonlyArray<string | undefined>, reviewers: Iterable<string>): RankingAccuracy {
  const changes = ranks.length;
  const share = (count: number) => (changes ? count / changes : 0);
  const top = Object.fromEntries(topCutoffs.map((k) => [k, share(ranks.filter((rank) => rank !== null && rank <= k).length)])) as RankingAccuracy['top'];
  const mrr = share(ranks.reduce<number>((sum, rank) => sum + (rank === null ? 0 : 1 / rank), 0));
  const firsts = new Map<string, number>([...reviewers].map((reviewer) => [reviewer, 0]));
  for (const choice of firstChoices) if (choice !== undefined) firsts.set(choice, (firsts.get(choice) ?? 0) + 1);
  return { changes, top, mrr, firstChoiceGini: gini([...firsts.values()]) };
}

/** Gini coefficient of non-negative amounts; 0 for no amounts or all zero. */
export function gini(amounts: readonly number[]): number {
  const sorted = [...amounts].sort((a, b) => a - b);
  const total = sorted.reduce((sum, amount) => sum + amount, 0);
  if (sorted.length === 0 || total === 0) return 0;
  // G = Σ (2i - n - 1)·x_i / (n·Σx) over amounts in increasing order, i from 1.
  const weighted = sorted.reduce((sum, amount, index) => sum + (2 * (index + 1) - sorted.length - 1) * amount, 0);
  return weighted / (sorted.length * total);
}
