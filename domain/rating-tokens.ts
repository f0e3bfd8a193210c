import { randomBytes } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';
import type { ActionSecret } from './action-tokens.js';

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
const ratingTokenType = 'escalator-rating+jwt';
const algorithm = 'HS256';
const minimumSecretBytes = 32;

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
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0) throw new RangeError(`ttlSeconds must be a positive integer, got ${ttlSeconds}`);
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  return new SignJWT({ esc: grant.escalationId, rating: grant.rating })
    .setProtectedHeader({ alg: algorithm, typ: ratingTokenType })
    .setJti(randomBytes(16).toString('base64url'))
    .setSubject(grant.rater)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + ttlSeconds)
    .sign(secretKey(secret));
}

/**
 * Checks a rating token's signature and expiry at `now` (default: the current time); whether its
 * holder rated already is the outcome store's to say. `tampered`: the signature does not match;
 * `malformed`: not a rating token at all (cut off, not a JWT, an action token or dashboard link).
 * Never throws for a bad token.
 */
export async function verifyRatingToken(secret: ActionSecret, token: string, options: { now?: Date } = {}): Promise<RatingTokenVerification> {
  const key = secretKey(secret);
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [algorithm],
      typ: ratingTokenType,
      requiredClaims: ['jti', 'sub', 'iat', 'exp'],
      ...(options.now ? { currentDate: options.now } : {}),
    });
    const claims = payloadSchema.safeParse(payload);
    if (!claims.success) return { ok: false, reason: 'malformed' };
    const { jti, sub, esc, rating, iat, exp } = claims.data;
    return { ok: true, claims: { tokenId: jti, rater: sub, escalationId: esc, rating, issuedAt: new Date(iat * 1000), expiresAt: new Date(exp * 1000) } };
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: 'expired' };
    if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JOSEAlgNotAllowed) return { ok: false, reason: 'tampered' };
    return { ok: false, reason: 'malformed' };
  }
}

/** The link a rater follows: `<publicUrl>/v1/ratings/<token>`, keeping any path prefix of `publicUrl`. */
export function ratingUrl(publicUrl: string, token: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/v1/ratings/${encodeURIComponent(token)}`;
}

function secretKey(secret: ActionSecret): Uint8Array {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (key.byteLength < minimumSecretBytes) throw new RangeError(`the action-link secret must be at least ${minimumSecretBytes} bytes, got ${key.byteLength}`);
  return key;
}
