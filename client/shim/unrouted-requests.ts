import type { FastifyInstance, HTTPMethods } from 'fastify';
import type { ErrorCode } from '../../domain/api-responses.js';
import { HttpError } from './http-error.js';

/** The `error.code` of a 405; the `Allow` header names the methods the path serves. */
export const methodNotAllowedCode: ErrorCode = 'MethodNotAllowed';

/** The answer to a request for a path no route serves, with any method. */
export function noRouteError(method: string, url: string): HttpError {
  return new HttpError(404, 'NotFound', `no route ${method} ${url}`);
}

/**
 * The methods `app` serves `url` with, in alphabetical order: HEAD wherever GET is served, because
 * Fastify serves it there. Empty for a path no route serves with any method.
 */
export function allowedMethods(app: FastifyInstance, url: string): string[] {
  return app.supportedMethods.filter((method) => routes(app, method, url)).sort();
}

function routes(app: FastifyInstance, method: string, url: string): boolean {
  const found: { searchParams?: unknown } | null = app.findRoute({ method: method as HTTPMethods, url });
  // For a path it refuses outright (malformed percent-encoding, an over-long parameter) the router
  // hands back the refusal's handler, without the searchParams of a matched route: that path has no route.
  return found !== null && found.searchParams !== undefined;
}

/**
 * An onRequest hook, to add before authentication, for the requests no route serves: 405 with `Allow`
 * (RFC 9110, 15.5.6) on a path that routes serve with other methods, else 404. Fastify alone answers
 * both as an unknown path, and a QUERY without a Content-Type with 400 before its not-found handler.
 * Which paths and methods exist is public (it is /openapi.json), so no token is asked for first.
 */
export function refuseUnroutedRequests(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const allowed = allowedMethods(app, request.url);
    if (allowed.length === 0) throw noRouteError(request.method, request.url);
    // Headers set before an error is thrown go out with the error handler's answer.
    void reply.header('allow', allowed.join(', '));
    throw new HttpError(405, methodNotAllowedCode, `this path does not serve ${request.method}; it serves ${allowed.join(', ')}`);
  });
}
