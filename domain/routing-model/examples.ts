import type { RoutingExample } from './fit.js';
import { modelFactors } from './retrain.js';

/** What the routing activity keeps about one routed escalation: each candidate's factor values, in `factors` order. */
export interface RoutingFeatures {
  escalationId: string;
  routedAt: string;
  model: string;
  factors: readonly string[];
  candidates: Record<string, readonly number[]>;
}

/**
 * One escalation as learning sees it. The right people are those who approved or rejected it and
 * those a reassignment handed it to (the person who reassigned says someone else should decide).
 * Values come back in `modelFactors` order; a factor the policy did not route by counts 0, as it did
 * in the score.
 */
export function routingExample(features: RoutingFeatures, deciders: readonly string[], reassignedTo: readonly string[]): RoutingExample {
  const position = modelFactors.map((factor) => features.factors.indexOf(factor));
  const candidates = Object.entries(features.candidates).map(([person, values]) => ({ person, values: position.map((at) => (at < 0 ? 0 : (values[at] ?? 0))) }));
  const positives = [...new Set([...deciders, ...reassignedTo])].filter((person) => person in features.candidates);
  return { escalationId: features.escalationId, candidates, positives, reassigned: reassignedTo.length > 0 };
}

/** The factor values of each candidate from routing's scores, for `RoutingFeatures` (4 decimals keep the row small). */
export function featuresOf(scores: ReadonlyArray<{ person: string; factors: Record<string, { value: number }> }>, factors: readonly string[]): Record<string, number[]> {
  return Object.fromEntries(scores.map((score) => [score.person, factors.map((factor) => Math.round((score.factors[factor]?.value ?? 0) * 10_000) / 10_000)]));
}
