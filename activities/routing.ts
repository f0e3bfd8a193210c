import { ownership } from '../domain/codeowners.js';
import { scoreCandidates } from '../domain/routing.js';
import type { OutcomeStore } from '../shared/outcome-store/store.js';
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
    const result = scoreCandidates({
      candidates: plan.candidates,
      routeBy: plan.routeBy,
      pick: plan.pick,
      severity: failure.severity,
      author: failure.change.author,
      people: plan.people,
      facts: plan.facts,
      ownership: plan.codeowners ? ownership(plan.codeowners, failure.change.changedFiles, plan.people) : {},
      medianResponseMs: Object.fromEntries(Object.entries(stats).map(([id, s]) => [id, s.medianResponseMs])),
      load,
    });
    const minHistory = plan.coldStart.minHistory;
    if (gateHistory < minHistory || serviceHistory < minHistory) {
      const thin = gateHistory < minHistory ? `gate ${failure.gate.name} has ${gateHistory}` : `service ${failure.service} has ${serviceHistory}`;
      return { coldStart: true, reason: `cold start: ${thin} ended escalation(s), fewer than ${minHistory}; running ${plan.coldStart.model}`, chosen: [], ranked: result.ranked, scores: result.scores };
    }
    return { coldStart: false, reason: `highest score of ${plan.candidates.length} candidate(s)`, ...result };
  };
}

export { ownership } from '../domain/codeowners.js';
