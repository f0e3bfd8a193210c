import { z } from 'zod';
import type { ActionSecret } from './action-tokens.js';
import { signToken, verifyToken } from './signed-tokens.js';

/** The lowest and highest rating a person can give an ended escalation. */
export const ratingScale = [1, 2, 3, 4, 5] as const;

export type RatingValue = (typeof ratingScale)[number];

/** What a rating link records when its holder confirms it: one rating, by one person, of one ended escalation. */
export interface RatingGrant {
  escalationId: string;
  /** The policy person asked to rate: the change's author or someone who decided. */
  rater: string;
  rating: RatingValue;
}

/** A verified rating token's contents. */
export interface RatingClaims extends RatingGrant {
  tokenId: string;
  issuedAt: Date;
  expiresAt: Date;
}

export type RatingTokenFailure = 'expired' | 'tampered' | 'malformed';

export type RatingTokenVerification = { ok: true; claims: RatingClaims } | { ok: false; reason: RatingTokenFailure };

/** How long a rating link works: a week, for people back from a weekend or a trip. */
export const ratingLinkTtlSeconds = 7 * 86_400;

// Signed with the email action links' secret: a `typ` of its own keeps a rating token from standing in
// for an action token or a dashboard link, and those from standing in for it.
const ratingTokens = { typ: 'escalator-rating+jwt', secretName: 'action-link' };

const payloadSchema = z.object({
  jti: z.string().min(1).max(100),
  sub: z.string().min(1).max(200),
  esc: z.string().min(1).max(300),
  rating: z.union(ratingScale.map((value) => z.literal(value))),
  iat: z.number().int(),
  exp: z.number().int(),
});

/**
 * Signs a rating token for `grant`, valid for `ttlSeconds` (default: a week) from `now` (default:
 * the current time). Throws when the secret is shorter than 32 bytes.
 */
export async function createRatingToken(secret: ActionSecret, grant: RatingGrant, options: { ttlSeconds?: number; now?: Date } = {}): Promise<string> {
  const ttlSeconds = options.ttlSeconds ?? ratingLinkTtlSeconds;
  return signToken(secret, ratingTokens, { subject: grant.rater, ttlSeconds, claims: { esc: grant.escalationId, rating: grant.rating }, withId: true, ...(options.now ? { now: options.now } : {}) });
}

/**
 * Checks a rating token's signature and expiry at `now` (default: the current time); whether its
 * holder rated already is the outcome store's to say. `tampered`: the signature does not match;
 * `malformed`: not a rating token at all (cut off, not a JWT, an action token or dashboard link).
 * Never throws for a bad token.
 */
export async function verifyRatingToken(secret: ActionSecret, token: string, options: { now?: Date } = {}): Promise<RatingTokenVerification> {
  const verified = await verifyToken(secret, ratingTokens, token, { requiredClaims: ['jti', 'sub', 'iat', 'exp'], ...(options.now ? { now: options.now } : {}) });
  if (!verified.ok) return { ok: false, reason: verified.reason === 'foreign' ? 'malformed' : verified.reason };
  const claims = payloadSchema.safeParse(verified.payload);
  if (!claims.success) return { ok: false, reason: 'malformed' };
  const { jti, sub, esc, rating, iat, exp } = claims.data;
  return { ok: true, claims: { tokenId: jti, rater: sub, escalationId: esc, rating, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000) } };
}

/** The link a rater follows: `<publicUrl>/v1/ratings/<token>`, keeping any path prefix of `publicUrl`. */
export function ratingUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/v1/ratings/${encodeURIComponent(token)}`;
}

