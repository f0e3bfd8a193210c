import type { OutcomeStore } from '../outcome-store/store.js';
import { handWeightedModel } from '../../domain/routing-model/model.js';
import { type RetrainingReport, retrainRoutingModel } from '../../domain/routing-model/retrain.js';
import type { Gauge } from 'prom-client';

export interface RetrainingDependencies {
  store: Pick<OutcomeStore, 'routingExamples' | 'currentRoutingModel' | 'saveRetraining'>;
  /** Absent: the figures go to the store and the log only. */
  metrics?: { routingAccuracy: Gauge<'model' | 'measure'>; routingReassignRate: Gauge } | undefined;
  /** The period measured on, ending at the run (the Schedule's interval). */
  periodDays: number;
  /** How far back before the period the fit looks. */
  trainingDays: number;
  /** Routed escalations with a decision the period needs before a fitted model can replace the current one (default 20). */
  minEscalations?: number;
  /** Where the figures are logged (the activity's logger in the worker); absent: not logged. */
  log?: (message: string, meta: Record<string, unknown>) => void;
}

const DAY_MS = 86_400_000;

/**
 * Retrains dynamic routing on the outcome store: fits on the escalations routed in the `trainingDays`
 * before the last `periodDays`, measures the fitted and the current model on that period, keeps the
 * fitted one only if it is not worse, and reports the figures: in the store (the report), on the
 * worker's /metrics and in the log. A retry for the same run finds the report kept by the first
 * attempt, so a period is retrained once.
 */
export function createRoutingRetrainer(deps: RetrainingDependencies) {
  return async function retrainRouting({ at }: { at: string }): Promise<RetrainingReport> {
    const end = Date.parse(at);
    const periodStart = end - deps.periodDays * DAY_MS;
    const iso = (ms: number) => new Date(ms).toISOString();
    const [current, training, examples] = await Promise.all([
      deps.store.currentRoutingModel(),
      deps.store.routingExamples({ from: iso(periodStart - deps.trainingDays * DAY_MS), to: iso(periodStart) }),
      deps.store.routingExamples({ from: iso(periodStart), to: iso(end) }),
    ]);
    const report = await deps.store.saveRetraining(
      retrainRoutingModel({ current: current ?? handWeightedModel, training, period: { from: iso(periodStart), to: iso(end), examples }, at, version: 'fit-new', ...(deps.minEscalations === undefined ? {} : { minEscalations: deps.minEscalations }) }),
    );
    const { metrics } = deps;
    if (metrics) {
      for (const model of ['current', 'candidate'] as const) {
        const accuracy = report.accuracy[model];
        metrics.routingAccuracy.set({ model, measure: 'top1' }, accuracy.top1);
        metrics.routingAccuracy.set({ model, measure: 'top3' }, accuracy.top3);
        metrics.routingAccuracy.set({ model, measure: 'mrr' }, accuracy.mrr);
      }
      metrics.routingReassignRate.set(report.reassignRate);
    }
    deps.log?.('routing retrained', {
      kept: report.kept === 'candidate' ? report.candidate.version : report.current.version,
      reason: report.reason,
      trainedOn: report.trainedOn,
      measuredOn: report.accuracy.candidate.escalations,
      current: report.accuracy.current,
      candidate: report.accuracy.candidate,
      reassignRate: report.reassignRate,
      weights: report.candidate.weights,
    });
    return report;
  };
}
