import { routingFactors } from '../policy.js';
import { type RoutingAccuracy, rankingAccuracy } from './accuracy.js';
import { defaultFitOptions, fitConditionalLogit, type FitOptions, type RoutingExample } from './fit.js';
import type { RoutingModel } from './model.js';

/** What one retraining found: the model fitted, both models' accuracy on the last period, and which one routing keeps. */
export interface RetrainingReport {
  at: string;
  /** The model in use before, and the one fitted now. */
  current: RoutingModel;
  candidate: RoutingModel;
  /** Routed escalations fitted on (before the period) and measured on (the period). */
  trainedOn: number;
  period: { from: string; to: string };
  accuracy: { current: RoutingAccuracy; candidate: RoutingAccuracy };
  /** Share of the period's routed escalations someone reassigned: the people routing asked were not the right ones. */
  reassignRate: number;
  kept: 'candidate' | 'current';
  reason: string;
}

/** The vector order every example and weight list uses. */
export const modelFactors = routingFactors;

/**
 * Retrains routing: fits the weights on the escalations routed before the period (starting from, and
 * pulled towards, the model in use), measures both models on the period's escalations, and keeps the
 * new one only if it is not worse there — top-1 and MRR both at least as high. With too little to
 * measure on, the model in use stays: a new model must show it is not worse.
 */
export function retrainRoutingModel(input: {
  current: RoutingModel;
  training: readonly RoutingExample[];
  period: { from: string; to: string; examples: readonly RoutingExample[] };
  at: string;
  /** The version the fitted model gets. */
  version: string;
  /** Fewer routed escalations with a decision in the period than this tell nothing: the current model stays (default 20). */
  minEscalations?: number;
  options?: FitOptions;
}): RetrainingReport {
  const { current, period } = input;
  const start = modelFactors.map((factor) => current.weights[factor]);
  const fit = fitConditionalLogit(input.training, modelFactors.length, start, input.options ?? defaultFitOptions);
  const candidate: RoutingModel = {
    version: input.version,
    weights: Object.fromEntries(modelFactors.map((factor, i) => [factor, round(fit.weights[i]!)])) as RoutingModel['weights'],
    fittedAt: input.at,
    trainedOn: fit.examples,
  };
  const accuracy = {
    current: rankingAccuracy(period.examples, start),
    candidate: rankingAccuracy(period.examples, modelFactors.map((factor) => candidate.weights[factor])),
  };
  const reassigned = period.examples.filter((example) => example.reassigned).length;
  const verdict = keepOrNot(fit.examples, accuracy, input.minEscalations ?? 20);
  return {
    at: input.at,
    current,
    candidate,
    trainedOn: fit.examples,
    period: { from: period.from, to: period.to },
    accuracy,
    reassignRate: period.examples.length === 0 ? 0 : reassigned / period.examples.length,
    ...verdict,
  };
}

function keepOrNot(trainedOn: number, accuracy: RetrainingReport['accuracy'], minEscalations: number): Pick<RetrainingReport, 'kept' | 'reason'> {
  const { current, candidate } = accuracy;
  const figures = (a: RoutingAccuracy) => `top-1 ${percent(a.top1)}, MRR ${a.mrr.toFixed(3)}`;
  if (trainedOn === 0) return { kept: 'current', reason: 'no routed escalation with a decision to fit on' };
  if (candidate.escalations === 0) return { kept: 'current', reason: 'no routed escalation with a decision in the period to measure on' };
  if (candidate.escalations < minEscalations) return { kept: 'current', reason: `only ${candidate.escalations} routed escalation(s) with a decision in the period, fewer than ${minEscalations}: too few to tell` };
  const notWorse = candidate.top1 >= current.top1 - 1e-9 && candidate.mrr >= current.mrr - 1e-9;
  return notWorse
    ? { kept: 'candidate', reason: `not worse on ${candidate.escalations} escalation(s): ${figures(candidate)} against ${figures(current)}` }
    : { kept: 'current', reason: `worse on ${candidate.escalations} escalation(s): ${figures(candidate)} against ${figures(current)}` };
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;
const percent = (share: number) => `${(share * 100).toFixed(1)} %`;
