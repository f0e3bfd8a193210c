import * as wf from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { Decision, DecisionRequest, EscalationOutcome, EscalationStatus, EscalationView, OutcomeKind, TimelineEntry, WithdrawRequest } from '../domain/escalation.js';
import { refusalOf } from '../domain/escalation.js';
import type { PolicySnapshot, SequentialPlan } from '../domain/escalation-plan.js';
import type { GateFailure } from '../domain/gate-failure.js';
import { afterApproval, afterTimeout, firstAssignment, type Assignment, type ChainMove } from '../domain/sequential-chain.js';
import type { EscalationInput } from './input.js';
import { decideUpdate, gateRecoveredSignal, stateQuery, withdrawUpdate } from './messages.js';
import { AwaitedReviewers, EscalationDepth, EscalationModel, EscalationState, Outcome } from './search-attributes.js';

type Activities = ReturnType<typeof createActivities>;

const { snapshotPolicy, recordOutcome } = wf.proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', nonRetryableErrorTypes: ['NoPolicyForGate'] },
});

// Email is at-least-once with a stable Message-ID; a long outage must not hold the chain, whose
// deadline runs on its own timer, so attempts are bounded and a final failure lands in the timeline.
const { emailReviewer } = wf.proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 8, nonRetryableErrorTypes: ['InvalidRecipient'] },
});

// A rollback endpoint is retried with the same Idempotency-Key; 4xx answers are final.
const { requestRollback } = wf.proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: 6, nonRetryableErrorTypes: ['RollbackRefused'] },
});

/**
 * One escalation of one gate failure, Sequential model: each step's reviewers are notified and
 * waited on with a durable timer; approval moves on, rejection blocks, silence hands the step to
 * the backup and up the tiers until the depth bound runs the exhausted action.
 */
export async function escalateGateFailure(input: EscalationInput): Promise<EscalationOutcome> {
  const run = new EscalationRun(wf.workflowInfo().workflowId, input.failure);
  wf.setHandler(stateQuery, () => run.view());
  wf.setHandler(decideUpdate, (request) => run.decide(request), { validator: (request) => run.validateDecision(request) });
  wf.setHandler(withdrawUpdate, (request) => run.withdraw(request), { validator: (request) => run.validateWithdraw(request) });
  wf.setHandler(gateRecoveredSignal, ({ pipelineRunId }) => run.recover(pipelineRunId));

  const snapshot = await takeSnapshot(run);
  // A withdrawal or recovery may arrive while the snapshot is being taken.
  if (snapshot && run.status === 'starting') {
    run.start(snapshot);
    while (run.isWaiting()) {
      const generation = run.generation;
      notifyAwaited(run);
      const moved = await wf.condition(() => run.generation !== generation, run.assignment!.timeoutMs);
      if (!moved) run.timeOut();
      if (run.isRollingBack()) await rollBack(run, snapshot.plan);
    }
  }
  const outcome = run.outcome!;
  await recordOutcome(outcome);
  await wf.condition(wf.allHandlersFinished);
  return outcome;
}

async function takeSnapshot(run: EscalationRun): Promise<PolicySnapshot | undefined> {
  try {
    return await snapshotPolicy({ gate: run.failure.gate.name });
  } catch (error) {
    if (run.status === 'ended') return undefined;
    if (error instanceof wf.ActivityFailure && error.cause instanceof wf.ApplicationFailure && error.cause.type === 'NoPolicyForGate') {
      run.finish('blocked', error.cause.message, true);
      return undefined;
    }
    throw error;
  }
}

function notifyAwaited(run: EscalationRun): void {
  const assignment = run.assignment!;
  const plan = run.plan!;
  for (const reviewerId of assignment.reviewers) {
    const reviewer = plan.people[reviewerId]!;
    const messageId = `<${run.escalationId}.step${assignment.step + 1}.n${++run.notificationCount}@escalator>`;
    const step = assignment.step;
    emailReviewer({
      escalationId: run.escalationId,
      messageId,
      reviewer: { id: reviewer.id, name: reviewer.name, email: reviewer.email },
      step,
      stepCount: plan.steps.length,
      stage: assignment.stage,
      deadline: run.view().deadline!,
      alsoAsked: assignment.reviewers.filter((id) => id !== reviewerId),
      failure: run.failure,
    }).then(
      () => run.log({ event: 'notified', reviewer: reviewerId, channel: 'email', messageId, step }),
      (error: unknown) => run.log({ event: 'notification-failed', reviewer: reviewerId, channel: 'email', error: failureMessage(error), step }),
    );
  }
}

