import type { RoutingExample } from './fit.js';

/** How well weights rank the people who turned out right, over routed escalations. */
export interface RoutingAccuracy {
  /** Examples measured: those with at least one positive among the candidates. */
  escalations: number;
  /** Share whose first-ranked candidate was right; among the first three. */
  top1: number;
  top3: number;
  /** Mean reciprocal rank of the first right candidate. */
  mrr: number;
}

/**
 * Ranks each example's candidates by weights · values (ties: candidate order, as routing breaks
 * them) and measures where the first right person lands. The values are those recorded when the
 * escalation was routed, so any weights can be measured on the same escalations after the fact.
 */
export function rankingAccuracy(examples: readonly RoutingExample[], weights: readonly number[]): RoutingAccuracy {
  let measured = 0;
  let top1 = 0;
  let top3 = 0;
  let reciprocal = 0;
  for (const example of examples) {
    const positives = new Set(example.positives);
    if (!example.candidates.some((c) => positives.has(c.person))) continue;
    measured++;
    const scored = example.candidates.map((c, index) => ({ right: positives.has(c.person), index, score: c.values.reduce((sum, x, i) => sum + x * (weights[i] ?? 0), 0) }));
    scored.sort((a, b) => b.score - a.score || a.index - b.index);
    const rank = scored.findIndex((c) => c.right) + 1;
    if (rank === 1) top1++;
    if (rank <= 3) top3++;
    reciprocal += 1 / rank;
  }
  const share = (n: number) => (measured === 0 ? 0 : n / measured);
  return { escalations: measured, top1: share(top1), top3: share(top3), mrr: share(reciprocal) };
}
