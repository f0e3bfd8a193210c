import type { GateFailure } from './gate-failure.js';
import type { CommentRule, ExhaustedAction } from './policy.js';
import type { Reviewer } from './escalation-plan.js';
import type { Stage } from './sequential-chain.js';

export const decisionKinds = ['approve', 'reject', 'override'] as const;
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

/** "On it": an awaited reviewer stops the re-notification rounds of a parallel escalation. */
export interface AcknowledgeRequest {
  reviewer: string;
  channel: Channel;
}

/** An awaited reviewer, or the lead of a tier in the escalation's path, hands it to someone else. */
export interface ReassignRequest {
  by: string;
  to: string;
  reason: string;
  channel: Channel;
}

/** An emergency override by a holder of the break-glass role; always flagged for review. */
export interface BreakGlassRequest {
  by: string;
  justification: string;
  channel: Channel;
}

/** One candidate's routing score and the factors behind it, kept so an auditor can see why. */
export interface RoutingScore {
  person: string;
  score: number;
  factors: Record<string, { value: number; weight: number; why: string }>;
}

export interface Decision extends DecisionRequest {
  at: string;
  step: number;
  stage: Stage;
}

export type EscalationStatus = 'starting' | 'routing' | 'waiting' | 'rolling-back' | 'ended';
export type OutcomeKind = 'passed' | 'overridden' | 'blocked' | 'rolled-back' | 'recovered' | 'withdrawn';
export type ModelName = 'sequential' | 'parallel' | 'dynamic';

/** One entry of an escalation's timeline; `at` is workflow time (ISO 8601). */
export type TimelineEntry = { at: string } & (
  | { event: 'raised'; gate: string; service: string; severity: string }
  | { event: 'policy-snapshot'; policyVersion: string; gateKey: string; model: string; selectedBy: string; notes: string[] }
  | { event: 'assigned'; step: number; stage: Stage; reviewers: string[]; deadline: string; depth: number }
  | { event: 'notified'; reviewer: string; channel: 'email' | 'slack' | 'pagerduty'; messageId: string; step: number }
  | { event: 'notification-failed'; reviewer: string; channel: 'email' | 'slack' | 'pagerduty'; error: string; step: number }
  /**
   * Quiet hours held reviewers back: only `notified` were asked, `held` are asked at `until` if still
   * awaited, and `standIn` (the on-call, when they may decide) is awaited with them till then. The
   * last three are absent from entries written before they existed.
   */
  | { event: 'quiet-hours'; notified: string[]; held: string[]; until?: string; standIn?: string | null }
  /** Quiet hours ended: `asked` are the held reviewers still awaited, `released` the stand-ins no longer awaited. */
  | { event: 'quiet-hours-ended'; asked: string[]; released: string[] }
  | { event: 'decided'; reviewer: string; decision: DecisionKind; channel: Channel; step: number }
  | { event: 'acknowledged'; reviewer: string; channel: Channel }
  | { event: 'renotified'; round: number; reviewers: string[]; depth: number }
  | { event: 'routed'; chosen: string[]; scores: RoutingScore[]; coldStart: boolean; reason: string }
  | { event: 'fallback'; from: ModelName; to: ModelName; reason: string; depth: number }
  | { event: 'reassigned'; by: string; from: string[]; to: string; reason: string; depth: number }
  | { event: 'break-glass'; by: string; justification: string; channel: Channel }
  | { event: 'timed-out'; step: number; stage: Stage; reviewers: string[] }
  | { event: 'handed-off'; step: number; from: Stage; to: Stage; depth: number }
  | { event: 'exhausted'; reason: string; action: ExhaustedAction['action']; depth: number }
  | { event: 'rollback-requested'; endpoint: string; status: number }
  | { event: 'rollback-failed'; endpoint: string; error: string }
  | { event: 'rollback-handed-off'; to: string[]; endpoint: string; error: string }
  | { event: 'recovered'; pipelineRunId?: string }
  | { event: 'withdrawn'; by: string; reason: string }
  | { event: 'ended'; outcome: OutcomeKind; reason: string }
);

/** The answer of the `state` query: everything an operator or reviewer needs to see. */
export interface EscalationView {
  escalationId: string;
  failure: GateFailure;
  model: ModelName | null;
  /** Why this model runs: the gate's own, or the rule that chose it. */
  selectedBy: string | null;
  policyVersion: string | null;
  status: EscalationStatus;
  step: number | null;
  stepCount: number | null;
  stage: Stage | null;
  awaitedReviewers: string[];
  /** Awaited reviewers quiet hours held back: not asked yet, asked at `until` if still awaited. They may decide meanwhile. */
  heldReviewers: Array<{ reviewer: string; until: string }>;
  /** Parallel: the reviewer named as primary; otherwise null. */
  primary: string | null;
  /** Parallel: votes so far and the quorum; otherwise null. */
  votes: { approve: number; reject: number; override: number; quorum: { approve: number; override: number | null; reject: number } } | null;
  acknowledgedBy: string[];
  /** Dynamic: every candidate's score and factors. */
  routing: RoutingScore[] | null;
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
  model: ModelName | null;
  depth: number;
  policyVersion: string | null;
  startedAt: string;
  endedAt: string;
  decisions: Decision[];
  timeline: TimelineEntry[];
}

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
  return undefined;
}
