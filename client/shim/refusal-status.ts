import type { RefusalCode } from '../../domain/escalation.js';

/** The HTTP status each refusal is answered with, on every route and page of the shim. */
export const refusalStatus: Readonly<Record<RefusalCode, number>> = {
  EscalationEnded: 409,
  NotAwaitedReviewer: 403,
  AlreadyVoted: 409,
  AuthorCannotApprove: 403,
  CommentRequired: 400,
  OverrideNotAllowed: 403,
  NotBreakGlassHolder: 403,
  JustificationRequired: 400,
  ReassignNotAllowed: 403,
  UnknownPerson: 400,
};
