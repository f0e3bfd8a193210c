/**
 * A review-history file that cannot be replayed: `line` is the 1-based line of the JSON Lines file
 * and `problem` says what is wrong there (bad JSON, a missing or mistyped field, an unreadable date).
 */
export class ReviewHistoryError extends Error {
  override readonly name = 'ReviewHistoryError';
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
  }
}
