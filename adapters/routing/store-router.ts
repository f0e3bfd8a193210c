import { ReviewMemory } from '../../domain/expertise/review-memory.js';
import { type RoutingRequest, routingDecision } from '../../domain/routing.js';
import { featuresOf } from '../../domain/routing-model/examples.js';
import { handWeightedModel } from '../../domain/routing-model/model.js';
import type { OutcomeStore } from '../outcome-store/store.js';
import type { RoutingDecision } from '../../domain/engine/events.js';

/** Decisions are re-read this far behind the newest one learned: one recorded late, with an earlier time, is still learned (once). */
const LOOKBACK_MS = 10 * 60_000;

/**
 * Dynamic routing: detects a cold start (too little history for the gate or the service), else scores
 * the candidates with the outcome store's current routing model on path expertise, ownership,
 * availability, decisions in this gate and service, recency, response time in this gate and load.
 * Every routing keeps each candidate's factor values in the store, which retraining fits on.
 *
 * What routing knows of past decisions lives in memory (domain/expertise/review-memory.ts): each
 * routing first learns the decisions recorded since the last one, so the store is read incrementally,
 * never scanned per change. Learning is serialised, so concurrent routings never learn a decision twice.
 */
export function createRouter(store: OutcomeStore) {
  const memory = new ReviewMemory();
  let cursor: string | null = null;
  const learnedRecently = new Map<string, number>();
  let learning: Promise<void> = Promise.resolve();
  const learnNewDecisions = () =>
    (learning = learning.then(async () => {
      const after = cursor === null ? null : new Date(Date.parse(cursor) - LOOKBACK_MS).toISOString();
      for (const decision of await store.decisionFeed(after)) {
        const key = `${decision.escalationId}\0${decision.reviewer}\0${decision.decidedAt}`;
        if (learnedRecently.has(key)) continue;
        learnedRecently.set(key, decision.at);
        memory.learn(decision);
        if (cursor === null || decision.decidedAt > cursor) cursor = decision.decidedAt;
      }
      const forgetBefore = cursor === null ? 0 : Date.parse(cursor) - 2 * LOOKBACK_MS;
      for (const [key, at] of learnedRecently) if (at < forgetBefore) learnedRecently.delete(key);
    }));

  return async function routeReviewers(request: RoutingRequest): Promise<RoutingDecision> {
    const { failure, plan } = request;
    const at = Date.parse(request.at);
    const [gateHistory, serviceHistory, load, model] = await Promise.all([
      store.historySize({ gate: failure.gate.name }, plan.coldStart.minHistory),
      store.historySize({ service: failure.service }, plan.coldStart.minHistory),
      store.currentLoad(plan.candidates),
      store.currentRoutingModel(),
      learnNewDecisions(),
    ]);
    const paths = failure.change.changedFiles.map((file) => `${failure.repository}/${file.replace(/^(\.?\/)+/, '')}`);
    const decision = routingDecision({
      plan,
      failure,
      history: { gate: gateHistory, service: serviceHistory },
      medianResponseMs: memory.medianResponseMs(failure.gate.name, plan.candidates),
      load,
      ...(plan.routeBy.includes('expertise') ? { expertise: Object.fromEntries(memory.expertise.affinity(paths, plan.candidates, at)) } : {}),
      approvals: memory.approvalsIn(failure.gate.name, failure.service, plan.candidates, at),
      daysSinceDecision: memory.daysSinceDecision(plan.candidates, at),
      model: model ?? handWeightedModel,
    });
    await store.recordRoutingFeatures({
      escalationId: request.escalationId,
      routedAt: request.at,
      model: decision.model ?? handWeightedModel.version,
      factors: plan.routeBy,
      candidates: featuresOf(decision.scores, plan.routeBy),
    });
    return decision;
  };
}
