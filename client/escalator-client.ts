import { randomUUID } from 'node:crypto';
import { type Client, ServiceError, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure, WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { optionalTsToDate } from '@temporalio/common/lib/time.js';
import {
  type AcknowledgeRequest,
  type BreakGlassRequest,
  type DecisionRequest,
  type EscalationOutcome,
  type EscalationView,
  type ReassignRequest,
  refusalCodes,
  type RefusalCode,
  type WithdrawRequest,
} from '../domain/escalation.js';
import { type Receipt, receiptOfView } from '../domain/engine/view.js';
import { fieldErrors } from '../domain/field-errors.js';
import { escalationIdFor, type GateFailureInput, gateFailureSchema } from '../domain/gate-failure.js';
import type { PipelineLink } from '../domain/pipeline-link.js';
import type { escalateGateFailure } from '../workflows/escalation.js';
import { escalationWorkflowType } from '../workflows/input.js';
import { acknowledgeUpdate, breakGlassUpdate, decideUpdate, gateRecoveredSignal, reassignUpdate, stateQuery, type UpdateAnswer, withdrawUpdate } from '../workflows/messages.js';
import { ChangeAuthor, EscalationDepth, EscalationState, Gate, Repository, Service, Severity } from '../workflows/search-attributes.js';
import { DecisionRefusedError, EscalationNotFoundError, InvalidInputError } from './errors.js';
import { type OutcomeWait, type OutcomeWaitOptions, waitForOutcome } from './outcome-wait.js';
import { UpdatesInFlight } from './updates-in-flight.js';

/** A side effect being retried: the activity, which attempt comes next, and why the last one failed. */
export interface RetryingAction {
  action: string;
  attempt: number;
  lastError: string | null;
  /** When the next attempt starts (ISO 8601), or null while an attempt runs. */
  nextAttemptAt: string | null;
}

export interface RaiseResult {
  escalationId: string;
  /** False when the idempotency key already had an escalation (running or ended): the event attached to it. */
  started: boolean;
}

/**
 * The typed library services use to raise gate failures and act on escalations.
 * Every input is validated here; reviewer identities must come from the caller's credential.
 */
export class EscalatorClient {
  private readonly inFlight: UpdatesInFlight;

  /** `updatesInFlightPerEscalation`: decisions and other updates this client sends to one escalation at once (default 8; the rest wait in line). */
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    options: { updatesInFlightPerEscalation?: number } = {},
  ) {
    this.inFlight = new UpdatesInFlight(options.updatesInFlightPerEscalation);
  }

  /**
   * Starts the escalation for a gate failure, or attaches to the one its idempotency key already
   * started. `pipeline` is for Escalator's own GitHub and GitLab receivers: the pipeline the
   * escalation reports to (never taken from a caller's request).
   */
  async raise(input: GateFailureInput, options: { pipeline?: PipelineLink } = {}): Promise<RaiseResult> {
    const parsed = gateFailureSchema.safeParse(input);
    if (!parsed.success) throw new InvalidInputError('invalid gate failure', fieldErrors(parsed.error));
    const failure = parsed.data;
    const escalationId = escalationIdFor(failure.idempotencyKey);
    try {
      await this.client.workflow.start<typeof escalateGateFailure>(escalationWorkflowType, {
        workflowId: escalationId,
        taskQueue: this.taskQueue,
        args: [{ failure, ...(options.pipeline ? { pipeline: options.pipeline } : {}) }],
        // One escalation per key, ever: a re-delivered event never starts a second one, even after the first ended.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        staticSummary: `${failure.severity}: ${failure.gate.name} failed on ${failure.service} — ${failure.change.title}`.slice(0, 400),
        staticDetails: [
          `**Gate** ${failure.gate.name} (${failure.gate.kind}) on **${failure.service}** in ${failure.repository}`,
          `**Change** [${failure.change.title}](${failure.change.url}) ${failure.change.sha.slice(0, 12)} by ${failure.change.author}`,
          `**Pipeline run** [${failure.pipelineRun.id}](${failure.pipelineRun.url})`,
          `**Severity** ${failure.severity}${failure.hotfix ? ' · hotfix' : ''}${failure.rollback ? ' · rollback' : ''}`,
        ].join('\n\n'),
        memo: { pipelineRunUrl: failure.pipelineRun.url, changeUrl: failure.change.url },
        typedSearchAttributes: [
          { key: Gate, value: failure.gate.name },
          { key: Service, value: failure.service },
          { key: Repository, value: failure.repository },
          { key: Severity, value: failure.severity },
          { key: ChangeAuthor, value: failure.change.author },
          { key: EscalationState, value: 'starting' },
          { key: EscalationDepth, value: 0 },
        ],
      });
      return { escalationId, started: true };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return { escalationId, started: false };
      throw error;
    }
  }

  /**
   * Records a decision. The same `updateId` sent twice counts once. Throws `DecisionRefusedError`
   * when the escalation refuses it, `EscalationNotFoundError` for an unknown id.
   */
  async decide(escalationId: string, request: DecisionRequest, options: { updateId?: string } = {}): Promise<Receipt> {
    const updateId = options.updateId ?? randomUUID();
    return this.update(escalationId, () =>
      this.handle(escalationId).executeUpdate(decideUpdate, { args: [request], updateId }),
    );
  }

  /** An awaited reviewer acknowledges ("on it"); stops the re-notification rounds. */
  async acknowledge(escalationId: string, request: AcknowledgeRequest, options: { updateId?: string } = {}): Promise<Receipt> {
    const updateId = options.updateId ?? randomUUID();
    return this.update(escalationId, () => this.handle(escalationId).executeUpdate(acknowledgeUpdate, { args: [request], updateId }));
  }

  /** Hands the escalation to someone else (by an awaited reviewer or a tier lead); counts towards depth. */
  async reassign(escalationId: string, request: ReassignRequest, options: { updateId?: string } = {}): Promise<Receipt> {
    const updateId = options.updateId ?? randomUUID();
    return this.update(escalationId, () => this.handle(escalationId).executeUpdate(reassignUpdate, { args: [request], updateId }));
  }

  /** Break-glass: an immediate override by a holder of the role, logged and flagged for review. */
  async breakGlass(escalationId: string, request: BreakGlassRequest, options: { updateId?: string } = {}): Promise<Receipt> {
    const updateId = options.updateId ?? randomUUID();
    return this.update(escalationId, () => this.handle(escalationId).executeUpdate(breakGlassUpdate, { args: [request], updateId }));
  }

  /** Ends a running escalation as `withdrawn`. */
  async withdraw(escalationId: string, request: WithdrawRequest, options: { updateId?: string } = {}): Promise<Receipt> {
    const updateId = options.updateId ?? randomUUID();
    return this.update(escalationId, () =>
      this.handle(escalationId).executeUpdate(withdrawUpdate, { args: [request], updateId }),
    );
  }

  /** Tells the escalation its gate re-ran green; it ends as `recovered` unless it already ended. */
  async reportRecovered(escalationId: string, pipelineRunId?: string): Promise<void> {
    try {
      await this.handle(escalationId).signal(gateRecoveredSignal, pipelineRunId ? { pipelineRunId } : {});
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        await this.assertExists(escalationId);
        return; // already ended: a late "green" changes nothing
      }
      throw error;
    }
  }

  /** The escalation's whole state, also after it ended. */
  async status(escalationId: string): Promise<EscalationView> {
    try {
      return await this.handle(escalationId).query(stateQuery);
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new EscalationNotFoundError(escalationId);
      throw error;
    }
  }

  /**
   * The side effects Temporal is still retrying for this escalation — an email while the SMTP relay
   * is down, a rollback endpoint answering 500 — with their attempt and last error, from the
   * server's record of the run. Empty when nothing is failing or the escalation ended.
   */
  async retrying(escalationId: string): Promise<RetryingAction[]> {
    let description;
    try {
      description = await this.handle(escalationId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new EscalationNotFoundError(escalationId);
      throw error;
    }
    return (description.raw.pendingActivities ?? [])
      .filter((activity) => (activity.attempt ?? 1) > 1 || activity.lastFailure)
      .map((activity) => ({
        action: activity.activityType?.name ?? 'unknown',
        attempt: activity.attempt ?? 1,
        lastError: activity.lastFailure?.message ?? null,
        nextAttemptAt: optionalTsToDate(activity.nextAttemptScheduleTime)?.toISOString() ?? null,
      }));
  }

  /** The state and, while it runs, what is being retried for it: the answer of GET /v1/escalations/:id. */
  async statusWithRetries(escalationId: string): Promise<EscalationView & { retrying: RetryingAction[] }> {
    const view = await this.status(escalationId);
    return { ...view, retrying: view.status === 'ended' ? [] : await this.retrying(escalationId) };
  }

  /** Waits for the escalation's single outcome. */
  async outcome(escalationId: string): Promise<EscalationOutcome> {
    return this.handle(escalationId).result();
  }

  /**
   * Waits for the outcome until `options.until`, riding out network drops and Temporal or worker
   * restarts; says so when the wait ran out first or the run closed without an outcome.
   */
  async waitForOutcome(escalationId: string, options: OutcomeWaitOptions): Promise<OutcomeWait> {
    return waitForOutcome(this.client, escalationId, options);
  }

  handle(escalationId: string): WorkflowHandle<typeof escalateGateFailure> {
    return this.client.workflow.getHandle<typeof escalateGateFailure>(escalationId);
  }

  private async update(escalationId: string, send: () => Promise<UpdateAnswer>): Promise<Receipt> {
    try {
      const answer = await this.inFlight.run(escalationId, () => retryRejectedTask(send));
      return 'timeline' in answer ? receiptOfView(answer) : answer;
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && isRefusalCode(error.cause.type)) {
        throw new DecisionRefusedError(error.cause.type, error.cause.message);
      }
      if (error instanceof WorkflowNotFoundError) {
        // Updates cannot reach a closed workflow; tell "ended" apart from "never existed".
        await this.assertExists(escalationId);
        throw new DecisionRefusedError('EscalationEnded', 'the escalation has ended; decisions are no longer accepted');
      }
      throw error;
    }
  }

  private async assertExists(escalationId: string): Promise<void> {
    try {
      await this.handle(escalationId).describe();
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new EscalationNotFoundError(escalationId);
      throw error;
    }
  }
}

