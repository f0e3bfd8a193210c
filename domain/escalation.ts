import type { z } from 'zod';
import type { CommentRule } from './policy.js';
import type { Reviewer } from './escalation-plan.js';
import type { escalationOutcomeSchema, escalationViewSchema } from './api-responses.js';
import type {
  acknowledgeRequestSchema,
  breakGlassRequestSchema,
  decisionRequestSchema,
  decisionSchema,
  escalationStatusKindSchema,
  modelNameSchema,
  outcomeKindSchema,
  reassignRequestSchema,
  routingScoreSchema,
  withdrawRequestSchema,
} from './escalation-schemas.js';
import type { timelineEntrySchema } from './timeline-schema.js';
import type { RefusalCode } from './escalation-terms.js';

export { channels, type Channel, decisionKinds, type DecisionKind, refusalCodes, type RefusalCode } from './escalation-terms.js';

// The API's types are the output types of its zod schemas, imported as types only: workflow code
// imports this module, and the sandbox bundle gets the types without zod.

/** The payload of the `decide` update: the body plus who decided and through which channel. */
export type DecisionRequest = z.output<typeof decisionRequestSchema>;

/** The payload of the `withdraw` update. */
export type WithdrawRequest = z.output<typeof withdrawRequestSchema>;

/** "On it": an awaited reviewer stops the re-notification rounds of a parallel escalation. */
export type AcknowledgeRequest = z.output<typeof acknowledgeRequestSchema>;

/** An awaited reviewer, or the lead of a tier in the escalation's path, hands it to someone else. */
export type ReassignRequest = z.output<typeof reassignRequestSchema>;

/** An emergency override by a holder of the break-glass role; always flagged for review. */
export type BreakGlassRequest = z.output<typeof breakGlassRequestSchema>;

/** One candidate's routing score and the factors behind it, kept so an auditor can see why. */
export type RoutingScore = z.output<typeof routingScoreSchema>;

/** A decision that counted: the request, with when, at which step and in which stage. */
export type Decision = z.output<typeof decisionSchema>;

export type EscalationStatus = z.output<typeof escalationStatusKindSchema>;
export type OutcomeKind = z.output<typeof outcomeKindSchema>;
export type ModelName = z.output<typeof modelNameSchema>;

/** One entry of an escalation's timeline; `at` is workflow time (ISO 8601). */
export type TimelineEntry = z.output<typeof timelineEntrySchema>;

/** The answer of the `state` query: everything an operator or reviewer needs to see. */
export type EscalationView = z.output<typeof escalationViewSchema>;

/** The single result of an escalation, returned by the workflow and recorded in the outcome store. */
export type EscalationOutcome = z.output<typeof escalationOutcomeSchema>;


export interface Refusal {
  code: RefusalCode;
  message: string;
}

/** What the decision validator needs to know about the escalation at this instant. */
export interface DecisionContext {
  status: EscalationStatus;
  awaitedReviewers: readonly string[];
  author: string;
  people: Readonly<Record<string, Reviewer>>;
  requireComment: CommentRule | null;
  /** Reviewers whose vote already counts (parallel). */
  voted: readonly string[];
  /** Whether an `override` decision can count here (a parallel gate with an override quorum). */
  overrideAllowed: boolean;
  /**
   * Who decided earlier steps, where one person decides at most one step of the escalation
   * (separation of duties); empty where the policy allows the same person on several steps.
   */
  decidedEarlier?: ReadonlyArray<{ reviewer: string; step: number }>;
}

/**
 * Why a decision must not count, or `undefined` when it may. Checked by the update validator
 * before anything reaches history.
 */
