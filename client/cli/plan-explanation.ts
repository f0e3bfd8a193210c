import { ownership } from '../../domain/codeowners.js';
import { type DryRunEvent, dryRun } from '../../domain/engine/dry-run.js';
import { fallbackSteps, withoutAuthor } from '../../domain/engine/run.js';
import { summarize } from '../../domain/engine/state.js';
import type { ModelName, RoutingScore } from '../../domain/escalation.js';
import { type CandidateFacts, type ChainStep, type DynamicPlan, type EscalationPlan, type Quorum, resolvePlan } from '../../domain/escalation-plan.js';
import type { GateFailure } from '../../domain/gate-failure.js';
import type { CommentRule, ExhaustedAction, Policy, RoutingFactor } from '../../domain/policy.js';
import { routingDecision } from '../../domain/routing.js';
import { handWeightedModel, type RoutingModel } from '../../domain/routing-model/model.js';
import { gateEntryKey, type RuleVerdict, ruleVerdicts } from '../../domain/rule-conditions.js';

export type { DryRunEvent, RuleVerdict };

/**
 * What `policy explain` reports: the plan the worker would resolve for this failure at `at`, and the
 * schedule it would follow if nobody answered. Computed from the policy file alone; nothing is read
 * from or written to Temporal or the outcome store.
 */
export interface PlanExplanation {
  at: string;
  failure: { gate: string; kind: string; service: string; severity: string; hotfix: boolean; rollback: boolean; author: string; changedFiles: string[] };
  gateEntry: { key: string; matchedBy: 'own entry' | 'wildcard' } | null;
  /** Set when no entry applies: what the worker does instead. */
  noPolicy: string | null;
  /** The rules in order up to the first that matches (first match wins). */
  rules: RuleVerdict[];
  rulesNotEvaluated: number;
  rule: string | null;
  selectedBy: string | null;
  model: ModelName | null;
  quietHours: { window: string; timezone: string; onCall: string; activeAtStart: boolean } | null;
  /** Who is asked first, and when. */
  first: { at: string; reviewers: string[]; emailed: string[]; held: string[]; deadline: string | null } | null;
  /** If nobody answers: every timeout in order, to the end. For dynamic, the routed path (enough history). */
  timeline: DryRunEvent[];
  tiers: Array<{ name: string; reviewers: string[]; timeoutMs: number; lead: string | null }>;
  maxDepth: number | null;
  onExhausted: ExhaustedAction | null;
  requireComment: CommentRule | null;
  breakGlass: { holders: string[]; notify: string[] } | null;
  /** The channels this severity reaches reviewers through, and the tiers PagerDuty pages. */
  channels: EscalationPlan['channels'] | null;
  notes: string[];
  sequential?: { steps: ChainStep[]; randomizeOrder: boolean };
  parallel?: {
    group: string[];
    /** Left out of the group because they wrote the change. */
    leftOut: string[];
    primary: string;
    quorum: Quorum;
    acknowledgeWithinMs: number | null;
    renotify: number;
    decideWithinMs: number;
    /** When the group would be reminded, while nobody acknowledges. */
    renotifyAt: string[];
    randomizeOrder: boolean;
  };
  dynamic?: {
    candidates: string[];
    routeBy: RoutingFactor[];
    pick: number;
    decideWithinMs: number;
    facts: Record<string, CandidateFacts>;
    /** Share of the changed files each candidate owns under the gate's CODEOWNERS. */
    ownership: Record<string, number>;
    /** Scores as routing would compute them with no response history and nobody loaded. */
    scores: RoutingScore[];
    /** The weights that scored them: the outcome store's current routing model, or the hand-set one. */
    model: RoutingModel;
    ranked: string[];
    chosen: string[];
    coldStart: { model: 'sequential' | 'parallel'; minHistory: number; when: string; timeline: DryRunEvent[] };
    fallback: { steps: ChainStep[]; source: string };
  };
}

