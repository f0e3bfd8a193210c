import type { FastifyRequest } from 'fastify';
import { healthSchema } from '../../domain/api-responses.js';
import { actionFormSchema } from './action-pages.js';
import { actionConfirmation, actionDecision, sendActionPage } from './action-routes.js';
import { shimMetricsPlugin } from './metrics.js';
import { defineRoute, type AnswerSpec, type ShimRoute } from './routes.js';
import { registerSlackInteractions, slackInteractionFormSchema } from './slack-interactions.js';

/** The routes that need no bearer token: health, metrics, the API's description, and what email links and Slack call. */
export const serviceRoutes: readonly ShimRoute[] = [
  defineRoute({
    method: 'GET',
    url: '/healthz',
    operationId: 'health',
    tag: 'Service',
    summary: 'Health',
    description: 'Answers 200 when Temporal answers, 503 otherwise. Needs no token.',
    access: 'public',
    answers: { 200: { description: 'Healthy.', schema: healthSchema } },
    refusals: { 503: ['TemporalUnreachable'] },
    handler: async ({ reply }, { options }) => {
      try {
        await options.checkTemporal();
        return { status: 'ok', temporal: 'reachable' };
      } catch (error) {
        return reply.code(503).send({ error: { code: 'TemporalUnreachable', message: String(error), details: null } });
      }
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/v1/actions/:token',
    operationId: 'actionConfirmation',
    tag: 'Service',
    summary: 'Email action link: confirmation page',
    description:
      'The link in a reviewer email. Shows what would be decided and a form that posts the decision; changes nothing (mail scanners follow links). The signed, expiring, single-use token is the credential: no bearer token. Expired (410), replayed (409), tampered or malformed (400) and foreign (403) tokens get a page saying which.',
    access: 'public',
    answers: {
      200: page('Confirmation page.'),
      400: page('The link is tampered with or malformed (page).'),
      403: page('The link is foreign: another step, or a reviewer the escalation no longer awaits (page).'),
      404: page('No such escalation (page).'),
      409: page('The escalation has ended (page).'),
      410: page('The link has expired (page).'),
    },
    refusals: { 500: ['Internal'] },
    handler: async ({ request, reply }, { options }) => sendActionPage(reply, await actionConfirmation(options.escalator, options.actions, tokenOf(request))),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/actions/:token',
    operationId: 'actionDecide',
    tag: 'Service',
    summary: 'Email action link: decide',
    description:
      "Posted by the confirmation page (form field `comment`). Decides once as the token's reviewer through the email channel; a second use answers 409 with a page. Refusals of the escalation (403, 409, 400) come back as pages naming the refusal code.",
    access: 'public',
    // A form it does not understand is answered with a page, not the JSON 400.
    body: { schema: actionFormSchema, required: false, form: true, parse: false },
    answers: {
      200: page('Decided; result page.'),
      400: page('Tampered or malformed link, a form that is not understood, or a comment the policy requires is missing (page).'),
      403: page('Foreign link, or the escalation refused the decision (page naming the refusal code).'),
      404: page('No such escalation (page).'),
      409: page('The link was used already, or the escalation has ended (page).'),
      410: page('The link has expired (page).'),
    },
    refusals: { 500: ['Internal'] },
    handler: async ({ request, reply, body }, { options }) => sendActionPage(reply, await actionDecision(options.escalator, options.actions, tokenOf(request), body)),
  }),
  defineRoute({
    method: 'POST',
    url: '/v1/slack/interactions',
    operationId: 'slackInteraction',
    tag: 'Service',
    summary: 'Slack interactivity: a button click',
    description:
      "Slack posts button clicks (Approve, Reject, Acknowledge) here as `application/x-www-form-urlencoded` with a `payload` field. Authenticated by Slack's request signature (`X-Slack-Signature`, v0 HMAC-SHA256 over `v0:timestamp:body`, at most 5 minutes old), not a bearer token; the reviewer is the Slack user mapped to a policy person. Answers an ephemeral message for the clicking user; a retried click counts once.",
    access: 'public',
    slackSignature: true,
    body: { schema: slackInteractionFormSchema, required: true, form: true, parse: false },
    answers: { 200: { description: 'An ephemeral Slack message saying what was recorded or why not.', schema: { mediaType: 'application/json', schema: { type: 'object' } } } },
    refusals: { 400: ['InvalidInput'], 401: ['Unauthenticated'], 404: ['NotFound'], 500: ['Internal'] },
    reasons: {
      InvalidInput: 'not an Escalator button action; `details` names the field',
      Unauthenticated: 'the Slack signature is missing, wrong or older than 5 minutes',
      NotFound: 'Slack interactivity is not configured on this shim',
    },
    // Its module keeps the raw body in a scope of its own: the signature covers the bytes as sent.
    register: (app, { options }) => registerSlackInteractions(app, options.escalator, options.slack),
  }),
  defineRoute({
    method: 'GET',
    url: '/metrics',
    operationId: 'metrics',
    tag: 'Service',
    summary: 'Prometheus metrics',
    description: "The shim's metrics in the Prometheus text format: requests by route and status, decisions refused by reason. Needs no token.",
    access: 'public',
    unlimited: true,
    answers: { 200: { description: 'Metrics.', schema: { mediaType: 'text/plain', schema: { type: 'string' } } } },
    // The plugin serves the route and counts every request the shim answers.
    register: (app, { metrics }, route) => app.register(shimMetricsPlugin(metrics, { path: route.url })),
  }),
  defineRoute({
    method: 'GET',
    url: '/openapi.json',
    operationId: 'openApiDocument',
    tag: 'Service',
    summary: 'This API description',
    description: 'This OpenAPI 3.1 document. Needs no token.',
    access: 'public',
    answers: { 200: { description: 'The OpenAPI document.', schema: { mediaType: 'application/json', schema: { type: 'object' } } } },
    handler: async (_call, { apiDocument }) => apiDocument,
  }),
  defineRoute({
    method: 'GET',
    url: '/docs',
    operationId: 'apiDocs',
    tag: 'Service',
    summary: 'This API description, as a page',
    description: 'This document rendered as HTML, without scripts or anything fetched from elsewhere. Needs no token.',
    access: 'public',
    answers: { 200: { description: 'An HTML page.', schema: { mediaType: 'text/html', schema: { type: 'string' } } } },
    handler: async ({ reply }, { apiDocsPage }) =>
      reply.type('text/html; charset=utf-8').header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'").send(apiDocsPage),
  }),
];

/** An answer that is an HTML page: an action link answers with one, also when it refuses. */
function page(description: string): AnswerSpec {
  return { description, schema: { mediaType: 'text/html', schema: { type: 'string' } } };
}

function tokenOf(request: FastifyRequest): string {
  return (request.params as { token: string }).token;
}
