import { createHmac } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { verifySlackRequest } from '../adapters/slack-interaction.js';
import { PolicySource } from '../adapters/policy-source.js';
import { loadPolicyFile } from '../client/cli/policy-file.js';
import { actionFormSchema, actionPageHeaders } from '../client/shim/action-pages.js';
import { buildShim } from '../client/shim/app.js';
import { openApiDocument, type OpenApiOperation, type OpenApiResponse, requestSchemas } from '../client/shim/openapi.js';
import { TokenRegistry } from '../client/shim/tokens.js';
import { createActionToken, verifyActionToken } from '../domain/action-tokens.js';
import { errorBodySchema } from '../domain/api-responses.js';
import { formatPath } from '../domain/field-errors.js';
import type { GateFailureInput } from '../domain/gate-failure.js';
import { PolicyError } from '../domain/policy-error.js';
import { type ParsedPolicy, parsePolicy } from '../domain/policy-parser.js';
import { idempotencyKeyHeaderSchema } from '../domain/request-bodies.js';
import { dynamicPolicy } from './helpers/dynamic-policy.js';
import { recordedEvents, settle } from './helpers/settled.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { parallelPolicy } from './helpers/parallel-policy.js';
import { sequentialPolicy } from './helpers/policies.js';
import { registeredRoutes } from './helpers/fastify-routes.js';

// Bad input must be refused at the edge: never a 5xx, always the documented error shape, and never
// a change to an escalation. The shim half throws generated requests at every route of a real shim
// in front of a real worker; the policy half throws generated documents at the policy loader.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonPath = Array<string | number>;

// ---------------------------------------------------------------------------------------------
// Mutations of known-good JSON (request bodies, Slack payloads, policies)
// ---------------------------------------------------------------------------------------------

/** Strings that have broken parsers and validators before: empty, blank, huge, prototype keys, YAML and JSON look-alikes. */
const trickyStrings = [
  '',
  ' ',
  '\t\n',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'pool:constructor',
  'oncall:constructor',
  'pool:',
  'oncall:__proto__',
  '*',
  '&a',
  '*a',
  '!!js/function',
  '{}',
  '[]',
  'null',
  '0',
  '-1',
  '1e309',
  'NaN',
  '0s',
  '-1m',
  '1y',
  '99999999999999999999d',
  '24:00',
  'Mon-Fri 25:00-26:00',
  'Not/A_Zone',
  'x'.repeat(5000),
  '\u0000',
  '\ud800',
  '😀',
  'a@b',
  'https://',
  'javascript:alert(1)',
  'escalation-',
  '../../etc/passwd',
];

const jsonReplacement: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<Json>(...trickyStrings) },
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json> },
  { weight: 1, arbitrary: fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 2 ** 53, -0, {}, [], [null], { '': null }) },
);

interface Mutation {
  kind: 'delete' | 'replace' | 'retype' | 'add-key' | 'wrap-in-array' | 'duplicate-into-array';
  pick: number;
  replacement: Json;
  key: string;
}

const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('delete', 'replace', 'retype', 'add-key', 'wrap-in-array', 'duplicate-into-array'),
  pick: fc.nat(),
  replacement: jsonReplacement,
  key: fc.oneof(fc.constantFrom(...trickyStrings.slice(0, 12)), fc.string({ maxLength: 12 })),
});

function pathsOf(value: Json, at: JsonPath = []): JsonPath[] {
  if (Array.isArray(value)) return [at, ...value.flatMap((item, i) => pathsOf(item, [...at, i]))];
  if (value !== null && typeof value === 'object') return [at, ...Object.entries(value).flatMap(([key, item]) => pathsOf(item, [...at, key]))];
  return [at];
}

function retyped(node: Json): Json {
  if (typeof node === 'string') return node.length;
  if (typeof node === 'number') return String(node);
  if (typeof node === 'boolean') return node ? 'true' : 0;
  if (node === null) return {};
  if (Array.isArray(node)) return Object.fromEntries(node.map((item, i) => [String(i), item]));
  return Object.values(node);
}

/** `value` with `change` applied at `path`; `undefined` from `change` deletes the node. */
function changedAt(value: Json, path: JsonPath, change: (node: Json) => Json | undefined): Json | undefined {
  if (path.length === 0) return change(value);
  const [head, ...rest] = path;
  if (Array.isArray(value)) {
    const copy = [...value];
    const next = changedAt(copy[head as number]!, rest, change);
    if (next === undefined) copy.splice(head as number, 1);
    else copy[head as number] = next;
    return copy;
  }
  const copy = { ...(value as Record<string, Json>) };
  const next = changedAt(copy[head as string]!, rest, change);
  if (next === undefined) delete copy[head as string];
  else Object.defineProperty(copy, head as string, { value: next, enumerable: true, writable: true, configurable: true });
  return copy;
}

function mutated(value: Json, mutations: Mutation[]): Json {
  let current = value;
  for (const m of mutations) {
    const paths = pathsOf(current);
    const path = paths[m.pick % paths.length]!;
    const next = changedAt(current, path, (node) => {
      switch (m.kind) {
        case 'delete':
          return path.length === 0 ? m.replacement : undefined;
        case 'replace':
          return m.replacement;
        case 'retype':
          return retyped(node);
        case 'add-key':
          if (node !== null && typeof node === 'object' && !Array.isArray(node)) {
            const copy = { ...node };
            // defineProperty, so that a generated "__proto__" becomes a real key as JSON.parse would make it.
            Object.defineProperty(copy, m.key, { value: m.replacement, enumerable: true, writable: true, configurable: true });
            return copy;
          }
          return m.replacement;
        case 'wrap-in-array':
          return [node];
        case 'duplicate-into-array':
          return [node, node];
      }
    });
    current = next === undefined ? null : next;
  }
  return current;
}

const mutations = fc.array(mutation, { minLength: 1, maxLength: 3 });

/** A value nested `depth` levels deep: arrays, objects, or both in turn. */
function deeplyNestedJson(depth: number, style: 'array' | 'object' | 'mixed', leaf = '1'): string {
  const opens = Array.from({ length: depth }, (_, i) => (style === 'array' || (style === 'mixed' && i % 2) ? '[' : '{"a":'));
  return opens.join('') + leaf + opens.reverse().map((open) => (open === '[' ? ']' : '}')).join('');
}

// ---------------------------------------------------------------------------------------------
// The shim's routes, from its OpenAPI document
// ---------------------------------------------------------------------------------------------

const actionSecret = 'bad-input-action-secret-0123456789abcdef';
const slackSecret = 'bad-input-slack-signing-secret-0123';
const tokens = {
  ci: 'ci-token-0123456789abcdef',
  alice: 'alice-token-0123456789abc',
  root: 'root-token-0123456789abcd',
};
const slackPeople: Record<string, string> = { U0ALICE: 'alice', U0CAROL: 'carol' };

const document = openApiDocument();
type RequestSchemaName = keyof typeof requestSchemas;

interface Route {
  operationId: string;
  method: 'GET' | 'POST';
  /** The path with `{id}` or `{token}` still in it. */
  path: string;
  operation: OpenApiOperation;
  bearer: boolean;
  body?: { schemaName: RequestSchemaName; schema: z.ZodType; required: boolean };
  idempotent: boolean;
}

const routes: Route[] = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]): Route => {
    const bodyRef = operation!.requestBody?.content['application/json']?.schema.$ref;
    const schemaName = typeof bodyRef === 'string' ? (bodyRef.split('/').at(-1) as RequestSchemaName) : undefined;
    return {
      operationId: operation!.operationId,
      method: method.toUpperCase() as 'GET' | 'POST',
      path,
      operation: operation!,
      bearer: operation!.security.length > 0,
      ...(schemaName ? { body: { schemaName, schema: requestSchemas[schemaName], required: operation!.requestBody!.required } } : {}),
      idempotent: (operation!.parameters ?? []).some((parameter) => '$ref' in parameter && parameter.$ref.endsWith('/IdempotencyKey')),
    };
  }),
);

