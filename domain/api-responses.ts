import { z } from 'zod';
import { refusalCodes } from './escalation-terms.js';
import { decisionSchema, escalationStatusKindSchema, modelNameSchema, outcomeKindSchema, routingScoreSchema, stageSchema } from './escalation-schemas.js';
import { gateFailureSchema } from './gate-failure.js';
import { gateModes } from './metrics/report.js';
import { ticketSystems } from './policy.js';
import { escalationIdSchema } from './request-bodies.js';
import { timelineEntrySchema } from './timeline-schema.js';

// What the HTTP shim answers, described for its OpenAPI document and checked against real answers in
// the tests. The shim does not parse its own answers with these: the workflow's types are derived
// from them (domain/escalation.ts), so its answers have these shapes already.

const timestamp = z.iso.datetime();
const count = z.number().int().min(0);

/** Codes the shim answers with itself. */
// `BadRequest`: a request that is not well-formed HTTP (or whose headers are too large), refused before any route.
export const shimErrorCodes = ['InvalidInput', 'Unauthenticated', 'Forbidden', 'EscalationNotFound', 'NotFound', 'MethodNotAllowed', 'RateLimited', 'IdentityProviderUnavailable', 'TemporalUnreachable', 'Internal', 'BadRequest', 'DeliveryReplayed'] as const;

/** Fastify's own refusals of a request, passed on with Fastify's code. */
export const fastifyErrorCodes = [
  'FST_ERR_CTP_INVALID_JSON_BODY',
  'FST_ERR_CTP_EMPTY_JSON_BODY',
  'FST_ERR_CTP_INVALID_CONTENT_LENGTH',
  'FST_ERR_CTP_BODY_TOO_LARGE',
  'FST_ERR_CTP_INVALID_MEDIA_TYPE',
  'FST_ERR_BAD_URL',
  'FST_ERR_MAX_PARAM_LENGTH',
] as const;

/** Every `error.code` the shim can send: its own, the escalation's refusals, and Fastify's. */
export const errorCodes = [...shimErrorCodes, ...refusalCodes, ...fastifyErrorCodes] as const;
export type ErrorCode = (typeof errorCodes)[number];

export const fieldErrorSchema = z.object({ path: z.string().describe('Dotted path of the field (`change.sha`), or `(root)`'), message: z.string() }).strict();

/** The body of every error answer. */
export const errorBodySchema = z
  .object({
    error: z
      .object({
        code: z.enum(errorCodes),
        message: z.string(),
        details: z.array(fieldErrorSchema).nullable().describe('One entry per bad field, or null'),
      })
      .strict(),
  })
  .strict();

export const raiseResultSchema = z
  .object({
    escalationId: escalationIdSchema,
    started: z.boolean().describe('False when the idempotency key already had an escalation (running or ended): the event attached to it'),
  })
  .strict();

export const recoveredAcceptedSchema = z.object({ escalationId: escalationIdSchema, accepted: z.literal(true) }).strict();

export const healthSchema = z.object({ status: z.literal('ok'), temporal: z.literal('reachable') }).strict();

const heldReviewersSchema = z
  .array(z.object({ reviewer: z.string(), until: timestamp }).strict())
  .describe('Awaited reviewers quiet hours held back: not asked yet, asked at `until` if still awaited; they may decide meanwhile');

const votesSchema = z
  .object({
    approve: count,
    reject: count,
    override: count,
    quorum: z.object({ approve: count, override: count.nullable(), reject: count }).strict(),
  })
  .strict();

export const escalationOutcomeSchema = z
  .object({
    escalationId: escalationIdSchema,
    outcome: outcomeKindSchema,
    reason: z.string(),
    postmortem: z.boolean().describe('True when the run needs a human look afterwards: it was exhausted or its rollback failed'),
    gate: z.string(),
    service: z.string(),
    severity: z.string(),
    model: modelNameSchema.nullable(),
    depth: count,
    policyVersion: z.string().nullable(),
    startedAt: timestamp,
    endedAt: timestamp,
    decisions: z.array(decisionSchema),
    timeline: z.array(timelineEntrySchema),
    mode: z.enum(gateModes).optional().describe('shadow: the run notified nobody and decided nothing for the pipeline, its outcome is what it would have been; pilot: only the pilot group was notified. Absent: live'),
  })
  .strict();

