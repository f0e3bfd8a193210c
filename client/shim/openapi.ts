import { z } from 'zod';
import {
  decisionSchema,
  errorBodySchema,
  type ErrorCode,
  escalationOutcomeSchema,
  escalationStatusSchema,
  escalationViewSchema,
  fieldErrorSchema,
  healthSchema,
  raiseResultSchema,
  recoveredAcceptedSchema,
  retryingActionSchema,
  routingScoreSchema,
  stageSchema,
  timelineEntrySchema,
} from '../../domain/api-responses.js';
import { gateFailureSchema } from '../../domain/gate-failure.js';
import {
  acknowledgeBodySchema,
  breakGlassBodySchema,
  decisionBodySchema,
  escalationIdMaxLength,
  escalationIdSchema,
  idempotencyKeyHeaderSchema,
  reassignBodySchema,
  recoveredBodySchema,
  requestBodyLimitBytes,
  withdrawBodySchema,
} from '../../domain/request-bodies.js';
import { actionFormSchema } from './action-pages.js';
import { actionTokenMaxLength, actionTokenSchema } from './action-token-format.js';
import { methodNotAllowedCode } from './unrouted-requests.js';
import { slackInteractionFormSchema } from './slack-interactions.js';
import type { Scope } from './tokens.js';

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
  EscalationView: escalationViewSchema,
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
  EscalationView: 'The whole state of an escalation, also after it ended.',
  EscalationStatus: 'The whole state of an escalation, with the side effects being retried for it while it runs.',
  RetryingAction: 'A side effect that failed and is being retried: which, which attempt, why the last one failed.',
  RecordedGateFailure: 'The gate failure as the escalation recorded it: defaults filled in.',
  EscalationOutcome: 'The single result of an ended escalation, as the outcome store keeps it.',
  Decision: 'A decision that counted.',
  Stage: 'Who holds the step: its own reviewers, their backup, or an escalation tier.',
  RoutingScore: "One candidate's routing score and the factors behind it (dynamic routing).",
  TimelineEntry: 'One event of the escalation. Every entry has `at` (ISO 8601) and `event`; the other properties depend on the event.',
};

/** A JSON Schema (2020-12), as OpenAPI 3.1 embeds them. */
export type JsonSchema = Record<string, unknown>;

export interface OpenApiResponse {
  description: string;
  headers?: Record<string, { description: string; schema: JsonSchema }>;
  content?: Record<string, { schema: JsonSchema }>;
}

export interface OpenApiOperation {
  operationId: string;
  tags: string[];
  summary: string;
  description: string;
  security: Array<Record<string, string[]>>;
  parameters?: Array<{ $ref: string }>;
  requestBody?: { description: string; required: boolean; content: Record<string, { schema: JsonSchema }> };
  responses: Record<string, OpenApiResponse | { $ref: string }>;
}

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'header';
  required: boolean;
  description: string;
  schema: JsonSchema;
}

/** The parts of an OpenAPI 3.1 document this shim's description uses. */
export interface OpenApiDocument {
  openapi: '3.1.0';
  info: { title: string; version: string; description: string };
  tags: Array<{ name: string; description: string }>;
  paths: Record<string, Partial<Record<'get' | 'post', OpenApiOperation>>>;
  components: {
    schemas: Record<string, JsonSchema>;
    parameters: Record<string, OpenApiParameter>;
    responses: Record<string, OpenApiResponse>;
    securitySchemes: Record<string, { type: 'http'; scheme: 'bearer'; description: string }>;
  };
}

type Access = Scope | 'any-token' | 'public';

interface OperationSpec {
  method: 'get' | 'post';
  path: string;
  operationId: string;
  tag: 'Gate failures' | 'Escalations' | 'Service';
  summary: string;
  description: string;
  access: Access;
  escalationIdInPath?: true;
  actionTokenInPath?: true;
  /** Slack's signature headers: the credential of a Slack request. */
  slackSignature?: true;
  idempotencyKey?: true;
  /** JSON unless `form` says application/x-www-form-urlencoded. */
  body?: { schema: RequestSchemaName; required: boolean; form?: true };
  /** Success statuses and what they carry. */
  answers: Record<number, { description: string; schema: ResponseSchemaName | { mediaType: string; schema: JsonSchema } }>;
  /** Codes beyond those every route of its kind can answer (auth, body parsing, unknown id). */
  refusals?: Partial<Record<number, ErrorCode[]>>;
  /** Registered before the rate limiter, so never refused with 429. */
  unlimited?: true;
  /** Why this operation sends a code, where that differs from why the others do. */
  reasons?: Partial<Record<ErrorCode, string>>;
}