export function refusalOf(context: DecisionContext, request: DecisionRequest): Refusal | undefined {
  if (context.status === 'ended') return { code: 'EscalationEnded', message: 'the escalation has ended; decisions are no longer accepted' };
  if (context.voted.includes(request.reviewer)) return { code: 'AlreadyVoted', message: `${request.reviewer} has already voted; one vote per reviewer` };
  const earlier = context.decidedEarlier?.find((d) => d.reviewer === request.reviewer);
  if (earlier) return { code: 'AlreadyVoted', message: `${request.reviewer} already decided step ${earlier.step + 1} of this escalation; one person decides at most one step` };
  if (!context.awaitedReviewers.includes(request.reviewer)) {
    const awaited = context.awaitedReviewers.length ? context.awaitedReviewers.join(', ') : 'nobody';
    return { code: 'NotAwaitedReviewer', message: `${request.reviewer} is not a reviewer this escalation is waiting on (waiting on: ${awaited})` };
  }
  if (request.decision === 'override' && !context.overrideAllowed) {
    return { code: 'OverrideNotAllowed', message: 'this escalation has no override quorum; use break-glass for an emergency override' };
  }
  if (request.decision !== 'reject' && isAuthor(context.people[request.reviewer], request.reviewer, context.author)) {
    return { code: 'AuthorCannotApprove', message: `${request.reviewer} is the author of the change and cannot ${request.decision} it` };
  }
  const rule = context.requireComment ?? 'never';
  const needsComment = rule === 'always' || (rule === 'on-reject' && request.decision !== 'approve');
  if (needsComment && !request.comment?.trim()) {
    return { code: 'CommentRequired', message: `the policy requires a comment to ${request.decision}` };
  }
  return undefined;
}

/** True when the person (by id, email or handle, case-insensitive) is the change's author. */
export function isAuthor(person: Reviewer | undefined, id: string, author: string): boolean {
  const wanted = author.trim().toLowerCase();
  return id.toLowerCase() === wanted || (person?.aliases.includes(wanted) ?? false);
}

/** Why a break-glass override must not count, or `undefined` when it may. */
export function breakGlassRefusal(context: { status: EscalationStatus; holders: readonly string[]; author: string; people: Readonly<Record<string, Reviewer>> }, request: BreakGlassRequest): Refusal | undefined {
  if (context.status === 'ended') return { code: 'EscalationEnded', message: 'the escalation has ended; there is nothing to override' };
  if (!context.holders.includes(request.by)) return { code: 'NotBreakGlassHolder', message: `${request.by} does not hold the break-glass role` };
  if (isAuthor(context.people[request.by], request.by, context.author)) return { code: 'AuthorCannotApprove', message: `${request.by} is the author of the change and cannot override its gate` };
  if (!request.justification.trim()) return { code: 'JustificationRequired', message: 'break-glass needs a justification' };
  return undefined;
}

/** Why a reassignment must not happen, or `undefined` when it may. */
export function reassignRefusal(
  context: {
    status: EscalationStatus;
    awaitedReviewers: readonly string[];
    leads: readonly string[];
    author: string;
    people: Readonly<Record<string, Reviewer>>;
    /** As for decisions: who decided earlier steps, where one person decides at most one. */
    decidedEarlier?: ReadonlyArray<{ reviewer: string; step: number }>;
    /** Parallel: who voted already; their vote counts, so they cannot be handed the escalation. */
    voted?: readonly string[];
  },
  request: ReassignRequest,
): Refusal | undefined {
  if (context.status === 'ended') return { code: 'EscalationEnded', message: 'the escalation has ended; it can no longer be reassigned' };
  if (context.status !== 'waiting') return { code: 'ReassignNotAllowed', message: `the escalation is ${context.status}; nobody holds it to reassign` };
  if (!context.awaitedReviewers.includes(request.by) && !context.leads.includes(request.by)) {
    return { code: 'ReassignNotAllowed', message: `${request.by} is neither awaited nor a tier lead of this escalation` };
  }
  if (!(request.to in context.people)) return { code: 'UnknownPerson', message: `${request.to} is not a person in the policy` };
  if (context.awaitedReviewers.includes(request.to)) return { code: 'ReassignNotAllowed', message: `${request.to} is already awaited` };
  if (isAuthor(context.people[request.to], request.to, context.author)) return { code: 'ReassignNotAllowed', message: `${request.to} is the author of the change` };
  const earlier = context.decidedEarlier?.find((d) => d.reviewer === request.to);
  if (earlier) return { code: 'ReassignNotAllowed', message: `${request.to} already decided step ${earlier.step + 1} of this escalation; one person decides at most one step` };
  if (context.voted?.includes(request.to)) return { code: 'ReassignNotAllowed', message: `${request.to} has already voted; one vote per reviewer` };
  return undefined;
}