function validBodyFor(schemaName: RequestSchemaName, failure: GateFailureInput): Json {
  switch (schemaName) {
    case 'GateFailure':
      return failure as unknown as Json;
    case 'DecisionBody':
      return { decision: 'approve', comment: 'looks fine' };
    case 'AcknowledgeBody':
      return {};
    case 'ReassignBody':
      return { to: 'carol', reason: 'she owns this code' };
    case 'BreakGlassBody':
      return { justification: 'customers are down' };
    case 'WithdrawBody':
      return { reason: 'reverted upstream' };
    case 'RecoveredBody':
      return { pipelineRunId: 'run-7790' };
    case 'EscalationId':
    case 'IdempotencyKey':
      throw new Error(`${schemaName} is not a body`);
  }
}

/** What a generated request carries as its body, and what the route's handler would be given. */
interface SentBody {
  label: string;
  headers: Record<string, string>;
  payload?: string;
  /**
   * What the handler sees: a decoded value, `none` for no body at all, or `refused` when Fastify
   * refuses it before any handler (wrong media type, malformed JSON, too large).
   */
  seen: { as: 'json' | 'form' | 'text'; value: unknown } | { as: 'none' } | { as: 'refused' };
}

/** Form fields as @fastify/formbody decodes them: a repeated key becomes an array. */
function formFields(payload: string): Record<string, string | string[]> {
  const fields: Record<string, string | string[]> = {};
  for (const [key, value] of new URLSearchParams(payload)) {
    const before = fields[key];
    fields[key] = before === undefined ? value : Array.isArray(before) ? [...before, value] : [before, value];
  }
  return fields;
}

function flatForm(value: Json): string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return String(value);
  return new URLSearchParams(Object.entries(value).map(([key, item]) => [key, typeof item === 'string' ? item : JSON.stringify(item)])).toString();
}

function jsonSeen(payload: string): SentBody['seen'] {
  try {
    // RFC 8259 lets a parser ignore a leading byte order mark, and Fastify's does.
    return { as: 'json', value: JSON.parse(payload.replace(/^\ufeff/, '')) };
  } catch {
    return { as: 'refused' };
  }
}

const jsonContentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'Application/JSON',
  'application/json;charset=UTF-8',
  // RFC 8259 defines no charset for JSON: a recipient ignores it, so these still read as JSON.
  'application/json; charset=garbage',
  'application/json; charset=utf-16',
  'application/json; charset="\\"',
  'application/json; charset=',
);

const otherContentType = fc.oneof(
  fc.constantFrom('application/xml', 'text/xml', 'text/html', 'multipart/form-data; boundary=x', 'application/octet-stream', 'application/vnd.api+json', 'application/jsonx', 'json', ';;;', '/', 'application/', '*/*'),
  fc.stringMatching(/^[\x21-\x7e]{1,40}$/).filter((type) => !/json|text\/plain|urlencoded/i.test(type)),
);

/**
 * Bodies for a route: the valid body mutated, random JSON, the valid body in the wrong media type,
 * malformed JSON, lying lengths, over-large and deeply nested payloads, and none at all.
 */
function bodyArbitrary(valid: Json): fc.Arbitrary<SentBody> {
  const validText = JSON.stringify(valid);
  const jsonBody = (label: string, value: fc.Arbitrary<Json>) =>
    fc.tuple(value, jsonContentType).map(([item, contentType]): SentBody => {
      const payload = JSON.stringify(item);
      return { label: `${label} as ${contentType}`, headers: { 'content-type': contentType }, payload, seen: { as: 'json', value: JSON.parse(payload) } };
    });
  return fc.oneof(
    { weight: 6, arbitrary: jsonBody('mutated body', mutations.map((ms) => mutated(valid, ms))) },
    { weight: 2, arbitrary: jsonBody('random JSON', fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>) },
    {
      weight: 2,
      arbitrary: fc.constantFrom<SentBody>(
        { label: 'JSON null', headers: { 'content-type': 'application/json' }, payload: 'null', seen: { as: 'json', value: null } },
        { label: 'JSON array', headers: { 'content-type': 'application/json' }, payload: `[${validText}]`, seen: { as: 'json', value: [valid] } },
        { label: 'JSON string', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(validText), seen: { as: 'json', value: validText } },
        { label: 'JSON number', headers: { 'content-type': 'application/json' }, payload: '0', seen: { as: 'json', value: 0 } },
        { label: 'no body at all', headers: {}, seen: { as: 'none' } },
      ),
    },
    {
      weight: 3,
      arbitrary: fc.constantFrom<SentBody>(
        // The valid body in a media type the JSON routes do not take: it must be refused, not read.
        { label: 'valid body, form-encoded', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: flatForm(valid), seen: { as: 'form', value: formFields(flatForm(valid)) } },
        { label: 'empty form', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: '', seen: { as: 'form', value: {} } },
        { label: 'valid body as text/plain', headers: { 'content-type': 'text/plain' }, payload: validText, seen: { as: 'text', value: validText } },
        { label: 'empty text/plain', headers: { 'content-type': 'text/plain; charset=utf-8' }, payload: '', seen: { as: 'text', value: '' } },
        { label: 'valid body without a content type', headers: {}, payload: validText, seen: { as: 'refused' } },
        { label: 'valid body as XML', headers: { 'content-type': 'application/xml' }, payload: `<body>${validText}</body>`, seen: { as: 'refused' } },
      ),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(otherContentType, fc.constantFrom(validText, '', '<a/>', 'a=b')).map(([contentType, payload]): SentBody => ({ label: `body as ${contentType}`, headers: { 'content-type': contentType }, payload, seen: { as: 'refused' } })),
    },
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          fc.nat(validText.length - 1).map((cut) => validText.slice(0, cut)),
          fc.constantFrom('{', '{"a":', `${validText}}`, `${validText}${validText}`, `\ufeff${validText}`, '{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}', 'NaN', "{'a':1}", '{"a":1,}', '[1,]', '\u0000'),
          fc.string({ maxLength: 40 }),
        )
        .map((payload): SentBody => ({ label: 'malformed JSON', headers: { 'content-type': 'application/json' }, payload, seen: payload === '' ? { as: 'refused' } : jsonSeen(payload) })),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: -3, max: 3 }).filter((delta) => delta !== 0).map((delta): SentBody => ({ label: `Content-Length off by ${delta}`, headers: { 'content-type': 'application/json', 'content-length': String(validText.length + delta) }, payload: validText, seen: { as: 'refused' } })),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom('json', 'form', 'text', 'none').map((kind): SentBody => {
        // Just over the 1 MiB body limit: the shim must refuse it with 413 before reading it.
        const huge = 'x'.repeat(1_048_576 + 16);
        if (kind === 'form') return { label: 'over 1 MiB form', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `comment=${huge}`, seen: { as: 'refused' } };
        if (kind === 'text') return { label: 'over 1 MiB text', headers: { 'content-type': 'text/plain' }, payload: huge, seen: { as: 'refused' } };
        if (kind === 'none') return { label: 'over 1 MiB without content type', headers: {}, payload: huge, seen: { as: 'refused' } };
        return { label: 'over 1 MiB JSON string', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ ...(valid as object), comment: huge }), seen: { as: 'refused' } };
      }),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.integer({ min: 100_000, max: 250_000 }), fc.constantFrom<Json>(0, 'x', null, {})).map(([length, item]): SentBody => {
        // Long arrays within the body limit: the schemas must reject them without falling over.
        const value = { ...(valid as object), comment: Array.from({ length }, () => item), changedFiles: [] };
        const payload = JSON.stringify(value);
        return { label: `array of ${length}`, headers: { 'content-type': 'application/json' }, payload, seen: { as: 'json', value } };
      }),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(fc.integer({ min: 1_000, max: 60_000 }), fc.constantFrom('array', 'object', 'mixed'), fc.boolean()).map(([depth, style, atRoot]): SentBody => {
        const nested = deeplyNestedJson(depth, style as 'array' | 'object' | 'mixed');
        const payload = atRoot ? nested : `{"decision":"approve","comment":${nested},"reason":${nested}}`;
        return { label: `nested ${depth} deep (${style}${atRoot ? ', at the root' : ''})`, headers: { 'content-type': 'application/json' }, payload, seen: jsonSeen(payload) };
      }),
    },
  );
}

