import type { GateFailure } from './gate-failure.js';
import type { GateMode } from './metrics/report.js';
import type { CommentRule, ExhaustedAction, NotificationChannel, Policy, PolicyGate, PolicyRule, PolicyStep, ReviewerSource, RoutingFactor, TicketSettings } from './policy.js';
import { type Interval, quietIntervals } from './quiet-hours.js';
import { describeWhen, firstMatchingRule, gateEntryKey } from './rule-conditions.js';
import { isOutOfOffice, isWorking, onCallAt, parseWorkingHours, poolMembersAt } from './schedule.js';

/** What the workflow needs to know about a person: how to reach them and how to recognise them as an author. */
export interface Reviewer {
  id: string;
  name: string;
  email: string;
  /** Lower-cased id, email and version-control handles: any of them naming the change's author makes this person the author. */
  aliases: string[];
  /** Slack user id (U…/W…), when the person is on Slack. */
  slack?: string;
  /** The channels the person is reached through (their own, or their roles'); absent: all. */
  channels?: NotificationChannel[];
}

export interface ChainStep {
  reviewers: string[];
  backup: string[];
  timeoutMs: number;
}

export interface EscalationTier {
  name: string;
  reviewers: string[];
  timeoutMs: number;
  lead: string | null;
}

export interface Quorum {
  approve: number;
  override: number | null;
  reject: number;
}

/** Settings every model shares. */
interface PlanCommon {
  /** The `gates` key that matched: the gate's own name, or `*`. */
  gateKey: string;
  /** The rule that chose the model and settings, or null for the gate's own. */
  rule: string | null;
  /** Why this model runs, in words, for the timeline and the UI. */
  selectedBy: string;
  tiers: EscalationTier[];
  maxDepth: number;
  onExhausted: ExhaustedAction;
  /**
   * Who is asked to roll back by hand when the rollback endpoint keeps failing: the policy's
   * `onExhausted.notify`, else the tiers' leads, else the last tier, else those asked first.
   * Absent from snapshots taken before it existed.
   */
  rollbackOwners?: string[];
  requireComment: CommentRule;
  randomizeOrder: boolean;
  /** Separation of duties (see the policy's `oneDecisionPerPerson`); absent from older snapshots, which meant true. */
  oneDecisionPerPerson?: boolean;
  people: Record<string, Reviewer>;
  /** People who may break the glass, and who is told when they do. */
  breakGlass: { holders: string[]; notify: string[] };
  /** Quiet hours ahead as instants; in them only `onCall` is notified. */
  quietHours: { intervals: Interval[]; onCall: string } | null;
  /** What resolution changed on the way (out-of-office substitutions), for the timeline. */
  notes: string[];
  /** The channels this failure's severity reaches reviewers through, and the tiers that page. */
  channels: { use: NotificationChannel[]; pageTiers: string[] };
  /** When the escalation's end opens a ticket, and where; absent when the policy opens none. */
  tickets?: TicketSettings;
  /** The gate's mode (see the policy's `mode`); absent from snapshots taken before modes existed, which were live. */
  mode?: GateMode;
  /** Pilot: the only people notified; absent otherwise. */
  pilotGroup?: string[];
}

export interface SequentialPlan extends PlanCommon {
  model: 'sequential';
  steps: ChainStep[];
}

export interface ParallelPlan extends PlanCommon {
  model: 'parallel';
  group: string[];
  /** Named in every message as the one expected to act first; rotates across escalations. */
  primary: string;
  quorum: Quorum;
  acknowledgeWithinMs: number | null;
  renotify: number;
  decideWithinMs: number;
}

export interface DynamicPlan extends PlanCommon {
  model: 'dynamic';
  candidates: string[];
  routeBy: RoutingFactor[];
  pick: number;
  decideWithinMs: number;
  coldStart: { model: 'sequential' | 'parallel'; minHistory: number };
  /** The chain the sequential fallback runs; null: the candidates in routing order. */
  fallbackSteps: ChainStep[] | null;
  /** CODEOWNERS text for routing: the gate's own, else the policy's; null: none. */
  codeowners: string | null;
  /** Load spreading (policy `spreadLoad`); absent: ask the best candidates whatever their load. */
  spreadLoad?: { within: number };
  /** Each candidate's availability at the start, from their working hours, out-of-office days and rotations. */
  facts: Record<string, CandidateFacts>;
}