const operations: OperationSpec[] = [
  {
    method: 'post',
    path: '/v1/gate-failures',
    operationId: 'raiseGateFailure',
    tag: 'Gate failures',
    summary: 'Raise a failed gate',
    description: 'Starts the escalation for a gate failure, or attaches to the one its `idempotencyKey` already started (running or ended).',
    access: 'raise',
    body: { schema: 'GateFailure', required: true },
    answers: {
      201: { description: 'Started: a new escalation.', schema: 'RaiseResult' },
      200: { description: 'Attached: the idempotency key already had an escalation; nothing new started.', schema: 'RaiseResult' },
    },
  },
  {
    method: 'get',
    path: '/v1/escalations/{id}',
    operationId: 'getEscalation',
    tag: 'Escalations',
    summary: 'Read an escalation',
    description: 'The whole state: model, step, awaited reviewers, deadline, depth, decisions, timeline, and the outcome once ended.',
    access: 'any-token',
    escalationIdInPath: true,
    answers: { 200: { description: 'The escalation as it stands, with the side effects being retried for it.', schema: 'EscalationStatus' } },
  },
  {
    method: 'post',
    path: '/v1/escalations/{id}/decisions',
    operationId: 'decide',
    tag: 'Escalations',
    summary: 'Decide: approve, reject or override',
    description: 'Records a decision by the identity of the token. A refused decision never reaches the workflow history; the shim records who tried, and why it was refused, in the outcome store.',
    access: 'decide',
    escalationIdInPath: true,
    idempotencyKey: true,
    body: { schema: 'DecisionBody', required: true },
    answers: { 200: { description: 'Counted; the new state.', schema: 'EscalationView' } },
    refusals: { 400: ['CommentRequired'], 403: ['NotAwaitedReviewer', 'AuthorCannotApprove', 'OverrideNotAllowed'], 409: ['EscalationEnded', 'AlreadyVoted'] },
  },
  {
    method: 'post',
    path: '/v1/escalations/{id}/acknowledge',
    operationId: 'acknowledge',
    tag: 'Escalations',
    summary: 'Acknowledge: "on it"',
    description: 'An awaited reviewer says they are on it; the re-notification rounds stop.',
    access: 'decide',
    escalationIdInPath: true,
    body: { schema: 'AcknowledgeBody', required: false },
    answers: { 200: { description: 'Acknowledged; the new state.', schema: 'EscalationView' } },
    refusals: { 403: ['NotAwaitedReviewer'], 409: ['EscalationEnded'] },
  },
  {
    method: 'post',
    path: '/v1/escalations/{id}/reassign',
    operationId: 'reassign',
    tag: 'Escalations',
    summary: 'Reassign to another person',
    description: 'By an awaited reviewer or the lead of a tier on the escalation path. Counts towards the escalation depth; past the maximum depth the escalation is exhausted instead.',
    access: 'decide',
    escalationIdInPath: true,
    idempotencyKey: true,
    body: { schema: 'ReassignBody', required: true },
    answers: { 200: { description: 'Reassigned (or exhausted at the maximum depth); the new state.', schema: 'EscalationView' } },
    refusals: { 400: ['UnknownPerson'], 403: ['ReassignNotAllowed'], 409: ['EscalationEnded'] },
  },
  {
    method: 'post',
    path: '/v1/escalations/{id}/break-glass',
    operationId: 'breakGlass',
    tag: 'Escalations',
    summary: 'Break glass: override at once',
    description: "By a holder of one of the policy's break-glass roles: the escalation ends as overridden and the override is sent for review.",
    access: 'decide',
    escalationIdInPath: true,
    body: { schema: 'BreakGlassBody', required: true },
    answers: { 200: { description: 'Overridden; the new state, ended.', schema: 'EscalationView' } },
    refusals: { 400: ['JustificationRequired'], 403: ['NotBreakGlassHolder', 'AuthorCannotApprove'], 409: ['EscalationEnded'] },
  },
  {
    method: 'post',
    path: '/v1/escalations/{id}/withdraw',
    operationId: 'withdraw',
    tag: 'Escalations',
    summary: 'Withdraw',
    description: 'Ends a running escalation as `withdrawn`, for instance because the change was reverted.',
    access: 'raise',
    escalationIdInPath: true,
    idempotencyKey: true,
    body: { schema: 'WithdrawBody', required: true },
    answers: { 200: { description: 'Withdrawn; the new state, ended, with its outcome.', schema: 'EscalationView' } },
    refusals: { 409: ['EscalationEnded'] },
  },
  {
    method: 'post',
    path: '/v1/escalations/{id}/recovered',
    operationId: 'reportRecovered',
    tag: 'Escalations',
    summary: 'Report that the gate re-ran green',
    description: 'The escalation ends as `recovered`, unless it already ended or a rollback is under way: then nothing changes and the answer is the same.',
    access: 'raise',
    escalationIdInPath: true,
    body: { schema: 'RecoveredBody', required: false },
    answers: { 202: { description: 'Delivered to the escalation.', schema: 'RecoveredAccepted' } },
  },
  {
    method: 'get',
    path: '/healthz',
    operationId: 'health',
    tag: 'Service',
    summary: 'Health',
    description: 'Answers 200 when Temporal answers, 503 otherwise. Needs no token.',
    access: 'public',
    answers: { 200: { description: 'Healthy.', schema: 'Health' } },
    refusals: { 503: ['TemporalUnreachable'] },
  },
  {
    method: 'get',
    path: '/v1/actions/{token}',
    operationId: 'actionConfirmation',
    tag: 'Service',
    summary: 'Email action link: confirmation page',
    description: 'The link in a reviewer email. Shows what would be decided and a form that posts the decision; changes nothing (mail scanners follow links). The signed, expiring, single-use token is the credential: no bearer token. Expired (410), replayed (409), tampered or malformed (400) and foreign (403) tokens get a page saying which.',
    access: 'public',
    actionTokenInPath: true,
    answers: {
      200: { description: 'Confirmation page.', schema: { mediaType: 'text/html', schema: { type: 'string' } } },
      400: { description: 'The link is tampered with or malformed (page).', schema: { mediaType: 'text/html', schema: { type: 'string' } } },
      403: { description: 'The link is foreign: another step, or a reviewer the escalation no longer awaits (page).', schema: { mediaType: 'text/html', schema: { type: 'string' } } },
      404: { description: 'No such escalation (page).', schema: { mediaType: 'text/html', schema: { type: 'string' } } },
      409: { description: 'The escalation has ended (page).', schema: { mediaType: 'text/html', schema: { type: 'string' } } },
      410: { description: 'The link has expired (page).', schema: { mediaType: 'text/html', schema: { type: 'string' } } },
    },
    refusals: { 500: ['Internal'] },
  },
  {
    method: 'post',
    path: '/v1/actions/{token}',
    operationId: 'actionDecide',
    tag: 'Service',
    summary: 'Email action link: decide',
    description: 'Posted by the confirmation page (form field `comment`). Decides once as the token\'s reviewer through the email channel; a second use answers 409 with a page. Refusals of the escalation (403, 409, 400) come back as pages naming the refusal code.',
    access: 'public',
    actionTokenInPath: true,
    body: { schema: 'ActionForm', required: false, form: true },
    answers: {
      200: { description: 'Decided; result page.', schema: { mediaType: 'text/html', schema: { type: 'string' } } },
      400: { description: 'Tampered or malformed link, a form that is not understood, or a comment the policy requires is missing (page).', schema: { mediaType: 'text/html', schema: { type: 'string' } } },
      403: { description: 'Foreign link, or the escalation refused the decision (page naming the refusal code).', schema: { mediaType: 'text/html', schema: { type: 'string' } } },
      404: { description: 'No such escalation (page).', schema: { mediaType: 'text/html', schema: { type: 'string' } } },
      409: { description: 'The link was used already, or the escalation has ended (page).', schema: { mediaType: 'text/html', schema: { type: 'string' } } },
      410: { description: 'The link has expired (page).', schema: { mediaType: 'text/html', schema: { type: 'string' } } },
    },
    refusals: { 500: ['Internal'] },
  },
  {
    method: 'post',
    path: '/v1/slack/interactions',
    operationId: 'slackInteraction',
    tag: 'Service',
    summary: 'Slack interactivity: a button click',
    description: 'Slack posts button clicks (Approve, Reject, Acknowledge) here as `application/x-www-form-urlencoded` with a `payload` field. Authenticated by Slack\'s request signature (`X-Slack-Signature`, v0 HMAC-SHA256 over `v0:timestamp:body`, at most 5 minutes old), not a bearer token; the reviewer is the Slack user mapped to a policy person. Answers an ephemeral message for the clicking user; a retried click counts once.',
    access: 'public',
    slackSignature: true,
    body: { schema: 'SlackInteractionForm', required: true, form: true },
    answers: { 200: { description: 'An ephemeral Slack message saying what was recorded or why not.', schema: { mediaType: 'application/json', schema: { type: 'object' } } } },
    refusals: { 400: ['InvalidInput'], 401: ['Unauthenticated'], 404: ['NotFound'], 500: ['Internal'] },
    reasons: {
      InvalidInput: 'not an Escalator button action; `details` names the field',
      Unauthenticated: 'the Slack signature is missing, wrong or older than 5 minutes',
      NotFound: 'Slack interactivity is not configured on this shim',
    },
  },
  {
    method: 'get',
    path: '/metrics',
    operationId: 'metrics',
    tag: 'Service',
    summary: 'Prometheus metrics',
    description: 'The shim\'s metrics in the Prometheus text format: requests by route and status, decisions refused by reason. Needs no token.',
    access: 'public',
    unlimited: true,
    answers: { 200: { description: 'Metrics.', schema: { mediaType: 'text/plain', schema: { type: 'string' } } } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    operationId: 'openApiDocument',
    tag: 'Service',
    summary: 'This API description',
    description: 'This OpenAPI 3.1 document. Needs no token.',
    access: 'public',
    answers: { 200: { description: 'The OpenAPI document.', schema: { mediaType: 'application/json', schema: { type: 'object' } } } },
  },
  {
    method: 'get',
    path: '/docs',
    operationId: 'apiDocs',
    tag: 'Service',
    summary: 'This API description, as a page',
    description: 'This document rendered as HTML, without scripts or anything fetched from elsewhere. Needs no token.',
    access: 'public',
    answers: { 200: { description: 'An HTML page.', schema: { mediaType: 'text/html', schema: { type: 'string' } } } },
  },
];

const bodyRefusals: ErrorCode[] = ['InvalidInput', 'FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY', 'FST_ERR_CTP_INVALID_CONTENT_LENGTH'];
// A form is read by the form parser and then by the route, which answers what it does not understand itself.
const formRefusals: ErrorCode[] = ['FST_ERR_CTP_INVALID_CONTENT_LENGTH'];

/** Why each code is sent; `Forbidden` names the route's scope where it is used. */
function whyCode(code: ErrorCode, access: Access): string {
  switch (code) {
    case 'InvalidInput':
      return 'the body or a header failed its schema; `details` names each bad field';
    case 'Unauthenticated':
      return 'no bearer token, or one the shim does not know';
    case 'Forbidden':
      return `the token has neither the \`${access}\` nor the \`admin\` scope`;
    case 'EscalationNotFound':
      return 'no escalation has this id';
    case 'NotFound':
      return 'no such route';
    case 'MethodNotAllowed':
      return 'this path does not serve the method; the `Allow` header lists the methods it serves';
    case 'TemporalUnreachable':
      return 'Temporal does not answer';
    case 'RateLimited':
      return 'more requests a minute than the shim allows one identity (or one address before authentication)';
    case 'IdentityProviderUnavailable':
      return "the identity provider's key set (JWKS) could not be fetched to check an SSO token";
    case 'Internal':
      return 'an unexpected failure; it is logged on the shim, and the message says nothing more';
    case 'BadRequest':
      return 'the request is not well-formed HTTP, or its headers are too large (431); refused before any route';
    case 'EscalationEnded':
      return 'the escalation has ended (or, for a withdrawal, its rollback is under way)';
    case 'NotAwaitedReviewer':
      return 'the caller is not a reviewer the escalation is waiting on';
    case 'AlreadyVoted':
      return 'the caller has already voted (parallel model: one vote per reviewer)';
    case 'AuthorCannotApprove':
      return "the caller is the change's author (by person id, email or handle)";
    case 'CommentRequired':
      return 'the policy requires a comment for this decision; `details` names `comment`';
    case 'OverrideNotAllowed':
      return 'the gate has no override quorum; break-glass is the emergency override';
    case 'NotBreakGlassHolder':
      return 'the caller holds none of the break-glass roles';
    case 'JustificationRequired':
      return 'break-glass needs a justification; `details` names `justification`';
    case 'ReassignNotAllowed':
      return 'the caller is neither awaited nor a tier lead, the escalation is not waiting, or the new reviewer is already awaited or is the author';
    case 'UnknownPerson':
      return '`to` is not a person in the policy; `details` names `to`';
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'the body is not valid JSON, or carries `__proto__` or `constructor.prototype`';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'the Content-Type is application/json but the body is empty';
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return 'the Content-Length does not match the body';
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `the body is larger than ${requestBodyLimitBytes} bytes`;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return 'the Content-Type is not the one the request body is described with';
    case 'FST_ERR_BAD_URL':
      return 'the path has malformed percent-encoding';
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return `the id or token in the path is longer than ${actionTokenMaxLength} characters (an escalation id has at most ${escalationIdMaxLength})`;
  }
}

const reasonPhrases: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Every error status an operation can answer, and the codes behind each. */
function errorCodesOf(spec: OperationSpec): Map<number, ErrorCode[]> {
  const codes = new Map<number, ErrorCode[]>();
  const add = (status: number, ...more: ErrorCode[]) => codes.set(status, [...(codes.get(status) ?? []), ...more]);
  const pathParameter = spec.escalationIdInPath || spec.actionTokenInPath;
  if (spec.body) add(400, ...(spec.body.form ? formRefusals : bodyRefusals));
  if (spec.idempotencyKey && !spec.body) add(400, 'InvalidInput');
  if (pathParameter) add(400, 'FST_ERR_BAD_URL');
  if (spec.access !== 'public') add(401, 'Unauthenticated');
  if (spec.access !== 'public' && spec.access !== 'any-token') add(403, 'Forbidden');
  if (spec.escalationIdInPath) add(404, 'EscalationNotFound');
  if (spec.body) add(413, 'FST_ERR_CTP_BODY_TOO_LARGE');
  if (pathParameter) add(414, 'FST_ERR_MAX_PARAM_LENGTH');
  if (spec.body) add(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE');
  // The rate limiter counts the public routes too, by address.
  if (!spec.unlimited) add(429, 'RateLimited');
  if (spec.access !== 'public') add(500, 'Internal');
  if (spec.access !== 'public') add(503, 'IdentityProviderUnavailable');
  for (const [status, more] of Object.entries(spec.refusals ?? {})) add(Number(status), ...(more ?? []));
  return new Map([...codes].sort(([a], [b]) => a - b));
}

/**
 * The shim's API as an OpenAPI 3.1.0 document, generated from the zod schemas the shim validates
 * requests with and the schemas of its answers. Deterministic: the same code gives the same JSON,
 * byte for byte, so it can be diffed and snapshotted.
 */
export function openApiDocument(): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  const sharedResponses: Record<string, OpenApiResponse> = { MethodNotAllowed: methodNotAllowedResponse() };
  for (const spec of operations) (paths[spec.path] ??= {})[spec.method] = operationObject(spec, sharedResponses);
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
      },
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description: [
            'A token from the tokens file, which maps it to an identity and scopes:',
            '- `raise`: raise gate failures, withdraw, report recovery',
            '- `decide`: decide, acknowledge, reassign, break glass (as the identity of the token)',
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
function operationObject(spec: OperationSpec, sharedResponses: Record<string, OpenApiResponse>): OpenApiOperation {
  const parameters = [
    ...(spec.escalationIdInPath ? [parameterRef('EscalationId')] : []),
    ...(spec.actionTokenInPath ? [parameterRef('ActionToken')] : []),
    ...(spec.idempotencyKey ? [parameterRef('IdempotencyKey')] : []),
    ...(spec.slackSignature ? [parameterRef('SlackSignature'), parameterRef('SlackRequestTimestamp')] : []),
  ];
  const responses: Record<string, OpenApiResponse | { $ref: string }> = {};
  for (const [status, answer] of Object.entries(spec.answers)) {
    const content = typeof answer.schema === 'string' ? { 'application/json': { schema: schemaRef(answer.schema) } } : { [answer.schema.mediaType]: { schema: answer.schema.schema } };
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
    description: `${spec.description}\n\n${accessSentence(spec.access)}`,
    security: securityOf(spec.access),
    ...(parameters.length ? { parameters } : {}),
    ...(spec.body ? { requestBody: requestBodyOf(spec.body) } : {}),
    // Integer-like keys keep ascending order in every JavaScript engine, so the statuses come sorted.
    responses,
  };
}

function requestBodyOf(body: NonNullable<OperationSpec['body']>): NonNullable<OpenApiOperation['requestBody']> {
  const [mediaType, name] = body.form ? ['application/x-www-form-urlencoded', 'A form'] : ['application/json', 'JSON'];
  return {
    description: body.required ? `${name}.` : `${name}; may be left out (no body and no Content-Type).`,
    required: body.required,
    content: { [mediaType]: { schema: schemaRef(body.schema) } },
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

function parameterRef(name: 'EscalationId' | 'ActionToken' | 'IdempotencyKey' | 'SlackSignature' | 'SlackRequestTimestamp'): { $ref: string } {
  return { $ref: `#/components/parameters/${name}` };
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