const authorization: fc.Arbitrary<string | undefined> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(undefined) },
  { weight: 6, arbitrary: fc.constantFrom(`Bearer ${tokens.ci}`, `Bearer ${tokens.alice}`, `Bearer ${tokens.root}`) },
  { weight: 1, arbitrary: fc.stringMatching(/^[\x21-\x7e]{0,80}$/).map((token) => `Bearer ${token}`) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('Bearer', 'Bearer ', 'Basic YWxpY2U6eA==', `bearer   ${tokens.alice}   `, `Bearer ${tokens.alice}x`, `Bearer ${tokens.alice} ${tokens.ci}`, 'Bearer a.b.c', `Bearer ${'A'.repeat(8000)}`, tokens.alice),
  },
);

const queryString = fc.oneof(
  { weight: 4, arbitrary: fc.constant('') },
  {
    weight: 2,
    arbitrary: fc.constantFrom('?', '?%zz', '?%', '?a[b][c]=1', '?__proto__[polluted]=1&constructor[prototype][polluted]=1', `?${'a=1&'.repeat(3000)}`, '?decision=approve', '?=&=&&', '?%E2%82', `?x=${'%41'.repeat(2000)}`),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9%&=[\]._~!$'()*+,;:@/?-]{0,60}$/).map((query) => `?${query}`) },
);

const garbagePathSegment = fc.oneof(
  fc.string({ maxLength: 30 }).map(encodeURIComponent),
  fc.constantFrom('', '%zz', '%', '%C0%AF', '%00', '..%2F..%2Fetc', 'escalation-%2F..%2F', 'escalation-never-raised', `escalation-${'a'.repeat(201)}`, 'escalation-a%20b', '%E2%82', 'ESCALATION-x', '.', '..'),
  fc.integer({ min: 2049, max: 2300 }).map((length) => 'x'.repeat(length)),
);

const idempotencyKey = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.stringMatching(/^[\x20-\x7e]{0,260}$/) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'x'.repeat(201), 'k\u00e9y', 'a b') },
);

/** One generated request against the shim. */
interface BadRequest {
  /** The operation that serves this method and path; `undefined` when none does. */
  served: string | undefined;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: SentBody;
  /** The escalation id or action token in the path, decoded. */
  pathValue: string | undefined;
}

function routeNamed(operationId: string | undefined): Route | undefined {
  return routes.find((route) => route.operationId === operationId);
}

/** The route Fastify gives a request to: by method and by the path as URL parsing normalises it (`/a/./b` is `/a/b`). */
function servedBy(method: string, url: string): Route | undefined {
  const { pathname } = new URL(`http://shim.test${url}`);
  return routes.find((route) => route.method === method && new RegExp(`^${route.path.replace(/\{\w+\}/g, '[^/]*')}$`).test(pathname));
}

function describeRequest(request: BadRequest): string {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name, value.length > 80 ? `${value.slice(0, 80)}…(${value.length})` : value]));
  return `${request.method} ${request.url.slice(0, 160)}${request.url.length > 160 ? '…' : ''} ${JSON.stringify(headers)} body: ${request.body.label} ${(request.body.payload ?? '').slice(0, 120)}`;
}

