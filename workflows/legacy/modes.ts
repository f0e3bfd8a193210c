import type { DecisionRequest, ModelName, OutcomeKind } from '../../domain/escalation.js';
import type { EscalationTier, Quorum } from '../../domain/escalation-plan.js';
import { quorumResult, type Vote } from '../../domain/parallel-quorum.js';
import { afterApproval, afterTimeout, type Assignment, type ChainPlan, firstAssignment, type Stage } from '../../domain/sequential-chain.js';

/** What a mode may do to the escalation it runs in: log, count hand-offs, queue notifications. */
export interface ModeHost {
  readonly depth: number;
  readonly maxDepth: number;
  /** Counts one hand-off; false when it would go beyond the maximum depth (nothing is counted then). */
  handOff(): boolean;
  notify(reviewers: string[], purpose: 'decide' | 'reminder'): void;
  logAssigned(assignment: { step: number; stage: Stage; reviewers: string[]; deadline: number }): void;
  logHandOff(from: Stage, to: Stage, step: number): void;
  logTimedOut(step: number, stage: Stage, reviewers: string[]): void;
  logRenotified(round: number, reviewers: string[]): void;
}

/** How a mode answers a decision, a timer or a reassignment. */
export type ModeMove =
  | { kind: 'continue' }
  | { kind: 'end'; outcome: OutcomeKind; reason: string }
  | { kind: 'exhausted'; reason: string }
  /** Dynamic routing gave up: run the sequential fallback. */
  | { kind: 'fallback'; reason: string };

/** One running model. The workflow loop sleeps until `nextWakeAt` or until a message changes the state. */
export interface Mode {
  readonly model: ModelName;
  awaited(): string[];
  voted(): string[];
  overrideAllowed(): boolean;
  nextWakeAt(): number;
  wake(now: number): ModeMove;
  decide(request: DecisionRequest): ModeMove;
  acknowledge(reviewer: string): void;
  /** Replaces `from` (or everyone awaited, when `from` is empty) with `to`; the caller counted the hand-off. */
  reassign(from: string[], to: string): void;
  view(): { step: number | null; stepCount: number | null; stage: Stage | null; primary: string | null; deadline: number | null; votes: ParallelVotes | null; acknowledgedBy: string[] };
}

export interface ParallelVotes {
  approve: number;
  reject: number;
  override: number;
  quorum: Quorum;
}

/** A chain of steps, each held by its reviewers, then their backup, then the tiers. */
export class SequentialMode implements Mode {
  readonly model = 'sequential' as const;
  private assignment: Assignment;
  private deadline = 0;

  constructor(
    private readonly host: ModeHost,
    private readonly plan: ChainPlan,
    private readonly now: () => number,
    readonly label: ModelName = 'sequential',
  ) {
    this.assignment = firstAssignment(plan);
    this.start(this.assignment);
  }

  awaited(): string[] {
    return [...this.assignment.reviewers];
  }

  voted(): string[] {
    return [];
  }

  overrideAllowed(): boolean {
    return false;
  }

  nextWakeAt(): number {
    return this.deadline;
  }

  wake(): ModeMove {
    const current = this.assignment;
    this.host.logTimedOut(current.step, current.stage, current.reviewers);
    const move = afterTimeout(this.plan, current, this.host.depth);
    if (move.kind === 'exhausted') return move;
    if (move.kind === 'passed') return { kind: 'end', outcome: 'passed', reason: 'approved' };
    if (!this.host.handOff()) return { kind: 'exhausted', reason: `maximum escalation depth ${this.host.maxDepth} reached` };
    this.host.logHandOff(current.stage, move.assignment.stage, move.assignment.step);
    this.start(move.assignment);
    return { kind: 'continue' };
  }

  decide(request: DecisionRequest): ModeMove {
    if (request.decision === 'reject') return { kind: 'end', outcome: 'blocked', reason: `rejected by ${request.reviewer} at step ${this.assignment.step + 1}` };
    const move = afterApproval(this.plan, this.assignment);
    if (move.kind === 'passed') return { kind: 'end', outcome: 'passed', reason: `approved at all ${this.plan.steps.length} steps` };
    if (move.kind === 'assign') this.start(move.assignment);
    return { kind: 'continue' };
  }

