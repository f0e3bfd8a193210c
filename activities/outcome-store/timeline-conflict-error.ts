/**
 * Thrown when an entry is recorded at a seq that already holds a different entry (another event kind
 * or time) of the same escalation: the caller's `fromSeq` is wrong. Retrying cannot help, and storing
 * nothing is better than silently keeping the wrong event in the audit trail.
 */
export class TimelineConflictError extends Error {
  override readonly name = 'TimelineConflictError';

  constructor(
    readonly escalationId: string,
    readonly seq: number,
    readonly stored: { kind: string; at: string },
    readonly offered: { kind: string; at: string },
  ) {
    super(`escalation ${escalationId} already has ${stored.kind} at ${stored.at} as entry ${seq}; refusing ${offered.kind} at ${offered.at} there`);
  }
}