async function rollBack(run: EscalationRun, plan: SequentialPlan): Promise<void> {
  if (plan.onExhausted.action !== 'rollback') return;
  const { endpoint } = plan.onExhausted;
  try {
    const { status } = await requestRollback({
      escalationId: run.escalationId,
      endpoint,
      idempotencyKey: `${run.escalationId}:rollback`,
      reason: run.exhaustedReason ?? 'escalation exhausted',
      failure: run.failure,
    });
    run.log({ event: 'rollback-requested', endpoint, status });
    run.finish('rolled-back', `rolled back after the escalation was exhausted: ${run.exhaustedReason}`, true);
  } catch (error) {
    run.log({ event: 'rollback-failed', endpoint, error: failureMessage(error) });
    run.finish('blocked', `rollback failed (${failureMessage(error)}); the gate stays blocked`, true);
  }
}

function failureMessage(error: unknown): string {
  if (error instanceof wf.ActivityFailure && error.cause) return error.cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** The escalation's state and the moves its messages make; the workflow function only wires it to time. */
class EscalationRun {
  status: EscalationStatus = 'starting';
  plan: SequentialPlan | undefined;
  policyVersion: string | null = null;
  assignment: Assignment | undefined;
  deadline: number | null = null;
  depth = 0;
  /** Bumped on every change of who is awaited, so the main loop knows its timer is stale. */
  generation = 0;
  notificationCount = 0;
  exhaustedReason: string | undefined;
  outcome: EscalationOutcome | undefined;
  private readonly decisions: Decision[] = [];
  private readonly timeline: TimelineEntry[] = [];
  private readonly startedAt = now();

  constructor(
    readonly escalationId: string,
    readonly failure: GateFailure,
  ) {
    this.log({ event: 'raised', gate: failure.gate.name, service: failure.service, severity: failure.severity });
  }

  start(snapshot: PolicySnapshot): void {
    this.plan = snapshot.plan;
    this.policyVersion = snapshot.policyVersion;
    this.log({ event: 'policy-snapshot', policyVersion: snapshot.policyVersion, gateKey: snapshot.plan.gateKey, model: snapshot.plan.model });
    wf.upsertSearchAttributes([{ key: EscalationModel, value: snapshot.plan.model }]);
    this.status = 'waiting';
    this.assign(firstAssignment(snapshot.plan));
  }

  isWaiting(): boolean {
    return this.status === 'waiting';
  }

  isRollingBack(): boolean {
    return this.status === 'rolling-back';
  }

  validateDecision(request: DecisionRequest): void {
    const refusal = refusalOf(
      {
        status: this.status,
        awaitedReviewers: this.status === 'waiting' ? (this.assignment?.reviewers ?? []) : [],
        author: this.failure.change.author,
        people: this.plan?.people ?? {},
        requireComment: this.plan?.requireComment ?? null,
      },
      request,
    );
    if (refusal) throw wf.ApplicationFailure.nonRetryable(refusal.message, refusal.code);
  }

  decide(request: DecisionRequest): EscalationView {
    const assignment = this.assignment!;
    this.decisions.push({ ...request, at: now(), step: assignment.step, stage: assignment.stage });
    this.log({ event: 'decided', reviewer: request.reviewer, decision: request.decision, channel: request.channel, step: assignment.step });
    if (request.decision === 'reject') {
      this.finish('blocked', `rejected by ${request.reviewer} at step ${assignment.step + 1}`, false);
    } else {
      this.apply(afterApproval(this.plan!, assignment));
    }
    return this.view();
  }

  validateWithdraw(_request: WithdrawRequest): void {
    if (this.status === 'ended') throw wf.ApplicationFailure.nonRetryable('the escalation has ended; it can no longer be withdrawn', 'EscalationEnded');
    if (this.status === 'rolling-back') throw wf.ApplicationFailure.nonRetryable('a rollback is under way; the escalation can no longer be withdrawn', 'EscalationEnded');
  }

  withdraw(request: WithdrawRequest): EscalationView {
    this.log({ event: 'withdrawn', by: request.by, reason: request.reason });
    this.finish('withdrawn', `withdrawn by ${request.by}: ${request.reason}`, false);
    return this.view();
  }

  recover(pipelineRunId: string | undefined): void {
    if (this.status === 'ended' || this.status === 'rolling-back') return;
    this.log({ event: 'recovered', ...(pipelineRunId ? { pipelineRunId } : {}) });
    this.finish('recovered', pipelineRunId ? `the gate re-ran green in pipeline run ${pipelineRunId}` : 'the gate re-ran green', false);
  }

  timeOut(): void {
    const assignment = this.assignment!;
    this.log({ event: 'timed-out', step: assignment.step, stage: assignment.stage, reviewers: assignment.reviewers });
    this.apply(afterTimeout(this.plan!, assignment, this.depth));
  }

  finish(outcome: OutcomeKind, reason: string, postmortem: boolean): void {
    if (this.status === 'ended') return;
    this.status = 'ended';
    this.deadline = null;
    this.generation++;
    this.log({ event: 'ended', outcome, reason });
    this.outcome = {
      escalationId: this.escalationId,
      outcome,
      reason,
      postmortem,
      gate: this.failure.gate.name,
      service: this.failure.service,
      severity: this.failure.severity,
      depth: this.depth,
      policyVersion: this.policyVersion,
      startedAt: this.startedAt,
      endedAt: now(),
      decisions: [...this.decisions],
      timeline: [...this.timeline],
    };
    wf.upsertSearchAttributes([
      { key: EscalationState, value: 'ended' },
      { key: Outcome, value: outcome },
      { key: AwaitedReviewers, value: [] },
    ]);
  }

  log(entry: DistributiveOmit<TimelineEntry, 'at'>): void {
    this.timeline.push({ at: now(), ...entry } as TimelineEntry);
  }

  view(): EscalationView {
    const waiting = this.status === 'waiting' && this.assignment !== undefined;
    return {
      escalationId: this.escalationId,
      failure: this.failure,
      model: 'sequential',
      policyVersion: this.policyVersion,
      status: this.status,
      step: this.assignment?.step ?? null,
      stepCount: this.plan?.steps.length ?? null,
      stage: this.assignment?.stage ?? null,
      awaitedReviewers: waiting ? [...this.assignment!.reviewers] : [],
      deadline: waiting && this.deadline !== null ? new Date(this.deadline).toISOString() : null,
      depth: this.depth,
      maxDepth: this.plan?.maxDepth ?? null,
      decisions: [...this.decisions],
      timeline: [...this.timeline],
      outcome: this.outcome ?? null,
    };
  }

  private apply(move: ChainMove): void {
    if (move.kind === 'passed') {
      this.finish('passed', `approved at all ${this.plan!.steps.length} steps`, false);
    } else if (move.kind === 'exhausted') {
      this.exhausted(move.reason);
    } else {
      if (move.handOff) {
        this.depth++;
        this.log({ event: 'handed-off', step: move.assignment.step, from: this.assignment!.stage, to: move.assignment.stage, depth: this.depth });
      }
      this.assign(move.assignment);
    }
  }

  private exhausted(reason: string): void {
    const action = this.plan!.onExhausted.action;
    this.exhaustedReason = reason;
    this.log({ event: 'exhausted', reason, action, depth: this.depth });
    if (action === 'rollback') {
      this.status = 'rolling-back';
      this.generation++;
      wf.upsertSearchAttributes([{ key: EscalationState, value: 'rolling-back' }, { key: AwaitedReviewers, value: [] }]);
    } else {
      this.finish('blocked', `blocked after the escalation was exhausted: ${reason}`, true);
    }
  }

  private assign(assignment: Assignment): void {
    this.assignment = assignment;
    this.deadline = Date.now() + assignment.timeoutMs;
    this.generation++;
    this.log({ event: 'assigned', step: assignment.step, stage: assignment.stage, reviewers: assignment.reviewers, deadline: new Date(this.deadline).toISOString(), depth: this.depth });
    wf.upsertSearchAttributes([
      { key: EscalationState, value: 'waiting' },
      { key: EscalationDepth, value: this.depth },
      { key: AwaitedReviewers, value: assignment.reviewers },
    ]);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function now(): string {
  return new Date().toISOString();
}
