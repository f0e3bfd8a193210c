import type { RoutingScore } from './escalation.js';
import { isAuthor } from './escalation.js';
import { ownership } from './codeowners.js';
import type { RoutingDecision } from './engine/events.js';
import type { CandidateFacts, DynamicPlan, Reviewer } from './escalation-plan.js';
import type { GateFailure, Severity } from './gate-failure.js';
import type { RoutingFactor } from './policy.js';
import { handWeightedModel, type RoutingModel } from './routing-model/model.js';

/** What routing knows about the world at the moment it routes. */
export interface RoutingInputs {
  candidates: string[];
  routeBy: RoutingFactor[];
  pick: number;
  severity: Severity;
  author: string;
  people: Record<string, Reviewer>;
  facts: Record<string, CandidateFacts>;
  /** Share of the changed files each candidate owns (0..1), by CODEOWNERS; absent: not an owner. */
  ownership: Record<string, number>;
  /** Median response time from the outcome store; absent or null: no history. */
  medianResponseMs: Record<string, number | null>;
  /** Escalations awaiting each candidate right now. */
  load: Record<string, number>;
  /** Each candidate's affinity to the changed paths from past reviews (≥ 0, comparable within one change); absent: no history. */
  expertise?: Record<string, number>;
  /** Each candidate's recent decisions in this gate and service (a count fading with time); absent: none. */
  approvals?: Record<string, number>;
  /** Days since each candidate's last decision anywhere; absent or null: never decided. */
  daysSinceDecision?: Record<string, number | null>;
  /** The weights; absent: the hand-set ones. */
  model?: RoutingModel;
  /** Load spreading: among those at least (1 - within) as likely as the best, the least loaded first. */
  spreadLoad?: { within: number };
}

/** A recency value halves every this many days without a decision. */
const RECENCY_HALF_LIFE_DAYS = 30;
const severityUrgency: Record<Severity, number> = { critical: 1, high: 0.75, medium: 0.25, low: 0 };
const HALF_HOUR_MS = 30 * 60_000;

/**
 * Scores every candidate on the policy's factors and picks the best. Each factor is a value in 0..1
 * times its weight, kept with a sentence saying why, so an auditor can follow the choice. The change's
 * author and people out of office are never picked while anyone else is left; ties keep policy order.
 */
export function scoreCandidates(inputs: RoutingInputs): { scores: RoutingScore[]; ranked: string[]; chosen: string[] } {
  const scores = inputs.candidates.map((person) => scoreOf(person, inputs));
  const eligible = (score: RoutingScore) => !isAuthor(inputs.people[score.person], score.person, inputs.author) && !inputs.facts[score.person]?.outOfOffice;
  const order = [...scores].sort((a, b) => Number(eligible(b)) - Number(eligible(a)) || b.score - a.score);
  if (inputs.spreadLoad) spreadLoad(order, eligible, inputs.load, inputs.spreadLoad.within);
  const ranked = order.map((s) => s.person);
  const chosen = order.filter(eligible).slice(0, inputs.pick).map((s) => s.person);
  return { scores, ranked, chosen: chosen.length ? chosen : ranked.slice(0, inputs.pick) };
}

/**
 * Moves the least loaded of the eligible candidates within the margin to the front (ties: score), in
 * place. The margin is on the model's odds: a candidate scoring s beside the best's b is exp(s - b)
 * as likely to decide, so those with exp(s - b) ≥ 1 - within are near enough to the best.
 */
function spreadLoad(order: RoutingScore[], eligible: (score: RoutingScore) => boolean, load: Record<string, number>, within: number): void {
  const best = order.find(eligible);
  if (!best) return;
  const nearEnough = (score: RoutingScore) => eligible(score) && Math.exp(score.score - best.score) >= 1 - within;
  const near = order.filter(nearEnough);
  const rest = order.filter((score) => !nearEnough(score));
  near.sort((a, b) => (load[a.person] ?? 0) - (load[b.person] ?? 0) || b.score - a.score);
  order.splice(0, order.length, ...near, ...rest);
}

