import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { RefusalCode } from '../../domain/escalation.js';
import { requestBodyLimitBytes } from '../../domain/request-bodies.js';
import { DecisionRefusedError, EscalationNotFoundError, InvalidInputError } from '../errors.js';
import { actionTokenMaxLength } from './action-token-format.js';
import { docsPage } from './docs-page.js';
import { HttpError } from './http-error.js';
import { createShimMetrics } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { refusalStatus } from './refusal-status.js';
import { holdRoutesToTable, registerRoutes, type ShimContext } from './routes.js';
import { shimRoutes } from './routes-table.js';
import { authenticateBearer } from './sso.js';
import type { Identity } from './tokens.js';
import type { ShimOptions } from './shim-options.js';
import { noRouteError, refuseUnroutedRequests } from './unrouted-requests.js';

export type { ShimOptions };


const refusalField: Partial<Record<RefusalCode, string>> = { CommentRequired: 'comment', JustificationRequired: 'justification', UnknownPerson: 'to' };

declare module 'fastify' {
  interface FastifyRequest {
    identity: Identity | undefined;
  }
}

/**
 * The HTTP shim for callers that are not Node services: raise gate failures, decide, withdraw,
 * read status. Every route the table does not mark public needs a bearer token; the acting identity
 * is the token's.
 */
export function buildShim(options: ShimOptions): FastifyInstance {
  const routes = options.routes ?? shimRoutes;
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
  holdRoutesToTable(app, routes);
  const apiDocument = openApiDocument(routes);
  const closing = new AbortController();
  app.addHook('preClose', async () => closing.abort());
  const shim: ShimContext = { options, metrics: options.metrics ?? createShimMetrics({ processMetrics: false }), apiDocument, apiDocsPage: docsPage(apiDocument), closing: closing.signal };
  // Before the rate limiter, whose route hook would otherwise count them.
  registerRoutes(app, routes.filter((route) => route.unlimited), shim);

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
  // Public routes answer without a bearer token: action links carry their own token, Slack its signature.
  const publicUrls: ReadonlySet<string> = new Set(routes.filter((route) => route.access === 'public').map((route) => route.url));
  app.addHook('onRequest', async (request) => {
    if (publicUrls.has(request.routeOptions.url ?? '')) return;
    request.identity = await authenticateBearer(request.headers.authorization, { tokens: options.tokens, ...(options.sso ? { sso: options.sso } : {}) });
  });

  // Routes go in a plugin registered after the rate limiter, so its route hook sees every one of them.
  app.register(async (api) => registerRoutes(api, routes.filter((route) => !route.unlimited), shim));
  return app;
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