export interface CandidateFacts {
  /** null: the person has no working hours in the policy. */
  working: boolean | null;
  outOfOffice: boolean;
  onCall: boolean;
}

export type EscalationPlan = SequentialPlan | ParallelPlan | DynamicPlan;

export interface PolicySnapshot {
  /** sha256 of the policy file's bytes, so an auditor can find the exact version that ran. */
  policyVersion: string;
  policySource: string;
  plan: EscalationPlan;
  /**
   * Which optional channels the worker that took the snapshot can reach. `tickets`: the ticket system
   * the policy names is configured (absent from snapshots taken before tickets existed).
   */
  reachable?: { slack: boolean; pagerduty: boolean; webhook: boolean; tickets?: boolean };
}

/** The moment and history a plan is resolved for. */
export interface ResolutionContext {
  at: Date;
  /** How many escalations this gate had before: rotates the parallel primary fairly. */
  ordinal: number;
}

/**
 * Resolves the policy for one gate failure: the gate's entry (or `*`), the first matching rule,
 * pools and rotations at `context.at`, out-of-office substitutions, the tier path and quiet hours.
 * Returns `undefined` when neither the gate nor `*` has an entry.
 */
export function resolvePlan(policy: Policy, failure: GateFailure, context: ResolutionContext): EscalationPlan | undefined {
  const gateKey = gateEntryKey(policy, failure.gate.name);
  if (gateKey === undefined) return undefined;
  const match = firstMatchingRule(policy, failure, context.at);
  const rule = match?.rule;
  const gate = applyRule(policy.gates[gateKey]!, rule);
  const resolver = new Resolver(policy, context.at);
  const common: Omit<PlanCommon, 'people' | 'notes'> = {
    gateKey,
    rule: match ? (match.rule.name ?? `rules[${match.verdict.index}]`) : null,
    selectedBy: match ? `rule ${match.verdict.name} (${describeWhen(match.rule)})` : `gate ${gateKey}'s own model`,
    tiers: tierPath(policy, gate.escalateTo).map((tierName) => {
      const tier = policy.tiers[tierName]!;
      return { name: tierName, reviewers: resolver.available(resolver.source(tier.reviewers)), timeoutMs: tier.timeout, lead: tier.lead ?? null };
    }),
    maxDepth: gate.maxDepth ?? policy.defaults.maxDepth,
    onExhausted: gate.onExhausted ?? policy.defaults.onExhausted,
    requireComment: gate.requireComment ?? policy.defaults.requireComment,
    randomizeOrder: gate.randomizeOrder,
    oneDecisionPerPerson: gate.oneDecisionPerPerson ?? policy.defaults.oneDecisionPerPerson,
    breakGlass: {
      holders: policy.breakGlass ? Object.keys(policy.people).filter((id) => policy.people[id]!.roles.some((role) => policy.breakGlass!.roles.includes(role))) : [],
      notify: policy.breakGlass?.notify ? resolver.source(policy.tiers[policy.breakGlass.notify]!.reviewers) : [],
    },
    channels: { use: policy.channels.bySeverity[failure.severity], pageTiers: policy.channels.pageTiers },
    ...(policy.tickets ? { tickets: policy.tickets } : {}),
    mode: gate.mode,
    ...(gate.pilot ? { pilotGroup: gate.pilot } : {}),
    quietHours:
      policy.quietHours?.notify === 'primary-oncall-only' && policy.quietHours.oncall
        ? {
            intervals: quietIntervals(policy.quietHours, policy.timezone, context.at),
            onCall: onCallAt(rotationOf(policy, policy.quietHours.oncall), context.at).person,
          }
        : null,
  };
  let plan: EscalationPlan;
  if (gate.model === 'sequential') {
    plan = { ...common, model: 'sequential', steps: gate.chain.map((step) => resolver.step(step)), people: {}, notes: [] };
  } else if (gate.model === 'parallel') {
    const group = resolver.available(resolver.source(gate.reviewers), gate.quorum.approve);
    plan = {
      ...common,
      model: 'parallel',
      group,
      primary: group[context.ordinal % group.length]!,
      quorum: { approve: gate.quorum.approve, override: gate.quorum.override ?? null, reject: gate.quorum.reject },
      acknowledgeWithinMs: gate.acknowledgeWithin ?? null,
      renotify: gate.renotify,
      decideWithinMs: gate.decideWithin,
      people: {},
      notes: [],
    };
  } else {
    const candidates = resolver.source(gate.candidates);
    plan = {
      ...common,
      model: 'dynamic',
      candidates,
      facts: Object.fromEntries(candidates.map((id) => [id, resolver.facts(id)])),
      routeBy: gate.routeBy,
      pick: gate.pick,
      decideWithinMs: gate.decideWithin,
      coldStart: gate.coldStart,
      fallbackSteps: gate.chain ? gate.chain.map((step) => resolver.step(step)) : null,
      // One CODEOWNERS for the policy serves every dynamic gate that has none of its own.
      codeowners: gate.codeowners ?? policy.codeowners ?? null,
      ...(gate.spreadLoad ? { spreadLoad: gate.spreadLoad } : {}),
      people: {},
      notes: [],
    };
  }
  plan.notes = resolver.notes;
  plan.rollbackOwners = rollbackOwners(plan, resolver);
  // Everyone, not only those involved: a reassignment may hand the escalation to anyone in the policy.
  plan.people = peopleOf(policy, Object.keys(policy.people));
  return plan;
}

