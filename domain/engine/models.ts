import type { DecisionRequest, OutcomeKind } from '../escalation.js';
import type { EscalationTier } from '../escalation-plan.js';
import { quorumResult, type Vote } from '../parallel-quorum.js';
import { afterApproval, afterTimeout, type Assignment, type ChainPlan, firstAssignment, type Stage } from '../sequential-chain.js';
import type { ModelState, ParallelSettings, ParallelState, RoutedState, SequentialState } from './state.js';

/** What a running model may do to the escalation it runs in: count hand-offs, log, ask people. */
export interface ModelHost {
  readonly depth: number;
  readonly maxDepth: number;
  /** Counts one hand-off; false when it would go beyond the maximum depth (nothing is counted then). */
  handOff(): boolean;
  ask(reviewers: string[], purpose: 'decide' | 'reminder'): void;
  assigned(assignment: { step: number; stage: Stage; reviewers: string[]; deadline: number }): void;
  handedOff(from: Stage, to: Stage, step: number): void;
  timedOut(step: number, stage: Stage, reviewers: string[]): void;
  renotified(round: number, reviewers: string[]): void;
}

/** How a model answers a decision or its deadline. */
export type ModelMove =
  | { kind: 'continue' }
  | { kind: 'end'; outcome: OutcomeKind; reason: string }
  | { kind: 'exhausted'; reason: string }
  /** Dynamic routing's pick did not decide in time: the sequential fallback runs. */
  | { kind: 'fallback'; reason: string };

const depthReached = (host: ModelHost): ModelMove => ({ kind: 'exhausted', reason: `maximum escalation depth ${host.maxDepth} reached` });

export function startSequential(host: ModelHost, plan: ChainPlan, at: number, label: SequentialState['label'] = 'sequential'): SequentialState {
  const model: SequentialState = { kind: 'sequential', label, plan, assignment: firstAssignment(plan), deadline: 0 };
  assignStep(host, model, model.assignment, at);
  return model;
}

export function startParallel(host: ModelHost, settings: ParallelSettings, at: number): ParallelState {
  const model: ParallelState = {
    kind: 'parallel',
    settings,
    group: [...settings.group],
    votes: {},
    acknowledged: [],
    round: 0,
    tierIndex: -1,
    decideBy: at + settings.decideWithinMs,
    acknowledgeBy: settings.acknowledgeWithinMs !== null ? at + settings.acknowledgeWithinMs : null,
  };
  host.assigned({ step: 0, stage: { kind: 'primary' }, reviewers: model.group, deadline: model.decideBy });
  host.ask(model.group, 'decide');
  return model;
}

export function startRouted(host: ModelHost, chosen: string[], decideWithinMs: number, at: number): RoutedState {
  const model: RoutedState = { kind: 'routed', chosen: [...chosen], decideWithinMs, deadline: at + decideWithinMs };
  host.assigned({ step: 0, stage: { kind: 'primary' }, reviewers: model.chosen, deadline: model.deadline });
  host.ask(model.chosen, 'decide');
  return model;
}

/** Copies the parts a step may change, so the state the caller holds stays as it was. */
export function copyModel(model: ModelState): ModelState {
  if (model.kind === 'parallel') return { ...model, group: [...model.group], votes: { ...model.votes }, acknowledged: [...model.acknowledged] };
  if (model.kind === 'routed') return { ...model, chosen: [...model.chosen] };
  return { ...model };
}

export function awaitedBy(model: ModelState): string[] {
  if (model.kind === 'parallel') return model.group.filter((id) => !(id in model.votes));
  if (model.kind === 'routed') return [...model.chosen];
  return [...model.assignment.reviewers];
}

export function votedIn(model: ModelState | null): string[] {
  return model?.kind === 'parallel' ? Object.keys(model.votes) : [];
}

export function overrideAllowed(model: ModelState | null): boolean {
  return model?.kind === 'parallel' && model.settings.quorum.override !== null;
}

export function nextWakeAt(model: ModelState): number {
  if (model.kind === 'parallel') return model.acknowledgeBy !== null ? Math.min(model.acknowledgeBy, model.decideBy) : model.decideBy;
  return model.deadline;
}

/** When the current decision window closes (reminders before it aside). */
export function decisionDeadline(model: ModelState): number {
  return model.kind === 'parallel' ? model.decideBy : model.deadline;
}

export function stageOf(model: ModelState): Stage {
  if (model.kind === 'sequential') return model.assignment.stage;
  if (model.kind === 'parallel' && model.tierIndex >= 0) return tierStage(model.settings.tiers, model.tierIndex);
  return { kind: 'primary' };
}

/** The model's deadline came: hand off, remind, fall back, or give up. */
export function wake(host: ModelHost, model: ModelState, at: number): ModelMove {
  if (model.kind === 'sequential') {
    const current = model.assignment;
    host.timedOut(current.step, current.stage, current.reviewers);
    const move = afterTimeout(model.plan, current, host.depth);
    if (move.kind === 'exhausted') return move;
    if (move.kind === 'passed') return { kind: 'end', outcome: 'passed', reason: 'approved' };
    if (!host.handOff()) return depthReached(host);
    host.handedOff(current.stage, move.assignment.stage, move.assignment.step);
    assignStep(host, model, move.assignment, at);
    return { kind: 'continue' };
  }
  if (model.kind === 'routed') {
    host.timedOut(0, { kind: 'primary' }, model.chosen);
    return { kind: 'fallback', reason: `no decision from ${model.chosen.join(', ')} within the routing threshold` };
  }
  return wakeParallel(host, model, at);
}

