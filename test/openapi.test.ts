import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Connection } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { z } from 'zod';
import { createGateMetrics } from '../adapters/gate-metrics.js';
import { buildShim } from '../client/shim/app.js';
import { createShimMetrics } from '../client/shim/metrics.js';
import { defineRoute } from '../client/shim/routes.js';
import { shimRoutes } from '../client/shim/routes-table.js';
import { createActionToken } from '../domain/action-tokens.js';
import { createRatingToken } from '../domain/rating-tokens.js';
import { createDashboardToken } from '../domain/dashboard-links.js';
import { parsePolicy } from '../domain/policy-parser.js';
import { integrationsSchema } from '../domain/integrations.js';

const actionSecret = 'test-action-secret-0123456789abcdef-xyz';
const slackSecret = 'slack-signing-secret-0123456789';
const gitHubSecret = 'github-webhook-secret-0123456789';
const gitLabToken = 'gitlab-webhook-token-0123456789';
import { openApiDocument, type OpenApiOperation, type OpenApiParameter, type OpenApiResponse, responseSchemas } from '../client/shim/openapi.js';
import { TokenRegistry } from '../client/shim/tokens.js';
import { errorBodySchema, escalationStatusSchema, type escalationViewSchema, raiseResultSchema, type receiptSchema } from '../domain/api-responses.js';
import type { Receipt } from '../domain/engine/view.js';
import type { EscalationView, TimelineEntry } from '../domain/escalation.js';
import type { stageSchema } from '../domain/escalation-schemas.js';
import type { NotificationChannel, ExhaustedAction } from '../domain/policy.js';
import type { Stage } from '../domain/sequential-chain.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { registeredRoutes, servedMethodsByPath } from './helpers/fastify-routes.js';

const tokens = {
  ci: 'ci-token-0123456789abcdef',
  alice: 'alice-token-0123456789abc',
  carol: 'carol-token-0123456789abc',
  erin: 'erin-token-0123456789abcd',
  reader: 'reader-token-0123456789ab',
};

const policy = `
version: 1
defaults: { maxDepth: 3, requireComment: on-reject }
people:
  alice:   { email: alice@example.com }
  carol:   { email: carol@example.com }
  erin:    { email: erin@example.com, roles: [incident-commander] }
  mallory: { email: mallory@example.com }
breakGlass: { roles: [incident-commander] }
gates:
  "*":
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 10m }
      - { reviewers: [carol], timeout: 10m }
`;

const document = openApiDocument();

interface DocumentedOperation {
  method: string;
  path: string;
  operation: OpenApiOperation;
}

const documentedOperations: DocumentedOperation[] = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({ method: method.toUpperCase(), path, operation: operation! })),
);

function operationNamed(operationId: string): DocumentedOperation {
  const found = documentedOperations.find((documented) => documented.operation.operationId === operationId);
  if (!found) throw new Error(`no operation ${operationId} in the document`);
  return found;
}

function declaredParameters(operation: OpenApiOperation): OpenApiParameter[] {
  return (operation.parameters ?? []).map((parameter) => ('$ref' in parameter ? (resolvePointer(document, parameter.$ref) as OpenApiParameter) : parameter));
}

function resolvedResponse(response: OpenApiResponse | { $ref: string }): OpenApiResponse {
  return '$ref' in response ? (resolvePointer(document, response.$ref) as OpenApiResponse) : response;
}

function resolvePointer(root: unknown, ref: string): unknown {
  return ref
    .slice(2)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce<unknown>((node, segment) => (node as Record<string, unknown> | undefined)?.[segment], root);
}

function refsIn(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(refsIn);
  if (node === null || typeof node !== 'object') return [];
  return Object.entries(node).flatMap(([key, value]) => (key === '$ref' && typeof value === 'string' ? [value] : refsIn(value)));
}


describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(document) as unknown as Record<string, unknown>);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
    expect(document.openapi).toBe('3.1.0');
  });

  it('is the same JSON every time, with schemas in a stable order', () => {
    expect(JSON.stringify(openApiDocument())).toBe(JSON.stringify(document));
    const names = Object.keys(document.components.schemas);
    expect(names).toEqual([...names].sort());
  });

  it('lists every operation with the statuses it answers (a change here is a change of the API)', () => {
    expect(documentedOperations.map(({ method, path, operation }) => `${method} ${path} ${operation.operationId}: ${Object.keys(operation.responses).join(' ')}`)).toEqual([
      'POST /v1/gate-failures raiseGateFailure: 200 201 400 401 403 405 413 415 429 500 503',
      'GET /v1/escalations/{id} getEscalation: 200 400 401 404 405 414 429 500 503',
      'GET /v1/escalations/{id}/outcome getOutcome: 200 202 400 401 404 405 414 429 500 503',
      'POST /v1/escalations/{id}/decisions decide: 200 400 401 403 404 405 409 413 414 415 429 500 503',
      'POST /v1/escalations/{id}/acknowledge acknowledge: 200 400 401 403 404 405 409 413 414 415 429 500 503',
      'POST /v1/escalations/{id}/reassign reassign: 200 400 401 403 404 405 409 413 414 415 429 500 503',
      'POST /v1/escalations/{id}/break-glass breakGlass: 200 400 401 403 404 405 409 413 414 415 429 500 503',
      'POST /v1/escalations/{id}/withdraw withdraw: 200 400 401 403 404 405 409 413 414 415 429 500 503',
      'POST /v1/escalations/{id}/recovered reportRecovered: 202 400 401 403 404 405 413 414 415 429 500 503',
      'GET /v1/metrics/gates gateMetrics: 200 400 401 403 404 405 429 500 503',
      'GET /healthz health: 200 405 429 503',
      'GET /v1/actions/{token} actionConfirmation: 200 400 403 404 405 409 410 414 429 500',
      'POST /v1/actions/{token} actionDecide: 200 400 403 404 405 409 410 413 414 415 429 500',
      'POST /v1/slack/interactions slackInteraction: 200 400 401 404 405 413 415 429 500',
      'GET /metrics metrics: 200 405',
      'GET /openapi.json openApiDocument: 200 405 429',
      'GET /docs apiDocs: 200 405 429',
      'GET /v1/ratings/{token} ratingConfirmation: 200 400 404 405 409 410 414 429 500',
      'POST /v1/ratings/{token} ratingRecord: 200 400 404 405 409 410 413 414 415 429 500',
      'POST /v1/github/webhooks gitHubWebhook: 200 204 400 401 404 405 409 413 415 429 500',
      'POST /v1/gitlab/webhooks gitLabWebhook: 200 204 400 401 404 405 409 413 415 429 500',
      'GET /dashboard dashboard: 200 400 401 403 404 405 429 500 503',
      'GET /dashboard/session dashboardSession: 303 400 403 404 405 410 429 500',
    ]);
  });

  it('resolves every $ref it holds, and every schema entry is used', () => {
    const refs = refsIn(document);
    for (const ref of refs) expect(resolvePointer(document, ref), ref).toBeDefined();
    const used = new Set(refs.filter((ref) => ref.startsWith('#/components/schemas/')).map((ref) => ref.split('/').at(-1)));
    expect(Object.keys(document.components.schemas).filter((name) => !used.has(name))).toEqual([]);
  });

  it('describes request bodies as callers send them and answers as the shim sends them', () => {
    const { GateFailure, RecordedGateFailure } = document.components.schemas as Record<string, { required: string[] }>;
    expect(GateFailure!.required).not.toContain('hotfix');
    expect(RecordedGateFailure!.required).toEqual(expect.arrayContaining(['hotfix', 'rollback']));
    expect(document.components.parameters.EscalationId?.schema).toEqual({ $ref: '#/components/schemas/EscalationId' });
    expect(document.components.schemas.EscalationId).toMatchObject({ type: 'string', pattern: expect.stringContaining('escalation-') });
  });

  it('declares the forms the email action link and Slack post, and the headers Slack signs them with', () => {
    const { operation: decide } = operationNamed('actionDecide');
    expect(decide.requestBody).toMatchObject({ required: false, content: { 'application/x-www-form-urlencoded': { schema: { $ref: '#/components/schemas/ActionForm' } } } });
    expect(document.components.schemas.ActionForm).toMatchObject({ type: 'object', properties: { comment: { type: 'string' } } });
    const { operation: slack } = operationNamed('slackInteraction');
    expect(slack.requestBody).toMatchObject({ required: true, content: { 'application/x-www-form-urlencoded': { schema: { $ref: '#/components/schemas/SlackInteractionForm' } } } });
    expect(document.components.schemas.SlackInteractionForm).toMatchObject({ type: 'object', required: ['payload'], properties: { payload: { type: 'string' } } });
    expect(declaredParameters(slack).map(({ name, in: where, required }) => ({ name, in: where, required }))).toEqual([
      { name: 'X-Slack-Signature', in: 'header', required: true },
      { name: 'X-Slack-Request-Timestamp', in: 'header', required: true },
    ]);
  });

  it('documents 405 with its Allow header for every operation, in the JSON error shape', () => {
    const methodNotAllowed = document.components.responses.MethodNotAllowed!;
    expect(methodNotAllowed.headers?.Allow).toBeDefined();
    expect(methodNotAllowed.content).toEqual({ 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } });
    for (const { operation } of documentedOperations) expect(operation.responses['405'], operation.operationId).toEqual({ $ref: '#/components/responses/MethodNotAllowed' });
  });

  it('describes the EscalationView and the update receipt the workflow answers, timeline included: their types are the output of the schemas', () => {
    expectTypeOf<z.output<typeof escalationViewSchema>>().toEqualTypeOf<EscalationView>();
    expectTypeOf<z.output<typeof receiptSchema>>().toEqualTypeOf<Receipt>();
    // What the schemas spell out again because their source is workflow or policy code, held to that source.
    expectTypeOf<z.output<typeof stageSchema>>().toEqualTypeOf<Stage>();
    expectTypeOf<Extract<TimelineEntry, { event: 'exhausted' }>['action']>().toEqualTypeOf<ExhaustedAction['action']>();
    expectTypeOf<Extract<TimelineEntry, { event: 'notified' }>['channel']>().toEqualTypeOf<NotificationChannel>();
    const events = (document.components.schemas.TimelineEntry as { oneOf: Array<{ properties: { event: { const: string } } }> }).oneOf.map((entry) => entry.properties.event.const);
    expect(events).toHaveLength(new Set(events).size);
    expect(events).toContain('quiet-hours-ended');
  });

  it('lists every code the error answers use in ErrorBody', () => {
    const enumerated = (document.components.schemas.ErrorBody as any).properties.error.properties.code.enum as string[];
    const mentioned = documentedOperations.flatMap(({ operation }) =>
      Object.values(operation.responses).flatMap((response) => [...resolvedResponse(response).description.matchAll(/^- `(\w+)`/gm)].map((match) => match[1]!)),
    );
    expect(new Set(mentioned).size).toBeGreaterThan(20);
    for (const code of mentioned) expect(enumerated).toContain(code);
  });
});

