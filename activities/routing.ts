import { ExpertiseIndex } from '../domain/expertise/expertise-index.js';
import { routingDecision } from '../domain/routing.js';
import type { OutcomeStore } from '../adapters/outcome-store/store.js';
import type { RoutingDecision, RoutingRequest } from './types.js';

/**
 * Dynamic routing: detects a cold start (too little history for the gate or the service), else scores
 * the candidates on path expertise, ownership, availability, response history and load from the
 * outcome store.
 *
 * Path expertise comes from an index this worker keeps (domain/expertise/): each routing first
 * learns the reviews decided since the last one, so the store is read incrementally, never scanned
 * per change. Learning is serialised, so concurrent routings never learn a review twice.
 */
export function createRouter(store: OutcomeStore) {
  const expertise = new ExpertiseIndex();
  let learnedUpTo: string | null = null;
  let learning: Promise<void> = Promise.resolve();
  const learnNewReviews = () =>
    (learning = learning.then(async () => {
      for (const review of await store.reviewedPaths(learnedUpTo)) {
        expertise.add(review);
        learnedUpTo = review.decidedAt;
      }
    }));

  return async function routeReviewers(request: RoutingRequest): Promise<RoutingDecision> {
    const { failure, plan } = request;
    const [gateHistory, serviceHistory] = await Promise.all([store.historySize({ gate: failure.gate.name }), store.historySize({ service: failure.service })]);
    const stats = await store.responseStats(plan.candidates);
    const load = await store.currentLoad(plan.candidates);
    const affinity = plan.routeBy.includes('expertise') ? await affinityOf(failure, plan.candidates, Date.parse(request.at)) : undefined;
    return routingDecision({
      plan,
      failure,
      history: { gate: gateHistory, service: serviceHistory },
      medianResponseMs: Object.fromEntries(Object.entries(stats).map(([id, s]) => [id, s.medianResponseMs])),
      load,
      ...(affinity ? { expertise: affinity } : {}),
    });
  };

  async function affinityOf(failure: RoutingRequest['failure'], candidates: string[], at: number): Promise<Record<string, number>> {
    await learnNewReviews();
    const paths = failure.change.changedFiles.map((file) => `${failure.repository}/${file.replace(/^(\.?\/)+/, '')}`);
    return Object.fromEntries(expertise.affinity(paths, candidates, at));
  }
}
