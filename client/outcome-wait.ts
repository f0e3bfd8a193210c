import { type Client, ServiceError, WorkflowFailedError } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { EscalationOutcome } from '../domain/escalation.js';
import { EscalationNotFoundError } from './errors.js';

/**
 * What waiting for an escalation's outcome came to: its outcome; a run that closed without one (an
 * operator terminated or cancelled it in Temporal); or still running when the wait ran out.
 */
export type OutcomeWait =
  | { kind: 'ended'; outcome: EscalationOutcome }
  | { kind: 'closed-without-outcome'; how: string; message: string }
  | { kind: 'still-running' };

export interface OutcomeWaitOptions {
  /** When to stop waiting, in milliseconds since the epoch. */
  until: number;
  /**
   * The longest single server call. The server long-polls for the close event; shorter calls let a
   * dropped connection show as an error rather than a silent hang.
   */
  callMs?: number;
  /** Told about each interruption (the server unreachable, a dropped connection) before the wait goes on. */
  onInterruption?: (error: Error) => void;
  /** Ends the wait early (the HTTP caller went away): answered as still running. */
  signal?: AbortSignal;
  now?: () => number;
}

const GRPC_CANCELLED = 1;
const GRPC_DEADLINE_EXCEEDED = 4;
const GRPC_UNAVAILABLE = 14;

/**
 * Waits for the escalation's outcome until `until`, through network drops, a restarting Temporal
 * frontend and worker restarts (which the server's history outlives). Each call is bounded, and
 * a call the network broke is sent again after a pause that grows to 5 s. Throws
 * `EscalationNotFoundError` for an id no escalation has.
 */
export async function waitForOutcome(client: Client, escalationId: string, options: OutcomeWaitOptions): Promise<OutcomeWait> {
  const now = options.now ?? Date.now;
  const callMs = options.callMs ?? 60_000;
  const handle = client.workflow.getHandle(escalationId);
  let pause = 250;
  while (now() < options.until && !options.signal?.aborted) {
    const timeout = AbortSignal.timeout(Math.max(1, Math.min(options.until, now() + callMs) - now()));
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    try {
      const outcome = (await client.connection.withAbortSignal(signal, () => handle.result())) as EscalationOutcome;
      return { kind: 'ended', outcome };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) throw new EscalationNotFoundError(escalationId);
      if (error instanceof WorkflowFailedError) return { kind: 'closed-without-outcome', how: error.cause?.name ?? 'WorkflowFailed', message: error.message };
      const code = grpcCode(error);
      if (code === GRPC_DEADLINE_EXCEEDED || code === GRPC_CANCELLED) {
        pause = 250;
        continue; // this call's time ran out; the wait goes on
      }
      if (code !== GRPC_UNAVAILABLE) throw error;
      options.onInterruption?.(error as Error);
      await pauseFor(Math.max(0, Math.min(pause, options.until - now())), options.signal);
      pause = Math.min(5_000, pause * 2);
    }
  }
  return { kind: 'still-running' };
}

function pauseFor(millis: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, millis);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function grpcCode(error: unknown): number | undefined {
  if (error instanceof ServiceError) return (error.cause as { code?: number } | undefined)?.code;
  return (error as { code?: unknown } | null)?.code === undefined ? undefined : Number((error as { code: unknown }).code);
}
