import { ownership } from '../../activities/routing.js';
import { isAuthor, type ModelName, type OutcomeKind, type RoutingScore } from '../../domain/escalation.js';
import { type CandidateFacts, type ChainStep, type DynamicPlan, type EscalationPlan, type Quorum, resolvePlan } from '../../domain/escalation-plan.js';
import type { GateFailure } from '../../domain/gate-failure.js';
import type { CommentRule, ExhaustedAction, Policy, RoutingFactor } from '../../domain/policy.js';
import { scoreCandidates } from '../../domain/routing.js';
import { ruleVerdicts } from '../../domain/rule-conditions.js';
import type { Stage } from '../../domain/sequential-chain.js';
import { type Mode, type ModeHost, ParallelMode, RoutedMode, SequentialMode } from '../../workflows/legacy/modes.js';
import { stageLabel } from './render-escalation.js';

/** One moment of a dry run: what the escalation would do then if nobody decided. */
export interface DryRunEvent {
  at: string;
  /** Milliseconds since the escalation started. */
  afterMs: number;
  event: 'assigned' | 'renotified' | 'quiet-hours-ended' | 'timed-out' | 'handed-off' | 'fallback' | 'exhausted' | 'ended';
  /** 1-based chain step, where there is one. */
  step?: number;
  stage?: string;
  /** Who is awaited (assigned), reminded (renotified) or did not answer (timed-out). */
  reviewers: string[];
  /** Who is emailed at this moment; in quiet hours only the on-call. */
  emailed?: string[];
  /** Awaited but not emailed because of quiet hours. */
  held?: string[];
  deadline?: string;
  depth: number;
  description: string;
}

/** Whether one rule matched the failure, and the conditions that decided it. */
export interface RuleVerdict {
  index: number;
  name: string;
  matched: boolean;
  why: string;
}

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
    ranked: string[];
    chosen: string[];
    coldStart: { model: 'sequential' | 'parallel'; minHistory: number; when: string; timeline: DryRunEvent[] };
    fallback: { steps: ChainStep[]; source: string };
  };
}

/** Explains what the policy would do with `failure` if it were raised at `at`. */
export function explainPlan(policy: Policy, failure: GateFailure, at: Date): PlanExplanation {
  const gateKey = failure.gate.name in policy.gates ? failure.gate.name : '*' in policy.gates ? '*' : null;
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
  const run = new DryRun(plan, at.getTime());
  if (plan.model === 'sequential') {
    explanation.sequential = { steps: plan.steps, randomizeOrder: plan.randomizeOrder };
    explanation.timeline = run.simulate((host, now) => host.runs('chain', () => new SequentialMode(host, { steps: plan.steps, tiers: plan.tiers, maxDepth: plan.maxDepth }, now)));
  } else if (plan.model === 'parallel') {
    const group = withoutAuthor(plan, failure, plan.group, plan.quorum.approve);
    const primary = group.includes(plan.primary) ? plan.primary : group[0]!;
    explanation.timeline = run.simulate((host, now) => host.runs('group', () => new ParallelMode(host, { ...plan, group, primary }, now)));
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
    explanation.dynamic = explainDynamic(plan, failure, run);
    const { chosen, ranked } = explanation.dynamic;
    explanation.timeline = run.simulate(
      (host, now) => host.runs('routed', () => new RoutedMode(host, chosen, plan.decideWithinMs, now)),
      (host, now, alreadyAsked) => host.runs('chain', () => new SequentialMode(host, { steps: fallbackSteps(plan, failure, ranked, alreadyAsked), tiers: plan.tiers, maxDepth: plan.maxDepth }, now, 'dynamic')),
    );
  }
  const first = explanation.timeline.find((e) => e.event === 'assigned');
  explanation.first = first ? { at: first.at, reviewers: first.reviewers, emailed: first.emailed ?? [], held: first.held ?? [], deadline: first.deadline ?? null } : null;
  return explanation;
}

function explainDynamic(plan: DynamicPlan, failure: GateFailure, run: DryRun): NonNullable<PlanExplanation['dynamic']> {
  const owned = plan.codeowners ? ownership(plan.codeowners, failure.change.changedFiles, plan.people) : {};
  const { scores, ranked, chosen } = scoreCandidates({
    candidates: plan.candidates,
    routeBy: plan.routeBy,
    pick: plan.pick,
    severity: failure.severity,
    author: failure.change.author,
    people: plan.people,
    facts: plan.facts,
    ownership: owned,
    medianResponseMs: {},
    load: {},
  });
  const coldStartTimeline =
    plan.coldStart.model === 'parallel'
      ? run.simulate((host, now) => {
          const group = withoutAuthor(plan, failure, plan.candidates, 1);
          const primary = ranked.find((id) => group.includes(id)) ?? group[0]!;
          return host.runs('group', () => new ParallelMode(host, { group, primary, quorum: { approve: 1, override: null, reject: 1 }, acknowledgeWithinMs: null, renotify: 0, decideWithinMs: plan.decideWithinMs, tiers: plan.tiers }, now));
        })
      : run.simulate((host, now) => host.runs('chain', () => new SequentialMode(host, { steps: fallbackSteps(plan, failure, ranked, []), tiers: plan.tiers, maxDepth: plan.maxDepth }, now)));
  const { minHistory } = plan.coldStart;
  return {
    candidates: plan.candidates,
    routeBy: plan.routeBy,
    pick: plan.pick,
    decideWithinMs: plan.decideWithinMs,
    facts: plan.facts,
    ownership: owned,
    scores: ranked.map((id) => scores.find((s) => s.person === id)!),
    ranked,
    chosen,
    coldStart: {
      ...plan.coldStart,
      when: `gate ${failure.gate.name} or service ${failure.service} has fewer than ${minHistory} ended escalation(s) in the outcome store`,
      timeline: coldStartTimeline,
    },
    fallback: {
      steps: fallbackSteps(plan, failure, ranked, chosen),
      source: plan.fallbackSteps ? "the gate's own chain" : 'the best-ranked candidate not yet asked, the next one as backup',
    },
  };
}

