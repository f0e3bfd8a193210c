/** The CLI could not reach the Temporal frontend at `address` (refused, unresolvable, or no answer in time). */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
  constructor(
    readonly address: string,
    reason: string,
  ) {
    super(`cannot reach Temporal at ${address}: ${reason}`);
  }
}