  acknowledge(): void {}

  reassign(from: string[], to: string): void {
    const kept = from.length ? this.assignment.reviewers.filter((id) => !from.includes(id)) : [];
    this.start({ ...this.assignment, reviewers: [...kept, to] }, [to]);
  }

  view() {
    return {
      step: this.assignment.step,
      stepCount: this.plan.steps.length,
      stage: this.assignment.stage,
      primary: null,
      deadline: this.deadline,
      votes: null,
      acknowledgedBy: [],
    };
  }

  private start(assignment: Assignment, notify: string[] = assignment.reviewers): void {
    this.assignment = assignment;
    this.deadline = this.now() + assignment.timeoutMs;
    this.host.logAssigned({ ...assignment, deadline: this.deadline });
    this.host.notify(notify, 'decide');
  }
}

export interface ParallelSettings {
  group: string[];
  primary: string;
  quorum: Quorum;
  acknowledgeWithinMs: number | null;
  renotify: number;
  decideWithinMs: number;
  tiers: EscalationTier[];
}

/**
 * Everyone at once, counted to a quorum. Without an acknowledgement in time the group is notified
 * again (each round a hand-off); without a quorum in time the next tier joins the group.
 */
export class ParallelMode implements Mode {
  readonly model = 'parallel' as const;
  private readonly votes = new Map<string, Vote>();
  private readonly acknowledged = new Set<string>();
  private group: string[];
  private round = 0;
  private tierIndex = -1;
  private decideBy: number;
  private acknowledgeBy: number | null;

  constructor(
    private readonly host: ModeHost,
    private readonly settings: ParallelSettings,
    private readonly now: () => number,
  ) {
    this.group = [...settings.group];
    this.decideBy = now() + settings.decideWithinMs;
    this.acknowledgeBy = settings.acknowledgeWithinMs !== null ? now() + settings.acknowledgeWithinMs : null;
    this.host.logAssigned({ step: 0, stage: { kind: 'primary' }, reviewers: this.group, deadline: this.decideBy });
    this.host.notify(this.group, 'decide');
  }

  awaited(): string[] {
    return this.group.filter((id) => !this.votes.has(id));
  }

  voted(): string[] {
    return [...this.votes.keys()];
  }

  overrideAllowed(): boolean {
    return this.settings.quorum.override !== null;
  }

  nextWakeAt(): number {
    return this.acknowledgeBy !== null ? Math.min(this.acknowledgeBy, this.decideBy) : this.decideBy;
  }

  wake(now: number): ModeMove {
    if (this.acknowledgeBy !== null && now >= this.acknowledgeBy && now < this.decideBy) {
      if (this.round >= this.settings.renotify) {
        this.acknowledgeBy = null;
        return { kind: 'continue' };
      }
      if (!this.host.handOff()) return { kind: 'exhausted', reason: `maximum escalation depth ${this.host.maxDepth} reached` };
      this.round++;
      this.acknowledgeBy = now + this.settings.acknowledgeWithinMs!;
      this.host.logRenotified(this.round, this.awaited());
      this.host.notify(this.awaited(), 'reminder');
      return { kind: 'continue' };
    }
    const stage: Stage = this.tierIndex < 0 ? { kind: 'primary' } : { kind: 'tier', tier: this.settings.tiers[this.tierIndex]!.name, tierIndex: this.tierIndex };
    this.host.logTimedOut(0, stage, this.awaited());
    const tier = this.settings.tiers[this.tierIndex + 1];
    if (!tier) return { kind: 'exhausted', reason: 'no quorum, and no tier is left to escalate to' };
    if (!this.host.handOff()) return { kind: 'exhausted', reason: `maximum escalation depth ${this.host.maxDepth} reached` };
    this.tierIndex++;
    const joining = tier.reviewers.filter((id) => !this.group.includes(id));
    this.group = [...this.group, ...joining];
    this.decideBy = now + tier.timeoutMs;
    this.acknowledgeBy = this.settings.acknowledgeWithinMs !== null ? now + this.settings.acknowledgeWithinMs : null;
    this.round = 0;
    const next: Stage = { kind: 'tier', tier: tier.name, tierIndex: this.tierIndex };
    this.host.logHandOff(stage, next, 0);
    this.host.logAssigned({ step: 0, stage: next, reviewers: this.awaited(), deadline: this.decideBy });
    this.host.notify(joining, 'decide');
    return { kind: 'continue' };
  }