describe('the shim against its OpenAPI document, over real HTTP with a real worker', () => {
  let env: EscalatorEnv;
  let shim: FastifyInstance;
  let unhealthyShim: FastifyInstance;
  let unreachableTemporal: Connection;
  let baseUrl: string;
  let unhealthyUrl: string;
  /** `operationId status` pairs answered so far, to show every operation was seen to succeed and to fail. */
  const answered = new Set<string>();

  beforeAll(async () => {
    env = await startEscalator(policy);
    const registry = new TokenRegistry([
      { identity: 'ci', scopes: ['raise'], token: tokens.ci },
      { identity: 'alice', scopes: ['decide'], token: tokens.alice },
      { identity: 'carol', scopes: ['decide'], token: tokens.carol },
      { identity: 'erin', scopes: ['decide'], token: tokens.erin },
      { identity: 'reader', scopes: ['read'], token: tokens.reader },
    ]);
    shim = buildShim({
      escalator: env.escalator,
      tokens: registry,
      checkTemporal: async () => void (await env.connection.healthService.check({})),
      recordRefusal: (refusal) => env.store.recordRefusal(refusal),
      metrics: createShimMetrics({ processMetrics: false }),
      // Far above what this file sends: 429 is tested on a shim of its own.
      rateLimitPerMinute: 100_000,
      actions: { secret: actionSecret, consume: (tokenId, expiresAt) => env.store.consumeActionToken(tokenId, expiresAt), used: (tokenId) => env.store.actionTokenUsed(tokenId) },
      slack: { signingSecret: slackSecret, personFor: (id) => (id === 'U0ALICE' ? 'alice' : undefined) },
      ratings: { secret: actionSecret, store: env.store },
      gateMetrics: createGateMetrics({ store: env.store, policy: () => parsePolicy(policy, 'policy.yaml').policy }),
      dashboard: { linkSecret: actionSecret },
      ciWebhooks: {
        github: { webhookSecret: gitHubSecret, apiUrl: 'https://api.github.example' },
        gitlab: { webhookToken: gitLabToken },
        integrations: () => integrationsSchema.parse({}),
        deliveries: { taken: (source, id) => env.store.deliveryTaken(source, id), take: (source, id) => env.store.takeDelivery(source, id) },
        recordRefusal: (refusal) => env.store.recordRefusal(refusal),
      },
    });
    await shim.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(shim.server.address() as AddressInfo).port}`;

    // The same shim, its health checked against a port nothing listens on.
    unreachableTemporal = Connection.lazy({ address: `127.0.0.1:${await closedPort()}` });
    unhealthyShim = buildShim({
      escalator: env.escalator,
      tokens: registry,
      checkTemporal: () => unreachableTemporal.withDeadline(Date.now() + 500, async () => void (await unreachableTemporal.healthService.check({}))),
    });
    await unhealthyShim.listen({ host: '127.0.0.1', port: 0 });
    unhealthyUrl = `http://127.0.0.1:${(unhealthyShim.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await shim?.close();
    await unhealthyShim?.close();
    await unreachableTemporal?.close();
    await env?.close();
  });

  interface CallOptions {
    token?: string;
    body?: unknown;
    rawBody?: string;
    headers?: Record<string, string>;
    base?: string;
  }

  /** The escalation id or action token to put in the path; `raw` puts it there without percent-encoding it. */
  interface PathValues {
    id?: string;
    token?: string;
    raw?: true;
    /** A query string to append, without the `?`. */
    query?: string;
  }

  async function call(method: string, path: string, options: CallOptions = {}) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(options.body);
    }
    // A redirect (the dashboard link's 303) is an answer to check, not one to follow.
    const response = await fetch(`${options.base ?? baseUrl}${path}`, { method, headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
    const contentType = response.headers.get('content-type') ?? '';
    const text = await response.text();
    return { status: response.status, contentType, headers: response.headers, text, json: contentType.startsWith('application/json') ? (JSON.parse(text) as any) : undefined };
  }

  /** Any method, TRACE included (fetch refuses it), over a plain HTTP/1.1 request; no body. */
  async function callWithAnyMethod(method: string, path: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; allow: string | undefined; contentType: string; text: string }>((resolve, reject) => {
      const request = httpRequest(`${baseUrl}${path}`, { method, headers }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, allow: response.headers.allow, contentType: response.headers['content-type'] ?? '', text }));
      });
      request.on('error', reject);
      request.end();
    });
  }

  /** Calls an operation by its id and checks the answer against what the document says of its status. */
  async function answer(operationId: string, pathValues: PathValues, options: CallOptions = {}) {
    const { method, path, operation } = operationNamed(operationId);
    const encoded = (value: string) => (pathValues.raw ? value : encodeURIComponent(value));
    const url = path.replace('{id}', encoded(pathValues.id ?? '')).replace('{token}', encoded(pathValues.token ?? 'not-a-token')) + (pathValues.query ? `?${pathValues.query}` : '');
    const response = await call(method, url, options);
    const documented = operation.responses[String(response.status)];
    expect(documented, `${operationId} answered ${response.status}, which the document does not list: ${response.text.slice(0, 300)}`).toBeDefined();
    const { description, content, headers } = resolvedResponse(documented!);
    if (!content) {
      expect(response.text, `${operationId} ${response.status} is documented without a body`).toBe('');
      answered.add(`${operationId} ${response.status}`);
      return response;
    }
    const declared = Object.entries(content ?? {});
    const matching = declared.find(([mediaType]) => response.contentType.startsWith(mediaType));
    expect(matching, `${operationId} ${response.status} answered ${response.contentType}, not ${declared.map(([mediaType]) => mediaType).join(' or ')}`).toBeDefined();
    const [mediaType, { schema }] = matching!;
    for (const header of Object.keys(headers ?? {})) expect(response.headers.get(header), `${operationId} ${response.status} without ${header}`).not.toBeNull();
    if (typeof schema.$ref === 'string') {
      const name = schema.$ref.split('/').at(-1) as keyof typeof responseSchemas;
      const parsed = responseSchemas[name].safeParse(response.json);
      expect(parsed.error, `${operationId} ${response.status} is not a ${name}`).toBeUndefined();
    }
    if (response.status >= 400 && mediaType === 'application/json') {
      errorBodySchema.parse(response.json);
      expect(description, `${operationId} ${response.status} does not list ${response.json.error.code}`).toContain(`\`${response.json.error.code}\``);
    }
    answered.add(`${operationId} ${response.status}`);
    return response;
  }

  async function expectRefused(operationId: string, pathValues: PathValues, options: CallOptions, status: number, code: string) {
    const response = await answer(operationId, pathValues, options);
    expect({ status: response.status, code: response.json?.error?.code }).toEqual({ status, code });
    return response;
  }

  /** The least body an operation's declared media type takes: `{}` as JSON, or an empty form. */
  function leastBody(operation: OpenApiOperation): CallOptions {
    if (!operation.requestBody) return {};
    return operation.requestBody.content['application/json'] ? { body: {} } : { rawBody: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } };
  }

  function slackSigned(body: string): Record<string, string> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    return { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': `v0=${createHmac('sha256', slackSecret).update(`v0:${timestamp}:${body}`).digest('hex')}` };
  }

  async function raised(overrides: Parameters<typeof gateFailure>[0] = {}): Promise<string> {
    const response = await answer('raiseGateFailure', {}, { token: tokens.ci, body: gateFailure(overrides) });
    expect(response.status).toBe(201);
    const escalationId: string = response.json.escalationId;
    await vi.waitFor(async () => expect((await call('GET', `/v1/escalations/${encodeURIComponent(escalationId)}`, { token: tokens.ci })).json.status).toBe('waiting'), { timeout: 15_000, interval: 100 });
    return escalationId;
  }

  it('answers every documented operation with its documented security: public ones without a token, the others 401 without one', async () => {
    for (const { operation } of documentedOperations) {
      const response = await answer(operation.operationId, { id: 'escalation-never-raised' }, leastBody(operation));
      // An action or rating link's token is its credential: a made-up one is refused as malformed, never asked for a bearer token.
      const signed = ['slackInteraction', 'gitHubWebhook', 'gitLabWebhook'];
      // The dashboard checks its own credential and answers a page saying how to get one; its link without a token is malformed.
      const pages: Record<string, number> = { dashboard: 401, dashboardSession: 400 };
      const expected = /^(action|rating)/.test(operation.operationId) ? 400 : signed.includes(operation.operationId) ? 401 : (pages[operation.operationId] ?? 200);
      if (operation.security.length === 0) expect(response.status, operation.operationId).toBe(expected);
      else expect(response.json.error.code, operation.operationId).toBe('Unauthenticated');
    }
  });

  it('documents every path and method Fastify serves, with the path parameters its route takes and the body a POST reads', () => {
    const served = registeredRoutes(shim);
    expect(served).toEqual(documentedOperations.map(({ method, path }) => `${method} ${path}`).sort());
    expect(served).toHaveLength(23);
    for (const route of served) {
      const [method, path] = route.split(' ') as [string, string];
      const operation = document.paths[path]?.[method.toLowerCase() as 'get' | 'post'];
      expect(operation, route).toBeDefined();
      const inPath = declaredParameters(operation!).filter((parameter) => parameter.in === 'path');
      expect(inPath.map(({ name }) => name), route).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]));
      for (const parameter of inPath) expect(parameter, `${route} ${parameter.name}`).toMatchObject({ required: true, schema: { $ref: expect.stringMatching(/^#\/components\/schemas\//) } });
      // Every POST of the shim reads a body, if only to refuse one it does not understand.
      if (method === 'POST') expect(operation!.requestBody, route).toBeDefined();
    }
  });

  it('answers a method a served path does not serve with 405 and an Allow header naming the methods it serves, with or without a token; unknown paths stay 404', async () => {
    const served = servedMethodsByPath(shim);
    expect([...served.keys()].sort()).toEqual(Object.keys(document.paths).sort());
    const tried = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'QUERY', 'PROPFIND'];
    for (const [path, methods] of served) {
      if (methods.includes('GET')) expect(methods, path).toContain('HEAD');
      const { description } = resolvedResponse(Object.values(document.paths[path]!)[0]!.responses['405']!);
      const url = path.replace('{id}', 'escalation-never-raised').replace('{token}', 'not-a-token');
      for (const method of tried.filter((candidate) => !methods.includes(candidate))) {
        for (const headers of [{}, { authorization: `Bearer ${tokens.ci}` }] as Array<Record<string, string>>) {
          const response = await callWithAnyMethod(method, url, headers);
          const context = `${method} ${path} ${JSON.stringify(headers)}: ${response.text.slice(0, 200)}`;
          expect({ status: response.status, allow: response.allow }, context).toEqual({ status: 405, allow: methods.join(', ') });
          if (method === 'HEAD') continue;
          expect(response.contentType, context).toMatch(/^application\/json/);
          expect(description, context).toContain(`\`${errorBodySchema.parse(JSON.parse(response.text)).error.code}\``);
        }
      }
    }
    for (const method of ['GET', 'POST', 'TRACE', 'QUERY', 'PUT']) {
      for (const headers of [{}, { authorization: `Bearer ${tokens.ci}` }] as Array<Record<string, string>>) {
        const response = await callWithAnyMethod(method, '/v1/nothing-here', headers);
        expect({ status: response.status, allow: response.allow, code: JSON.parse(response.text).error.code }, method).toEqual({ status: 404, allow: undefined, code: 'NotFound' });
      }
    }
  });

  it('serves HEAD wherever it serves GET, with the status GET answers and no body', async () => {
    for (const { method, path, operation } of documentedOperations.filter((documented) => documented.method === 'GET')) {
      const url = path.replace('{id}', 'escalation-never-raised').replace('{token}', '00');
      const headers: Record<string, string> = operation.security.length ? { authorization: `Bearer ${tokens.ci}` } : {};
      const [get, head] = [await callWithAnyMethod(method, url, headers), await callWithAnyMethod('HEAD', url, headers)];
      expect({ status: head.status, body: head.text }, path).toEqual({ status: get.status, body: '' });
    }
  });

  it('declares what an action token looks like: GET /v1/actions/00 is invalid by the document and refused by the shim', async () => {
    const { operation } = operationNamed('actionConfirmation');
    const parameter = declaredParameters(operation).find((declared) => declared.in === 'path' && declared.name === 'token')!;
    const declaredSchema = z.fromJSONSchema(resolvePointer(document, parameter.schema.$ref as string) as Parameters<typeof z.fromJSONSchema>[0]);
    const real = await createActionToken(actionSecret, { reviewer: 'alice', escalationId: 'escalation-never-raised', step: 0, decision: 'approve' }, { ttlSeconds: 600 });
    expect(declaredSchema.safeParse(real).success).toBe(true);
    const [header, payload] = real.split('.');
    for (const notAToken of ['00', `${header}.${payload}`, `${real}.x`, `${header}.${payload}.short`, 'x'.repeat(200), `${real.slice(0, -1)}=`]) {
      expect(declaredSchema.safeParse(notAToken).success, notAToken).toBe(false);
    }
    expect((await answer('actionConfirmation', { token: '00' })).status).toBe(400);
    expect((await answer('actionDecide', { token: '00' }, { rawBody: 'comment=ok', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(400);
  });

  it('answers representative requests to every operation (right and wrong credentials, bodies, ids, tokens and headers) only with statuses the document declares for it', async () => {
    const grant = { reviewer: 'alice', escalationId: 'escalation-never-raised', step: 0, decision: 'approve' } as const;
    const unknownEscalation = await createActionToken(actionSecret, grant, { ttlSeconds: 600 });
    const expired = await createActionToken(actionSecret, grant, { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) });
    const tampered = `${unknownEscalation.slice(0, -3)}abc`;
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const seen: string[] = [];
    for (const { path, operation } of documentedOperations) {
      const scopes = operation.security.flatMap((requirement) => requirement.bearerAuth ?? []);
      const credentials: CallOptions = operation.security.length ? { token: scopes.includes('decide') ? tokens.alice : tokens.ci } : {};
      const wrongScope = scopes.includes('decide') ? tokens.ci : scopes.includes('raise') ? tokens.alice : undefined;
      const least = leastBody(operation);
      const mediaType = Object.keys(operation.requestBody?.content ?? {})[0];
      const known: PathValues = { id: 'escalation-never-raised', token: unknownEscalation };
      const requests: Array<[string, PathValues, CallOptions]> = [
        ['no credentials', known, least],
        ['an unknown bearer token', known, { ...least, token: 'nobody-token-0123456789abc' }],
        ['the least body', known, { ...least, ...credentials }],
      ];
      if (wrongScope) requests.push(['a token without the scope', known, { ...least, token: wrongScope }]);
      if (mediaType === 'application/json') {
        requests.push(
          ['a body of the wrong shape', known, { ...credentials, body: { unexpected: true } }],
          ['malformed JSON', known, { ...credentials, rawBody: '{"a":', headers: { 'content-type': mediaType } }],
          ['an empty JSON body', known, { ...credentials, rawBody: '', headers: { 'content-type': mediaType } }],
        );
      }
      if (mediaType === 'application/x-www-form-urlencoded') requests.push(['a form of the wrong shape', known, { ...credentials, rawBody: `comment=${'x'.repeat(5000)}&comment=b&payload=%7B`, headers: form }]);
      if (mediaType) {
        requests.push(
          ['XML', known, { ...credentials, rawBody: '<a/>', headers: { 'content-type': 'application/xml' } }],
          ['JSON where a form is read', known, { ...credentials, rawBody: '{}', headers: { 'content-type': mediaType === 'application/json' ? 'text/plain' : 'application/json' } }],
          ['a body over the limit', known, { ...credentials, rawBody: 'x'.repeat(1_100_000), headers: { 'content-type': mediaType } }],
        );
      }
      if (declaredParameters(operation).some(({ name }) => name === 'Idempotency-Key')) requests.push(['a bad Idempotency-Key', known, { ...credentials, ...least, headers: { ...least.headers, 'idempotency-key': 'k\u00e9y' } }]);
      if (path.includes('{id}')) {
        requests.push(
          ['an id no escalation can have', { id: `escalation-${'x'.repeat(500)}` }, { ...credentials, ...least }],
          ['an id longer than the router takes', { id: 'x'.repeat(3000) }, { ...credentials, ...least }],
          ['malformed percent-encoding in the id', { id: '%zz', raw: true }, { ...credentials, ...least }],
        );
      }
      if (path.includes('{token}')) {
        requests.push(
          ['00 as the token', { token: '00' }, least],
          ['a tampered token', { token: tampered }, least],
          ['an expired token', { token: expired }, least],
          ['a token longer than the router takes', { token: 'x'.repeat(3000) }, least],
          ['malformed percent-encoding in the token', { token: '%zz', raw: true }, least],
        );
      }
      if (operation.operationId === 'slackInteraction') {
        const click = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U0NOBODY' }, actions: [{ action_id: 'escalator_approve', value: JSON.stringify({ escalationId: 'escalation-never-raised' }), action_ts: '1.2' }] }))}`;
        requests.push(
          ['a signed click by someone the policy does not know', {}, { rawBody: click, headers: { ...form, ...slackSigned(click) } }],
          ['a signed payload that is no button click', {}, { rawBody: 'payload=%7B%7D', headers: { ...form, ...slackSigned('payload=%7B%7D') } }],
        );
      }
      if (operation.operationId === 'gitHubWebhook') {
        const ping = JSON.stringify({ zen: 'Keep it logically awesome.', hook_id: 1 });
        const checkRun = JSON.stringify({ action: 'completed', check_run: { id: 1, name: 'unit-tests', head_sha: 'a'.repeat(40), status: 'completed', conclusion: 'failure', html_url: null, details_url: null, app: null }, repository: { id: 1, full_name: 'acme/unlisted', html_url: 'https://github.example/acme/unlisted' }, sender: { login: 'octocat', id: 1 } });
        const github = (event: string, body: string, delivery: string, secret = gitHubSecret) => ({ rawBody: body, headers: { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': delivery, 'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}` } });
        const delivery = `d-${Date.now()}`;
        requests.push(
          ['a signed ping', {}, github('ping', ping, `${delivery}-ping`)],
          ['a signed check run for a repository no entry names', {}, github('check_run', checkRun, delivery)],
          ['the same delivery again', {}, github('check_run', checkRun, delivery)],
          ['a delivery signed with another secret', {}, github('check_run', checkRun, `${delivery}-forged`, 'not-the-secret-0123456789')],
          ['a signed delivery without a delivery id', {}, github('check_run', checkRun, '')],
          ['a signed check run of the wrong shape', {}, github('check_run', JSON.stringify({ action: 'completed' }), `${delivery}-shape`)],
        );
      }
      if (operation.operationId === 'gitLabWebhook') {
        const push = JSON.stringify({ object_kind: 'push' });
        const gitlab = (event: string, body: string, token = gitLabToken) => ({ rawBody: body, headers: { 'content-type': 'application/json', 'x-gitlab-event': event, 'x-gitlab-token': token } });
        requests.push(
          ['a push event', {}, gitlab('Push Hook', push)],
          ['a job event with the wrong token', {}, gitlab('Job Hook', push, 'wrong-token')],
          ['a job event whose body is a push', {}, gitlab('Job Hook', push)],
        );
      }
      for (const [why, pathValues, options] of requests) seen.push(`${operation.operationId} ${why}: ${(await answer(operation.operationId, pathValues, options)).status}`);
    }
    expect(seen).toEqual(
      expect.arrayContaining([
        'raiseGateFailure a token without the scope: 403',
        'getEscalation an id longer than the router takes: 414',
        'getEscalation malformed percent-encoding in the id: 400',
        'decide a bad Idempotency-Key: 400',
        'actionConfirmation 00 as the token: 400',
        'actionConfirmation an expired token: 410',
        'actionConfirmation the least body: 404',
        'actionDecide a token longer than the router takes: 414',
        'actionDecide JSON where a form is read: 415',
        'actionDecide a body over the limit: 413',
        'slackInteraction no credentials: 401',
        'slackInteraction XML: 415',
        'slackInteraction a signed click by someone the policy does not know: 200',
        'slackInteraction a signed payload that is no button click: 400',
        'gitHubWebhook no credentials: 401',
        'gitHubWebhook a signed ping: 204',
        'gitHubWebhook a signed check run for a repository no entry names: 200',
        'gitHubWebhook the same delivery again: 409',
        'gitHubWebhook a delivery signed with another secret: 401',
        'gitHubWebhook a signed delivery without a delivery id: 400',
        'gitHubWebhook a signed check run of the wrong shape: 400',
        'gitLabWebhook a push event: 204',
        'gitLabWebhook a job event with the wrong token: 401',
        'gitLabWebhook a job event whose body is a push: 400',
      ]),
    );
  });

  it('answers 429 on every operation that documents it, the public ones too, once its caller is over the rate limit', async () => {
    const limited = buildShim({
      escalator: env.escalator,
      tokens: new TokenRegistry([
        { identity: 'ci', scopes: ['raise'], token: tokens.ci },
        { identity: 'alice', scopes: ['decide'], token: tokens.alice },
      ]),
      checkTemporal: async () => void (await env.connection.healthService.check({})),
      rateLimitPerMinute: 1,
      actions: { secret: actionSecret, consume: (tokenId, expiresAt) => env.store.consumeActionToken(tokenId, expiresAt), used: (tokenId) => env.store.actionTokenUsed(tokenId) },
      slack: { signingSecret: slackSecret, personFor: () => undefined },
    });
    await limited.listen({ host: '127.0.0.1', port: 0 });
    try {
      const base = `http://127.0.0.1:${(limited.server.address() as AddressInfo).port}`;
      for (const { operation } of documentedOperations) {
        const scopes = operation.security.flatMap((requirement) => requirement.bearerAuth ?? []);
        const options: CallOptions = { ...leastBody(operation), base, ...(operation.security.length ? { token: scopes.includes('decide') ? tokens.alice : tokens.ci } : {}) };
        const first = await answer(operation.operationId, { id: 'escalation-never-raised' }, options);
        if (operation.responses['429']) await expectRefused(operation.operationId, { id: 'escalation-never-raised' }, options, 429, 'RateLimited');
        else expect((await answer(operation.operationId, { id: 'escalation-never-raised' }, options)).status, operation.operationId).toBe(first.status);
      }
    } finally {
      await limited.close();
    }
  });

  it('serves /openapi.json as the document and /docs as a self-contained page naming every operation', async () => {
    const served = await answer('openApiDocument', {});
    expect(served.json).toEqual(JSON.parse(JSON.stringify(document)));
    const page = await answer('apiDocs', {});
    expect(page.contentType).toMatch(/^text\/html/);
    for (const { operation } of documentedOperations) expect(page.text).toContain(operation.operationId);
    for (const name of Object.keys(document.components.schemas)) expect(page.text).toContain(`id="schema-${name}"`);
    expect(page.text).not.toMatch(/<script|<link|src=|https?:\/\//i);
  });

  it('raises: 201 started, 200 attached, and the documented refusals', async () => {
    const failure = gateFailure();
    expect((await answer('raiseGateFailure', {}, { token: tokens.ci, body: failure })).status).toBe(201);
    expect((await answer('raiseGateFailure', {}, { token: tokens.ci, body: failure })).json).toEqual({ escalationId: `escalation-${failure.idempotencyKey}`, started: false });
    await expectRefused('raiseGateFailure', {}, { token: tokens.ci, body: { ...gateFailure(), severity: 'urgent' } }, 400, 'InvalidInput');
    await expectRefused('raiseGateFailure', {}, { token: tokens.ci, rawBody: '{"gate":', headers: { 'content-type': 'application/json' } }, 400, 'FST_ERR_CTP_INVALID_JSON_BODY');
    await expectRefused('raiseGateFailure', {}, { token: tokens.ci, rawBody: '', headers: { 'content-type': 'application/json' } }, 400, 'FST_ERR_CTP_EMPTY_JSON_BODY');
    await expectRefused('raiseGateFailure', {}, { token: tokens.alice, body: gateFailure() }, 403, 'Forbidden');
    await expectRefused('raiseGateFailure', {}, { token: tokens.ci, rawBody: '<failure/>', headers: { 'content-type': 'application/xml' } }, 415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE');
    const tooLarge = { ...gateFailure(), change: { ...gateFailure().change, title: 'x'.repeat(1_100_000) } };
    await expectRefused('raiseGateFailure', {}, { token: tokens.ci, body: tooLarge }, 413, 'FST_ERR_CTP_BODY_TOO_LARGE');
  });

  it('reads an escalation as the documented EscalationView, also with the longest id, and refuses unknown or malformed ids', async () => {
    const escalationId = await raised();
    const read = await answer('getEscalation', { id: escalationId }, { token: tokens.carol });
    expect(read.status).toBe(200);
    const view = escalationStatusSchema.parse(read.json);
    expect(view).toMatchObject({ escalationId, status: 'waiting', awaitedReviewers: ['alice'], retrying: [] });
    expect(view.timeline.length).toBeGreaterThan(0);

    const longestKey = `${'k'.repeat(180)}/${'x'.repeat(19)}`;
    const longest = await raised({ idempotencyKey: longestKey });
    expect(longest).toHaveLength(211);
    expect((await answer('getEscalation', { id: longest }, { token: tokens.ci })).json.escalationId).toBe(longest);

    await expectRefused('getEscalation', { id: 'escalation-never-raised' }, { token: tokens.ci }, 404, 'EscalationNotFound');
    await expectRefused('getEscalation', { id: '../../etc' }, { token: tokens.ci }, 404, 'EscalationNotFound');
    await expectRefused('getEscalation', { id: `${longest}x` }, { token: tokens.ci }, 404, 'EscalationNotFound');
    await expectRefused('getEscalation', { id: 'x'.repeat(2100) }, { token: tokens.ci }, 414, 'FST_ERR_MAX_PARAM_LENGTH');
    expect((await call('GET', '/v1/escalations/escalation-%zz', { token: tokens.ci })).json.error).toEqual({ code: 'FST_ERR_BAD_URL', message: expect.any(String), details: null });
  });

  it('decides: 200 counted once per Idempotency-Key, and the documented refusals', async () => {
    const escalationId = await raised();
    await expectRefused('decide', { id: escalationId }, { token: tokens.carol, body: { decision: 'approve' } }, 403, 'NotAwaitedReviewer');
    await expectRefused('decide', { id: escalationId }, { token: tokens.ci, body: { decision: 'approve' } }, 403, 'Forbidden');
    await expectRefused('decide', { id: escalationId }, { token: tokens.alice, body: { decision: 'reject' } }, 400, 'CommentRequired');
    await expectRefused('decide', { id: escalationId }, { token: tokens.alice, body: { decision: 'approve' }, headers: { 'idempotency-key': 'ünïcode' } }, 400, 'InvalidInput');
    const options = { token: tokens.alice, body: { decision: 'approve', comment: 'fine' }, headers: { 'idempotency-key': 'approve-once' } };
    const first = await answer('decide', { id: escalationId }, options);
    const retried = await answer('decide', { id: escalationId }, options);
    expect([first.status, retried.status]).toEqual([200, 200]);
    expect(retried.json).toMatchObject({ accepted: true, status: 'waiting', awaitedReviewers: ['carol'] });
    expect((await env.escalator.status(escalationId)).decisions).toHaveLength(1);
    await expectRefused('decide', { id: 'escalation-never-raised' }, { token: tokens.alice, body: { decision: 'approve' } }, 404, 'EscalationNotFound');
  });

  it('acknowledges with no body at all, and refuses a reviewer not awaited', async () => {
    const escalationId = await raised();
    const acknowledged = await answer('acknowledge', { id: escalationId }, { token: tokens.alice });
    expect(acknowledged.status).toBe(200);
    expect(acknowledged.json).toMatchObject({ accepted: true, status: 'waiting' });
    expect((await env.escalator.status(escalationId)).timeline.at(-1)).toMatchObject({ event: 'acknowledged', reviewer: 'alice', channel: 'http' });
    await expectRefused('acknowledge', { id: escalationId }, { token: tokens.carol, body: {} }, 403, 'NotAwaitedReviewer');
    await expectRefused('acknowledge', { id: escalationId }, { token: tokens.alice, body: { note: 'on it' } }, 400, 'InvalidInput');
  });

  it('reassigns, and refuses an unknown person and someone neither awaited nor a lead', async () => {
    const escalationId = await raised();
    await expectRefused('reassign', { id: escalationId }, { token: tokens.alice, body: { to: 'nobody-we-know', reason: 'x' } }, 400, 'UnknownPerson');
    await expectRefused('reassign', { id: escalationId }, { token: tokens.erin, body: { to: 'carol', reason: 'x' } }, 403, 'ReassignNotAllowed');
    const reassigned = await answer('reassign', { id: escalationId }, { token: tokens.alice, body: { to: 'carol', reason: 'she owns this code' } });
    expect(reassigned.status).toBe(200);
    expect(reassigned.json).toMatchObject({ awaitedReviewers: ['carol'], depth: 1 });
  });

  it('breaks glass for a holder of the role only, then answers 409 once ended', async () => {
    const escalationId = await raised();
    await expectRefused('breakGlass', { id: escalationId }, { token: tokens.carol, body: { justification: 'urgent' } }, 403, 'NotBreakGlassHolder');
    await expectRefused('breakGlass', { id: escalationId }, { token: tokens.erin, body: { justification: '   ' } }, 400, 'InvalidInput');
    const overridden = await answer('breakGlass', { id: escalationId }, { token: tokens.erin, body: { justification: 'customers are down' } });
    expect(overridden.status).toBe(200);
    expect(overridden.json.status).toBe('ended');
    await env.escalator.outcome(escalationId);
    await expectRefused('breakGlass', { id: escalationId }, { token: tokens.erin, body: { justification: 'again' } }, 409, 'EscalationEnded');
  });

  it('withdraws, then refuses decisions and withdrawals with 409', async () => {
    const escalationId = await raised();
    await expectRefused('withdraw', { id: escalationId }, { token: tokens.alice, body: { reason: 'not mine to withdraw' } }, 403, 'Forbidden');
    const withdrawn = await answer('withdraw', { id: escalationId }, { token: tokens.ci, body: { reason: 'reverted upstream' } });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.json.outcome).toMatchObject({ outcome: 'withdrawn' });
    await env.escalator.outcome(escalationId);
    await expectRefused('withdraw', { id: escalationId }, { token: tokens.ci, body: { reason: 'again' } }, 409, 'EscalationEnded');
    await expectRefused('decide', { id: escalationId }, { token: tokens.alice, body: { decision: 'approve' } }, 409, 'EscalationEnded');
    await expectRefused('acknowledge', { id: escalationId }, { token: tokens.alice }, 409, 'EscalationEnded');
  });

  it('long-polls for the outcome: 202 with who is asked while it runs, 200 with the outcome once it ends, a bad wait refused', async () => {
    const escalationId = await raised();
    const running = await answer('getOutcome', { id: escalationId }, { token: tokens.carol });
    expect(running).toMatchObject({ status: 202, json: { escalationId, status: 'running', outcome: null, awaitedReviewers: ['alice'] } });
    expect(running.headers.get('retry-after')).toBe('1');

    const held = answer('getOutcome', { id: escalationId, query: 'wait=60s' }, { token: tokens.carol });
    // The poll is held open: the withdrawal comes while it waits, and ends it.
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'reverted' });
    expect(await held).toMatchObject({ status: 200, json: { escalationId, status: 'ended', outcome: { outcome: 'withdrawn', reason: expect.stringContaining('reverted') } } });
    expect(await answer('getOutcome', { id: escalationId }, { token: tokens.ci })).toMatchObject({ status: 200, json: { status: 'ended', outcome: { outcome: 'withdrawn' } } });

    const tooLong = await expectRefused('getOutcome', { id: escalationId, query: 'wait=10m' }, { token: tokens.ci }, 400, 'InvalidInput');
    expect(tooLong.json.error.details).toEqual([{ path: 'query.wait', message: expect.stringContaining('at most 120s') }]);
    await expectRefused('getOutcome', { id: escalationId, query: 'wait=soon' }, { token: tokens.ci }, 400, 'InvalidInput');
    await expectRefused('getOutcome', { id: escalationId, query: 'watt=5s' }, { token: tokens.ci }, 400, 'InvalidInput');
    await expectRefused('getOutcome', { id: 'escalation-never-raised', query: 'wait=1s' }, { token: tokens.ci }, 404, 'EscalationNotFound');
  });

  it('reports per-gate metrics to a token with the read scope, and refuses other scopes and a bad window', async () => {
    const report = await answer('gateMetrics', { query: 'window=7d&groupBy=gate' }, { token: tokens.reader });
    expect(report.status).toBe(200);
    expect(report.json).toMatchObject({ groupBy: 'gate', rows: expect.any(Array) });
    await expectRefused('gateMetrics', {}, { token: tokens.ci }, 403, 'Forbidden');
    await expectRefused('gateMetrics', { query: 'window=1y' }, { token: tokens.reader }, 400, 'InvalidInput');
  });

  it('takes a recovery report with 202, and refuses an unknown escalation', async () => {
    const escalationId = await raised();
    const accepted = await answer('reportRecovered', { id: escalationId }, { token: tokens.ci, body: { pipelineRunId: 'run-7790' } });
    expect(accepted).toMatchObject({ status: 202, json: { escalationId, accepted: true } });
    expect(await env.escalator.outcome(escalationId)).toMatchObject({ outcome: 'recovered' });
    await expectRefused('reportRecovered', { id: 'escalation-never-raised' }, { token: tokens.ci }, 404, 'EscalationNotFound');
  });

  it('serves Prometheus metrics counting requests by route and refusals by reason', async () => {
    const escalationId = await raised();
    await expectRefused('decide', { id: escalationId }, { token: tokens.carol, body: { decision: 'approve' } }, 403, 'NotAwaitedReviewer');
    const scraped = await answer('metrics', {});
    expect(scraped.contentType).toMatch(/^text\/plain/);
    expect(scraped.text).toMatch(/escalator_decisions_refused_total\{reason="NotAwaitedReviewer"\} [1-9]/);
    expect(scraped.text).toMatch(/escalator_shim_requests_total\{method="POST",route="\/v1\/escalations\/:id\/decisions",status="403"\} [1-9]/);
  });

  it('decides through an email action link once: GET confirms without change, POST decides, a replay is refused', async () => {
    const escalationId = await raised();
    const token = await createActionToken(actionSecret, { reviewer: 'alice', escalationId, step: 0, decision: 'approve' }, { ttlSeconds: 600 });
    const page = await answer('actionConfirmation', { token });
    expect(page.status).toBe(200);
    expect(page.text).toContain('method="post"');
    expect((await env.escalator.status(escalationId)).decisions).toEqual([]);
    const decided = await answer('actionDecide', { token }, { rawBody: 'comment=flaky', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(decided.status).toBe(200);
    expect((await env.escalator.status(escalationId)).decisions).toEqual([expect.objectContaining({ reviewer: 'alice', decision: 'approve', channel: 'email', comment: 'flaky' })]);
    expect((await answer('actionDecide', { token }, { rawBody: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(409);
    expect((await answer('actionConfirmation', { token: `${token.slice(0, -2)}xx` })).status).toBe(400);
    const expired = await createActionToken(actionSecret, { reviewer: 'carol', escalationId, step: 1, decision: 'approve' }, { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) });
    expect((await answer('actionConfirmation', { token: expired })).status).toBe(410);
    const foreign = await createActionToken(actionSecret, { reviewer: 'alice', escalationId, step: 1, decision: 'approve' }, { ttlSeconds: 600 });
    expect((await answer('actionDecide', { token: foreign }, { rawBody: '', headers: { 'content-type': 'application/x-www-form-urlencoded' } })).status).toBe(403);
    expect((await answer('actionConfirmation', { token: await createActionToken(actionSecret, { reviewer: 'alice', escalationId: 'escalation-never-raised', step: 0, decision: 'approve' }, { ttlSeconds: 600 }) })).status).toBe(404);
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'done' });
    await env.escalator.outcome(escalationId);
    expect((await answer('actionConfirmation', { token: await createActionToken(actionSecret, { reviewer: 'carol', escalationId, step: 1, decision: 'approve' }, { ttlSeconds: 600 }) })).status).toBe(409);
  });

  it('rates an ended escalation through a rating link once: GET shows it without change, POST records, a replay is refused', async () => {
    const escalationId = await raised();
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'done' });
    await env.escalator.outcome(escalationId);
    // This worker has no action secret, so it asked nobody: the request is made here.
    expect(await env.store.askForRatings(escalationId, ['alice'], new Date().toISOString())).toEqual(['alice']);
    const token = await createRatingToken(actionSecret, { escalationId, rater: 'alice', rating: 3 });
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const page = await answer('ratingConfirmation', { token });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Rate this escalation: 3/5');
    expect((await env.store.ratingRequest(escalationId, 'alice'))?.rating).toBeNull();
    expect((await answer('ratingRecord', { token }, { rawBody: 'comment=smooth', headers: form })).status).toBe(200);
    expect(await env.store.ratingRequest(escalationId, 'alice')).toMatchObject({ rating: 3, comment: 'smooth' });
    expect((await answer('ratingRecord', { token }, { rawBody: '', headers: form })).status).toBe(409);
    expect((await answer('ratingConfirmation', { token })).status).toBe(409);
    expect((await answer('ratingConfirmation', { token: `${token.slice(0, -2)}xx` })).status).toBe(400);
    const expired = await createRatingToken(actionSecret, { escalationId, rater: 'alice', rating: 3 }, { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) });
    expect((await answer('ratingRecord', { token: expired }, { rawBody: '', headers: form })).status).toBe(410);
    expect((await answer('ratingRecord', { token: await createRatingToken(actionSecret, { escalationId, rater: 'carol', rating: 3 }) }, { rawBody: '', headers: form })).status).toBe(404);
  });

  it('takes a Slack button click signed by Slack, and refuses an unsigned one', async () => {
    const escalationId = await raised();
    const body = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U0ALICE' }, actions: [{ action_id: 'escalator_acknowledge', value: JSON.stringify({ escalationId }), action_ts: '1790000000.000100' }] }))}`;
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = `v0=${createHmac('sha256', slackSecret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
    const headers = { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': timestamp, 'x-slack-signature': signature };
    const clicked = await answer('slackInteraction', {}, { rawBody: body, headers });
    expect(clicked.status).toBe(200);
    expect(clicked.json).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('Acknowledged') });
    expect((await env.escalator.status(escalationId)).acknowledgedBy).toEqual([]);
    expect((await env.escalator.status(escalationId)).timeline.filter((e) => e.event === 'acknowledged')).toEqual([expect.objectContaining({ reviewer: 'alice', channel: 'slack' })]);
    await expectRefused('slackInteraction', {}, { rawBody: body, headers: { ...headers, 'x-slack-signature': 'v0=00' } }, 401, 'Unauthenticated');
    await expectRefused('slackInteraction', {}, { rawBody: 'payload=%7B%7D', headers: { ...headers, 'x-slack-signature': `v0=${createHmac('sha256', slackSecret).update(`v0:${timestamp}:payload=%7B%7D`).digest('hex')}` } }, 400, 'InvalidInput');
  });

  it('serves and documents a route added to the table, with the checks and refusals its spec declares', async () => {
    const echo = defineRoute({
      method: 'GET',
      url: '/v1/escalations/:id/echo',
      operationId: 'echoEscalation',
      tag: 'Escalations',
      summary: 'Echo an escalation id',
      description: 'Answers the id in its path.',
      access: 'any-token',
      answers: { 200: { description: 'The id.', schema: raiseResultSchema } },
      handler: async ({ escalationId }) => ({ escalationId, started: false }),
    });
    const routes = [...shimRoutes, echo];
    const extendedDocument = openApiDocument(routes);
    expect((await new Validator().validate(structuredClone(extendedDocument) as unknown as Record<string, unknown>)).valid).toBe(true);
    const operation = extendedDocument.paths['/v1/escalations/{id}/echo']?.get;
    expect(operation).toMatchObject({ operationId: 'echoEscalation', security: [{ bearerAuth: [] }], parameters: [{ $ref: '#/components/parameters/EscalationId' }] });
    expect(Object.keys(operation!.responses)).toEqual(['200', '400', '401', '404', '405', '414', '429', '500', '503']);

    const extended = buildShim({ escalator: env.escalator, tokens: new TokenRegistry([{ identity: 'ci', scopes: ['raise'], token: tokens.ci }]), checkTemporal: async () => undefined, routes });
    try {
      await extended.ready();
      expect(registeredRoutes(extended)).toEqual(Object.entries(extendedDocument.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`)).sort());
      const echoed = await extended.inject({ method: 'GET', url: '/v1/escalations/escalation-anything/echo', headers: { authorization: `Bearer ${tokens.ci}` } });
      expect({ status: echoed.statusCode, json: echoed.json() }).toEqual({ status: 200, json: { escalationId: 'escalation-anything', started: false } });
      expect((await extended.inject({ method: 'GET', url: '/v1/escalations/escalation-anything/echo' })).json().error.code).toBe('Unauthenticated');
      const malformed = await extended.inject({ method: 'GET', url: '/v1/escalations/not-an-id/echo', headers: { authorization: `Bearer ${tokens.ci}` } });
      expect({ status: malformed.statusCode, code: malformed.json().error.code }).toEqual({ status: 404, code: 'EscalationNotFound' });
      const posted = await extended.inject({ method: 'POST', url: '/v1/escalations/escalation-anything/echo' });
      expect({ status: posted.statusCode, allow: posted.headers.allow }).toEqual({ status: 405, allow: 'GET, HEAD' });
      expect((await extended.inject({ method: 'GET', url: '/openapi.json' })).json()).toEqual(JSON.parse(JSON.stringify(extendedDocument)));
    } finally {
      await extended.close();
    }
  });

  it('refuses to start when a route is served outside the table, where /openapi.json would not describe it', async () => {
    const stray = defineRoute({
      method: 'GET',
      url: '/v1/listed',
      operationId: 'listed',
      tag: 'Service',
      summary: 'Listed, but served elsewhere',
      description: 'Its module serves another path.',
      access: 'public',
      answers: { 200: { description: 'Text.', schema: { mediaType: 'text/plain', schema: { type: 'string' } } } },
      register: (app) => app.get('/v1/unlisted', async () => 'served, undocumented'),
    });
    const shimWithStray = buildShim({ escalator: env.escalator, tokens: new TokenRegistry([{ identity: 'ci', scopes: ['raise'], token: tokens.ci }]), checkTemporal: async () => undefined, routes: [...shimRoutes, stray] });
    await expect(shimWithStray.ready()).rejects.toThrow('GET /v1/unlisted is served but not in the route table');
    await shimWithStray.close().catch(() => undefined);
  });

  it('reports health: 200 with Temporal reachable, 503 without', async () => {
    expect((await answer('health', {})).json).toEqual({ status: 'ok', temporal: 'reachable' });
    await expectRefused('health', {}, { base: unhealthyUrl }, 503, 'TemporalUnreachable');
  });

  it('serves the dashboard page to a read token and to the session a signed link starts, and refuses a token without the scope', async () => {
    const page = await answer('dashboard', { query: 'window=7d&gate=' }, { token: tokens.reader });
    expect(page.status).toBe(200);
    expect(page.contentType).toMatch(/^text\/html/);
    expect((await answer('dashboard', {}, { token: tokens.ci })).status).toBe(403);
    expect((await answer('dashboard', { query: 'window=1y' }, { token: tokens.reader })).status).toBe(400);
    const link = await createDashboardToken(actionSecret, 'link', { identity: 'reader', ttlSeconds: 600 });
    const opened = await answer('dashboardSession', { query: `token=${encodeURIComponent(link)}` });
    expect({ status: opened.status, location: opened.headers.get('location') }).toEqual({ status: 303, location: '/dashboard' });
    expect(opened.headers.get('set-cookie')).toMatch(/^escalator_dashboard=[\w.-]+; Path=\/dashboard; Max-Age=43200; HttpOnly; SameSite=Lax$/);
    expect((await answer('dashboard', {}, { headers: { cookie: opened.headers.get('set-cookie')!.split(';')[0]! } })).status).toBe(200);
    expect((await answer('dashboardSession', { query: `token=${encodeURIComponent(link.slice(0, -4))}` })).status).toBe(400);
  });

  it('saw every operation answer with a documented success, and every one that documents errors with one of them', () => {
    for (const { operation } of documentedOperations) {
      const statuses = [...answered].filter((entry) => entry.startsWith(`${operation.operationId} `)).map((entry) => Number(entry.split(' ')[1]));
      // The dashboard link succeeds with a redirect (303).
      expect(statuses.some((status) => status < 400), `${operation.operationId} succeeded`).toBe(true);
      // A 405 answers another method on the operation's path, never the operation itself.
      const documentsErrors = Object.keys(operation.responses).some((status) => Number(status) >= 400 && status !== '405');
      if (documentsErrors) expect(statuses.some((status) => status >= 400), `${operation.operationId} refused`).toBe(true);
    }
  });
});

async function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