function decodedOrRaw(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

// ---------------------------------------------------------------------------------------------
// What a right answer to bad input looks like
// ---------------------------------------------------------------------------------------------

interface Answer {
  status: number;
  contentType: string;
  headers: Record<string, string | string[] | number | undefined>;
  text: string;
}

function answerOf(response: LightMyRequestResponse): Answer {
  return { status: response.statusCode, contentType: String(response.headers['content-type'] ?? ''), headers: response.headers, text: response.body };
}

function resolved(response: OpenApiResponse | { $ref: string }): OpenApiResponse {
  return '$ref' in response ? document.components.responses[response.$ref.split('/').at(-1)!]! : response;
}

const pageStatuses = new Set([400, 403, 404, 409, 410]);

/**
 * A refusal is the JSON error body ({ error: { code, message, details } }); on a bearer-token
 * route its status and code are the ones the OpenAPI document lists for the operation. The email
 * action links answer a person's browser, so their own refusals are an HTML page with the
 * headers that keep the token out of caches and referrers.
 */
function expectRefusal(route: Route | undefined, answer: Answer, context: string): void {
  expect(answer.status, context).toBeGreaterThanOrEqual(400);
  expect(answer.status, context).toBeLessThan(500);
  if (route?.operationId.startsWith('action') && answer.contentType.startsWith('text/html')) {
    expect(pageStatuses.has(answer.status), `${context}: page status ${answer.status}`).toBe(true);
    for (const [name, value] of Object.entries(actionPageHeaders)) expect(answer.headers[name], `${context}: ${name}`).toBe(value);
    expect(answer.text, context).toMatch(/^<!doctype html>/);
    return;
  }
  expect(answer.contentType, `${context}: ${answer.text.slice(0, 200)}`).toMatch(/^application\/json/);
  const parsed = errorBodySchema.safeParse(JSON.parse(answer.text));
  expect(parsed.error, `${context}: ${answer.text.slice(0, 300)}`).toBeUndefined();
  if (route?.bearer) {
    const documented = route.operation.responses[String(answer.status)];
    expect(documented, `${context}: ${route.operationId} answered ${answer.status}, which its document does not list`).toBeDefined();
    expect(resolved(documented!).description, `${context}: ${answer.status} does not list ${parsed.data!.error.code}`).toContain(`\`${parsed.data!.error.code}\``);
  }
}

// ---------------------------------------------------------------------------------------------
// The shim under fire
// ---------------------------------------------------------------------------------------------

describe('the HTTP shim under bad input', () => {
  let env: EscalatorEnv;
  let shim: FastifyInstance;
  let baseUrl: string;
  let failure: GateFailureInput;
  let liveId: string;
  /** Email action tokens: the ones that decide are valid, the others are each wrong in one way. */
  let actionTokens: { valid: string[]; invalid: string[] };
  let before: Awaited<ReturnType<typeof escalationSnapshot>>;

  beforeAll(async () => {
    env = await startEscalator(sequentialPolicy(), { actionSecret });
    shim = buildShim({
      escalator: env.escalator,
      tokens: new TokenRegistry([
        { identity: 'ci', scopes: ['raise'], token: tokens.ci },
        // alice is the reviewer the live escalation awaits: with her token, only the input stands between a request and a decision.
        { identity: 'alice', scopes: ['decide'], token: tokens.alice },
        { identity: 'erin', scopes: ['admin'], token: tokens.root },
      ]),
      checkTemporal: async () => void (await env.connection.healthService.check({})),
      recordRefusal: (refusal) => env.store.recordRefusal(refusal),
      // Far above the barrage, so that every request reaches the validation it is about.
      rateLimitPerMinute: 1_000_000,
      slack: { signingSecret: slackSecret, personFor: (id) => slackPeople[id], recordRefusal: (refusal) => env.store.recordRefusal(refusal) },
      actions: { secret: actionSecret, consume: (id, expires) => env.store.consumeActionToken(id, expires), used: (id) => env.store.actionTokenUsed(id), recordRefusal: (refusal) => env.store.recordRefusal(refusal) },
    });
    await shim.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(shim.server.address() as AddressInfo).port}`;

    failure = gateFailure();
    ({ escalationId: liveId } = await env.escalator.raise(failure));
    // Settled: waiting on alice, notified, nothing pending, and no event added since the last look.
    await settle(env.escalator, liveId, (view) => view.status === 'waiting' && view.timeline.some((entry) => entry.event === 'notified'));
    before = await escalationSnapshot();
    expect(before.view.awaitedReviewers).toEqual(['alice']);


    const grant = { reviewer: 'alice', escalationId: liveId, step: 0 };
    const valid = [await createActionToken(actionSecret, { ...grant, decision: 'approve' }, { ttlSeconds: 3600 }), await createActionToken(actionSecret, { ...grant, decision: 'reject' }, { ttlSeconds: 3600 })];
    actionTokens = {
      valid,
      invalid: [
        await createActionToken(actionSecret, { ...grant, decision: 'approve' }, { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) }),
        await createActionToken(actionSecret, { ...grant, step: 1, decision: 'approve' }, { ttlSeconds: 3600 }),
        await createActionToken(actionSecret, { ...grant, reviewer: 'carol', decision: 'approve' }, { ttlSeconds: 3600 }),
        await createActionToken(actionSecret, { ...grant, escalationId: 'escalation-never-raised', decision: 'approve' }, { ttlSeconds: 3600 }),
        await createActionToken('another-secret-0123456789abcdef-0123456', { ...grant, decision: 'approve' }, { ttlSeconds: 3600 }),
        valid[0]!.split('.').slice(0, 2).join('.'),
        `${valid[0]!.split('.')[0]}.e30.${valid[0]!.split('.')[2]}`,
      ],
    };
  });

  afterAll(async () => {
    await shim?.close();
    await env?.close();
  });

  async function escalationSnapshot() {
    const [view, events, decisions] = await Promise.all([env.escalator.status(liveId), recordedEvents(env.escalator, liveId), env.store.decisions(liveId)]);
    return { view, events, decisions };
  }

  /** The first request after which the escalation had changed: a changed escalation stays changed, so shrinking cannot find it. */
  let firstChange: string | undefined;

  /** The escalation exactly as before the barrage: same state, not one event more, nothing decided. */
  async function expectUnchanged(context: string): Promise<void> {
    const now = await escalationSnapshot();
    if (!isDeepStrictEqual(now, before)) firstChange ??= context;
    const changedBy = `${context}; first changed by ${firstChange}`;
    expect(now.events, changedBy).toBe(before.events);
    expect(now.view, changedBy).toEqual(before.view);
    expect(now.decisions, changedBy).toEqual([]);
  }

  function signed(body: string, at = Math.floor(Date.now() / 1000)): Record<string, string> {
    const timestamp = String(at);
    return { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': `v0=${createHmac('sha256', slackSecret).update(`v0:${timestamp}:${body}`).digest('hex')}` };
  }

  function validClick(): Json {
    return { type: 'block_actions', user: { id: 'U0ALICE' }, actions: [{ action_id: 'escalator_approve', value: JSON.stringify({ escalationId: liveId }), action_ts: '1790000000.000100' }] };
  }

  /** True when the request is good input that may act on the live escalation; those are not this test's business. */
  async function mayAct(request: BadRequest): Promise<boolean> {
    const { body } = request;
    const route = routeNamed(request.served);
    if (route?.method !== 'POST') return false;
    if (route.operationId === 'actionDecide') {
      const token = request.pathValue ?? '';
      if (!(await verifyActionToken(actionSecret, token)).ok) return false;
      if (body.seen.as === 'none') return true;
      return (body.seen.as === 'json' || body.seen.as === 'form') && actionFormSchema.safeParse(body.seen.value).success;
    }
    if (route.operationId === 'slackInteraction') {
      if (body.seen.as !== 'form' || typeof body.payload !== 'string' || !verifySlackRequest(slackSecret, request.headers, body.payload).valid) return false;
      const payload = new URLSearchParams(body.payload).get('payload');
      let click: { type?: unknown; actions?: Record<number, { action_id?: unknown; value?: unknown } | undefined> } | null;
      try {
        click = JSON.parse(payload ?? '');
      } catch {
        return false;
      }
      // As leniently as the shim reads it: `actions` may be any object with a "0" (Slack's signature vouches for the payload).
      const action = click?.actions?.[0];
      let target: unknown;
      try {
        target = typeof action?.value === 'string' ? JSON.parse(action.value)?.escalationId : undefined;
      } catch {
        return false;
      }
      return click?.type === 'block_actions' && typeof action?.action_id === 'string' && action.action_id.startsWith('escalator_') && target === liveId;
    }
    if (!route.body) return false;
    // Without a token the shim knows, nothing gets past authentication: those requests are fired whatever their body.
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (!Object.values(tokens).includes(bearer ?? '')) return false;
    const idempotencyHeader = request.headers['idempotency-key'];
    if (idempotencyHeader !== undefined && route.idempotent && !idempotencyKeyHeaderSchema.safeParse(idempotencyHeader.trim()).success) return false;
    // No body reads as an empty object on the routes whose body may be left out.
    if (body.seen.as === 'none') return !route.body.required;
    // A JSON route reads JSON only: a form or text body is bad input however well-formed its fields.
    return body.seen.as === 'json' && route.body.schema.safeParse(body.seen.value).success;
  }

  function requestArbitrary(): fc.Arbitrary<BadRequest> {
    const liveOrGarbage = fc.oneof({ weight: 5, arbitrary: fc.constant(encodeURIComponent(liveId)) }, { weight: 2, arbitrary: garbagePathSegment });
    const actionToken = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...actionTokens.valid) },
      { weight: 2, arbitrary: fc.constantFrom(...actionTokens.invalid) },
      {
        weight: 2,
        arbitrary: fc.tuple(fc.constantFrom(...actionTokens.valid), fc.nat(), fc.constantFrom('flip', 'drop', 'insert'), fc.constantFrom('A', '-', '_', '.', '%2E', '0')).map(([token, at, how, character]) => {
          const index = at % token.length;
          const changed = how === 'drop' ? token.slice(0, index) + token.slice(index + 1) : how === 'insert' ? token.slice(0, index) + character + token.slice(index) : token.slice(0, index) + (token[index] === 'A' ? 'B' : 'A') + token.slice(index + 1);
          return encodeURIComponent(decodedOrRaw(changed));
        }),
      },
      { weight: 2, arbitrary: garbagePathSegment },
    );
    // The routes that act are where bad input could do harm: most requests go there, with a token allowed to act.
    const route = fc.oneof(...routes.map((candidate) => ({ weight: candidate.method === 'POST' ? 4 : 1, arbitrary: fc.constant(candidate) })));
    return route.chain((route) => {
      const pathValue = route.path.includes('{token}') ? actionToken : route.path.includes('{id}') ? liveOrGarbage : fc.constant(undefined);
      const valid: Json = route.body ? validBodyFor(route.body.schemaName, failure) : route.operationId === 'actionDecide' ? { comment: 'checked it' } : {};
      const body: fc.Arbitrary<SentBody> =
        route.operationId === 'slackInteraction'
          ? slackBody()
          : route.operationId === 'actionDecide'
            ? fc.oneof({ weight: 3, arbitrary: bodyArbitrary(valid) }, { weight: 2, arbitrary: actionFormBody() })
            : bodyArbitrary(valid);
      const scope = route.operation.security.flatMap((requirement) => requirement.bearerAuth ?? []);
      const entitled = scope.includes('decide') ? [tokens.alice, tokens.root] : scope.includes('raise') ? [tokens.ci, tokens.root] : [tokens.alice, tokens.ci, tokens.root];
      const auth = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...entitled).map((token) => `Bearer ${token}`) }, { weight: 1, arbitrary: authorization });
      return fc.record({ pathValue, body, authorization: auth, query: queryString, idempotencyKey, method: fc.oneof({ weight: 9, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') }) }).map(
        ({ pathValue: segment, body: sent, authorization: auth, query, idempotencyKey: key, method }): BadRequest => {
          const path = route.path.replace('{id}', segment ?? '').replace('{token}', segment ?? '');
          const headers: Record<string, string> = { ...sent.headers, ...(auth !== undefined ? { authorization: auth } : {}), ...(key !== undefined ? { 'idempotency-key': key } : {}) };
          return { served: servedBy(method, `${path}${query}`)?.operationId, method, url: `${path}${query}`, headers, body: sent, pathValue: segment === undefined ? undefined : decodedOrRaw(segment) };
        },
      );
    });
  }

  /** Form bodies for the email action link's POST: comments of every size and shape. */
  function actionFormBody(): fc.Arbitrary<SentBody> {
    return fc
      .oneof(
        fc.string({ maxLength: 60 }).map((comment) => `comment=${encodeURIComponent(comment)}`),
        fc.constantFrom(`comment=${'x'.repeat(4001)}`, 'comment=a&comment=b', 'comment[]=a', 'comment[x]=1', '__proto__=x', 'comment', '&&&', '%zz=1', `comment=${'%'.repeat(10)}`),
      )
      .map((payload): SentBody => ({ label: 'action form', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload, seen: { as: 'form', value: formFields(payload) } }));
  }

  /** Slack requests: mutated clicks, signed or not, in every wrong envelope. */
  function slackBody(): fc.Arbitrary<SentBody> {
    const trickyValues = fc.constantFrom<Json>(
      JSON.stringify({ escalationId: '' }),
      JSON.stringify({ escalationId: 'x'.repeat(5000) }),
      JSON.stringify({ escalationId: 'escalation-never-raised' }),
      JSON.stringify({ escalationId: '../../etc' }),
      JSON.stringify({ escalationId: ' ' }),
      JSON.stringify({ escalationId: 'escalation-\u0000' }),
      JSON.stringify({ escalationId: 42 }),
      'escalator_approve',
      'escalator_reject',
      'escalator_acknowledge',
      'U0ALICE',
      'U0CAROL',
      'block_actions',
    );
    const click = fc.array(fc.record({ kind: mutation.map((m) => m.kind), pick: fc.nat(), replacement: fc.oneof(trickyValues, jsonReplacement), key: fc.string({ maxLength: 8 }) }), { minLength: 1, maxLength: 3 }).map((ms) => mutated(validClick(), ms));
    const form = fc.oneof(
      { weight: 5, arbitrary: click.map((value) => `payload=${encodeURIComponent(JSON.stringify(value))}`) },
      { weight: 1, arbitrary: fc.constantFrom('', 'payload=', 'payload=%7B', `payload=${encodeURIComponent(deeplyNestedJson(20_000, 'mixed'))}`, 'payload=null', 'payload=1', 'foo=bar', `payload=${'x'.repeat(1_048_600)}`) },
      { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    );
    return fc.tuple(form, fc.constantFrom('signed', 'signed', 'signed', 'unsigned', 'stale', 'wrong-signature', 'signed-other-body', 'future'), fc.constantFrom('form', 'form', 'form', 'json', 'text', 'none', 'garbage')).map(([payload, signing, envelope]): SentBody => {
      const now = Math.floor(Date.now() / 1000);
      const signature =
        signing === 'signed' ? signed(payload) : signing === 'stale' ? signed(payload, now - 600) : signing === 'future' ? signed(payload, now + 600) : signing === 'wrong-signature' ? { ...signed(payload), 'x-slack-signature': 'v0=00' } : signing === 'signed-other-body' ? signed(`${payload}x`) : {};
      const contentType = { form: 'application/x-www-form-urlencoded', json: 'application/json', text: 'text/plain', none: undefined, garbage: 'application/x-www-form-urlencodedx' }[envelope];
      const seen: SentBody['seen'] = payload.length > 1_048_576 ? { as: 'refused' } : envelope === 'form' ? { as: 'form', value: payload } : { as: 'refused' };
      return { label: `Slack ${signing} ${envelope}`, headers: { ...signature, ...(contentType ? { 'content-type': contentType } : {}) }, payload, seen };
    });
  }

  async function send(request: BadRequest): Promise<Answer> {
    return answerOf(await shim.inject({ method: request.method as 'GET', url: request.url, headers: request.headers, ...(request.body.payload !== undefined ? { payload: request.body.payload } : {}) }));
  }

  it('fires at every route Fastify serves, each of which the OpenAPI document lists', () => {
    expect(registeredRoutes(shim)).toEqual(routes.map((route) => `${route.method} ${route.path}`).sort());
    for (const route of routes) if (route.body) expect(validBodyFor(route.body.schemaName, failure), route.operationId).toBeDefined();
  });

  it('answers every route with a documented refusal and never a 5xx, and changes nothing, whatever the body, media type, path, query or token', async () => {
    await fc.assert(
      fc.asyncProperty(requestArbitrary(), async (request) => {
        fc.pre(!(await mayAct(request)));
        const context = describeRequest(request);
        const answer = await send(request);
        // Looked at before the answer is judged, so that the request that changed the escalation is the one named.
        const unchanged = expectUnchanged(context);
        await unchanged.catch(() => undefined);
        expect(answer.status, `${context}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
        const route = routeNamed(request.served);
        if (answer.status >= 400) {
          expectRefusal(route, answer, context);
        } else {
          // Success is only for reading: pages, documents, an escalation, and Slack's "nothing was recorded" messages.
          expect(route, `${context} answered ${answer.status} without a route`).toBeDefined();
          const { operationId, method } = route!;
          expect(method === 'POST' && operationId !== 'slackInteraction', `${context} answered ${answer.status}`).toBe(false);
          if (operationId === 'slackInteraction') expect(JSON.parse(answer.text).text, context).not.toMatch(/^(Recorded|Acknowledged)/);
        }
        await unchanged;
      }),
      { numRuns: 400 },
    );
  });

  it('answers a signed Slack click on a button naming no escalation it knows without a 5xx, and records nothing', async () => {
    const target = fc.oneof(
      fc.string({ maxLength: 40 }),
      garbagePathSegment.map(decodedOrRaw),
      fc.constantFrom('', ' ', 'escalation-', `escalation-${'k'.repeat(250)}`, 'x'.repeat(5000), 'escalation-a\u0000b', 'escalation-a/../b', '\ud800', `${liveId} `, liveId.toUpperCase()),
    );
    await fc.assert(
      fc.asyncProperty(target, fc.constantFrom('escalator_approve', 'escalator_reject', 'escalator_acknowledge'), fc.constantFrom('U0ALICE', 'U0CAROL'), async (escalationId, actionId, user) => {
        fc.pre(escalationId !== liveId);
        const click = { type: 'block_actions', user: { id: user }, actions: [{ action_id: actionId, value: JSON.stringify({ escalationId }), action_ts: '1790000000.000200' }] };
        const payload = `payload=${encodeURIComponent(JSON.stringify(click))}`;
        const answer = answerOf(await shim.inject({ method: 'POST', url: '/v1/slack/interactions', headers: { 'content-type': 'application/x-www-form-urlencoded', ...signed(payload) }, payload }));
        const context = `${actionId} by ${user} on ${JSON.stringify(escalationId.slice(0, 80))}: ${answer.status} ${answer.text.slice(0, 300)}`;
        expect(answer.status, context).toBeLessThan(500);
        if (answer.status >= 400) expectRefusal(routeNamed('slackInteraction'), answer, context);
        else expect(JSON.parse(answer.text), context).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/^No escalation /) });
        await expectUnchanged(context);
      }),
      { numRuns: 40 },
    );
  });

  it('answers paths outside the API with the JSON error shape', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.webPath(), fc.string({ maxLength: 40 }).map((text) => `/${encodeURIComponent(text)}`), fc.constantFrom('/', '/v1', '/v1/', '/v1/escalations', '/v1/escalations/', '/docs/', '//healthz', '/%zz', '/v1/actions/', '/openapi.json/x', `/${'x'.repeat(5000)}`)),
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
        authorization,
        async (path, method, auth) => {
          const url = path.startsWith('/') ? path : `/${path}`;
          fc.pre(servedBy(method, url) === undefined);
          const answer = answerOf(await shim.inject({ method: method as 'GET', url, headers: auth ? { authorization: auth } : {} }));
          expectRefusal(undefined, answer, `${method} ${url}`);
        },
      ),
      { numRuns: 100 },
    );
    await expectUnchanged('after the paths outside the API');
  });

  it('refuses the nastiest requests the same way over a real socket', async () => {
    const decisions = `${baseUrl}/v1/escalations/${encodeURIComponent(liveId)}/decisions`;
    const alice = { authorization: `Bearer ${tokens.alice}` };
    const ack = `${baseUrl}/v1/escalations/${encodeURIComponent(liveId)}/acknowledge`;
    const action = `${baseUrl}/v1/actions/${actionTokens.valid[0]}`;
    const cases: Array<[string, string, string, RequestInit]> = [
      ['a 2 MiB JSON body', 'decide', decisions, { method: 'POST', headers: { ...alice, 'content-type': 'application/json' }, body: JSON.stringify({ decision: 'approve', comment: 'x'.repeat(2 * 1_048_576) }) }],
      ['a body nested 100 000 deep', 'decide', decisions, { method: 'POST', headers: { ...alice, 'content-type': 'application/json' }, body: deeplyNestedJson(100_000, 'mixed') }],
      ['a comment nested 50 000 deep', 'decide', decisions, { method: 'POST', headers: { ...alice, 'content-type': 'application/json' }, body: `{"decision":"approve","comment":${deeplyNestedJson(50_000, 'object')}}` }],
      ['a valid decision form-encoded', 'decide', decisions, { method: 'POST', headers: { ...alice, 'content-type': 'application/x-www-form-urlencoded' }, body: 'decision=approve&comment=ok' }],
      ['a valid decision as text/plain', 'decide', decisions, { method: 'POST', headers: { ...alice, 'content-type': 'text/plain' }, body: '{"decision":"approve"}' }],
      ['a valid decision as XML', 'decide', decisions, { method: 'POST', headers: { ...alice, 'content-type': 'application/xml' }, body: '<decision>approve</decision>' }],
      ['a JSON null acknowledgement', 'acknowledge', ack, { method: 'POST', headers: { ...alice, 'content-type': 'application/json' }, body: 'null' }],
      ['an empty form acknowledgement', 'acknowledge', ack, { method: 'POST', headers: { ...alice, 'content-type': 'application/x-www-form-urlencoded' }, body: '' }],
      ['an empty form recovery report', 'reportRecovered', `${baseUrl}/v1/escalations/${encodeURIComponent(liveId)}/recovered`, { method: 'POST', headers: { authorization: `Bearer ${tokens.ci}`, 'content-type': 'application/x-www-form-urlencoded' }, body: '' }],
      ['a garbage charset on an invalid body', 'decide', decisions, { method: 'POST', headers: { ...alice, 'content-type': 'application/json; charset=garbage' }, body: '{"decision":"maybe"}' }],
      ['a 2 MiB body streamed without a length', 'raiseGateFailure', `${baseUrl}/v1/gate-failures`, { method: 'POST', headers: { authorization: `Bearer ${tokens.ci}`, 'content-type': 'application/json' }, body: streamOf(2 * 1_048_576), duplex: 'half' } as RequestInit],
      ['a 2 MiB Slack form', 'slackInteraction', `${baseUrl}/v1/slack/interactions`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `payload=${'x'.repeat(2 * 1_048_576)}` }],
      ['a 3000-character escalation id', 'getEscalation', `${baseUrl}/v1/escalations/${'x'.repeat(3000)}`, { headers: alice }],
      ['a 12 KiB bearer token', 'getEscalation', `${baseUrl}/v1/escalations/${encodeURIComponent(liveId)}`, { headers: { authorization: `Bearer ${'A'.repeat(12_000)}` } }],
      ['an action link posted with a 2 MiB comment', 'actionDecide', action, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `comment=${'x'.repeat(2 * 1_048_576)}` }],
      ['an action link posted with JSON null', 'actionDecide', action, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'null' }],
      ['an action link posted with XML', 'actionDecide', action, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<comment/>' }],
    ];
    for (const [why, operationId, url, init] of cases) {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
      const text = await response.text();
      const route = routes.find((candidate) => candidate.operationId === operationId);
      expectRefusal(route, { status: response.status, contentType: response.headers.get('content-type') ?? '', headers: Object.fromEntries(response.headers), text }, why);
      await expectUnchanged(why);
    }
  });

  it('answers malformed HTTP with the JSON error shape too', async () => {
    const host = new URL(baseUrl);
    const raw = [
      ['a space in the path', `GET /v1/escalations/escalation x HTTP/1.1\r\nHost: a\r\n\r\n`],
      ['a control character in a header', `GET /healthz HTTP/1.1\r\nHost: a\r\nX-Bad: a\u0001b\r\n\r\n`],
      ['a Content-Length that is not a number', `POST /v1/gate-failures HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: abc\r\n\r\n{}`],
      ['both Content-Length and chunked', `POST /v1/gate-failures HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}`],
      ['a 20 KiB header', `GET /healthz HTTP/1.1\r\nHost: a\r\nX-Huge: ${'x'.repeat(20_000)}\r\n\r\n`],
      ['a garbage request line', `\u0000\u0001GARBAGE\r\n\r\n`],
    ] as const;
    for (const [why, request] of raw) {
      const response = await rawHttp(host.hostname, Number(host.port), request);
      const [head = '', text = ''] = response.split('\r\n\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
      const contentType = /^content-type: *(.*)$/im.exec(head)?.[1] ?? '';
      expectRefusal(undefined, { status, contentType, headers: {}, text }, `${why}: ${response.slice(0, 300)}`);
    }
    await expectUnchanged('after malformed HTTP');
  });
});