function wakeParallel(host: ModelHost, model: ParallelState, at: number): ModelMove {
  const { settings } = model;
  if (model.acknowledgeBy !== null && at >= model.acknowledgeBy && at < model.decideBy) {
    if (model.round >= settings.renotify) {
      model.acknowledgeBy = null;
      return { kind: 'continue' };
    }
    if (!host.handOff()) return depthReached(host);
    model.round++;
    model.acknowledgeBy = at + settings.acknowledgeWithinMs!;
    host.renotified(model.round, awaitedBy(model));
    host.ask(awaitedBy(model), 'reminder');
    return { kind: 'continue' };
  }
  const stage = stageOf(model);
  host.timedOut(0, stage, awaitedBy(model));
  const tier = settings.tiers[model.tierIndex + 1];
  if (!tier) return { kind: 'exhausted', reason: 'no quorum, and no tier is left to escalate to' };
  if (!host.handOff()) return depthReached(host);
  model.tierIndex++;
  const joining = tier.reviewers.filter((id) => !model.group.includes(id));
  model.group = [...model.group, ...joining];
  model.decideBy = at + tier.timeoutMs;
  model.acknowledgeBy = settings.acknowledgeWithinMs !== null ? at + settings.acknowledgeWithinMs : null;
  model.round = 0;
  const next = tierStage(settings.tiers, model.tierIndex);
  host.handedOff(stage, next, 0);
  host.assigned({ step: 0, stage: next, reviewers: awaitedBy(model), deadline: model.decideBy });
  host.ask(joining, 'decide');
  return { kind: 'continue' };
}

/** A counted decision (the caller checked that it may count). */
export function decide(host: ModelHost, model: ModelState, request: DecisionRequest, at: number): ModelMove {
  if (model.kind === 'sequential') {
    if (request.decision === 'reject') return { kind: 'end', outcome: 'blocked', reason: `rejected by ${request.reviewer} at step ${model.assignment.step + 1}` };
    const move = afterApproval(model.plan, model.assignment);
    if (move.kind === 'passed') return { kind: 'end', outcome: 'passed', reason: `approved at all ${model.plan.steps.length} steps` };
    if (move.kind === 'assign') assignStep(host, model, move.assignment, at);
    return { kind: 'continue' };
  }
  if (model.kind === 'routed') {
    if (request.decision === 'reject') return { kind: 'end', outcome: 'blocked', reason: `rejected by ${request.reviewer}, chosen by routing` };
    return { kind: 'end', outcome: 'passed', reason: `approved by ${request.reviewer}, chosen by routing` };
  }
  model.votes[request.reviewer] = request.decision;
  const result = quorumResult(new Map(Object.entries(model.votes)), model.settings.quorum);
  if (result) return { kind: 'end', outcome: result.kind, reason: result.reason };
  // Everyone voted and no quorum: nothing to wait for in this group.
  if (awaitedBy(model).length === 0) model.decideBy = at;
  return { kind: 'continue' };
}

export function acknowledge(model: ModelState, reviewer: string): void {
  if (model.kind !== 'parallel') return;
  if (!model.acknowledged.includes(reviewer)) model.acknowledged.push(reviewer);
  model.acknowledgeBy = null;
}

/** Replaces `from` (everyone awaited, when empty) with `to`; the caller counted the hand-off. */
export function reassign(host: ModelHost, model: ModelState, from: string[], to: string, at: number): void {
  if (model.kind === 'sequential') {
    const kept = from.length ? model.assignment.reviewers.filter((id) => !from.includes(id)) : [];
    assignStep(host, model, { ...model.assignment, reviewers: [...kept, to] }, at, [to]);
  } else if (model.kind === 'parallel') {
    const leaving = from.length ? from : awaitedBy(model);
    model.group = [...model.group.filter((id) => !leaving.includes(id) || id in model.votes), to];
    host.ask([to], 'decide');
  } else {
    const leaving = from.length ? from : model.chosen;
    model.chosen = [...model.chosen.filter((id) => !leaving.includes(id)), to];
    // The new reviewer gets the whole window, as a reassigned sequential step does.
    model.deadline = at + model.decideWithinMs;
    host.assigned({ step: 0, stage: { kind: 'primary' }, reviewers: model.chosen, deadline: model.deadline });
    host.ask([to], 'decide');
  }
}

/** Votes so far against the quorum (parallel only). */
export function tally(model: ModelState): { approve: number; reject: number; override: number; quorum: ParallelSettings['quorum'] } | null {
  if (model.kind !== 'parallel') return null;
  const votes = Object.values(model.votes);
  const count = (...kinds: Vote[]) => votes.filter((vote) => kinds.includes(vote)).length;
  return { approve: count('approve', 'override'), reject: count('reject'), override: count('override'), quorum: model.settings.quorum };
}

function assignStep(host: ModelHost, model: SequentialState, assignment: Assignment, at: number, ask: string[] = assignment.reviewers): void {
  model.assignment = assignment;
  model.deadline = at + assignment.timeoutMs;
  host.assigned({ ...assignment, deadline: model.deadline });
  host.ask(ask, 'decide');
}

function tierStage(tiers: EscalationTier[], tierIndex: number): Stage {
  return { kind: 'tier', tier: tiers[tierIndex]!.name, tierIndex };
}
