import { isAuthor, type OutcomeKind, type TimelineEntry } from '../escalation.js';
import type { ChainStep, DynamicPlan } from '../escalation-plan.js';
import type { Stage } from '../sequential-chain.js';
import type { Effect, NotificationPurpose } from './events.js';
import { copyModel, type ModelHost, votedIn } from './models.js';
import { modeOf } from './gate-mode.js';
import { needsTicket, ticketRequest } from './tickets.js';
import type { EscalationState } from './state.js';
import { awaitedReviewers, decidedEarlier } from './view.js';

/** People to message once the event is handled, already past quiet hours; built into notifications then. */
export interface PendingAsk {
  reviewers: string[];
  purpose: NotificationPurpose;
  override?: { by: string; justification: string };
  rollback?: { endpoint: string; error: string; reason: string };
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/**
 * One event's work on a copy of the state: what the models may do (the `ModelHost`), the moves shared
 * by several events, and the effects they ask for. The caller's state is never touched.
 */
export class Run implements ModelHost {
  readonly s: EscalationState;
  readonly effects: Effect[] = [];
  readonly pending: PendingAsk[] = [];

  constructor(
    state: EscalationState,
    readonly at: number,
  ) {
    this.s = {
      ...state,
      model: state.model && copyModel(state.model),
      held: { ...state.held },
      standIns: [...state.standIns],
      decisions: [...state.decisions],
      timeline: [...state.timeline],
      slackMessages: state.slackMessages.map((m) => ({ ...m })),
    };
  }

  get depth(): number {
    return this.s.depth;
  }

  get maxDepth(): number {
    return this.s.plan?.maxDepth ?? 0;
  }

  get iso(): string {
    return new Date(this.at).toISOString();
  }

  log(entry: DistributiveOmit<TimelineEntry, 'at'>): void {
    this.s.timeline.push({ at: this.iso, ...entry } as TimelineEntry);
  }

  changed(): void {
    this.s.version++;
  }

  handOff(): boolean {
    if (this.s.depth + 1 > this.maxDepth) return false;
    this.s.depth++;
    return true;
  }

  decidedEarlier(): Array<{ reviewer: string; step: number }> {
    return decidedEarlier(this.s);
  }

  awaited(): string[] {
    return awaitedReviewers(this.s);
  }

  ask(reviewers: string[], purpose: 'decide' | 'reminder'): void {
    // Nobody is asked for what they gave already: a step decided, or a vote (a stand-in's counts too).
    const done = [...this.decidedEarlier().map((d) => d.reviewer), ...votedIn(this.s.model)];
    const asked = this.holdForQuietHours(reviewers.filter((id) => !done.includes(id)));
    if (asked.length) this.pending.push({ reviewers: asked, purpose });
  }

  /**
   * Who of `reviewers` is asked now. In quiet hours only the on-call is; the others are held until
   * the quiet hours end, and the on-call stands in for them (is awaited with them) unless they
   * already decided a step, voted, or wrote the change: nobody decides twice by standing in.
   */
  private holdForQuietHours(reviewers: string[]): string[] {
    const quiet = this.s.plan?.quietHours;
    const interval = quiet?.intervals.find((i) => i.fromMs <= this.at && this.at < i.toMs);
    const held = quiet ? reviewers.filter((id) => id !== quiet.onCall) : [];
    if (!quiet || !interval || held.length === 0) return reviewers;
    const onCall = quiet.onCall;
    const standIn = !reviewers.includes(onCall) && this.mayStandIn(onCall) ? onCall : null;
    const notified = reviewers.includes(onCall) || standIn ? [onCall] : [];
    held.forEach((id) => (this.s.held[id] = interval.toMs));
    this.log({ event: 'quiet-hours', notified, held, until: new Date(interval.toMs).toISOString(), standIn });
    if (standIn && !this.awaited().includes(standIn)) {
      this.s.standIns.push(standIn);
      this.changed();
    }
    return notified;
  }

  private mayStandIn(id: string): boolean {
    if (this.decidedEarlier().some((d) => d.reviewer === id) || votedIn(this.s.model).includes(id)) return false;
    return !isAuthor(this.s.plan?.people[id], id, this.s.failure.change.author);
  }

  /** Quiet hours are over: the reviewers held back and still awaited are asked now. */
  releaseHeld(): void {
    const due = Object.entries(this.s.held).filter(([, until]) => until <= this.at).map(([id]) => id);
    due.forEach((id) => delete this.s.held[id]);
    const nobodyHeld = Object.keys(this.s.held).length === 0;
    const released = nobodyHeld ? this.s.standIns.filter((id) => this.awaited().includes(id)) : [];
    if (nobodyHeld) this.s.standIns = [];
    const stillAwaited = due.filter((id) => this.awaited().includes(id));
    if (stillAwaited.length || released.length) {
      this.log({ event: 'quiet-hours-ended', asked: stillAwaited, released });
      if (released.length) this.changed();
    }
    if (stillAwaited.length) this.pending.push({ reviewers: stillAwaited, purpose: 'decide' });
  }

