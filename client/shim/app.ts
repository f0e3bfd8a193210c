import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { RefusalCode } from '../../domain/escalation.js';
import { fieldErrors } from '../../domain/field-errors.js';
import {
  acknowledgeBodySchema,
  breakGlassBodySchema,
  decisionBodySchema,
  escalationIdSchema,
  idempotencyKeyHeaderSchema,
  reassignBodySchema,
  recoveredBodySchema,
  requestBodyLimitBytes,
  withdrawBodySchema,
} from '../../domain/request-bodies.js';
import { DecisionRefusedError, EscalationNotFoundError, InvalidInputError } from '../errors.js';
import type { EscalatorClient } from '../escalator-client.js';
import { docsPage } from './docs-page.js';
import rateLimit from '@fastify/rate-limit';
import { type ActionLinkOptions, registerActionRoutes } from './action-routes.js';
import { actionTokenMaxLength } from './action-token-format.js';
import { registerSlackInteractions, type SlackInteractionOptions } from './slack-interactions.js';
import { authenticateBearer, type SsoVerifier } from './sso.js';
import { HttpError } from './http-error.js';
import { noRouteError, refuseUnroutedRequests } from './unrouted-requests.js';
import { createShimMetrics, type ShimMetrics, shimMetricsPlugin } from './metrics.js';
import { openApiDocument } from './openapi.js';
import type { Identity, Scope, TokenRegistry } from './tokens.js';
import { refusalStatus } from './refusal-status.js';

export interface ShimOptions {
  escalator: EscalatorClient;
  tokens: TokenRegistry;
  /** Answers /healthz: resolves when Temporal is reachable. */
  checkTemporal: () => Promise<void>;
  /** SSO: bearer JWTs verified against the identity provider's JWKS, besides the static tokens. */
  sso?: SsoVerifier;
  /** Requests per minute per identity (per address before authentication); default 300. */
  rateLimitPerMinute?: number;
  /** Slack's Approve/Reject/Acknowledge buttons; without them the route answers 404. */
  slack?: SlackInteractionOptions;
  /** Email action links (secret and single-use ledger); without them every link is refused. */
  actions?: ActionLinkOptions;
  /** Counts requests and refusals for /metrics; a private registry when omitted. */
  metrics?: ShimMetrics;
  /** Keeps refused attempts (who, what, why) in the outcome store; refusals never reach workflow history. */
  recordRefusal?: (refusal: { escalationId: string; at: string; actor: string; code: string; message: string; channel: string }) => Promise<void>;
  logger?: boolean;
}


const refusalField: Partial<Record<RefusalCode, string>> = { CommentRequired: 'comment', JustificationRequired: 'justification', UnknownPerson: 'to' };

/** The routes that answer without a token: the health check and the API's own description. */
// The action links' token is their credential; they need no bearer token.
// Slack's interactivity requests carry Slack's signature instead, checked by their route.
const publicRoutes: ReadonlySet<string> = new Set(['/healthz', '/metrics', '/openapi.json', '/docs', '/v1/actions/:token', '/v1/slack/interactions']);

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity | undefined;
  }
}

/**
 * The HTTP shim for callers that are not Node services: raise gate failures, decide, withdraw,
 * read status. Every route but the public ones (health, /openapi.json, /docs) needs a bearer token;
 * the acting identity is the token's.
 */
