import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createDashboardToken, verifyDashboardToken } from '../../domain/dashboard-links.js';
import { fieldErrors } from '../../domain/field-errors.js';
import { metricsQuerySchema } from '../../domain/metrics/query.js';
import { type DashboardPage, dashboardRefusal } from './dashboard/access-page.js';
import { dashboardReader } from './dashboard/credential.js';
import { dashboardHeaders } from './dashboard/layout.js';
import type { TemporalUi } from './dashboard/page.js';
import { clearedSessionCookie, sessionCookie, sessionTtlSeconds } from './dashboard/session-cookie.js';
import { type AnswerSpec, defineRoute, type ShimContext, type ShimRoute } from './routes.js';

/** The dashboard's settings beyond the metrics report (`ShimOptions.gateMetrics`). */
export interface DashboardOptions {
  /** Checks dashboard links and signs sessions: the email action links' secret (ESCALATOR_ACTION_SECRET). Without it every link is refused; bearer tokens still work. */
  linkSecret?: string;
  /** Where the slowest escalations link to; the local dev server's UI and the `default` namespace when omitted. */
  temporalUi?: TemporalUi;
}

const defaultTemporalUi: TemporalUi = { url: 'http://127.0.0.1:8233', namespace: 'default' };

/** The link's query string, as `escalator dashboard` prints it. */
export const dashboardLinkQuerySchema = z.object({
  token: z.string().min(1).max(2000).describe('The signed, expiring token of the link `escalator dashboard` printed'),
});

/**
 * The metrics dashboard and the link that opens it. Both are public routes, authenticated here
 * rather than by the shim's bearer hook, so a browser without a credential gets a page saying how
 * to get one instead of a JSON 401. Every answer is a page, except 429 and 500.
 */
export const dashboardRoutes: readonly ShimRoute[] = [
  defineRoute({
    method: 'GET',
    url: '/dashboard',
    operationId: 'dashboard',
    tag: 'Service',
    summary: 'Metrics dashboard',
    description: [
      'A page per the metrics report (the query of GET /v1/metrics/gates): a card per gate (or service, team, model) with its figures and their change from the window before, the override alert, the time-to-resolution histogram, outcomes per week, load per person and concentration, and the slowest escalations linked to the Temporal UI. Charts are SVG drawn on the server; the page runs no script.',
      'Each figure is an element with `data-figure="<row>:<name>"` and `data-value` holding the exact number of the report.',
    ].join('\n\n'),
    access: 'public',
    credential:
      'Needs a credential, checked by the route rather than the bearer check of the other routes: `Authorization: Bearer` with the `read` or `admin` scope, or the session cookie a dashboard link sets (GET /dashboard/session). Without one, or with a session that has ended, it answers 401 with a page saying how to get a link.',
    query: metricsQuerySchema,
    answers: {
      200: page('The dashboard.'),
      400: page('The query is invalid (page naming each problem).'),
      401: page('No credential, an unknown bearer token, or a session that has ended (page saying how to get a link).'),
      403: page('The bearer token has neither the `read` nor the `admin` scope (page).'),
      404: page('This shim has no metrics report to show (page).'),
      503: page("The identity provider's keys could not be fetched to check an SSO token (page)."),
    },
    refusals: { 500: ['Internal'] },
    register: (app, shim, route) => app.get(route.url, (request, reply) => serveDashboard(request, reply, shim)),
  }),
  defineRoute({
    method: 'GET',
    url: '/dashboard/session',
    operationId: 'dashboardSession',
    tag: 'Service',
    summary: 'Metrics dashboard: open a signed link',
    description: [
      'The link `escalator dashboard` prints. Checks the signed, expiring token (HS256, its own audience: an email action token is refused), then starts a 12-hour session: a cookie scoped to /dashboard, `HttpOnly`, `SameSite=Lax`, and `Secure` when the request came over HTTPS; and redirects to /dashboard.',
      'Expired (410), tampered or malformed (400) and foreign (403) tokens get a page saying which; a shim without `ESCALATOR_ACTION_SECRET` refuses every link (404).',
    ].join('\n\n'),
    access: 'public',
    credential: 'The signed token of the link is the credential: no bearer token.',
    query: dashboardLinkQuerySchema,
    answers: {
      303: { description: 'Signed in: sets the session cookie (`Set-Cookie`) and redirects to /dashboard (`Location`).' },
      400: page('No token, or a tampered or malformed one (page).'),
      403: page('A token made for something else, such as an email action link (page).'),
      404: page('Dashboard links are not enabled on this shim (page).'),
      410: page('The link has expired (page).'),
    },
    refusals: { 500: ['Internal'] },
    register: (app, shim, route) => app.get(route.url, (request, reply) => openDashboardLink(request, reply, shim)),
  }),
];