/** Explains what the policy would do with `failure` if it were raised at `at`. */
export function explainPlan(policy: Policy, failure: GateFailure, at: Date, model: RoutingModel = handWeightedModel): PlanExplanation {
  const gateKey = gateEntryKey(policy, failure.gate.name) ?? null;
  const plan = resolvePlan(policy, failure, { at, ordinal: 0 });
  const base: PlanExplanation = {
    at: at.toISOString(),
    failure: {
      gate: failure.gate.name,
      kind: failure.gate.kind,
      service: failure.service,
      severity: failure.severity,
      hotfix: failure.hotfix,
      rollback: failure.rollback,
      author: failure.change.author,
      changedFiles: failure.change.changedFiles,
    },
    gateEntry: gateKey === null ? null : { key: gateKey, matchedBy: gateKey === '*' ? 'wildcard' : 'own entry' },
    noPolicy: null,
    rules: [],
    rulesNotEvaluated: 0,
    rule: null,
    selectedBy: null,
    model: null,
    quietHours: null,
    first: null,
    timeline: [],
    tiers: [],
    maxDepth: null,
    onExhausted: null,
    requireComment: null,
    breakGlass: null,
    channels: null,
    notes: [],
  };
  if (!plan) {
    return { ...base, noPolicy: `no gates entry for "${failure.gate.name}" and no "*" entry: the escalation ends blocked at once, flagged for postmortem (NoPolicyForGate)` };
  }
  const rules = ruleVerdicts(policy, failure, at);
  const explanation: PlanExplanation = {
    ...base,
    rules,
    rulesNotEvaluated: policy.rules.length - rules.length,
    rule: plan.rule,
    selectedBy: plan.selectedBy,
    model: plan.model,
    quietHours:
      plan.quietHours && policy.quietHours
        ? {
            window: `${policy.quietHours.from}-${policy.quietHours.to}`,
            timezone: policy.timezone,
            onCall: plan.quietHours.onCall,
            activeAtStart: plan.quietHours.intervals.some((i) => i.fromMs <= at.getTime() && at.getTime() < i.toMs),
          }
        : null,
    tiers: plan.tiers.map((tier) => ({ name: tier.name, reviewers: tier.reviewers, timeoutMs: tier.timeoutMs, lead: tier.lead })),
    maxDepth: plan.maxDepth,
    onExhausted: plan.onExhausted,
    requireComment: plan.requireComment,
    breakGlass: plan.breakGlass,
    channels: plan.channels,
    notes: plan.notes,
  };
  const summary = summarize(failure);
  const author = failure.change.author;
  const startMs = at.getTime();
  if (plan.model === 'sequential') {
    explanation.sequential = { steps: plan.steps, randomizeOrder: plan.randomizeOrder };
    explanation.timeline = dryRun(plan, summary, startMs);
  } else if (plan.model === 'parallel') {
    const group = withoutAuthor(plan.people, author, plan.group, plan.quorum.approve);
    const primary = group.includes(plan.primary) ? plan.primary : group[0]!;
    explanation.timeline = dryRun(plan, summary, startMs);
    explanation.parallel = {
      group,
      leftOut: plan.group.filter((id) => !group.includes(id)),
      primary,
      quorum: plan.quorum,
      acknowledgeWithinMs: plan.acknowledgeWithinMs,
      renotify: plan.renotify,
      decideWithinMs: plan.decideWithinMs,
      renotifyAt: explanation.timeline.filter((e) => e.event === 'renotified').map((e) => e.at),
      randomizeOrder: plan.randomizeOrder,
    };
  } else {
    explanation.dynamic = explainDynamic(plan, failure, startMs, model);
    const { chosen, ranked, scores } = explanation.dynamic;
    explanation.timeline = dryRun(plan, summary, startMs, { coldStart: false, reason: 'enough history', chosen, ranked, scores });
  }
  const first = explanation.timeline.find((e) => e.event === 'assigned');
  explanation.first = first ? { at: first.at, reviewers: first.reviewers, emailed: first.emailed ?? [], held: first.held ?? [], deadline: first.deadline ?? null } : null;
  return explanation;
}

function explainDynamic(plan: DynamicPlan, failure: GateFailure, startMs: number, model: RoutingModel): NonNullable<PlanExplanation['dynamic']> {
  const owned = plan.codeowners ? ownership(plan.codeowners, failure.change.changedFiles, plan.people) : {};
  // As routing answers with enough history and nobody loaded; the cold start below with none.
  const enough = plan.coldStart.minHistory;
  const routed = routingDecision({ plan, failure, history: { gate: enough, service: enough }, medianResponseMs: {}, load: {}, model });
  const { scores, ranked, chosen } = routed;
  const coldStartTimeline = dryRun(plan, summarize(failure), startMs, routingDecision({ plan, failure, history: { gate: 0, service: 0 }, medianResponseMs: {}, load: {} }));
  const { minHistory } = plan.coldStart;
  return {
    candidates: plan.candidates,
    routeBy: plan.routeBy,
    pick: plan.pick,
    decideWithinMs: plan.decideWithinMs,
    facts: plan.facts,
    ownership: owned,
    scores: ranked.map((id) => scores.find((s) => s.person === id)!),
    model,
    ranked,
    chosen,
    coldStart: {
      ...plan.coldStart,
      when: `gate ${failure.gate.name} or service ${failure.service} has fewer than ${minHistory} ended escalation(s) in the outcome store`,
      timeline: coldStartTimeline,
    },
    fallback: {
      steps: fallbackSteps(plan, failure.change.author, ranked, chosen),
      source: plan.fallbackSteps ? "the gate's own chain" : 'the best-ranked candidate not yet asked, the next one as backup',
    },
  };
}
