import { z } from 'zod';
import type { ActionSecret } from './action-tokens.js';
import { signToken, verifyToken } from './signed-tokens.js';

/**
 * What a dashboard token is for: a `link` is what `escalator dashboard` prints and is opened once
 * to start a session; a `session` is the value of the dashboard's cookie. Each has its own
 * audience, so neither stands in for the other.
 */
export type DashboardTokenPurpose = 'link' | 'session';

/** A verified dashboard token: who it lets read the dashboard, until when. */
export interface DashboardGrant {
  identity: string;
  expiresAt: Date;
}

/**
 * Why a dashboard token was refused. `foreign`: a token signed with the same secret for something
 * else (an email action link, or a session cookie pasted as a link); `tampered`: the signature does
 * not match; `malformed`: not a token at all.
 */
export type DashboardTokenFailure = 'expired' | 'tampered' | 'malformed' | 'foreign';

export type DashboardTokenVerification = { ok: true; grant: DashboardGrant } | { ok: false; reason: DashboardTokenFailure };

// Signed with the email action links' secret: the `typ` and the audience keep the two kinds apart
// (action tokens carry another `typ` and no audience).
const dashboardTokens = { typ: 'escalator-dashboard+jwt', secretName: 'dashboard-link' };
const audiences: Record<DashboardTokenPurpose, string> = { link: 'escalator-dashboard', session: 'escalator-dashboard-session' };

const payloadSchema = z.object({ sub: z.string().min(1).max(200), exp: z.number().int() });

/**
 * Signs a dashboard token for `identity`, valid for `ttlSeconds` from `now` (default: the current
 * time). Throws when the secret is shorter than 32 bytes or the lifetime is not a positive integer.
 */
export async function createDashboardToken(
  secret: ActionSecret,
  purpose: DashboardTokenPurpose,
  options: { identity: string; ttlSeconds: number; now?: Date },
): Promise<string> {
  return signToken(secret, dashboardTokens, { subject: options.identity, ttlSeconds: options.ttlSeconds, audience: audiences[purpose], ...(options.now ? { now: options.now } : {}) });
}

/**
 * Checks a dashboard token made for `purpose`: signature, audience and expiry at `now` (default:
 * the current time); a token is expired from its `expiresAt` second on. Never throws for a bad
 * token. A link may be opened more than once until it expires.
 */
export async function verifyDashboardToken(
  secret: ActionSecret,
  purpose: DashboardTokenPurpose,
  token: string,
  options: { now?: Date } = {},
): Promise<DashboardTokenVerification> {
  const verified = await verifyToken(secret, dashboardTokens, token, { requiredClaims: ['sub', 'exp'], audience: audiences[purpose], ...(options.now ? { now: options.now } : {}) });
  if (!verified.ok) return verified;
  const claims = payloadSchema.safeParse(verified.payload);
  if (!claims.success) return { ok: false, reason: 'malformed' };
  return { ok: true, grant: { identity: claims.data.sub, expiresAt: new Date(claims.data.exp * 1000) } };
}

/** The link `escalator dashboard` prints: `<shimUrl>/dashboard/session?token=<token>`; `shimUrl` is where the shim's root is served. */
export function dashboardLinkUrl(shimUrl: string, token: string): string {
  return `${shimUrl.replace(/\/+$/, '')}/dashboard/session?token=${encodeURIComponent(token)}`;
}