/** The workflow's fallback chain (workflows/escalation.ts `fallbackSteps`), for a ranking known in advance. */
function fallbackSteps(plan: DynamicPlan, failure: GateFailure, ranked: string[], alreadyAsked: string[]): ChainStep[] {
  if (plan.fallbackSteps) return plan.fallbackSteps;
  const eligible = ranked.filter((id) => !isAuthor(plan.people[id], id, failure.change.author) && !plan.facts[id]?.outOfOffice);
  const pool = eligible.length ? eligible : ranked;
  const remaining = pool.filter((id) => !alreadyAsked.includes(id));
  const holder = remaining[0] ?? pool[0] ?? plan.candidates[0]!;
  return [{ reviewers: [holder], backup: remaining.filter((id) => id !== holder).slice(0, 1), timeoutMs: plan.decideWithinMs }];
}

/** The group without the change's author, unless that leaves it short of the quorum (as the workflow does). */
function withoutAuthor(plan: EscalationPlan, failure: GateFailure, group: string[], quorum: number): string[] {
  const others = group.filter((id) => !isAuthor(plan.people[id], id, failure.change.author));
  return others.length >= quorum ? others : group;
}

type ModeFactory = (host: DryRunHost, now: () => number) => Mode;
type FallbackFactory = (host: DryRunHost, now: () => number, alreadyAsked: string[]) => Mode;

/**
 * Runs the workflow's own modes (workflows/modes.ts) on a simulated clock, waking each at its next
 * deadline as the workflow's timer would, and records what they do until the escalation ends.
 */
class DryRun {
  constructor(
    private readonly plan: EscalationPlan,
    private readonly startMs: number,
  ) {}

  simulate(start: ModeFactory, fallback?: FallbackFactory): DryRunEvent[] {
    const events = this.run(start, fallback);
    for (const event of events) {
      if (event.event === 'assigned' && !event.emailed) {
        event.emailed = [];
        event.description += '; nobody new to email (all were asked already)';
      }
    }
    return events;
  }

  private run(start: ModeFactory, fallback?: FallbackFactory): DryRunEvent[] {
    const clock = { now: this.startMs };
    const host = new DryRunHost(this.plan, this.startMs, () => clock.now);
    let mode = start(host, () => clock.now);
    // Bounded: every wake either hands off (depth is bounded) or ends; the cap only guards against a bug.
    for (let wakes = 0; wakes < 200; wakes++) {
      // The workflow's loop: sleep until the mode's deadline or the end of the quiet hours that held someone back.
      const deadline = mode.nextWakeAt();
      const quietEnd = host.heldUntil();
      clock.now = Math.max(clock.now + 1, quietEnd === null ? deadline : Math.min(deadline, quietEnd));
      if (clock.now < deadline) {
        host.releaseHeld(mode.awaited());
        continue;
      }
      const move = mode.wake(clock.now);
      if (move.kind === 'continue') continue;
      if (move.kind === 'end') return host.end(move.outcome, move.reason);
      if (move.kind === 'exhausted') return host.exhaust(move.reason);
      // Dynamic: the routed reviewers did not decide in time; the fallback is one more hand-off.
      if (!fallback) return host.events;
      if (!host.handOff()) return host.exhaust(`maximum escalation depth ${this.plan.maxDepth} reached`);
      host.record('fallback', [], `${move.reason}: falls back to the sequential chain (depth ${host.depth})`);
      mode = fallback(host, () => clock.now, mode.awaited());
    }
    return host.events;
  }
}

/** What the simulated modes report to: the workflow's `ModeHost`, recording instead of acting. */
class DryRunHost implements ModeHost {
  depth = 0;
  readonly events: DryRunEvent[] = [];
  /** How the running mode's first stage is named: a chain step, the parallel group, or routing's pick. */
  private phase: 'chain' | 'group' | 'routed' = 'chain';
  /** Reviewers held back by quiet hours, and when those end. */
  private readonly held = new Map<string, number>();

  constructor(
    private readonly plan: EscalationPlan,
    private readonly startMs: number,
    private readonly now: () => number,
  ) {}

