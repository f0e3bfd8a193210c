import { routingDecision } from '../domain/routing.js';
import type { OutcomeStore } from '../adapters/outcome-store/store.js';
import type { RoutingDecision, RoutingRequest } from './types.js';

/**
 * Dynamic routing: detects a cold start (too little history for the gate or the service), else scores
 * the candidates on ownership, availability, response history and load from the outcome store.
 */
export function createRouter(store: OutcomeStore) {
  return async function routeReviewers(request: RoutingRequest): Promise<RoutingDecision> {
    const { failure, plan } = request;
    const [gateHistory, serviceHistory] = await Promise.all([store.historySize({ gate: failure.gate.name }), store.historySize({ service: failure.service })]);
    const stats = await store.responseStats(plan.candidates);
    const load = await store.currentLoad(plan.candidates);
    return routingDecision({
      plan,
      failure,
      history: { gate: gateHistory, service: serviceHistory },
      medianResponseMs: Object.fromEntries(Object.entries(stats).map(([id, s]) => [id, s.medianResponseMs])),
      load,
    });
  };
}