export function buildShim(options: ShimOptions): FastifyInstance {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: requestBodyLimitBytes,
    // Fastify's default (100) is shorter than the longest escalation id and an action token; ids are checked by their own pattern.
    routerOptions: { maxParamLength: actionTokenMaxLength },
    // A malformed or over-long path is refused before routing; answer it in the same error shape.
    frameworkErrors: (error, _request, reply) => sendError(reply, toHttpError(error)),
    // A request Node's HTTP parser cannot read never reaches Fastify; answer it in the same error shape too.
    clientErrorHandler: answerClientError,
  });
  app.decorateRequest('identity', undefined);
  app.register(shimMetricsPlugin(options.metrics ?? createShimMetrics({ processMetrics: false })));
  const apiDocument = openApiDocument();
  const apiDocsPage = docsPage(apiDocument);

  app.setErrorHandler((error, request, reply) => {
    const httpError = toHttpError(error);
    if (httpError.status >= 500) request.log.error({ err: error }, 'request failed');
    return sendError(reply, httpError);
  });
  // refuseUnroutedRequests answers first; this keeps anything else from answering in Fastify's own shape.
  app.setNotFoundHandler((request, reply) => sendError(reply, noRouteError(request.method, request.url)));

  // Per identity, after authentication (preHandler); unauthenticated and public requests by address.
  app.register(rateLimit, {
    max: options.rateLimitPerMinute ?? 300,
    timeWindow: 60_000,
    hook: 'preHandler',
    keyGenerator: (request) => (request.identity ? `identity:${request.identity.id}` : `address:${request.ip}`),
    errorResponseBuilder: (_request, context) => new HttpError(429, 'RateLimited', `more than ${context.max} requests a minute; retry in ${Math.ceil(context.ttl / 1000)} s`),
  });
  refuseUnroutedRequests(app);
  app.addHook('onRequest', async (request) => {
    if (publicRoutes.has(request.routeOptions.url ?? '')) return;
    request.identity = await authenticateBearer(request.headers.authorization, { tokens: options.tokens, ...(options.sso ? { sso: options.sso } : {}) });
  });

  // Routes go in a plugin registered after the rate limiter, so its route hook sees every one of them.
  app.register(async (api) => {
    registerActionRoutes(api, options.escalator, options.actions);
    registerSlackInteractions(api, options.escalator, options.slack);

    api.get('/healthz', async (_request, reply) => {
      try {
        await options.checkTemporal();
        return { status: 'ok', temporal: 'reachable' };
      } catch (error) {
        return reply.code(503).send({ error: { code: 'TemporalUnreachable', message: String(error), details: null } });
      }
    });

    api.get('/openapi.json', async () => apiDocument);

    api.get('/docs', async (_request, reply) =>
      reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'").send(apiDocsPage),
    );


    api.post('/v1/gate-failures', async (request, reply) => {
      requireScope(request, 'raise');
      const result = await options.escalator.raise(request.body as never);
      return reply.code(result.started ? 201 : 200).send(result);
    });

    api.get('/v1/escalations/:id', async (request) => options.escalator.statusWithRetries(escalationIdOf(request)));

    api.post('/v1/escalations/:id/decisions', async (request) => {
      const identity = requireScope(request, 'decide');
      const escalationId = escalationIdOf(request);
      const body = parseBody(decisionBodySchema, request.body);
      const updateId = idempotencyKeyOf(request);
      return recorded(options, escalationId, identity, () => options.escalator.decide(
        escalationId,
        { reviewer: identity.id, decision: body.decision, channel: 'http', ...(body.comment ? { comment: body.comment } : {}) },
        updateId ? { updateId: `decision:${identity.id}:${updateId}` } : {},
      ));
    });

    api.post('/v1/escalations/:id/acknowledge', async (request) => {
      const identity = requireScope(request, 'decide');
      const escalationId = escalationIdOf(request);
      parseBody(acknowledgeBodySchema, bodyOrEmpty(request));
      return recorded(options, escalationId, identity, () => options.escalator.acknowledge(escalationId, { reviewer: identity.id, channel: 'http' }));
    });

    api.post('/v1/escalations/:id/reassign', async (request) => {
      const identity = requireScope(request, 'decide');
      const escalationId = escalationIdOf(request);
      const body = parseBody(reassignBodySchema, request.body);
      const updateId = idempotencyKeyOf(request);
      return recorded(options, escalationId, identity, () =>
        options.escalator.reassign(escalationId, { by: identity.id, to: body.to, reason: body.reason, channel: 'http' }, updateId ? { updateId: `reassign:${identity.id}:${updateId}` } : {}),
      );
    });

    api.post('/v1/escalations/:id/break-glass', async (request) => {
      const identity = requireScope(request, 'decide');
      const escalationId = escalationIdOf(request);
      const body = parseBody(breakGlassBodySchema, request.body);
      return recorded(options, escalationId, identity, () => options.escalator.breakGlass(escalationId, { by: identity.id, justification: body.justification, channel: 'http' }));
    });

    api.post('/v1/escalations/:id/withdraw', async (request) => {
      const identity = requireScope(request, 'raise');
      const escalationId = escalationIdOf(request);
      const body = parseBody(withdrawBodySchema, request.body);
      const updateId = idempotencyKeyOf(request);
      return recorded(options, escalationId, identity, () =>
        options.escalator.withdraw(escalationId, { by: identity.id, reason: body.reason }, updateId ? { updateId: `withdraw:${identity.id}:${updateId}` } : {}),
      );
    });

    api.post('/v1/escalations/:id/recovered', async (request, reply) => {
      requireScope(request, 'raise');
      const escalationId = escalationIdOf(request);
      const body = parseBody(recoveredBodySchema, bodyOrEmpty(request));
      await options.escalator.reportRecovered(escalationId, body.pipelineRunId);
      return reply.code(202).send({ escalationId, accepted: true });
    });

  });

  return app;
}