/** People to hand a failed rollback to; see {@link PlanCommon.rollbackOwners}. */
function rollbackOwners(plan: EscalationPlan, resolver: Resolver): string[] {
  const action = plan.onExhausted;
  if (action.action !== 'rollback') return [];
  if ('notify' in action && action.notify) return resolver.source(action.notify);
  const leads = [...new Set(plan.tiers.flatMap((tier) => (tier.lead ? [tier.lead] : [])))];
  if (leads.length) return leads;
  const lastTier = plan.tiers.at(-1);
  if (lastTier?.reviewers.length) return lastTier.reviewers;
  if (plan.model === 'sequential') return plan.steps[0]?.reviewers ?? [];
  return plan.model === 'parallel' ? plan.group : plan.candidates;
}

type EffectiveGate = PolicyGate;

/** The gate with the rule's `use` applied; a change of model fills that model's settings from what the gate has. */
function applyRule(gate: PolicyGate, rule: PolicyRule | undefined): EffectiveGate {
  if (!rule) return gate;
  const use = rule.use;
  const model = use.model ?? gate.model;
  const common = {
    escalateTo: use.escalateTo ?? gate.escalateTo,
    maxDepth: use.maxDepth ?? gate.maxDepth,
    onExhausted: use.onExhausted ?? gate.onExhausted,
    requireComment: use.requireComment ?? gate.requireComment,
    randomizeOrder: gate.randomizeOrder,
    oneDecisionPerPerson: gate.oneDecisionPerPerson,
    // Per gate: a rule never changes who a pilot notifies, nor whether the gate acts on the pipeline.
    mode: gate.mode,
    pilot: gate.pilot,
  };
  const reviewers: ReviewerSource = use.reviewers ?? reviewersOf(gate);
  const decideWithin = use.decideWithin ?? ('decideWithin' in gate ? gate.decideWithin : gate.chain[0]!.timeout);
  if (model === 'sequential') {
    const ownChain = gate.model === 'parallel' ? undefined : gate.chain;
    const chain = use.chain ?? ownChain ?? [{ reviewers, timeout: decideWithin }];
    return { model, chain, ...common };
  }
  if (model === 'parallel') {
    return {
      model,
      reviewers,
      quorum: use.quorum ?? (gate.model === 'parallel' ? gate.quorum : { approve: 1, reject: 1 }),
      acknowledgeWithin: use.acknowledgeWithin ?? (gate.model === 'parallel' ? gate.acknowledgeWithin : undefined),
      renotify: use.renotify ?? (gate.model === 'parallel' ? gate.renotify : 0),
      decideWithin,
      ...common,
    };
  }
  return {
    model,
    candidates: reviewers,
    routeBy: gate.model === 'dynamic' ? gate.routeBy : ['codeowners', 'workingHours', 'responseHistory', 'load'],
    pick: gate.model === 'dynamic' ? gate.pick : 1,
    decideWithin,
    coldStart: gate.model === 'dynamic' ? gate.coldStart : { model: 'parallel', minHistory: 5 },
    fallback: 'sequential',
    chain: use.chain ?? (gate.model === 'sequential' || gate.model === 'dynamic' ? gate.chain : undefined),
    codeowners: gate.model === 'dynamic' ? gate.codeowners : undefined,
    spreadLoad: gate.model === 'dynamic' ? gate.spreadLoad : undefined,
    ...common,
  };
}