function scoreOf(person: string, inputs: RoutingInputs): RoutingScore {
  const weights = (inputs.model ?? handWeightedModel).weights;
  const factors: RoutingScore['factors'] = {};
  const facts = inputs.facts[person] ?? { working: null, outOfOffice: false, onCall: false };
  const median = inputs.medianResponseMs[person] ?? null;
  const speed = median === null ? 0.5 : 1 / (1 + median / HALF_HOUR_MS);
  const topAffinity = Math.max(0, ...Object.values(inputs.expertise ?? {}));
  const topApprovals = Math.max(0, ...Object.values(inputs.approvals ?? {}));
  for (const factor of inputs.routeBy) {
    const weight = weights[factor];
    if (factor === 'expertise') {
      // Relative to the most expert candidate: affinity has no unit, only an order within one change.
      const affinity = inputs.expertise?.[person] ?? 0;
      const value = topAffinity > 0 ? affinity / topAffinity : 0;
      const why = topAffinity === 0 ? 'nobody here has reviewed changes to these paths' : affinity === 0 ? 'has reviewed none of these paths' : `reviewed these paths ${Math.round(value * 100)}% as much as the most expert candidate`;
      factors.expertise = { value, weight, why };
    } else if (factor === 'codeowners') {
      const share = inputs.ownership[person] ?? 0;
      factors.codeowners = { value: share, weight, why: share > 0 ? `owns ${Math.round(share * 100)}% of the changed files` : 'owns none of the changed files' };
    } else if (factor === 'oncall') {
      factors.oncall = { value: facts.onCall ? 1 : 0, weight, why: facts.onCall ? 'on call now' : 'not on call' };
    } else if (factor === 'workingHours') {
      const value = facts.outOfOffice ? 0 : facts.working === null ? 0.5 : facts.working ? 1 : 0;
      const why = facts.outOfOffice ? 'out of office' : facts.working === null ? 'no working hours in the policy' : facts.working ? 'within working hours' : 'outside working hours';
      factors.workingHours = { value, weight, why };
    } else if (factor === 'responseHistory') {
      factors.responseHistory = { value: speed, weight, why: median === null ? 'no response history' : `median response ${Math.round(median / 60_000)} min` };
    } else if (factor === 'severity') {
      const urgency = severityUrgency[inputs.severity];
      factors.severity = { value: urgency * speed, weight, why: `${inputs.severity} severity favours fast responders (urgency ${urgency})` };
    } else if (factor === 'approvals') {
      const given = inputs.approvals?.[person] ?? 0;
      const value = topApprovals > 0 ? given / topApprovals : 0;
      const why = topApprovals === 0 ? 'nobody here has decided in this gate and service lately' : `decided ${Math.round(value * 100)}% as often in this gate and service lately as the most active candidate`;
      factors.approvals = { value, weight, why };
    } else if (factor === 'recency') {
      const days = inputs.daysSinceDecision?.[person] ?? null;
      const value = days === null ? 0 : 0.5 ** (Math.max(0, days) / RECENCY_HALF_LIFE_DAYS);
      factors.recency = { value, weight, why: days === null ? 'has never decided' : `last decided ${Math.round(days)} day(s) ago` };
    } else {
      const open = inputs.load[person] ?? 0;
      factors.load = { value: 1 / (1 + open), weight, why: `${open} escalation(s) awaiting them now` };
    }
  }
  const score = Object.values(factors).reduce((sum, f) => sum + f.value * f.weight, 0);
  return { person, score: Math.round(score * 1000) / 1000, factors };
}

/**
 * What the routing activity is asked: the dynamic part of the plan, the failure and the moment. The
 * whole failure, changed files included, since ownership is computed from them: routing is a local
 * activity, whose input never enters history.
 */
export interface RoutingRequest {
  escalationId: string;
  failure: GateFailure;
  plan: Pick<DynamicPlan, 'gateKey' | 'candidates' | 'routeBy' | 'pick' | 'codeowners' | 'coldStart' | 'people' | 'facts' | 'spreadLoad'>;
  at: string;
}

/** What the routing step knows when a dynamic escalation starts: its plan, the failure and the outcome store's figures. */
export interface RoutingRequestFacts {
  plan: Pick<DynamicPlan, 'candidates' | 'routeBy' | 'pick' | 'codeowners' | 'coldStart' | 'people' | 'facts' | 'spreadLoad'>;
  failure: { gate: { name: string }; service: string; severity: Severity; change: { author: string; changedFiles: string[] } };
  /** Ended escalations of the gate and of the service: below the plan's minimum, the cold-start model runs. */
  history: { gate: number; service: number };
  medianResponseMs: Record<string, number | null>;
  load: Record<string, number>;
  /** Ownership shares computed already (the simulator caches them per change set); else from the plan's CODEOWNERS. */
  ownership?: Record<string, number>;
  /** Path expertise from the outcome store's review history (the worker's routing); absent elsewhere. */
  expertise?: Record<string, number>;
  /** Recent decisions in this gate and service, and days since the last decision (the worker's routing); absent elsewhere. */
  approvals?: Record<string, number>;
  daysSinceDecision?: Record<string, number | null>;
  /** The weights routing uses: the outcome store's current model; absent: the hand-set weights. */
  model?: RoutingModel;
}

/**
 * Dynamic routing's answer, the same wherever it is asked (the worker's activity, `policy explain`,
 * scenarios, the simulator): the candidates scored on CODEOWNERS ownership of the changed files and
 * the policy's other factors, or a cold start while the gate or the service has too little history.
 */
export function routingDecision({ plan, failure, history, medianResponseMs, load, ownership: owned, expertise, approvals, daysSinceDecision, model = handWeightedModel }: RoutingRequestFacts): RoutingDecision {
  const result = scoreCandidates({
    candidates: plan.candidates,
    routeBy: plan.routeBy,
    pick: plan.pick,
    severity: failure.severity,
    author: failure.change.author,
    people: plan.people,
    facts: plan.facts,
    ownership: owned ?? (plan.codeowners ? ownership(plan.codeowners, failure.change.changedFiles, plan.people) : {}),
    medianResponseMs,
    load,
    ...(expertise ? { expertise } : {}),
    ...(approvals ? { approvals } : {}),
    ...(daysSinceDecision ? { daysSinceDecision } : {}),
    ...(plan.spreadLoad ? { spreadLoad: plan.spreadLoad } : {}),
    model,
  });
  const { minHistory } = plan.coldStart;
  if (history.gate < minHistory || history.service < minHistory) {
    const thin = history.gate < minHistory ? `gate ${failure.gate.name} has ${history.gate}` : `service ${failure.service} has ${history.service}`;
    return { coldStart: true, reason: `cold start: ${thin} ended escalation(s), fewer than ${minHistory}; running ${plan.coldStart.model}`, chosen: [], ranked: result.ranked, scores: result.scores, model: model.version };
  }
  const how = plan.spreadLoad ? `least loaded of the candidates within ${Math.round(plan.spreadLoad.within * 100)}% of the best score's odds` : 'highest score';
  return { coldStart: false, reason: `${how} of ${plan.candidates.length} candidate(s)`, ...result, model: model.version };
}
