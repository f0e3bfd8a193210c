import { escalationStatusSchema, outcomeAnswerSchema, raiseResultSchema, receiptSchema, recoveredAcceptedSchema } from '../../domain/api-responses.js';
import { type GateFailureInput, gateFailureSchema } from '../../domain/gate-failure.js';
import { acknowledgeBodySchema, breakGlassBodySchema, decisionBodySchema, outcomeQuerySchema, reassignBodySchema, recoveredBodySchema, withdrawBodySchema } from '../../domain/request-bodies.js';
import { DecisionRefusedError } from '../errors.js';
import { defineRoute, type ShimContext, type ShimRoute } from './routes.js';
import type { Identity } from './tokens.js';

/** The JSON API: raise gate failures, read escalations and act on them. Every route needs a bearer token. */
export const escalationRoutes: readonly ShimRoute[] = [
  defineRoute({
    method: 'POST',
    url: '/v1/gate-failures',
    operationId: 'raiseGateFailure',
    tag: 'Gate failures',
    summary: 'Raise a failed gate',
    description: 'Starts the escalation for a gate failure, or attaches to the one its `idempotencyKey` already started (running or ended).',
    access: 'raise',
    // The escalator client validates every gate failure itself, whoever raises it, and its refusal is the same 400.
    body: { schema: gateFailureSchema, required: true, parse: false },
    answers: {
      201: { description: 'Started: a new escalation.', schema: raiseResultSchema },
      200: { description: 'Attached: the idempotency key already had an escalation; nothing new started.', schema: raiseResultSchema },
    },
    handler: async ({ body, reply }, { options }) => {
      const result = await options.escalator.raise(body as GateFailureInput);
      return reply.code(result.started ? 201 : 200).send(result);
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/escalations/:id',
    operationId: 'getEscalation',
    tag: 'Escalations',
    summary: 'Read an escalation',
    description: 'The whole state: model, step, awaited reviewers, deadline, depth, decisions, timeline, and the outcome once ended.',
    access: 'any-token',
    answers: { 200: { description: 'The escalation as it stands, with the side effects being retried for it.', schema: escalationStatusSchema } },
    handler: async ({ escalationId }, { options }) => options.escalator.statusWithRetries(escalationId),
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/escalations/:id/outcome',
    operationId: 'getOutcome',
    tag: 'Escalations',
    summary: 'Wait for the outcome (long poll)',
    description:
      'For a pipeline that cannot hold a connection open for hours: with `wait`, the request is held until the escalation ends or the wait runs out, then answered. Poll again on 202. A worker or Temporal restart meanwhile does not end the wait; the shim closing answers at once.',
    access: 'any-token',
    query: outcomeQuerySchema,
    answers: {
      200: { description: 'Ended: the outcome (or `closed-without-outcome`, when an operator terminated the run in Temporal).', schema: outcomeAnswerSchema },
      202: { description: 'Still running when the wait ran out: who is asked, and until when. Poll again.', schema: outcomeAnswerSchema },
    },
    handler: async ({ escalationId, query, reply }, { options, closing }) => {
      const gone = new AbortController();
      // The caller hanging up ends the wait, so an abandoned poll holds no server call.
      reply.raw.once('close', () => gone.abort());
      const waited = await options.escalator.waitForOutcome(escalationId, { until: Date.now() + (query.wait ?? 0), signal: AbortSignal.any([gone.signal, closing]) });
      if (waited.kind === 'ended') return reply.code(200).send({ escalationId, status: 'ended', outcome: waited.outcome, awaitedReviewers: [], deadline: null });
      if (waited.kind === 'closed-without-outcome') return reply.code(200).send({ escalationId, status: 'closed-without-outcome', outcome: null, awaitedReviewers: [], deadline: null });
      const view = await options.escalator.status(escalationId);
      if (view.status === 'ended' && view.outcome) return reply.code(200).send({ escalationId, status: 'ended', outcome: view.outcome, awaitedReviewers: [], deadline: null });
      return reply.code(202).header('retry-after', '1').send({ escalationId, status: 'running', outcome: null, awaitedReviewers: view.awaitedReviewers, deadline: view.deadline });
    },
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/escalations/:id/decisions',
    operationId: 'decide',
    tag: 'Escalations',
    summary: 'Decide: approve, reject or override',
    description: 'Records a decision by the identity of the token. A refused decision never reaches the workflow history; the shim records who tried, and why it was refused, in the outcome store.',
    access: 'decide',
    idempotencyKey: true,
    body: { schema: decisionBodySchema, required: true },
    answers: { 200: { description: 'Counted; where the escalation stands now.', schema: receiptSchema } },
    refusals: { 400: ['CommentRequired'], 403: ['NotAwaitedReviewer', 'AuthorCannotApprove', 'OverrideNotAllowed'], 409: ['EscalationEnded', 'AlreadyVoted'] },
    handler: async ({ identity, escalationId, body, idempotencyKey }, shim) =>
      recorded(shim, escalationId, identity, () =>
        shim.options.escalator.decide(
          escalationId,
          { reviewer: identity.id, decision: body.decision, channel: 'http', ...(body.comment ? { comment: body.comment } : {}), ...(body.reason ? { reason: body.reason } : {}) },
          updateOptions('decision', identity, idempotencyKey),
        ),
      ),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/escalations/:id/acknowledge',
    operationId: 'acknowledge',
    tag: 'Escalations',
    summary: 'Acknowledge: "on it"',
    description: 'An awaited reviewer says they are on it; the re-notification rounds stop.',
    access: 'decide',
    body: { schema: acknowledgeBodySchema, required: false },
    answers: { 200: { description: 'Acknowledged; where the escalation stands now.', schema: receiptSchema } },
    refusals: { 403: ['NotAwaitedReviewer'], 409: ['EscalationEnded'] },
    handler: async ({ identity, escalationId }, shim) => recorded(shim, escalationId, identity, () => shim.options.escalator.acknowledge(escalationId, { reviewer: identity.id, channel: 'http' })),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/escalations/:id/reassign',
    operationId: 'reassign',
    tag: 'Escalations',
    summary: 'Reassign to another person',
    description: 'By an awaited reviewer or the lead of a tier on the escalation path. Counts towards the escalation depth; past the maximum depth the escalation is exhausted instead.',
    access: 'decide',
    idempotencyKey: true,
    body: { schema: reassignBodySchema, required: true },
    answers: { 200: { description: 'Reassigned (or exhausted at the maximum depth); where the escalation stands now.', schema: receiptSchema } },
    refusals: { 400: ['UnknownPerson'], 403: ['ReassignNotAllowed'], 409: ['EscalationEnded'] },
    handler: async ({ identity, escalationId, body, idempotencyKey }, shim) =>
      recorded(shim, escalationId, identity, () =>
        shim.options.escalator.reassign(escalationId, { by: identity.id, to: body.to, reason: body.reason, channel: 'http' }, updateOptions('reassign', identity, idempotencyKey)),
      ),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/escalations/:id/break-glass',
    operationId: 'breakGlass',
    tag: 'Escalations',
    summary: 'Break glass: override at once',
    description: "By a holder of one of the policy's break-glass roles: the escalation ends as overridden and the override is sent for review.",
    access: 'decide',
    body: { schema: breakGlassBodySchema, required: true },
    answers: { 200: { description: 'Overridden; the escalation has ended.', schema: receiptSchema } },
    refusals: { 400: ['JustificationRequired'], 403: ['NotBreakGlassHolder', 'AuthorCannotApprove'], 409: ['EscalationEnded'] },
    handler: async ({ identity, escalationId, body }, shim) =>
      recorded(shim, escalationId, identity, () => shim.options.escalator.breakGlass(escalationId, { by: identity.id, justification: body.justification, channel: 'http' })),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/escalations/:id/withdraw',
    operationId: 'withdraw',
    tag: 'Escalations',
    summary: 'Withdraw',
    description: 'Ends a running escalation as `withdrawn`, for instance because the change was reverted.',
    access: 'raise',
    idempotencyKey: true,
    body: { schema: withdrawBodySchema, required: true },
    answers: { 200: { description: 'Withdrawn; the escalation has ended, with its outcome.', schema: receiptSchema } },
    refusals: { 409: ['EscalationEnded'] },
    handler: async ({ identity, escalationId, body, idempotencyKey }, shim) =>
      recorded(shim, escalationId, identity, () => shim.options.escalator.withdraw(escalationId, { by: identity.id, reason: body.reason }, updateOptions('withdraw', identity, idempotencyKey))),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/escalations/:id/recovered',
    operationId: 'reportRecovered',
    tag: 'Escalations',
    summary: 'Report that the gate re-ran green',
    description: 'The escalation ends as `recovered`, unless it already ended or a rollback is under way: then nothing changes and the answer is the same.',
    access: 'raise',
    body: { schema: recoveredBodySchema, required: false },
    answers: { 202: { description: 'Delivered to the escalation.', schema: recoveredAcceptedSchema } },
    handler: async ({ escalationId, body, reply }, { options }) => {
      await options.escalator.reportRecovered(escalationId, body.pipelineRunId);
      return reply.code(202).send({ escalationId, accepted: true });
    },
  }),
];

/** Runs a call the escalation may refuse; a refusal is counted and recorded before it is answered. */
async function recorded<T>({ options, metrics }: ShimContext, escalationId: string, identity: Identity, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof DecisionRefusedError) metrics.countRefusal(error.code);
    if (error instanceof DecisionRefusedError && options.recordRefusal) {
      await options.recordRefusal({ escalationId, at: new Date().toISOString(), actor: identity.id, code: error.code, message: error.message, channel: 'http' });
    }
    throw error;
  }
}

/** The update id of a retried request: per caller, so two callers' keys never collide. */
function updateOptions(update: string, identity: Identity, idempotencyKey: string | undefined): { updateId?: string } {
  return idempotencyKey ? { updateId: `${update}:${identity.id}:${idempotencyKey}` } : {};
}