function reviewersOf(gate: PolicyGate): ReviewerSource {
  if (gate.model === 'parallel') return gate.reviewers;
  if (gate.model === 'dynamic') return gate.candidates;
  const ids = gate.chain.flatMap((step) => (Array.isArray(step.reviewers) ? step.reviewers : []));
  const sources = gate.chain.map((step) => step.reviewers).filter((source) => !Array.isArray(source));
  // A chain built from pools or rotations keeps its first source; plain people are merged.
  return ids.length > 0 ? [...new Set(ids)] : (sources[0] as ReviewerSource);
}

/** The gate's tiers in order, then each last tier's `escalateTo` links (the loader refused cycles). */
function tierPath(policy: Policy, start: string[]): string[] {
  const path = [...start];
  let next = policy.tiers[path.at(-1) ?? '']?.escalateTo;
  while (next !== undefined && !path.includes(next)) {
    path.push(next);
    next = policy.tiers[next]?.escalateTo;
  }
  return path;
}

function rotationOf(policy: Policy, rotationName: string) {
  const rotation = policy.rotations[rotationName]!;
  return { ...rotation, timeZone: rotation.timezone ?? policy.timezone };
}

/** Turns reviewer sources into people at one instant, and steps around people out of office. */
class Resolver {
  readonly notes: string[] = [];

  constructor(
    private readonly policy: Policy,
    private readonly at: Date,
  ) {}

  source(source: ReviewerSource): string[] {
    if (Array.isArray(source)) return source;
    const [kind, target] = source.split(':') as ['pool' | 'oncall', string];
    if (kind === 'oncall') return [onCallAt(rotationOf(this.policy, target), this.at).person];
    const pool = this.policy.pools[target]!;
    return poolMembersAt({ ...pool, timeZone: this.policy.timezone }, this.at);
  }

  step(step: PolicyStep): ChainStep {
    const reviewers = this.source(step.reviewers).map((id) => this.standIn(id));
    const backup = step.backup ?? unique(reviewers.map((id) => this.policy.people[id]?.backup).filter(isDefined)).filter((id) => !reviewers.includes(id));
    return { reviewers: unique(reviewers), backup, timeoutMs: step.timeout };
  }

  /** Drops people out of office from a group, unless that would leave fewer than `atLeast`. */
  available(ids: string[], atLeast = 1): string[] {
    const present = ids.filter((id) => !this.isAway(id));
    if (present.length >= atLeast && present.length < ids.length) {
      this.notes.push(`out of office, not asked: ${ids.filter((id) => !present.includes(id)).join(', ')}`);
      return present;
    }
    return ids;
  }

  /** Someone out of office is replaced by their backup when the backup is in. */
  private standIn(id: string): string {
    const backup = this.policy.people[id]?.backup;
    if (this.isAway(id) && backup && !this.isAway(backup)) {
      this.notes.push(`${id} is out of office; ${backup} stands in`);
      return backup;
    }
    return id;
  }

  facts(id: string): CandidateFacts {
    const person = this.policy.people[id]!;
    const zone = person.timezone ?? this.policy.timezone;
    return {
      working: person.workingHours ? isWorking(parseWorkingHours(person.workingHours), zone, this.at) : null,
      outOfOffice: this.isAway(id),
      onCall: Object.keys(this.policy.rotations).some((name) => onCallAt(rotationOf(this.policy, name), this.at).person === id),
    };
  }

  private isAway(id: string): boolean {
    const person = this.policy.people[id];
    if (!person || person.outOfOffice.length === 0) return false;
    return isOutOfOffice(person.outOfOffice, person.timezone ?? this.policy.timezone, this.at);
  }
}

function peopleOf(policy: Policy, ids: string[]): Record<string, Reviewer> {
  const people: Record<string, Reviewer> = {};
  for (const id of ids) {
    const person = policy.people[id]!;
    people[id] = {
      id,
      name: person.name ?? id,
      email: person.email,
      aliases: unique([id, person.email, ...person.handles].map((alias) => alias.toLowerCase())),
      ...(person.slack ? { slack: person.slack } : {}),
      ...channelsOf(policy, person),
    };
  }
  return people;
}

function channelsOf(policy: Policy, person: Policy['people'][string]): { channels?: NotificationChannel[] } {
  if (person.channels) return { channels: person.channels };
  const byRole = person.roles.flatMap((role) => policy.channels.byRole[role] ?? []);
  return byRole.length ? { channels: unique(byRole) } : {};
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

function isDefined<T>(item: T | undefined): item is T {
  return item !== undefined;
}
