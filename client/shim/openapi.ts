import { z } from 'zod';
import {
  errorBodySchema,
  type ErrorCode,
  escalationOutcomeSchema,
  escalationStatusSchema,
  fieldErrorSchema,
  healthSchema,
  raiseResultSchema,
  receiptSchema,
  deliveryAnswerSchema,
  deliveryResultSchema,
  outcomeAnswerSchema,
  recoveredAcceptedSchema,
  retryingActionSchema,
} from '../../domain/api-responses.js';
import { decisionSchema, routingScoreSchema, stageSchema } from '../../domain/escalation-schemas.js';
import { gateFailureSchema } from '../../domain/gate-failure.js';
import {
  acknowledgeBodySchema,
  breakGlassBodySchema,
  decisionBodySchema,
  escalationIdSchema,
  idempotencyKeyHeaderSchema,
  reassignBodySchema,
  recoveredBodySchema,
  withdrawBodySchema,
} from '../../domain/request-bodies.js';
import { timelineEntrySchema } from '../../domain/timeline-schema.js';
import { actionFormSchema } from './action-pages.js';
import { actionTokenSchema } from './action-token-format.js';
import { gateFiguresSchema, gateReportSchema, metricsReportSchema } from '../../domain/metrics/report.js';
import { gitHubDeliverySchema, gitLabDeliverySchema } from './routes-ci.js';
import type { Access, BodySpec, HeaderParameter, ShimRoute } from './routes.js';
import { errorCodesOf, reasonPhrases, whyCode } from './routes-errors.js';
import { shimRoutes } from './routes-table.js';
import { slackInteractionFormSchema } from './slack-interactions.js';
import { methodNotAllowedCode } from './unrouted-requests.js';
import type { JsonSchema, OpenApiDocument, OpenApiOperation, OpenApiParameter, OpenApiResponse } from './openapi-types.js';

// The OpenAPI document is generated from the route table (routes-table.ts): the operations from the
// routes, the schemas from the zod schemas below, which the routes name by identity.

/** What callers of the JSON API send, described as they may send it: fields with defaults are optional. */
export const requestSchemas = {
  GateFailure: gateFailureSchema,
  DecisionBody: decisionBodySchema,
  AcknowledgeBody: acknowledgeBodySchema,
  ReassignBody: reassignBodySchema,
  BreakGlassBody: breakGlassBodySchema,
  WithdrawBody: withdrawBodySchema,
  RecoveredBody: recoveredBodySchema,
  EscalationId: escalationIdSchema,
  IdempotencyKey: idempotencyKeyHeaderSchema,
  GitHubDelivery: gitHubDeliverySchema,
  GitLabDelivery: gitLabDeliverySchema,
} as const;

/** What a reviewer's browser (email action links) and Slack send: a token in the path, and forms. */
const formAndTokenSchemas = {
  ActionToken: actionTokenSchema,
  ActionForm: actionFormSchema,
  SlackInteractionForm: slackInteractionFormSchema,
} as const;

/** What the shim answers, described as it answers: defaults are filled in. */
export const responseSchemas = {
  RaiseResult: raiseResultSchema,
  RecoveredAccepted: recoveredAcceptedSchema,
  Health: healthSchema,
  ErrorBody: errorBodySchema,
  FieldError: fieldErrorSchema,
  Receipt: receiptSchema,
  MetricsReport: metricsReportSchema,
  GateReport: gateReportSchema,
  GateFigures: gateFiguresSchema,
  DeliveryAnswer: deliveryAnswerSchema,
  DeliveryResult: deliveryResultSchema,
  OutcomeAnswer: outcomeAnswerSchema,
  EscalationStatus: escalationStatusSchema,
  RetryingAction: retryingActionSchema,
  RecordedGateFailure: gateFailureSchema,
  EscalationOutcome: escalationOutcomeSchema,
  Decision: decisionSchema,
  Stage: stageSchema,
  RoutingScore: routingScoreSchema,
  TimelineEntry: timelineEntrySchema,
  EscalationId: escalationIdSchema,
} as const;

type RequestSchemaName = keyof typeof requestSchemas | keyof typeof formAndTokenSchemas;
type ResponseSchemaName = keyof typeof responseSchemas;
type SchemaName = RequestSchemaName | ResponseSchemaName;

