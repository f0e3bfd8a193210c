import { randomBytes } from 'node:crypto';
import { errors, type JWTPayload, jwtVerify, SignJWT } from 'jose';

/** The HMAC secret that signs Escalator's links: at least 32 bytes (a string is taken as its UTF-8 bytes). */
export type LinkSecret = string | Uint8Array;

/**
 * Why a token was refused: `expired`; `tampered` (the signature does not match: a changed payload,
 * another secret); `foreign` (signed with our secret for another use: another `typ` or audience);
 * `malformed` (not one of ours at all).
 */
export type TokenFailure = 'expired' | 'tampered' | 'foreign' | 'malformed';

/** One kind of signed link: its own `typ`, so a token of one kind never stands in for another. */
export interface TokenKind {
  typ: string;
  /** Named in the error for a short secret. */
  secretName: string;
}

const algorithm = 'HS256';
const minimumSecretBytes = 32;

/**
 * Signs a token of `kind` for `subject`, valid `ttlSeconds` from `now` (default: the current time),
 * with a random `jti` when `withId` and an audience when given. Throws for a secret shorter than 32
 * bytes or a lifetime that is not a positive integer.
 */
export async function signToken(
  secret: LinkSecret,
  kind: TokenKind,
  options: { subject: string; ttlSeconds: number; claims?: Record<string, unknown>; audience?: string; withId?: boolean; now?: Date },
): Promise<string> {
  if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds <= 0) throw new RangeError(`ttlSeconds must be a positive integer, got ${options.ttlSeconds}`);
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  let jwt = new SignJWT(options.claims ?? {}).setProtectedHeader({ alg: algorithm, typ: kind.typ }).setSubject(options.subject).setIssuedAt(issuedAt).setExpirationTime(issuedAt + options.ttlSeconds);
  if (options.withId) jwt = jwt.setJti(randomBytes(16).toString('base64url'));
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(keyOf(secret, kind));
}

/**
 * Checks a token of `kind`: signature, `typ`, audience (when given), the required claims and expiry
 * at `now`; a token is expired from its `exp` second on. Never throws for a bad token.
 */
export async function verifyToken(
  secret: LinkSecret,
  kind: TokenKind,
  token: string,
  options: { requiredClaims: string[]; audience?: string; now?: Date },
): Promise<{ ok: true; payload: JWTPayload } | { ok: false; reason: TokenFailure }> {
  const key = keyOf(secret, kind);
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [algorithm],
      typ: kind.typ,
      requiredClaims: options.requiredClaims,
      ...(options.audience ? { audience: options.audience } : {}),
      ...(options.now ? { currentDate: options.now } : {}),
    });
    return { ok: true, payload };
  } catch (error) {
    if (error instanceof errors.JWTExpired) return { ok: false, reason: 'expired' };
    // A header naming another algorithm was changed after signing: ours always says HS256.
    if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JOSEAlgNotAllowed) return { ok: false, reason: 'tampered' };
    // Signed with our secret for another use: jose checks the signature before `typ` and `aud`.
    if (error instanceof errors.JWTClaimValidationFailed && (error.claim === 'typ' || error.claim === 'aud')) return { ok: false, reason: 'foreign' };
    return { ok: false, reason: 'malformed' };
  }
}

function keyOf(secret: LinkSecret, kind: TokenKind): Uint8Array {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  if (key.byteLength < minimumSecretBytes) throw new RangeError(`the ${kind.secretName} secret must be at least ${minimumSecretBytes} bytes, got ${key.byteLength}`);
  return key;
}