/** Runs a call the escalation may refuse; a refusal is recorded before it is answered. */
async function recorded<T>(options: ShimOptions, escalationId: string, identity: Identity, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof DecisionRefusedError) options.metrics?.countRefusal(error.code);
    if (error instanceof DecisionRefusedError && options.recordRefusal) {
      await options.recordRefusal({ escalationId, at: new Date().toISOString(), actor: identity.id, code: error.code, message: error.message, channel: 'http' });
    }
    throw error;
  }
}


function requireScope(request: FastifyRequest, scope: Scope): Identity {
  const identity = request.identity!;
  if (!identity.scopes.has(scope) && !identity.scopes.has('admin')) {
    throw new HttpError(403, 'Forbidden', `${identity.id} lacks the "${scope}" scope`);
  }
  return identity;
}

function escalationIdOf(request: FastifyRequest): string {
  const { id } = request.params as { id: string };
  if (!escalationIdSchema.safeParse(id).success) throw new HttpError(404, 'EscalationNotFound', `no escalation ${id}`);
  return id;
}

function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const key = request.headers['idempotency-key'];
  if (key === undefined) return undefined;
  const parsed = idempotencyKeyHeaderSchema.safeParse(key);
  if (!parsed.success) {
    throw new HttpError(400, 'InvalidInput', 'the Idempotency-Key header must be 1 to 200 visible ASCII characters', [{ path: 'headers.idempotency-key', message: 'invalid' }]);
  }
  return parsed.data;
}

/** The body of a route whose body may be left out: none at all reads as `{}`, but a JSON `null` is a wrong type, not "no body". */
function bodyOrEmpty(request: FastifyRequest): unknown {
  return request.body === undefined ? {} : request.body;
}

function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const result = schema.safeParse(body);
  if (!result.success) throw new HttpError(400, 'InvalidInput', 'the request body is invalid', fieldErrors(result.error));
  return result.data;
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof InvalidInputError) return new HttpError(400, 'InvalidInput', error.message, error.fields);
  if (error instanceof EscalationNotFoundError) return new HttpError(404, 'EscalationNotFound', error.message);
  if (error instanceof DecisionRefusedError) {
    const field = refusalField[error.code];
    return new HttpError(refusalStatus[error.code], error.code, error.message, field ? [{ path: field, message: error.message }] : null);
  }
  const fastifyError = error as { statusCode?: number; code?: string; message?: string };
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    // Fastify's own refusals: malformed JSON, wrong content type, body too large.
    return new HttpError(fastifyError.statusCode, fastifyError.code ?? 'BadRequest', fastifyError.message ?? 'bad request');
  }
  return new HttpError(500, 'Internal', 'an internal error occurred; it has been logged');
}

/** Like Fastify's default (same statuses, then the connection is closed), with the shim's error body. */
function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'the request headers are too large'] : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'the request did not arrive in time'] : [400, 'the request is not well-formed HTTP'];
  const body = JSON.stringify({ error: { code: 'BadRequest', message, details: null } });
  if (socket.writable) socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy(error);
}

function sendError(reply: FastifyReply, error: HttpError): FastifyReply {
  return reply.code(error.status).send({ error: { code: error.code, message: error.message, details: error.details } });
}
