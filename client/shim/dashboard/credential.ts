import type { FastifyRequest } from 'fastify';
import { verifyDashboardToken } from '../../../domain/dashboard-links.js';
import { HttpError } from '../http-error.js';
import { authenticateBearer } from '../sso.js';
import type { SsoVerifier } from '../sso.js';
import type { TokenRegistry } from '../tokens.js';
import type { DashboardRefusalReason } from './access-page.js';
import { sessionCookieOf } from './session-cookie.js';

/** Who reads the dashboard, or why nobody may; `endSession` when the browser holds a session cookie that no longer works. */
export type DashboardReader = { identity: string } | { refusal: DashboardRefusalReason; endSession?: true };

/**
 * The dashboard's reader: from `Authorization: Bearer` when the request has one (a token of the
 * registry or SSO, with the `read` or `admin` scope), else from the session cookie a dashboard link
 * set. The bearer token wins, so a script is never read as the browser session it happens to share.
 */
export async function dashboardReader(request: FastifyRequest, options: { tokens: TokenRegistry; sso?: SsoVerifier; linkSecret?: string }): Promise<DashboardReader> {
  if (request.headers.authorization !== undefined) {
    try {
      const identity = await authenticateBearer(request.headers.authorization, { tokens: options.tokens, ...(options.sso ? { sso: options.sso } : {}) });
      if (!identity.scopes.has('read') && !identity.scopes.has('admin')) return { refusal: { reason: 'missing-scope', identity: identity.id } };
      return { identity: identity.id };
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      if (error.status === 503) return { refusal: { reason: 'identity-provider-unavailable' } };
      return { refusal: { reason: 'unknown-token', message: error.message } };
    }
  }
  const session = sessionCookieOf(request.headers.cookie);
  if (session === undefined) return { refusal: { reason: 'no-credential' } };
  // Without the secret no session can be checked: the cookie of an earlier configuration is dropped.
  if (!options.linkSecret) return { refusal: { reason: 'session-ended' }, endSession: true };
  const verified = await verifyDashboardToken(options.linkSecret, 'session', session);
  return verified.ok ? { identity: verified.grant.identity } : { refusal: { reason: 'session-ended' }, endSession: true };
}