export const escalationViewSchema = z
  .object({
    escalationId: escalationIdSchema,
    failure: gateFailureSchema,
    model: modelNameSchema.nullable(),
    selectedBy: z.string().nullable().describe("Why this model runs: the gate's own, or the rule that chose it"),
    mode: z
      .enum(gateModes)
      .describe("The gate's mode: live acts on the pipeline; shadow notifies nobody, records who would have been asked (would-notify) and decides nothing for the pipeline; pilot notifies only the pilot group"),
    policyVersion: z.string().nullable(),
    status: escalationStatusKindSchema,
    step: count.nullable(),
    stepCount: count.nullable(),
    stage: stageSchema.nullable(),
    awaitedReviewers: z.array(z.string()),
    heldReviewers: heldReviewersSchema,
    primary: z.string().nullable().describe('Parallel: the reviewer named as primary; otherwise null'),
    votes: votesSchema.nullable().describe('Parallel: votes so far and the quorum; otherwise null'),
    acknowledgedBy: z.array(z.string()),
    routing: z.array(routingScoreSchema).nullable().describe("Dynamic: every candidate's score and factors; otherwise null"),
    deadline: timestamp.nullable().describe('When the awaited reviewers time out, while the escalation is waiting'),
    depth: count,
    maxDepth: count.nullable(),
    decisions: z.array(decisionSchema),
    timeline: z.array(timelineEntrySchema),
    outcome: escalationOutcomeSchema.nullable(),
    ticket: z
      .object({
        system: z.enum(ticketSystems),
        key: z.string().describe('The Jira issue key (OPS-123) or ServiceNow incident number (INC0010001)'),
        url: z.string().describe('Where people open the ticket'),
      })
      .strict()
      .nullable()
      .describe("The ticket opened after the end where the policy's `tickets` asks for one; null before that, or when none was opened"),
  })
  .strict();

/** What one GitHub or GitLab delivery did: an escalation started, attached to or recovered, or nothing, and why. */
export const deliveryResultSchema = z
  .object({
    kind: z.enum(['started', 'attached', 'recovered', 'ignored']),
    escalationId: escalationIdSchema.nullable(),
    reason: z.string().nullable().describe('Why nothing was done (no integrations entry names the repository, an action Escalator does not act on, …)'),
  })
  .strict();

export type DeliveryResult = z.output<typeof deliveryResultSchema>;

export const deliveryAnswerSchema = z
  .object({
    delivery: z.string().nullable().describe('The delivery id (X-GitHub-Delivery, X-Gitlab-Event-UUID); taken: a replay is refused'),
    results: z.array(deliveryResultSchema),
  })
  .strict();

/**
 * The answer of GET /v1/escalations/:id/outcome: the outcome once the escalation ended; while it
 * runs, where it stands, so a pipeline can say what it waits for.
 */
export const outcomeAnswerSchema = z
  .object({
    escalationId: escalationIdSchema,
    status: z.enum(['ended', 'running', 'closed-without-outcome']).describe('`closed-without-outcome`: an operator terminated or cancelled the run in Temporal'),
    outcome: escalationOutcomeSchema.nullable(),
    awaitedReviewers: z.array(z.string()).describe('While running: who is asked now'),
    deadline: timestamp.nullable().describe('While running: when the awaited reviewers time out'),
  })
  .strict();

/**
 * The answer of an update (decide, acknowledge, reassign, break glass, withdraw): it was taken, and
 * where the escalation stands now. The whole state is the `state` query's (GET /v1/escalations/:id).
 */
export const receiptSchema = z
  .object({
    escalationId: escalationIdSchema,
    accepted: z.literal(true),
    status: escalationStatusKindSchema,
    step: count.nullable(),
    stage: stageSchema.nullable(),
    awaitedReviewers: z.array(z.string()),
    heldReviewers: heldReviewersSchema,
    deadline: timestamp.nullable().describe('When the awaited reviewers time out, while the escalation is waiting'),
    depth: count,
    votes: votesSchema.nullable().describe('Parallel: votes so far and the quorum; otherwise null'),
    outcome: z.object({ outcome: outcomeKindSchema, reason: z.string(), postmortem: z.boolean() }).strict().nullable().describe('Once ended: how, and why'),
  })
  .strict();

/** A side effect the server is retrying for an escalation (see EscalatorClient.retrying). */
export const retryingActionSchema = z
  .object({
    action: z.string().describe('The activity: emailReviewer, requestRollback, postSlack, page, sendWebhook, …'),
    attempt: z.number().int().min(1).describe('The attempt running or due next'),
    lastError: z.string().nullable().describe('Why the last attempt failed, naming whose email or which endpoint'),
    nextAttemptAt: timestamp.nullable().describe('When the next attempt starts; null while one runs'),
  })
  .strict();

/** GET /v1/escalations/:id: the state, and what is being retried for it right now. */
export const escalationStatusSchema = escalationViewSchema
  .extend({ retrying: z.array(retryingActionSchema).describe('Side effects failing and being retried (an email while the relay is down, a rollback answering 500); empty once ended') })
  .strict();
