import type { RoutingFactor } from '../policy.js';

/**
 * The weights dynamic routing multiplies each factor's 0..1 value by. A fitted model's weights are
 * the coefficients of a conditional logit (see fit.ts): a candidate's score is the log-odds, up to a
 * constant, that they are the one who decides. A factor the policy's `routeBy` leaves out is not used,
 * whatever its weight.
 */
export interface RoutingModel {
  /** `hand-1` for the weights below; fitted models are `fit-<n>`, numbered by the outcome store. */
  version: string;
  weights: Record<RoutingFactor, number>;
  /** When it was fitted (ISO 8601); null for the hand-set weights. */
  fittedAt: string | null;
  /** Routed escalations it was fitted on. */
  trainedOn: number;
}

/**
 * The weights routing starts with, before the store has outcomes to fit on: ownership and path
 * expertise first, availability next, response speed, urgency, load, approvals and recency last.
 */
export const handWeightedModel: RoutingModel = {
  version: 'hand-1',
  weights: { expertise: 3, codeowners: 3, oncall: 2, workingHours: 2, responseHistory: 1, severity: 1, load: 1, approvals: 1, recency: 1 },
  fittedAt: null,
  trainedOn: 0,
};