  decide(request: DecisionRequest): ModeMove {
    this.votes.set(request.reviewer, request.decision);
    const result = quorumResult(this.votes, this.settings.quorum);
    if (result) return { kind: 'end', outcome: result.kind, reason: result.reason };
    if (this.awaited().length === 0) {
      // Everyone voted and no quorum: nothing to wait for in this group.
      this.decideBy = this.now();
    }
    return { kind: 'continue' };
  }

  acknowledge(reviewer: string): void {
    this.acknowledged.add(reviewer);
    this.acknowledgeBy = null;
  }

  reassign(from: string[], to: string): void {
    const leaving = from.length ? from : this.awaited();
    this.group = [...this.group.filter((id) => !leaving.includes(id) || this.votes.has(id)), to];
    this.host.notify([to], 'decide');
  }

  view() {
    const count = (...kinds: Vote[]) => [...this.votes.values()].filter((vote) => kinds.includes(vote)).length;
    return {
      step: 0,
      stepCount: 1,
      stage: this.tierIndex < 0 ? ({ kind: 'primary' } as const) : ({ kind: 'tier', tier: this.settings.tiers[this.tierIndex]!.name, tierIndex: this.tierIndex } as const),
      primary: this.settings.primary,
      deadline: this.decideBy,
      votes: { approve: count('approve', 'override'), reject: count('reject'), override: count('override'), quorum: this.settings.quorum },
      acknowledgedBy: [...this.acknowledged],
    };
  }
}

/** Dynamic routing's pick: the chosen reviewers decide within the window, or the fallback runs. */
export class RoutedMode implements Mode {
  readonly model = 'dynamic' as const;
  private chosen: string[];
  private deadline: number;

  constructor(
    private readonly host: ModeHost,
    chosen: string[],
    private readonly decideWithinMs: number,
    private readonly now: () => number,
  ) {
    this.chosen = [...chosen];
    this.deadline = now() + decideWithinMs;
    this.host.logAssigned({ step: 0, stage: { kind: 'primary' }, reviewers: this.chosen, deadline: this.deadline });
    this.host.notify(this.chosen, 'decide');
  }

  awaited(): string[] {
    return [...this.chosen];
  }

  voted(): string[] {
    return [];
  }

  overrideAllowed(): boolean {
    return false;
  }

  nextWakeAt(): number {
    return this.deadline;
  }

  wake(): ModeMove {
    this.host.logTimedOut(0, { kind: 'primary' }, this.chosen);
    return { kind: 'fallback', reason: `no decision from ${this.chosen.join(', ')} within the routing threshold` };
  }

  decide(request: DecisionRequest): ModeMove {
    if (request.decision === 'reject') return { kind: 'end', outcome: 'blocked', reason: `rejected by ${request.reviewer}, chosen by routing` };
    return { kind: 'end', outcome: 'passed', reason: `approved by ${request.reviewer}, chosen by routing` };
  }

  acknowledge(): void {}

  reassign(from: string[], to: string): void {
    const leaving = from.length ? from : this.chosen;
    this.chosen = [...this.chosen.filter((id) => !leaving.includes(id)), to];
    // The new reviewer gets the whole window, as a reassigned sequential step does.
    this.deadline = this.now() + this.decideWithinMs;
    this.host.logAssigned({ step: 0, stage: { kind: 'primary' }, reviewers: this.chosen, deadline: this.deadline });
    this.host.notify([to], 'decide');
  }

  view() {
    return { step: 0, stepCount: 1, stage: { kind: 'primary' } as const, primary: null, deadline: this.deadline, votes: null, acknowledgedBy: [] };
  }
}
