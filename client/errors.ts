import type { RefusalCode } from '../domain/escalation.js';
import type { FieldError } from '../domain/field-errors.js';

/** The escalation id names no escalation this namespace knows. */
export class EscalationNotFoundError extends Error {
  override readonly name = 'EscalationNotFoundError';
  constructor(readonly escalationId: string) {
    super(`no escalation ${escalationId}`);
  }
}

/**
 * The escalation refused a decision or withdrawal; nothing was recorded in its history.
 * `code` says why: `EscalationEnded`, `NotAwaitedReviewer`, `AuthorCannotApprove`, `CommentRequired`.
 */
export class DecisionRefusedError extends Error {
  override readonly name = 'DecisionRefusedError';
  constructor(
    readonly code: RefusalCode,
    message: string,
  ) {
    super(message);
  }
}

/** An input failed its schema; `fields` names each bad field. */
export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(
    message: string,
    readonly fields: FieldError[],
  ) {
    super(`${message}: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`);
  }
}