function streamOf(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new TextEncoder().encode('x'.repeat(65_536));
  let sent = 0;
  return new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode('{"comment":"'));
    },
    pull(controller) {
      if (sent >= bytes) return controller.close();
      sent += chunk.length;
      controller.enqueue(chunk);
    },
  });
}

/** Sends raw bytes and reads what comes back until the server closes the connection (or 5 s pass). */
function rawHttp(host: string, port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const chunks: Buffer[] = [];
    socket.setTimeout(5_000, () => socket.destroy());
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', (error) => (chunks.length ? resolve(Buffer.concat(chunks).toString('latin1')) : reject(error)));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(Buffer.from(request, 'latin1'));
  });
}

// ---------------------------------------------------------------------------------------------
// The policy loader under fire
// ---------------------------------------------------------------------------------------------

const policyFile = 'team-policy.yaml';

const knownGoodPolicies: Record<string, string> = {
  sequential: sequentialPolicy({ rollbackUrl: 'https://deploy.example.com' }),
  parallel: parallelPolicy({ quietAllDay: true }),
  dynamic: dynamicPolicy(),
  example: readFileSync('policies/example.yaml', 'utf8'),
};

/**
 * Loads `text` and checks the contract: a policy whose references all resolve, or a `PolicyError`
 * for this file with at least one problem, each with a path and a message that the error's text
 * repeats; never another exception. A load that hung would run into the test's own timeout; how
 * fast loads are is the benchmark's business, not a test's.
 */
