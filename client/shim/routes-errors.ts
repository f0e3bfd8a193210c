import type { ErrorCode } from '../../domain/api-responses.js';
import { escalationIdMaxLength, requestBodyLimitBytes } from '../../domain/request-bodies.js';
import { actionTokenMaxLength } from './action-token-format.js';
import type { Access, ShimRoute } from './routes.js';

// Which error codes each route can answer, and why each is sent: what /openapi.json lists under
// every operation's error statuses, derived from the route's spec as the shim's checks are.

const bodyRefusals: ErrorCode[] = ['InvalidInput', 'FST_ERR_CTP_INVALID_JSON_BODY', 'FST_ERR_CTP_EMPTY_JSON_BODY', 'FST_ERR_CTP_INVALID_CONTENT_LENGTH'];
// A form is read by the form parser and then by the route, which answers what it does not understand itself.
const formRefusals: ErrorCode[] = ['FST_ERR_CTP_INVALID_CONTENT_LENGTH'];

/** Every error status a route can answer, ascending, and the codes behind each. */
export function errorCodesOf(route: ShimRoute): Map<number, ErrorCode[]> {
  const codes = new Map<number, ErrorCode[]>();
  const add = (status: number, ...more: ErrorCode[]) => codes.set(status, [...(codes.get(status) ?? []), ...more]);
  const pathParameter = route.url.includes('/:');
  if (route.body) add(400, ...(route.body.form ? formRefusals : bodyRefusals));
  if ((route.idempotencyKey || route.query) && !route.body) add(400, 'InvalidInput');
  if (pathParameter) add(400, 'FST_ERR_BAD_URL');
  if (route.access !== 'public') add(401, 'Unauthenticated');
  if (route.access !== 'public' && route.access !== 'any-token') add(403, 'Forbidden');
  if (route.url.includes('/:id')) add(404, 'EscalationNotFound');
  if (route.body) add(413, 'FST_ERR_CTP_BODY_TOO_LARGE');
  if (pathParameter) add(414, 'FST_ERR_MAX_PARAM_LENGTH');
  if (route.body) add(415, 'FST_ERR_CTP_INVALID_MEDIA_TYPE');
  // The rate limiter counts the public routes too, by address.
  if (!route.unlimited) add(429, 'RateLimited');
  if (route.access !== 'public') add(500, 'Internal');
  if (route.access !== 'public') add(503, 'IdentityProviderUnavailable');
  for (const [status, more] of Object.entries(route.refusals ?? {})) add(Number(status), ...(more ?? []));
  return new Map([...codes].sort(([a], [b]) => a - b));
}

/** Why a code is sent; `Forbidden` names the route's scope. */
export function whyCode(code: ErrorCode, access: Access): string {
  return code === 'Forbidden' ? `the token has neither the \`${access}\` nor the \`admin\` scope` : reasons[code];
}

const reasons: Record<Exclude<ErrorCode, 'Forbidden'>, string> = {
  InvalidInput: 'the body, a header or the query string failed its schema; `details` names each bad field',
  Unauthenticated: 'no bearer token, or one the shim does not know',
  EscalationNotFound: 'no escalation has this id',
  NotFound: 'no such route',
  MethodNotAllowed: 'this path does not serve the method; the `Allow` header lists the methods it serves',
  TemporalUnreachable: 'Temporal does not answer',
  RateLimited: 'more requests a minute than the shim allows one identity (or one address before authentication)',
  IdentityProviderUnavailable: "the identity provider's key set (JWKS) could not be fetched to check an SSO token",
  Internal: 'an unexpected failure; it is logged on the shim, and the message says nothing more',
  BadRequest: 'the request is not well-formed HTTP, or its headers are too large (431); refused before any route',
  DeliveryReplayed: 'a delivery with this id was taken already: a replay changes nothing',
  EscalationEnded: 'the escalation has ended (or, for a withdrawal, its rollback is under way)',
  NotAwaitedReviewer: 'the caller is not a reviewer the escalation is waiting on',
  AlreadyVoted: 'the caller has already voted (parallel model: one vote per reviewer)',
  AuthorCannotApprove: "the caller is the change's author (by person id, email or handle)",
  CommentRequired: 'the policy requires a comment for this decision; `details` names `comment`',
  OverrideNotAllowed: 'the gate has no override quorum; break-glass is the emergency override',
  NotBreakGlassHolder: 'the caller holds none of the break-glass roles',
  JustificationRequired: 'break-glass needs a justification; `details` names `justification`',
  ReassignNotAllowed: 'the caller is neither awaited nor a tier lead, the escalation is not waiting, or the new reviewer is already awaited or is the author',
  UnknownPerson: '`to` is not a person in the policy; `details` names `to`',
  FST_ERR_CTP_INVALID_JSON_BODY: 'the body is not valid JSON, or carries `__proto__` or `constructor.prototype`',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'the Content-Type is application/json but the body is empty',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'the Content-Length does not match the body',
  FST_ERR_CTP_BODY_TOO_LARGE: `the body is larger than ${requestBodyLimitBytes} bytes`,
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'the Content-Type is not the one the request body is described with',
  FST_ERR_BAD_URL: 'the path has malformed percent-encoding',
  FST_ERR_MAX_PARAM_LENGTH: `the id or token in the path is longer than ${actionTokenMaxLength} characters (an escalation id has at most ${escalationIdMaxLength})`,
};

/** The reason phrase of each status the shim answers with (RFC 9110). */
export const reasonPhrases: Record<number, string> = {
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
