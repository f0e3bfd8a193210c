import { ownersOf, parseCodeowners } from '../domain/codeowners.js';
import type { Reviewer } from '../domain/escalation-plan.js';
import { scoreCandidates } from '../domain/routing.js';
import type { OutcomeStore } from './outcome-store/store.js';
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

/** The share of `files` each person owns under CODEOWNERS (owners as @handle, @org/team handle or email). */
export function ownership(codeowners: string, files: string[], people: Record<string, Reviewer>): Record<string, number> {
  if (files.length === 0) return {};
  const rules = parseCodeowners(codeowners);
  const byAlias = new Map<string, string>();
  for (const person of Object.values(people)) {
    for (const alias of person.aliases) byAlias.set(alias.replace(/^@/, ''), person.id);
  }
  const owned: Record<string, number> = {};
  for (const file of files) {
    const owners = new Set(ownersOf(rules, file).map((owner) => byAlias.get(owner.replace(/^@/, '').toLowerCase())).filter((id): id is string => id !== undefined));
    for (const id of owners) owned[id] = (owned[id] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(owned).map(([id, count]) => [id, count / files.length]));
}
