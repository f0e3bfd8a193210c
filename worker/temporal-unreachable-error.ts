import ms from 'ms';

/**
 * The Temporal server did not answer at start-up within the connect timeout. `message` names the
 * address, the timeout, the number of attempts and the last error; `cause` is that last error.
 */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';

  constructor(
    readonly address: string,
    readonly timeoutMs: number,
    readonly attempts: number,
    override readonly cause: unknown,
  ) {
    super(
      `cannot reach the Temporal server at ${address} within ${ms(timeoutMs)} (ESCALATOR_TEMPORAL_CONNECT_TIMEOUT, ${attempts} attempt${attempts === 1 ? '' : 's'}); ` +
        `last error: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}