/**
 * Some answers mean the update was never accepted, so the same update id is sent again and still
 * counts once: FAILED_PRECONDITION when the workflow task carrying it failed for a reason of its own
 * (typically UnhandledCommand: another update completed the workflow just as this one arrived); an
 * `UnprocessedUpdate` rejection when that task completed the workflow before reaching it; and the
 * server's back-pressure on a crowd of decisions at once, RESOURCE_EXHAUSTED (its limit of updates
 * in flight per workflow) and UNAVAILABLE "update was aborted". The resend waits longer each time
 * (50 ms doubling to 1 s, about 7 s in all) and meets the ended workflow, if it ended, as such.
 */
async function retryRejectedTask<T>(send: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const grpc = error instanceof ServiceError ? (error.cause as { code?: number; details?: string } | undefined) : undefined;
      const taskFailed = grpc?.code === 9 && /workflow task failure/i.test(grpc.details ?? '');
      const crowded = (grpc?.code === 8 && /in-flight updates/i.test(grpc.details ?? '')) || (grpc?.code === 14 && /update was aborted/i.test(grpc.details ?? ''));
      const unprocessed = error instanceof WorkflowUpdateFailedError && error.cause instanceof ApplicationFailure && error.cause.type === 'UnprocessedUpdate';
      if (!(taskFailed || crowded || unprocessed) || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 50 * 2 ** (attempt - 1))));
    }
  }
}

function isRefusalCode(type: string | undefined | null): type is RefusalCode {
  return refusalCodes.includes(type as RefusalCode);
}