const schemaDescriptions: Record<SchemaName, string> = {
  MetricsReport: 'Per-gate (or service, team, model) figures over a window, beside the window before.',
  GateReport: 'One row of the report: a group and mode, its figures now and in the window before, and its slowest escalations.',
  GateFigures: 'The figures of one group over one window; durations in milliseconds, shares as fractions 0..1.',
  GitHubDelivery: "A GitHub webhook delivery's payload, as GitHub documents the event named by `X-GitHub-Event`.",
  GitLabDelivery: "A GitLab webhook delivery's payload, as GitLab documents the event named by `X-Gitlab-Event`.",
  DeliveryAnswer: 'What a GitHub or GitLab delivery did, per thing it meant.',
  DeliveryResult: 'One thing a delivery meant: an escalation started, attached to, recovered, or nothing and why.',
  OutcomeAnswer: 'The outcome of an escalation once it ended; while it runs, who is asked and until when.',
  GateFailure: 'A failed CI/CD gate, as a pipeline reports it. Re-sending the same `idempotencyKey` never starts a second escalation.',
  DecisionBody: 'A decision; the reviewer is the identity of the bearer token, never a field of the body.',
  AcknowledgeBody: '"On it": stops the re-notification rounds. An empty object, or no body at all.',
  ReassignBody: 'Hands the escalation to another person of the policy; counts towards the escalation depth.',
  BreakGlassBody: 'An emergency override by a holder of a break-glass role; always flagged for review.',
  WithdrawBody: 'Ends a running escalation as `withdrawn`.',
  RecoveredBody: 'The gate re-ran green. An empty object, or no body at all.',
  EscalationId: 'Names an escalation: `escalation-` followed by the idempotency key of its gate failure.',
  IdempotencyKey: 'Makes a retried request count once: the same key from the same caller is applied once.',
  ActionToken: 'The token of an email action link, as the email gave it: a compact JWS (base64url header, payload and HS256 signature joined by dots). A token of this shape may still be tampered with, expired, used or foreign.',
  ActionForm: 'The form the confirmation page posts. A blank comment is no comment; whether one is required is for the escalation to say.',
  SlackInteractionForm: "The form Slack posts for a button click: `payload` holds the interaction as JSON (a `block_actions` payload), per Slack's interactivity docs.",
  RaiseResult: 'The escalation a gate failure started or attached to.',
  RecoveredAccepted: 'The recovery report was delivered to the escalation.',
  Health: 'The shim and Temporal both answer.',
  ErrorBody: 'The body of every error answer; `details` names each bad field where there are any.',
  FieldError: 'One problem with one field.',
  Receipt: 'The answer of an update: it was taken, and where the escalation stands now. The whole state is `EscalationStatus`.',
  EscalationStatus: 'The whole state of an escalation, with the side effects being retried for it while it runs.',
  RetryingAction: 'A side effect that failed and is being retried: which, which attempt, why the last one failed.',
  RecordedGateFailure: 'The gate failure as the escalation recorded it: defaults filled in.',
  EscalationOutcome: 'The single result of an ended escalation, as the outcome store keeps it.',
  Decision: 'A decision that counted.',
  Stage: 'Who holds the step: its own reviewers, their backup, or an escalation tier.',
  RoutingScore: "One candidate's routing score and the factors behind it (dynamic routing).",
  TimelineEntry: 'One event of the escalation. Every entry has `at` (ISO 8601) and `event`; the other properties depend on the event.',
};

export type { JsonSchema, OpenApiDocument, OpenApiOperation, OpenApiParameter, OpenApiResponse } from './openapi-types.js';

/**
 * The shim's API as an OpenAPI 3.1.0 document: an operation per route of the table, with the zod
 * schemas the shim validates requests with and the schemas of its answers. Deterministic: the same
 * code gives the same JSON, byte for byte, so it can be diffed and snapshotted.
 */
