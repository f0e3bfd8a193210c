import { setTimeout as sleep } from 'node:timers/promises';
import { NativeConnection, TransportError } from '@temporalio/worker';
import { TemporalUnreachableError } from './temporal-unreachable-error.js';

/** A failed attempt that another one follows. */
export interface ConnectRetry {
  address: string;
  /** 1 for the first attempt. */
  attempt: number;
  error: unknown;
  /** The wait before the next attempt. */
  delayMs: number;
  /** When the last attempt starts at the latest. */
  giveUpAt: Date;
}

export interface ConnectWithRetryOptions {
  /** `host:port` of the Temporal frontend. */
  address: string;
  /** How long to keep trying, from the first attempt. */
  timeoutMs: number;
  /** The wait after the first failure, doubled after each one up to `maxDelayMs`. Default 500 ms. */
  initialDelayMs?: number;
  /** Default 10 s. */
  maxDelayMs?: number;
  /** Aborting ends the wait at once: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Called before each wait, e.g. to log it. */
  onRetry?: (retry: ConnectRetry) => void;
}

/**
 * Connects to Temporal like `NativeConnection.connect`, but waits for a server that is not
 * reachable yet: it retries with capped exponential backoff while the errors say nothing answers
 * (see {@link isUnreachable}) and rejects with a {@link TemporalUnreachableError} after
 * `timeoutMs`. Any other error (a malformed address, something that is not a Temporal server, TLS,
 * credentials) rejects at once: waiting would not fix it.
 */
export async function connectWithRetry(options: ConnectWithRetryOptions): Promise<NativeConnection> {
  const { address, timeoutMs, initialDelayMs = 500, maxDelayMs = 10_000, signal } = options;
  const deadline = Date.now() + timeoutMs;
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      // At least a second, so the last attempt, started at the deadline, has a chance.
      return await connectOnce(address, Math.max(deadline - Date.now(), 1_000), signal);
    } catch (error) {
      signal?.throwIfAborted();
      if (!isUnreachable(error)) throw error;
      const remainingMs = deadline - Date.now();
      if (remainingMs <= 0) throw new TemporalUnreachableError(address, timeoutMs, attempt, error);
      const delayMs = Math.min(backoff(attempt, initialDelayMs, maxDelayMs), remainingMs);
      options.onRetry?.({ address, attempt, error, delayMs, giveUpAt: new Date(deadline) });
      try {
        await sleep(delayMs, undefined, signal ? { signal } : {});
      } catch (sleepError) {
        signal?.throwIfAborted();
        throw sleepError;
      }
    }
  }
}

/**
 * Whether an error of `NativeConnection.connect` means that nothing answers at the address yet
 * (refused, reset, no route, no DNS name yet, no answer in time, gRPC UNAVAILABLE or
 * DEADLINE_EXCEEDED), as opposed to something answering no.
 *
 * Core (SDK 1.24) throws a `TypeError` for a malformed address and a `TransportError` for
 * everything else, whose message is the Debug text of the Rust error: the message is all there is
 * to tell them apart. A shape not recognised here counts as fatal, so a misconfiguration is
 * reported at once rather than after the whole timeout.
 */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof NoAnswerInTime) return true;
  return error instanceof TransportError && unreachableSigns.test(error.message);
}

const unreachableSigns = new RegExp(
  [
    // std::io::ErrorKind names in tonic's and hyper's errors: the port is closed or the host is down.
    String.raw`\b(?:ConnectionRefused|ConnectionReset|ConnectionAborted|NotConnected|TimedOut|HostUnreachable|NetworkUnreachable|NetworkDown|AddrNotAvailable)\b`,
    // In Compose or Kubernetes the server's name resolves once its container runs.
    'dns error',
    // Core's own 30 s limit on a server that accepts the connection but does not answer.
    'TimeoutExpired',
    // tonic's descriptions of UNAVAILABLE and DEADLINE_EXCEEDED from GetSystemInfo: a server starting or stopping.
    `code: 'The service is currently unavailable'`,
    `code: 'Deadline expired before operation could complete'`,
  ].join('|'),
);

class NoAnswerInTime extends Error {
  override readonly name = 'NoAnswerInTime';
}

async function connectOnce(address: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<NativeConnection> {
  const connecting = NativeConnection.connect({ address });
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stopped = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new NoAnswerInTime(`no answer within ${timeoutMs} ms`)), timeoutMs);
    onAbort = () => reject(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([connecting, stopped]);
  } catch (error) {
    // A connection that arrives after we stopped waiting for it is closed, not leaked.
    connecting.then(
      (late) => late.close().catch(() => undefined),
      () => undefined,
    );
    throw error;
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}

function backoff(attempt: number, initialDelayMs: number, maxDelayMs: number): number {
  const delayMs = Math.min(initialDelayMs * 2 ** (attempt - 1), maxDelayMs);
  // Up to 20% shorter, so workers restarted together do not knock in step.
  return Math.round(delayMs * (0.8 + 0.2 * Math.random()));
}