  assigned(assignment: { step: number; stage: Stage; reviewers: string[]; deadline: number }): void {
    // A new assignment is asked afresh; an earlier quiet-hours stand-in does not carry over.
    this.s.standIns = [];
    // Who already decided a step is not awaited again, so the entry (and the store's load) leaves them out.
    const decided = this.decidedEarlier().map((d) => d.reviewer);
    const reviewers = assignment.reviewers.filter((id) => !decided.includes(id));
    this.log({ event: 'assigned', step: assignment.step, stage: assignment.stage, reviewers, deadline: new Date(assignment.deadline).toISOString(), depth: this.s.depth });
    this.changed();
  }

  handedOff(from: Stage, to: Stage, step: number): void {
    this.log({ event: 'handed-off', step, from, to, depth: this.s.depth });
  }

  timedOut(step: number, stage: Stage, reviewers: string[]): void {
    this.log({ event: 'timed-out', step, stage, reviewers });
  }

  renotified(round: number, reviewers: string[]): void {
    this.log({ event: 'renotified', round, reviewers, depth: this.s.depth });
  }

  /** Nobody can take the escalation further: block, or roll back where the policy says so. */
  exhaust(reason: string): void {
    const action = this.s.plan!.onExhausted;
    this.s.exhaustedReason = reason;
    this.log({ event: 'exhausted', reason, action: action.action, depth: this.s.depth });
    if (action.action === 'rollback' && modeOf(this.s.plan) === 'shadow') {
      // The outcome live would most likely have had, stored for comparison; nothing was called.
      this.log({ event: 'would-roll-back', endpoint: action.endpoint });
      this.finish('rolled-back', `shadow run: would have rolled back after the escalation was exhausted: ${reason}`, true);
    } else if (action.action === 'rollback') {
      this.s.status = 'rolling-back';
      this.changed();
      this.effects.push({ kind: 'roll-back', endpoint: action.endpoint, idempotencyKey: `${this.s.escalationId}:rollback`, reason });
    } else {
      this.finish('blocked', `blocked after the escalation was exhausted: ${reason}`, true);
    }
  }

  finish(outcome: OutcomeKind, reason: string, postmortem: boolean): void {
    const s = this.s;
    if (s.status === 'ended') return;
    const mode = modeOf(s.plan);
    s.status = 'ended';
    this.changed();
    this.log({ event: 'ended', outcome, reason });
    s.outcome = {
      escalationId: s.escalationId,
      outcome,
      reason,
      postmortem,
      gate: s.failure.gate.name,
      service: s.failure.service,
      severity: s.failure.severity,
      model: s.plan?.model ?? null,
      depth: s.depth,
      policyVersion: s.policyVersion,
      startedAt: s.startedAt,
      endedAt: this.iso,
      decisions: [...s.decisions],
      timeline: [...s.timeline],
      ...(mode !== 'live' ? { mode } : {}),
    };
    this.effects.push({ kind: 'cancel-decision-requests' });
    // A rollback left to people leaves the incident open for them; a gate that is not live never paged.
    if (s.paged && !s.rollbackHandedOff && mode === 'live') this.effects.push({ kind: 'page', action: 'resolve' });
    this.effects.push({ kind: 'store-outcome', outcome: s.outcome });
    // A shadow run's outcome is for comparison only: nobody is to act on it.
    if (mode !== 'shadow' && needsTicket(s)) this.effects.push({ kind: 'open-ticket', ticket: ticketRequest(s) });
  }
}

/**
 * Dynamic routing's fallback: the gate's own chain, or one step held by the best-ranked candidate not
 * yet asked, with the next one as backup: the fallback needs one decision, escalated, not everyone's
 * approval in turn. The change's author and people out of office are left out while anyone else remains.
 */
export function fallbackSteps(plan: DynamicPlan, author: string, ranked: string[], alreadyAsked: string[] = []): ChainStep[] {
  if (plan.fallbackSteps) return plan.fallbackSteps;
  const eligible = ranked.filter((id) => !isAuthor(plan.people[id], id, author) && !plan.facts[id]?.outOfOffice);
  const pool = eligible.length ? eligible : ranked;
  const remaining = pool.filter((id) => !alreadyAsked.includes(id));
  const holder = remaining[0] ?? pool[0] ?? plan.candidates[0]!;
  return [{ reviewers: [holder], backup: remaining.filter((id) => id !== holder).slice(0, 1), timeoutMs: plan.decideWithinMs }];
}

/** The group without the change's author (who can only reject), unless that leaves it short of the quorum. */
export function withoutAuthor(people: DynamicPlan['people'], author: string, group: string[], quorum: number): string[] {
  const others = group.filter((id) => !isAuthor(people[id], id, author));
  return others.length >= quorum ? others : group;
}

/** Fisher–Yates driven by a seeded generator (mulberry32), so a replay or a simulation shuffles the same way. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}
