import type { GateFailure } from './gate-failure.js';
import type { CommentRule, ExhaustedAction } from './policy.js';
import type { Reviewer } from './escalation-plan.js';
import type { Stage } from './sequential-chain.js';

export const decisionKinds = ['approve', 'reject'] as const;
export const channels = ['http', 'client', 'cli', 'slack', 'email'] as const;

export type DecisionKind = (typeof decisionKinds)[number];
export type Channel = (typeof channels)[number];

/** The payload of the `decide` update: the body plus who decided and through which channel. */
export interface DecisionRequest {
  reviewer: string;
  decision: DecisionKind;
  comment?: string;
  channel: Channel;
}

export interface WithdrawRequest {
  by: string;
  reason: string;
}

export interface Decision extends DecisionRequest {
  at: string;
  step: number;
  stage: Stage;
}

export type EscalationStatus = 'starting' | 'waiting' | 'rolling-back' | 'ended';
export type OutcomeKind = 'passed' | 'blocked' | 'rolled-back' | 'recovered' | 'withdrawn';

/** One entry of an escalation's timeline; `at` is workflow time (ISO 8601). */
export type TimelineEntry = { at: string } & (
  | { event: 'raised'; gate: string; service: string; severity: string }
  | { event: 'policy-snapshot'; policyVersion: string; gateKey: string; model: string }
  | { event: 'assigned'; step: number; stage: Stage; reviewers: string[]; deadline: string; depth: number }
  | { event: 'notified'; reviewer: string; channel: 'email'; messageId: string; step: number }
  | { event: 'notification-failed'; reviewer: string; channel: 'email'; error: string; step: number }
  | { event: 'decided'; reviewer: string; decision: DecisionKind; channel: Channel; step: number }
  | { event: 'timed-out'; step: number; stage: Stage; reviewers: string[] }
  | { event: 'handed-off'; step: number; from: Stage; to: Stage; depth: number }
  | { event: 'exhausted'; reason: string; action: ExhaustedAction['action']; depth: number }
  | { event: 'rollback-requested'; endpoint: string; status: number }
  | { event: 'rollback-failed'; endpoint: string; error: string }
  | { event: 'recovered'; pipelineRunId?: string }
  | { event: 'withdrawn'; by: string; reason: string }
  | { event: 'ended'; outcome: OutcomeKind; reason: string }
);

/** The answer of the `state` query: everything an operator or reviewer needs to see. */
export interface EscalationView {
  escalationId: string;
  failure: GateFailure;
  model: 'sequential';
  policyVersion: string | null;
  status: EscalationStatus;
  step: number | null;
  stepCount: number | null;
  stage: Stage | null;
  awaitedReviewers: string[];
  deadline: string | null;
  depth: number;
  maxDepth: number | null;
  decisions: Decision[];
  timeline: TimelineEntry[];
  outcome: EscalationOutcome | null;
}

/** The single result of an escalation, returned by the workflow and recorded in the outcome store. */
export interface EscalationOutcome {
  escalationId: string;
  outcome: OutcomeKind;
  reason: string;
  /** True when the run needs a human look afterwards: the escalation was exhausted or its rollback failed. */
  postmortem: boolean;
  gate: string;
  service: string;
  severity: string;
  depth: number;
  policyVersion: string | null;
  startedAt: string;
  endedAt: string;
  decisions: Decision[];
  timeline: TimelineEntry[];
}

export const refusalCodes = ['EscalationEnded', 'NotAwaitedReviewer', 'AuthorCannotApprove', 'CommentRequired'] as const;
export type RefusalCode = (typeof refusalCodes)[number];

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
}

/**
 * Why a decision must not count, or `undefined` when it may. Checked by the update validator
 * before anything reaches history.
 */
export function refusalOf(context: DecisionContext, request: DecisionRequest): Refusal | undefined {
  if (context.status === 'ended') return { code: 'EscalationEnded', message: 'the escalation has ended; decisions are no longer accepted' };
  if (!context.awaitedReviewers.includes(request.reviewer)) {
    const awaited = context.awaitedReviewers.length ? context.awaitedReviewers.join(', ') : 'nobody';
    return { code: 'NotAwaitedReviewer', message: `${request.reviewer} is not a reviewer this escalation is waiting on (waiting on: ${awaited})` };
  }
  if (request.decision === 'approve' && isAuthor(context.people[request.reviewer], request.reviewer, context.author)) {
    return { code: 'AuthorCannotApprove', message: `${request.reviewer} is the author of the change and cannot approve it` };
  }
  const rule = context.requireComment ?? 'never';
  const needsComment = rule === 'always' || (rule === 'on-reject' && request.decision === 'reject');
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
