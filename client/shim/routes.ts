import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { ErrorCode } from '../../domain/api-responses.js';
import { fieldErrors } from '../../domain/field-errors.js';
import { escalationIdSchema, idempotencyKeyHeaderSchema } from '../../domain/request-bodies.js';
import type { ShimOptions } from './shim-options.js';
import { HttpError } from './http-error.js';
import type { ShimMetrics } from './metrics.js';
import type { JsonSchema, OpenApiDocument } from './openapi-types.js';
import type { Identity, Scope } from './tokens.js';

/** Headers documented as component parameters (openapi.ts), for routes that read them. */
export type HeaderParameter = 'GitHubSignature' | 'GitHubEvent' | 'GitHubDelivery' | 'GitLabToken' | 'GitLabEvent' | 'GitLabEventUuid';

/** Who may call a route: a token with the scope (or `admin`), any known token, or anyone. */
export type Access = Scope | 'any-token' | 'public';

/** What handlers use besides the request: the shim's options, its metrics and its own description. */
export interface ShimContext {
  options: ShimOptions;
  metrics: ShimMetrics;
  apiDocument: OpenApiDocument;
  apiDocsPage: string;
  /** Aborted when the shim starts closing: long polls answer at once rather than hold the close up. */
  closing: AbortSignal;
}

/** A route's request body. Its schema must be one of openapi.ts's components, which name it. */
export interface BodySpec {
  schema: z.ZodType;
  /** False: no body at all reads as `{}`. */
  required: boolean;
  /** application/x-www-form-urlencoded: served in a scope whose only parser reads forms. */
  form?: true;
  /** The handler reads the body itself, rather than receiving it parsed (or refused with 400). */
  parse?: false;
}

/** A success answer: JSON with a response schema of openapi.ts's components, or another media type. */
export interface AnswerSpec {
  description: string;
  /** Left out for an answer without a body (204). */
  schema?: z.ZodType | { mediaType: string; schema: JsonSchema };
}

/**
 * What a handler receives, checked in this order before it runs: the scope (403), the `:id`
 * (404), the body (400), the Idempotency-Key (400). Authentication (401) and the rate limit (429)
 * come before, in hooks.
 */
export interface RouteCall<A extends Access, U extends string, B extends BodySpec | undefined, Q extends z.ZodType | undefined = undefined> {
  request: FastifyRequest;
  reply: FastifyReply;
  identity: A extends 'public' ? undefined : Identity;
  escalationId: U extends `${string}/:id${string}` ? string : undefined;
  body: B extends { parse: false } ? unknown : B extends { schema: infer S extends z.ZodType } ? z.output<S> : undefined;
  idempotencyKey: string | undefined;
  /** The query string as the route's `query` schema parses it (400 otherwise). */
  query: Q extends z.ZodType ? z.output<Q> : undefined;
}

interface RouteDocs<A extends Access, U extends string, B extends BodySpec | undefined, Q extends z.ZodType | undefined = undefined> {
  method: 'GET' | 'POST';
  /** Fastify's syntax. `:id` is an escalation id (a malformed one is answered 404), `:token` an action link's token. */
  url: U;
  operationId: string;
  tag: 'Gate failures' | 'Escalations' | 'Service';
  summary: string;
  description: string;
  access: A;
  /** A public route that checks a credential of its own: what it takes, documented instead of "Needs no token." */
  credential?: string;
  /** Reads the optional Idempotency-Key header. */
  idempotencyKey?: true;
  /** Slack's signature headers: the credential of a Slack request. */
  slackSignature?: true;
  /** Other headers the route reads, by the name of their component parameter in openapi.ts. */
  headers?: readonly HeaderParameter[];
  body?: B;
  /** The query parameters: an object schema, each key documented as a parameter from its description. */
  query?: Q;
  /** Success statuses, and the pages some public routes answer errors with. */
  answers: Record<number, AnswerSpec>;
  /** Error codes beyond those every route of its kind can answer (auth, body parsing, unknown id). */
  refusals?: Partial<Record<number, ErrorCode[]>>;
  /** Why this route sends a code, where that differs from why the others do. */
  reasons?: Partial<Record<ErrorCode, string>>;
  /** Served before the rate limiter, so never refused with 429. */
  unlimited?: true;
}

/** Registers a route served by a module of its own (which keeps its own body parser or hooks). */
type Registrar = (app: FastifyInstance, shim: ShimContext, route: ShimRoute) => void;