export function openApiDocument(routes: readonly ShimRoute[] = shimRoutes): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const sharedResponses: Record<string, OpenApiResponse> = { MethodNotAllowed: methodNotAllowedResponse() };
  for (const route of routes) {
    (paths[route.url.replace(/:(\w+)/g, '{$1}')] ??= {})[route.method === 'GET' ? 'get' : 'post'] = operationObject(route, sharedResponses);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Escalator HTTP API',
      version: '1.0.0',
      description: [
        'Raise failed CI/CD gates and act on their escalations: decide, acknowledge, reassign, break glass, withdraw, report recovery, read the state.',
        'Every route but those tagged Service needs `Authorization: Bearer <token>`; the acting identity is the token\'s, never a field of the body.',
        'Errors are `{ "error": { "code", "message", "details" } }` (see `ErrorBody`); `details` lists `{ path, message }` per bad field. A refused attempt never reaches the escalation\'s history; the shim records who tried, the code and the message in the outcome store.',
        'Every path listed here that serves GET serves HEAD too (the same status and headers, no body). A method a listed path does not serve is answered 405 with an `Allow` header, whatever the token (see `MethodNotAllowed`); a path not listed here is answered 404 (`NotFound`), whatever the token.',
      ].join('\n\n'),
    },
    tags: [
      { name: 'Gate failures', description: 'Raising escalations.' },
      { name: 'Escalations', description: 'Reading and acting on an escalation.' },
      { name: 'Service', description: 'Health, metrics, this description, and the routes email links and Slack call; no bearer token needed.' },
    ],
    paths,
    components: {
      schemas: componentSchemas(),
      responses: sorted(sharedResponses),
      parameters: {
        EscalationId: { name: 'id', in: 'path', required: true, description: 'The escalation id, as `RaiseResult.escalationId` gave it.', schema: schemaRef('EscalationId') },
        IdempotencyKey: { name: 'Idempotency-Key', in: 'header', required: false, description: 'Makes a retry count once: the same key from the same caller is applied once and answered with the same result.', schema: schemaRef('IdempotencyKey') },
        ActionToken: { name: 'token', in: 'path', required: true, description: 'The signed, expiring, single-use token of an email action link; the credential of the request.', schema: schemaRef('ActionToken') },
        SlackSignature: { name: 'X-Slack-Signature', in: 'header', required: true, description: "Slack's request signature: `v0=` and the hex HMAC-SHA256, under the app's signing secret, of `v0:<timestamp>:<body>`.", schema: { type: 'string', pattern: '^v0=[0-9a-f]{64}$' } },
        SlackRequestTimestamp: { name: 'X-Slack-Request-Timestamp', in: 'header', required: true, description: 'When Slack sent the request, in Unix seconds; a request more than 5 minutes away from now is refused.', schema: { type: 'string', pattern: '^[0-9]+$' } },
        GitHubSignature: { name: 'X-Hub-Signature-256', in: 'header', required: true, description: "GitHub's delivery signature: `sha256=` and the hex HMAC-SHA256 of the raw body under the app's webhook secret.", schema: { type: 'string', pattern: '^sha256=[0-9a-f]{64}$' } },
        GitHubEvent: { name: 'X-GitHub-Event', in: 'header', required: true, description: 'The event: `deployment_protection_rule`, `check_run` and `workflow_run` are acted on; any other is answered 204.', schema: { type: 'string' } },
        GitHubDelivery: { name: 'X-GitHub-Delivery', in: 'header', required: true, description: "The delivery's GUID; a delivery id taken before is refused as a replay.", schema: { type: 'string', pattern: '^[A-Za-z0-9-]{1,100}$' } },
        GitLabToken: { name: 'X-Gitlab-Token', in: 'header', required: true, description: "The webhook's secret token, compared in constant time.", schema: { type: 'string' } },
        GitLabEvent: { name: 'X-Gitlab-Event', in: 'header', required: true, description: '`Job Hook`, `Pipeline Hook` and `Deployment Hook` are read; any other is answered 204.', schema: { type: 'string' } },
        GitLabEventUuid: { name: 'X-Gitlab-Event-UUID', in: 'header', required: false, description: "The delivery's id (GitLab 15.x and later); an id taken before is refused as a replay.", schema: { type: 'string', pattern: '^[A-Za-z0-9-]{1,100}$' } },
      },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: [
            'A token from the tokens file, which maps it to an identity and scopes:',
            '- `raise`: raise gate failures, withdraw, report recovery',
            '- `decide`: decide, acknowledge, reassign, break glass (as the identity of the token)',
            '- `read`: per-gate metrics and the dashboard',
            '- `admin`: everything the other scopes allow',
            '',
            'Any known token may read an escalation. An operation lists the scopes it needs as alternative security requirements: either suffices.',
          ].join('\n'),
        },
      },
    },
  };
}

