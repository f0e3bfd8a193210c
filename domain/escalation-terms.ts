/**
 * The words an escalation's messages use, as values: the zod schemas validate with them and the
 * workflow checks with them. Kept apart from both, so neither imports the other for them.
 */

export const decisionKinds = ['approve', 'reject', 'override'] as const;
export const channels = ['http', 'client', 'cli', 'slack', 'email'] as const;

/** Why a message goes to someone: to decide, a reminder, an override to review, a rollback to do by hand. */
export const notificationPurposes = ['decide', 'reminder', 'review-override', 'rollback-failed'] as const;

export type DecisionKind = (typeof decisionKinds)[number];

/** Why a decider thinks the gate failed: metrics count false positives (false-positive, flaky) from it. */
export const decisionReasons = ['false-positive', 'flaky', 'real-issue', 'accepted-risk'] as const;
export type DecisionReason = (typeof decisionReasons)[number];
export type Channel = (typeof channels)[number];

/** Why a message is refused; the HTTP shim maps each to a status (refusal-status.ts). */
export const refusalCodes = [
  'EscalationEnded',
  'NotAwaitedReviewer',
  'AlreadyVoted',
  'AuthorCannotApprove',
  'CommentRequired',
  'OverrideNotAllowed',
  'NotBreakGlassHolder',
  'JustificationRequired',
  'ReassignNotAllowed',
  'UnknownPerson',
] as const;
export type RefusalCode = (typeof refusalCodes)[number];