  get maxDepth(): number {
    return this.plan.maxDepth;
  }

  handOff(): boolean {
    if (this.depth + 1 > this.plan.maxDepth) return false;
    this.depth++;
    return true;
  }

  /**
   * Emails go out right after the assignment or reminder they belong to. In quiet hours only the
   * on-call is emailed; the others are held back until the quiet hours end (workflows/escalation.ts
   * `sendNotifications`).
   */
  notify(reviewers: string[], purpose: 'decide' | 'reminder'): void {
    if (!reviewers.length) return;
    const quiet = this.plan.quietHours;
    const now = this.now();
    const interval = quiet?.intervals.find((i) => i.fromMs <= now && now < i.toMs);
    const emailed = quiet && interval ? [quiet.onCall] : reviewers;
    const held = quiet && interval ? reviewers.filter((id) => id !== quiet.onCall) : [];
    held.forEach((id) => this.held.set(id, interval!.toMs));
    const last = this.events.at(-1);
    const attachable = last && Date.parse(last.at) === now && ['assigned', 'renotified', 'quiet-hours-ended'].includes(last.event);
    const target = attachable ? last : this.record('assigned', reviewers, `${purpose === 'decide' ? 'asks' : 'reminds'} ${reviewers.join(', ')}`);
    target.emailed = emailed;
    if (held.length) target.held = held;
    target.description += quiet && interval ? `; quiet hours: only the on-call ${quiet.onCall} is emailed${held.length ? `, ${held.join(', ')} at ${new Date(interval.toMs).toISOString()} if still awaited` : ''}` : `; emails ${emailed.join(', ')}`;
  }

  /** When the quiet hours that held back some reviewers end, or null when nobody is held. */
  heldUntil(): number | null {
    return this.held.size ? Math.min(...this.held.values()) : null;
  }

  /** The quiet hours are over: those held back and still awaited are emailed now. */
  releaseHeld(awaited: string[]): void {
    const now = this.now();
    const due = [...this.held].filter(([, until]) => until <= now).map(([id]) => id);
    due.forEach((id) => this.held.delete(id));
    const stillAwaited = due.filter((id) => awaited.includes(id));
    if (!stillAwaited.length) return;
    this.record('quiet-hours-ended', stillAwaited, `quiet hours are over: ${stillAwaited.join(', ')} still awaited`);
    this.notify(stillAwaited, 'decide');
  }

  logAssigned(assignment: { step: number; stage: Stage; reviewers: string[]; deadline: number }): void {
    const event = this.record('assigned', assignment.reviewers, `${this.stepLabel(assignment.step, assignment.stage)}: awaits ${assignment.reviewers.join(', ')} until ${new Date(assignment.deadline).toISOString()}`);
    event.step = assignment.step + 1;
    event.stage = stageLabel(assignment.stage);
    event.deadline = new Date(assignment.deadline).toISOString();
  }

  logHandOff(from: Stage, to: Stage, step: number): void {
    const event = this.record('handed-off', [], `${this.stepLabel(step, from)} → ${stageLabel(to)} (depth ${this.depth} of ${this.plan.maxDepth})`);
    event.step = step + 1;
    event.stage = stageLabel(to);
  }

  logTimedOut(step: number, stage: Stage, reviewers: string[]): void {
    const event = this.record('timed-out', reviewers, `${this.stepLabel(step, stage)}: no decision from ${reviewers.join(', ') || 'anyone'}`);
    event.step = step + 1;
    event.stage = stageLabel(stage);
  }

  logRenotified(round: number, reviewers: string[]): void {
    this.record('renotified', reviewers, `nobody acknowledged: reminder round ${round} (depth ${this.depth} of ${this.plan.maxDepth})`);
  }

  exhaust(reason: string): DryRunEvent[] {
    const action = this.plan.onExhausted;
    const what = action.action === 'rollback' ? `rollback: POST ${action.endpoint}` : 'block: the gate stays blocked';
    this.record('exhausted', [], `${reason}: ${what}, flagged for postmortem`);
    return this.events;
  }

  end(outcome: OutcomeKind, reason: string): DryRunEvent[] {
    this.record('ended', [], `${outcome}: ${reason}`);
    return this.events;
  }

  record(event: DryRunEvent['event'], reviewers: string[], description: string): DryRunEvent {
    const now = this.now();
    const entry: DryRunEvent = { at: new Date(now).toISOString(), afterMs: now - this.startMs, event, reviewers, depth: this.depth, description };
    this.events.push(entry);
    return entry;
  }

  /** Creates the next mode, naming its phase first: a mode's constructor already logs its first assignment. */
  runs(phase: 'chain' | 'group' | 'routed', create: () => Mode): Mode {
    this.phase = phase;
    return create();
  }

  private stepLabel(step: number, stage: Stage): string {
    if (this.phase === 'chain') return `step ${step + 1} ${stageLabel(stage)}`;
    if (stage.kind !== 'primary') return stageLabel(stage);
    return this.phase === 'group' ? 'group' : 'routed';
  }
}