function expectPolicyOrPolicyError(text: string, context: string): ParsedPolicy | PolicyError {
  let outcome: ParsedPolicy | PolicyError;
  try {
    outcome = parsePolicy(text, policyFile);
  } catch (error) {
    expect(error, `${context}: ${String(error)}`).toBeInstanceOf(PolicyError);
    outcome = error as PolicyError;
  }
  if (outcome instanceof PolicyError) {
    expect(outcome.file, context).toBe(policyFile);
    expect(outcome.problems.length, context).toBeGreaterThan(0);
    for (const problem of outcome.problems) {
      expect(problem.path, context).toMatch(/\S/);
      expect(problem.message, context).toMatch(/\S/);
      expect(outcome.message, context).toContain(`${policyFile}${problem.line ? `:${problem.line}:${problem.column}` : ''} at ${problem.path}: `);
      if (problem.line !== undefined) expect(Number.isInteger(problem.line) && problem.line >= 1 && Number.isInteger(problem.column) && problem.column! >= 1, context).toBe(true);
    }
  } else {
    expect(outcome.version, context).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(danglingReferences(outcome.policy), context).toEqual([]);
  }
  return outcome;
}

/**
 * Names a valid policy uses that it does not define. Checked with own keys only, so a name such as
 * `constructor` cannot resolve through Object.prototype.
 */
