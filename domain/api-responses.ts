import { z } from 'zod';
import { channels, decisionKinds, refusalCodes, type TimelineEntry } from './escalation.js';
import { gateFailureSchema } from './gate-failure.js';
import { escalationIdSchema } from './request-bodies.js';

// What the HTTP shim answers, described for its OpenAPI document and checked against real answers in
// the tests. The shim does not parse its own answers with these: the workflow's types already hold.

const timestamp = z.iso.datetime();
const count = z.number().int().min(0);

/** Codes the shim answers with itself. */
// `BadRequest`: a request that is not well-formed HTTP (or whose headers are too large), refused before any route.
export const shimErrorCodes = ['InvalidInput', 'Unauthenticated', 'Forbidden', 'EscalationNotFound', 'NotFound', 'MethodNotAllowed', 'RateLimited', 'IdentityProviderUnavailable', 'TemporalUnreachable', 'Internal', 'BadRequest'] as const;

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

export const stageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('primary') }).strict(),
  z.object({ kind: z.literal('backup') }).strict(),
  z.object({ kind: z.literal('tier'), tier: z.string(), tierIndex: count }).strict(),
]);

export const decisionSchema = z
  .object({
    reviewer: z.string(),
    decision: z.enum(decisionKinds),
    comment: z.string().optional(),
    channel: z.enum(channels),
    at: timestamp,
    step: count,
    stage: stageSchema,
  })
  .strict();

export const routingScoreSchema = z
  .object({
    person: z.string(),
    score: z.number(),
    factors: z.record(z.string(), z.object({ value: z.number(), weight: z.number(), why: z.string() }).strict()),
  })
  .strict();

// A Record over the union makes the compiler insist on every event, and on no other.
const timelineEvents: Record<TimelineEntry['event'], true> = {
  raised: true,
  'policy-snapshot': true,
  assigned: true,
  notified: true,
  'notification-failed': true,
  'quiet-hours': true,
  'quiet-hours-ended': true,
  decided: true,
  acknowledged: true,
  renotified: true,
  routed: true,
  fallback: true,
  reassigned: true,
  'break-glass': true,
  'timed-out': true,
  'handed-off': true,
  exhausted: true,
  'rollback-requested': true,
  'rollback-failed': true,
  'rollback-handed-off': true,
  recovered: true,
  withdrawn: true,
  ended: true,
};

/** Described loosely: every entry has `at` and `event`; the other properties depend on the event. */
export const timelineEntrySchema = z.looseObject({
  at: timestamp,
  event: z.enum(Object.keys(timelineEvents) as [TimelineEntry['event'], ...TimelineEntry['event'][]]),
});

const modelName = z.enum(['sequential', 'parallel', 'dynamic']);
const outcomeKind = z.enum(['passed', 'overridden', 'blocked', 'rolled-back', 'recovered', 'withdrawn']);

export const escalationOutcomeSchema = z
  .object({
    escalationId: escalationIdSchema,
    outcome: outcomeKind,
    reason: z.string(),
    postmortem: z.boolean().describe('True when the run needs a human look afterwards: it was exhausted or its rollback failed'),
    gate: z.string(),
    service: z.string(),
    severity: z.string(),
    model: modelName.nullable(),
    depth: count,
    policyVersion: z.string().nullable(),
    startedAt: timestamp,
    endedAt: timestamp,
    decisions: z.array(decisionSchema),
    timeline: z.array(timelineEntrySchema),
  })
  .strict();

export const escalationViewSchema = z
  .object({
    escalationId: escalationIdSchema,
    failure: gateFailureSchema,
    model: modelName.nullable(),
    selectedBy: z.string().nullable().describe("Why this model runs: the gate's own, or the rule that chose it"),
    policyVersion: z.string().nullable(),
    status: z.enum(['starting', 'routing', 'waiting', 'rolling-back', 'ended']),
    step: count.nullable(),
    stepCount: count.nullable(),
    stage: stageSchema.nullable(),
    awaitedReviewers: z.array(z.string()),
    heldReviewers: z
      .array(z.object({ reviewer: z.string(), until: timestamp }).strict())
      .describe('Awaited reviewers quiet hours held back: not asked yet, asked at `until` if still awaited; they may decide meanwhile'),
    primary: z.string().nullable().describe('Parallel: the reviewer named as primary; otherwise null'),
    votes: z
      .object({
        approve: count,
        reject: count,
        override: count,
        quorum: z.object({ approve: count, override: count.nullable(), reject: count }).strict(),
      })
      .strict()
      .nullable()
      .describe('Parallel: votes so far and the quorum; otherwise null'),
    acknowledgedBy: z.array(z.string()),
    routing: z.array(routingScoreSchema).nullable().describe("Dynamic: every candidate's score and factors; otherwise null"),
    deadline: timestamp.nullable().describe('When the awaited reviewers time out, while the escalation is waiting'),
    depth: count,
    maxDepth: count.nullable(),
    decisions: z.array(decisionSchema),
    timeline: z.array(timelineEntrySchema),
    outcome: escalationOutcomeSchema.nullable(),
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