/**
 * The operation; an error answer with a single code the same everywhere goes to `sharedResponses`,
 * named by its code. Where an answer (an action page) and errors share a status, both are described.
 */
function operationObject(spec: ShimRoute, sharedResponses: Record<string, OpenApiResponse>): OpenApiOperation {
  const parameters = [
    ...[...spec.url.matchAll(/:(\w+)/g)].map(([, name]) => parameterRef(pathParameters[name!] ?? missing(`a component parameter for :${name}`))),
    ...(spec.idempotencyKey ? [parameterRef('IdempotencyKey')] : []),
    ...(spec.slackSignature ? [parameterRef('SlackSignature'), parameterRef('SlackRequestTimestamp')] : []),
    ...(spec.headers ?? []).map((name) => parameterRef(name)),
    ...(spec.query ? queryParameters(spec.query) : []),
  ];
  const responses: Record<string, OpenApiResponse | { $ref: string }> = {};
  for (const [status, answer] of Object.entries(spec.answers)) {
    const { schema } = answer;
    if (!schema) {
      responses[status] = { description: answer.description };
      continue;
    }
    const content = 'mediaType' in schema ? { [schema.mediaType]: { schema: schema.schema } } : { 'application/json': { schema: schemaRef(componentNamed(responseSchemas, schema)) } };
    responses[status] = { description: answer.description, content };
  }
  for (const [status, codes] of errorCodesOf(spec)) {
    const reason = (code: ErrorCode) => spec.reasons?.[code] ?? whyCode(code, spec.access);
    const codeList = [`\`error.code\` ${codes.length > 1 ? 'is one of' : 'is'}:`, ...codes.map((code) => `- \`${code}\`: ${reason(code)}`)].join('\n');
    const errorBody = { 'application/json': { schema: schemaRef('ErrorBody') } };
    const answer = responses[status] as OpenApiResponse | undefined;
    const [only] = codes;
    if (answer) {
      responses[status] = { description: `${answer.description}\n\nOr an error, refused before any page is made; ${codeList}`, content: { ...answer.content, ...errorBody } };
    } else if (codes.length === 1 && only !== 'Forbidden' && !spec.reasons?.[only!]) {
      sharedResponses[only!] = { description: `${reasonPhrases[status] ?? 'Error'}. ${codeList}`, content: errorBody };
      responses[status] = { $ref: `#/components/responses/${only}` };
    } else {
      responses[status] = { description: `${reasonPhrases[status] ?? 'Error'}. ${codeList}`, content: errorBody };
    }
  }
  responses['405'] = { $ref: '#/components/responses/MethodNotAllowed' };
  return {
    operationId: spec.operationId,
    tags: [spec.tag],
    summary: spec.summary,
    description: `${spec.description}\n\n${spec.credential ?? accessSentence(spec.access)}`,
    security: securityOf(spec.access),
    ...(parameters.length ? { parameters } : {}),
    ...(spec.body ? { requestBody: requestBodyOf(spec.body) } : {}),
    // Integer-like keys keep ascending order in every JavaScript engine, so the statuses come sorted.
    responses,
  };
}

/** Each key of a route's query schema, described by its own schema (input side: what a caller sends). */
function queryParameters(schema: z.ZodType): OpenApiParameter[] {
  const json = z.toJSONSchema(schema, { io: 'input' }) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: 'query', required: json.required?.includes(name) ?? false, description: String(description ?? name), schema: rest };
  });
}

function requestBodyOf(body: BodySpec): NonNullable<OpenApiOperation['requestBody']> {
  const [mediaType, name] = body.form ? ['application/x-www-form-urlencoded', 'A form'] : ['application/json', 'JSON'];
  return {
    description: body.required ? `${name}.` : `${name}; may be left out (no body and no Content-Type).`,
    required: body.required,
    content: { [mediaType]: { schema: schemaRef(componentNamed({ ...requestSchemas, ...formAndTokenSchemas }, body.schema)) } },
  };
}