function danglingReferences(policy: ParsedPolicy['policy']): string[] {
  const missing: string[] = [];
  const own = (record: object, key: string, what: string) => {
    if (!Object.hasOwn(record, key)) missing.push(`${what} ${key}`);
  };
  const source = (reviewers: string[] | string) => {
    if (Array.isArray(reviewers)) return reviewers.forEach((id) => own(policy.people, id, 'person'));
    const [kind, target] = reviewers.split(':') as [string, string];
    own(kind === 'pool' ? policy.pools : policy.rotations, target, kind);
  };
  for (const person of Object.values(policy.people)) if (person.backup) own(policy.people, person.backup, 'backup');
  for (const pool of Object.values(policy.pools)) pool.members.forEach((id) => own(policy.people, id, 'pool member'));
  for (const rotation of Object.values(policy.rotations)) rotation.members.forEach((id) => own(policy.people, id, 'rotation member'));
  for (const tier of Object.values(policy.tiers)) {
    source(tier.reviewers);
    if (tier.escalateTo) own(policy.tiers, tier.escalateTo, 'tier');
    if (tier.lead) own(policy.people, tier.lead, 'lead');
  }
  for (const gate of Object.values(policy.gates)) {
    gate.escalateTo.forEach((tier) => own(policy.tiers, tier, 'tier'));
    if (gate.model === 'parallel') source(gate.reviewers);
    if (gate.model === 'dynamic') source(gate.candidates);
    if (gate.model !== 'parallel') gate.chain?.forEach((step) => source(step.reviewers));
  }
  for (const rule of policy.rules) {
    if (rule.use.reviewers) source(rule.use.reviewers);
    rule.use.chain?.forEach((step) => source(step.reviewers));
    rule.use.escalateTo?.forEach((tier) => own(policy.tiers, tier, 'tier'));
  }
  if (policy.quietHours?.oncall) own(policy.rotations, policy.quietHours.oncall, 'rotation');
  if (policy.breakGlass?.notify) own(policy.tiers, policy.breakGlass.notify, 'tier');
  return missing;
}

/** Policy names the known-good policies use, so that a mutation can point one reference at another. */
const policyNames = fc.constantFrom<Json>('alice', 'bob', 'carol', 'lead', 'seniors', 'team-leads', 'primary', 'pool:perf-approvers', 'oncall:primary', 'oncall:primary-oncall', 'sequential', 'parallel', 'dynamic', 'block', 'rollback', '10m', 'constructor', 'pool:constructor', 'oncall:constructor', ['constructor'], { approve: 99 });

const policyMutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('delete', 'delete', 'replace', 'replace', 'retype', 'add-key', 'wrap-in-array', 'duplicate-into-array'),
  pick: fc.nat(),
  replacement: fc.oneof(policyNames, jsonReplacement),
  key: fc.oneof(fc.constantFrom('constructor', '__proto__', 'model', 'chain', 'reviewers', 'timeout', 'escalateTo', 'extra'), fc.string({ maxLength: 10 })),
});

/** Edits of the text itself, which break the YAML rather than the policy. */
const textEdit = fc.record({
  at: fc.nat(),
  kind: fc.constantFrom('delete-line', 'duplicate-line', 'indent-line', 'dedent-line', 'insert', 'truncate', 'swap-lines'),
  insert: fc.oneof(fc.constantFrom('&', '*a', '&a ', '!!binary ', '!!set ', '? ', '- ', ': ', '{', '[', ']', '}', '"', "'", '#', '|', '>', '---\n', '...\n', '%YAML 1.1\n', '<<: *a\n', '\t', '\u0000', '\ufeff', 'x: !!js/undefined\n'), fc.string({ maxLength: 12 })),
  other: fc.nat(),
});

function editedText(text: string, edit: { at: number; kind: string; insert: string; other: number }): string {
  const lines = text.split('\n');
  const line = edit.at % lines.length;
  switch (edit.kind) {
    case 'delete-line':
      return lines.filter((_, i) => i !== line).join('\n');
    case 'duplicate-line':
      return [...lines.slice(0, line + 1), lines[line]!, ...lines.slice(line + 1)].join('\n');
    case 'indent-line':
      return lines.map((l, i) => (i === line ? `  ${l}` : l)).join('\n');
    case 'dedent-line':
      return lines.map((l, i) => (i === line ? l.replace(/^ {1,2}/, '') : l)).join('\n');
    case 'swap-lines': {
      const other = edit.other % lines.length;
      const swapped = [...lines];
      [swapped[line], swapped[other]] = [lines[other]!, lines[line]!];
      return swapped.join('\n');
    }
    case 'truncate':
      return text.slice(0, edit.at % (text.length + 1));
    default: {
      const offset = edit.at % (text.length + 1);
      return text.slice(0, offset) + edit.insert + text.slice(offset);
    }
  }
}