type Serving<Call> = { handler: (call: Call, shim: ShimContext) => Promise<unknown>; register?: never } | { register: Registrar; handler?: never };

/** A route as the table holds it, whatever its access, path and body. */
export type ShimRoute = RouteDocs<Access, string, BodySpec | undefined, z.ZodType | undefined> &
  Serving<{ request: FastifyRequest; reply: FastifyReply; identity: Identity | undefined; escalationId: string | undefined; body: unknown; idempotencyKey: string | undefined; query: unknown }>;

/**
 * One route of the shim: how it is served and how /openapi.json documents it. The handler's call is
 * typed from the spec: the identity where a token is needed, the escalation id where the path has
 * `:id`, the body as its schema parses it.
 */
export function defineRoute<const A extends Access, const U extends string, const B extends BodySpec | undefined = undefined, const Q extends z.ZodType | undefined = undefined>(
  spec: RouteDocs<A, U, B, Q> & Serving<RouteCall<A, U, B, Q>>,
): ShimRoute {
  // registerRoutes builds each call from this same spec, so the call has the shape its types say.
  return spec as unknown as ShimRoute;
}

/**
 * Serves `routes` on `app`. Routes with a form body share a scope whose only parser reads forms, so
 * a form-encoded `decision=approve` never reaches a JSON route and JSON sent to a form route is
 * refused (415); the others take JSON.
 */
export function registerRoutes(app: FastifyInstance, routes: readonly ShimRoute[], shim: ShimContext): void {
  const forms: ShimRoute[] = [];
  for (const route of routes) {
    if (route.register) route.register(app, shim, route);
    else if (route.body?.form) forms.push(route);
    else app.route({ method: route.method, url: route.url, handler: served(route, shim) });
  }
  if (!forms.length) return;
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.register(formbody);
    for (const route of forms) scope.route({ method: route.method, url: route.url, handler: served(route, shim) });
  });
}

/**
 * Refuses to start a shim that serves a route its table does not list, or does not serve one it
 * lists: /openapi.json is made from the table, so what is served and what is documented cannot
 * drift apart, also for routes a module of their own registers. Add it before any route.
 */
export function holdRoutesToTable(app: FastifyInstance, routes: readonly ShimRoute[]): void {
  const listed = new Set(routes.map((route) => `${route.method} ${route.url}`));
  const served = new Set<string>();
  app.addHook('onRoute', (options) => {
    for (const method of [options.method].flat()) {
      // Fastify serves HEAD wherever GET is served.
      if (method === 'HEAD' && listed.has(`GET ${options.url}`)) continue;
      const route = `${method} ${options.url}`;
      if (!listed.has(route)) throw new Error(`${route} is served but not in the route table, so /openapi.json would not describe it`);
      served.add(route);
    }
  });
  app.addHook('onReady', async () => {
    const missing = [...listed].filter((route) => !served.has(route));
    if (missing.length) throw new Error(`in the route table but not served: ${missing.join(', ')}`);
  });
}

function served(route: ShimRoute, shim: ShimContext): (request: FastifyRequest, reply: FastifyReply) => Promise<unknown> {
  const handler = route.handler!;
  return async (request, reply) => {
    const identity = route.access === 'public' ? undefined : route.access === 'any-token' ? request.identity : requireScope(request, route.access);
    const escalationId = route.url.includes('/:id') ? escalationIdOf(request) : undefined;
    const { body: spec } = route;
    const body = !spec || spec.parse === false ? request.body : parseBody(spec.schema, spec.required ? request.body : bodyOrEmpty(request));
    const idempotencyKey = route.idempotencyKey ? idempotencyKeyOf(request) : undefined;
    const query = route.query ? parseQuery(route.query, request.query) : undefined;
    return handler({ request, reply, identity, escalationId, body, idempotencyKey, query }, shim);
  };
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

function parseQuery(schema: z.ZodType, query: unknown): unknown {
  const result = schema.safeParse(query ?? {});
  if (!result.success) throw new HttpError(400, 'InvalidInput', 'the query string is invalid', fieldErrors(result.error).map((e) => ({ ...e, path: `query.${e.path}` })));
  return result.data;
}

function parseBody(schema: z.ZodType, body: unknown): unknown {
  const result = schema.safeParse(body);
  if (!result.success) throw new HttpError(400, 'InvalidInput', 'the request body is invalid', fieldErrors(result.error));
  return result.data;
}