/**
 * Answered on every listed path to a method it does not serve, before any token is looked at. It
 * belongs to the path rather than to one operation; OpenAPI 3.1 has no place for that, so every
 * operation refers to it.
 */
function methodNotAllowedResponse(): OpenApiResponse {
  return {
    description: `${reasonPhrases[405]}: the request's method is not one this path serves. \`error.code\` is:\n- \`${methodNotAllowedCode}\`: ${whyCode(methodNotAllowedCode, 'public')}`,
    headers: {
      Allow: { description: 'The methods this path serves, comma-separated: HEAD wherever GET is served.', schema: { type: 'string', examples: ['GET, HEAD'] } },
    },
    content: { 'application/json': { schema: schemaRef('ErrorBody') } },
  };
}

function accessSentence(access: Access): string {
  if (access === 'public') return 'Needs no token.';
  if (access === 'any-token') return 'Needs a bearer token, of any scope.';
  return `Needs a bearer token with the \`${access}\` or the \`admin\` scope.`;
}

function securityOf(access: Access): Array<Record<string, string[]>> {
  if (access === 'public') return [];
  if (access === 'any-token') return [{ bearerAuth: [] }];
  return [{ bearerAuth: [access] }, { bearerAuth: ['admin'] }];
}

function schemaRef(name: SchemaName): JsonSchema {
  return { $ref: `#/components/schemas/${name}` };
}

type ParameterName = 'EscalationId' | 'ActionToken' | 'IdempotencyKey' | 'SlackSignature' | 'SlackRequestTimestamp' | HeaderParameter;

/** The component parameter of each path parameter a route's URL may have. */
const pathParameters: Partial<Record<string, ParameterName>> = { id: 'EscalationId', token: 'ActionToken' };

function parameterRef(name: ParameterName): { $ref: string } {
  return { $ref: `#/components/parameters/${name}` };
}

/** The component a route's schema is documented as; the table names schemas by identity, the document by name. */
function componentNamed<Name extends SchemaName>(components: Record<Name, z.ZodType>, schema: z.ZodType): Name {
  const names = Object.keys(components) as Name[];
  return names.find((name) => components[name] === schema) ?? missing(`a component for a schema a route uses (${schema.description ?? 'undescribed'})`);
}

function missing(what: string): never {
  throw new Error(`the OpenAPI document has no ${what}: add it in openapi.ts`);
}

/** Request schemas on their input side, response schemas on their output side, one entry each, sorted. */
function componentSchemas(): Record<string, JsonSchema> {
  const merged: Record<string, JsonSchema> = {};
  for (const [io, schemas] of [
    ['input', { ...requestSchemas, ...formAndTokenSchemas }],
    ['output', responseSchemas],
  ] as const) {
    const registry = z.registry<{ id: string }>();
    for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
    const generated = z.toJSONSchema(registry, { io, uri: (id) => `#/components/schemas/${id}`, override: readable }).schemas;
    for (const [id, schema] of Object.entries(generated)) {
      const component: JsonSchema = { description: schemaDescriptions[id as SchemaName], ...schema };
      delete component.$schema;
      delete component.$id;
      if (merged[id] && JSON.stringify(merged[id]) !== JSON.stringify(component)) throw new Error(`schema ${id} differs between requests and answers; give each side its own name`);
      merged[id] = component;
    }
  }
  return sorted(merged);
}

function sorted<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// zod spells out its ISO 8601 check as a long pattern, and `.int()` as safe-integer bounds;
// `format: date-time` (RFC 3339) and `type: integer` say the same to a reader.
function readable({ jsonSchema }: { jsonSchema: JsonSchema }): void {
  if (jsonSchema.format === 'date-time') delete jsonSchema.pattern;
  if (jsonSchema.type === 'integer' && jsonSchema.maximum === Number.MAX_SAFE_INTEGER) delete jsonSchema.maximum;
  if (jsonSchema.type === 'integer' && jsonSchema.minimum === Number.MIN_SAFE_INTEGER) delete jsonSchema.minimum;
}