describe('the policy loader under bad input', () => {
  it('loads each known-good policy, so that their mutations start from a valid document', () => {
    for (const [name, text] of Object.entries(knownGoodPolicies)) expect(expectPolicyOrPolicyError(text, name), name).not.toBeInstanceOf(PolicyError);
  });

  it('turns random text and random YAML values into a policy or a PolicyError, nothing else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({ unit: fc.constantFrom('a', '1', ' ', '\n', ':', '-', '[', ']', '{', '}', ',', '&', '*', '!', '?', '|', '>', '#', '"', "'", '%', '@', '`', '\t'), maxLength: 200 }),
          fc.jsonValue({ maxDepth: 4 }).map((value) => stringifyYaml(value)),
          fc.record({ version: fc.oneof(fc.constant(1), jsonReplacement), people: jsonReplacement, gates: jsonReplacement }, { requiredKeys: [] }).map((value) => stringifyYaml(value)),
        ),
        (text) => void expectPolicyOrPolicyError(text, JSON.stringify(text.slice(0, 200))),
      ),
      { numRuns: 300 },
    );
  });

  it('turns mutated known-good policies into a policy or a PolicyError naming the path of a problem', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(knownGoodPolicies)), fc.array(policyMutation, { minLength: 1, maxLength: 4 }), (name, edits) => {
        const document = mutated(parseYaml(knownGoodPolicies[name]!) as Json, edits);
        const text = stringifyYaml(document);
        void expectPolicyOrPolicyError(text, `${name} with ${JSON.stringify(edits).slice(0, 400)}`);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a reference to a name it does not define, even one every object has (constructor), naming its path', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(knownGoodPolicies)), fc.nat(), fc.constantFrom('constructor', '__proto__', 'toString', 'valueOf', 'nobody'), (name, pick, missing) => {
        const document = parseYaml(knownGoodPolicies[name]!) as Json;
        const references = referencePaths(document);
        const path = references[pick % references.length]!;
        const changed = changedAt(document, path, (node) => (typeof node === 'string' && /^(pool|oncall):/.test(node) ? `${node.split(':')[0]}:${missing}` : missing))!;
        const context = `${name}: ${formatPath(path)} → ${missing}`;
        const outcome = expectPolicyOrPolicyError(stringifyYaml(changed), context);
        expect(outcome, context).toBeInstanceOf(PolicyError);
        expect((outcome as PolicyError).problems.map((problem) => problem.path), context).toContainEqual(expect.stringMatching(new RegExp(`^${escapeRegExp(formatPath(path))}(\\[|\\.|$)`)));
      }),
      { numRuns: 150 },
    );
  });

  it('reads any text in a duration as a duration or a PolicyError naming it', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(knownGoodPolicies)), fc.nat(), fc.oneof(fc.constantFrom('', ' ', '0', '0s', '-1m', '1e400ms', 'Infinity', 'NaN', '1 y', '1.5h', '9'.repeat(101), 'ms', 'm1'), fc.string({ maxLength: 12 })), (name, pick, text) => {
        const document = parseYaml(knownGoodPolicies[name]!) as Json;
        const durations = pathsOf(document).filter((path) => /^(timeout|decideWithin|acknowledgeWithin)$/.test(String(path.at(-1))));
        const path = durations[pick % durations.length]!;
        const outcome = expectPolicyOrPolicyError(stringifyYaml(changedAt(document, path, () => text)), `${name}: ${formatPath(path)} = ${JSON.stringify(text)}`);
        if (outcome instanceof PolicyError) expect(outcome.problems.map((problem) => problem.path)).toContain(formatPath(path));
      }),
      { numRuns: 150 },
    );
  });

  it('turns known-good policies with broken YAML text into a policy or a PolicyError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(knownGoodPolicies)), fc.array(textEdit, { minLength: 1, maxLength: 3 }), (name, edits) => {
        const text = edits.reduce(editedText, knownGoodPolicies[name]!);
        void expectPolicyOrPolicyError(text, `${name} with ${JSON.stringify(edits)}`);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses deeply nested documents with a PolicyError, at the root or inside a policy', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 50, max: 20_000 }),
        fc.constantFrom('flow-sequence', 'flow-mapping', 'block-mapping', 'block-sequence'),
        fc.constantFrom('root', 'people.alice.handles', 'gates.build.chain', 'version'),
        (depth, style, where) => {
          const nested = nestedYaml(depth, style, where === 'root' ? 0 : 2);
          const text =
            where === 'root'
              ? nested
              : where === 'version'
                ? `version: ${nested.trimStart()}\npeople: { alice: { email: alice@example.com } }\ngates: {}`
                : where === 'people.alice.handles'
                  ? `version: 1\npeople:\n  alice:\n    email: alice@example.com\n    handles:${style.startsWith('block') ? '\n' : ' '}${nested.trimStart()}\ngates: {}`
                  : `version: 1\npeople: { alice: { email: alice@example.com } }\ngates:\n  build:\n    model: sequential\n    chain:${style.startsWith('block') ? '\n' : ' '}${nested.trimStart()}`;
          expect(expectPolicyOrPolicyError(text, `${depth} deep, ${style}, at ${where}`)).toBeInstanceOf(PolicyError);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses alias bombs ("billion laughs") with a PolicyError', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 2, max: 12 }), fc.constantFrom('root', 'handles', 'chain'), (fanOut, levels, where) => {
        const bomb = aliasBomb(fanOut, levels);
        const text =
          where === 'root'
            ? bomb
            : where === 'handles'
              ? `version: 1\nanchors:\n${indent(bomb, 2)}\npeople:\n  alice: { email: alice@example.com, handles: *l${levels - 1} }\ngates: {}`
              : `version: 1\nx:\n${indent(bomb, 2)}\npeople: { alice: { email: alice@example.com } }\ngates:\n  build: { model: sequential, chain: *l${levels - 1} }`;
        const outcome = expectPolicyOrPolicyError(text, `fan-out ${fanOut}, ${levels} levels, at ${where}`);
        // Small bombs expand to a few hundred nodes; they may be refused for what they are or for unknown keys, but refused.
        expect(outcome).toBeInstanceOf(PolicyError);
      }),
      { numRuns: 60 },
    );
  });

  it('loads or refuses huge documents', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_000, max: 5_000 }), fc.constantFrom('people', 'gates', 'long-strings', 'long-list'), fc.boolean(), (size, shape, broken) => {
        const text = hugePolicy(size, shape, broken);
        const outcome = expectPolicyOrPolicyError(text, `${size} ${shape}${broken ? ', broken' : ''}`);
        if (broken) expect(outcome).toBeInstanceOf(PolicyError);
      }),
      { numRuns: 8 },
    );
  });

  it('reads policy files the same way: the CLI loader and the worker refuse a bad file with a PolicyError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bad-policy-'));
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...Object.keys(knownGoodPolicies)), fc.array(policyMutation, { minLength: 1, maxLength: 3 }), fc.nat(10_000), async (name, edits, n) => {
          const file = join(dir, `policy-${n}.yaml`);
          await writeFile(file, stringifyYaml(mutated(parseYaml(knownGoodPolicies[name]!) as Json, edits)));
          for (const [loader, load] of [
            ['loadPolicyFile', () => loadPolicyFile(file)],
            ['PolicySource', async () => new PolicySource(file).current()],
          ] as const) {
            try {
              await load();
            } catch (error) {
              expect(error, `${loader}: ${String(error)}`).toBeInstanceOf(PolicyError);
              expect((error as PolicyError).file).toBe(file);
            }
          }
        }),
        { numRuns: 40 },
      );
      // A billion laughs from a file, to both loaders.
      const bombFile = join(dir, 'bomb.yaml');
      await writeFile(bombFile, aliasBomb(10, 10));
      await expect(loadPolicyFile(bombFile)).rejects.toBeInstanceOf(PolicyError);
      expect(() => new PolicySource(bombFile)).toThrow(PolicyError);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

/** Where a policy refers to a person, tier, pool or rotation by name: the values (never the keys) that name one it defines. */
function referencePaths(document: Json): JsonPath[] {
  const sections = document as Record<string, Record<string, unknown> | undefined>;
  const defined = new Set(['people', 'tiers', 'pools', 'rotations'].flatMap((section) => Object.keys(sections[section] ?? {})));
  return pathsOf(document).filter((path) => {
    const value = path.reduce<unknown>((node, key) => (node as Record<string | number, unknown>)[key], document);
    return typeof value === 'string' && (defined.has(value) || /^(pool|oncall):/.test(value)) && !path.some((key) => ['name', 'email', 'handles', 'roles', 'slack', 'when', 'codeowners'].includes(String(key)));
  });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .map((line) => ' '.repeat(spaces) + line)
    .join('\n');
}

/** `l0` is `fanOut` strings; each next level holds `fanOut` aliases of the one before: fanOut^levels strings in all. */
function aliasBomb(fanOut: number, levels: number): string {
  const lines = [`l0: &l0 [${Array.from({ length: fanOut }, () => '"lol"').join(', ')}]`];
  for (let level = 1; level < levels; level++) lines.push(`l${level}: &l${level} [${Array.from({ length: fanOut }, () => `*l${level - 1}`).join(', ')}]`);
  return lines.join('\n');
}

function nestedYaml(depth: number, style: string, baseIndent: number): string {
  switch (style) {
    case 'flow-sequence':
      return `${'['.repeat(depth)}x${']'.repeat(depth)}`;
    case 'flow-mapping':
      return `${'{a: '.repeat(depth)}x${'}'.repeat(depth)}`;
    // Block styles indent one space a level, so the text grows with the square of the depth: 1 200 levels is 700 KiB.
    case 'block-mapping':
      return Array.from({ length: Math.min(depth, 1_200) }, (_, i) => `${' '.repeat(baseIndent + i)}k${i}:`).join('\n') + ' x';
    default:
      return Array.from({ length: Math.min(depth, 1_200) }, (_, i) => `${' '.repeat(baseIndent + i)}-`).join('\n') + ' x';
  }
}

function hugePolicy(size: number, shape: string, broken: boolean): string {
  const person = (i: number) => `  p${i}: { email: p${i}@example.com${broken && i % 97 === 0 ? ', backup: nobody' : ''} }`;
  switch (shape) {
    case 'people':
      return `version: 1\npeople:\n${Array.from({ length: size }, (_, i) => person(i)).join('\n')}\ngates: {}`;
    case 'gates':
      return `version: 1\npeople:\n  alice: { email: alice@example.com }\ngates:\n${Array.from({ length: size }, (_, i) => `  g${i}: { model: sequential, chain: [{ reviewers: [${broken && i % 89 === 0 ? 'zed' : 'alice'}], timeout: 1h }] }`).join('\n')}`;
    case 'long-strings':
      return `version: 1\npeople:\n  alice: { name: "${'a'.repeat(size * 200)}", email: alice@example.com }\ngates:\n  "${'g'.repeat(size * 100)}": { model: sequential, chain: [{ reviewers: [alice], timeout: ${broken ? `"${'9'.repeat(size)}h"` : '1h'} }] }`;
    default:
      return `version: 1\npeople:\n  alice: { email: alice@example.com, handles: [${Array.from({ length: size * 20 }, (_, i) => (broken && i === size ? '[]' : `h${i}`)).join(', ')}] }\ngates: {}`;
  }
}