async function serveDashboard(request: FastifyRequest, reply: FastifyReply, { options }: ShimContext): Promise<FastifyReply> {
  const secure = request.protocol === 'https';
  const reader = await dashboardReader(request, { tokens: options.tokens, ...(options.sso ? { sso: options.sso } : {}), ...(options.dashboard?.linkSecret ? { linkSecret: options.dashboard.linkSecret } : {}) });
  if ('refusal' in reader) {
    if (reader.endSession) reply.header('set-cookie', clearedSessionCookie({ secure }));
    return sendPage(reply, dashboardRefusal(reader.refusal));
  }
  if (!options.gateMetrics) return sendPage(reply, dashboardRefusal({ reason: 'not-configured' }));
  // A form sends its empty fields (`gate=`): an empty field is one left out.
  const given = Object.entries((request.query ?? {}) as Record<string, unknown>).filter(([, value]) => value !== '');
  const query = metricsQuerySchema.safeParse(Object.fromEntries(given));
  if (!query.success) return sendPage(reply, dashboardRefusal({ reason: 'invalid-query', problems: fieldErrors(query.error).map(({ path, message }) => `${path}: ${message}`) }));
  const report = await options.gateMetrics(query.data);
  // The page draws with ECharts, which takes about a second to load: only a shim whose dashboard is opened pays for it.
  const { dashboardPage } = await import('./dashboard/page.js');
  const html = dashboardPage({ report, query: query.data, identity: reader.identity, temporalUi: options.dashboard?.temporalUi ?? defaultTemporalUi });
  return sendPage(reply, { status: 200, html });
}

async function openDashboardLink(request: FastifyRequest, reply: FastifyReply, { options }: ShimContext): Promise<FastifyReply> {
  const secret = options.dashboard?.linkSecret;
  if (!secret) return sendPage(reply, dashboardRefusal({ reason: 'links-disabled' }));
  const link = dashboardLinkQuerySchema.safeParse(request.query ?? {});
  if (!link.success) return sendPage(reply, dashboardRefusal({ reason: 'link-invalid' }));
  const verified = await verifyDashboardToken(secret, 'link', link.data.token);
  if (!verified.ok) return sendPage(reply, dashboardRefusal({ reason: verified.reason === 'expired' ? 'link-expired' : verified.reason === 'foreign' ? 'link-foreign' : 'link-invalid' }));
  const session = await createDashboardToken(secret, 'session', { identity: verified.grant.identity, ttlSeconds: sessionTtlSeconds });
  // Fastify's trustProxy is off: `https` only when the shim itself serves TLS, never from X-Forwarded-Proto.
  const secure = request.protocol === 'https';
  return reply.code(303).headers(dashboardHeaders).header('set-cookie', sessionCookie(session, { secure })).header('location', '/dashboard').send();
}

function sendPage(reply: FastifyReply, refusal: DashboardPage): FastifyReply {
  return reply.code(refusal.status).headers(dashboardHeaders).type('text/html; charset=utf-8').send(refusal.html);
}

function page(description: string): AnswerSpec {
  return { description, schema: { mediaType: 'text/html', schema: { type: 'string' } } };
}
