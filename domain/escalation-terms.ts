/**
 * The words an escalation's messages use, as values: the zod schemas validate with them and the
 * workflow checks with them. Kept apart from both, so neither imports the other for them.
 */

export const decisionKinds = ['approve', 'reject', 'override'] as const;
export const channels = ['http', 'client', 'cli', 'slack', 'email'] as const;

export type DecisionKind = (typeof decisionKinds)[number];
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
