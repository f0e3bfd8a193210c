import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { HttpError } from './http-error.js';
import { scopes, type Identity, type Scope, type TokenRegistry } from './tokens.js';

/** Why an SSO bearer token was refused; sent as `details.reason` of the 401. */
export type SsoFailureReason =
  | 'malformed'
  | 'algorithm-not-allowed'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-issuer'
  | 'wrong-audience'
  | 'invalid-claims'
  | 'missing-identity-claim'
  | 'unverified-email'
  | 'no-scopes'
  /** The identity provider's key set could not be fetched: not the caller's fault. */
  | 'jwks-unavailable';

export interface SsoFailure {
  error: SsoFailureReason;
  message: string;
}

export interface SsoVerifierOptions {
  /** The identity provider's JSON Web Key Set, e.g. `https://idp.example.com/realms/x/protocol/openid-connect/certs`. */
  jwksUrl: string | URL;
  /** The exact `iss` the tokens must carry. */
  issuer: string;
  /** The `aud` the tokens must contain (one of them, when several are given). */
  audience: string | string[];
  /** Slack for clock differences on `exp` and `nbf`; default 60. */
  clockToleranceSeconds?: number;
  /** The claim that names the person; default `preferred_username`. It becomes `Identity.id`. */
  identityClaim?: 'preferred_username' | 'email' | 'sub';
  /** Where the scopes are: `scope` (space-separated, default) or `roles` (an array). */
  scopesClaim?: 'scope' | 'roles';
  /** A prefix the provider puts before each scope, e.g. `escalator:` for `escalator:decide`; default none. */
  scopePrefix?: string;
  /** The clock the expiry is checked against; default the system clock. */
  now?: () => Date;
}

/** Verifies SSO bearer JWTs against the identity provider's published keys. */
export interface SsoVerifier {
  /** The identity the token proves, or why it proves none. Never throws for a bad token. */
  verify(token: string): Promise<Identity | SsoFailure>;
}

// Asymmetric algorithms only: with a key set of public keys, an HS256 token would be "signed" with a public key.
const allowedAlgorithms = ['RS256', 'ES256'];

class JwksUnavailable extends Error {
  override readonly name = 'JwksUnavailable';
}

/**
 * A verifier for the identity provider's JWTs: signature by a key of its JWKS (RS256 or ES256
 * only; fetched on first use, cached, and re-fetched when an unknown `kid` appears), `iss`, `aud`,
 * `exp` (required) and `nbf` within the clock tolerance, then the identity and scopes from the
 * configured claims. A token without any Escalator scope is refused (`no-scopes`): static tokens
 * always carry one, and every route but /healthz expects an identity that may do something.
 */
export function createSsoVerifier(options: SsoVerifierOptions): SsoVerifier {
  const remoteKeys = createRemoteJWKSet(new URL(options.jwksUrl));
  const keys: JWTVerifyGetKey = async (header, token) => {
    try {
      return await remoteKeys(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSENotSupported) throw error;
      throw new JwksUnavailable(`the identity provider's keys could not be fetched: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  };
  const identityClaim = options.identityClaim ?? 'preferred_username';
  const scopesClaim = options.scopesClaim ?? 'scope';
  const scopePrefix = options.scopePrefix ?? '';

  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, keys, {
          issuer: options.issuer,
          audience: options.audience,
          algorithms: allowedAlgorithms,
          clockTolerance: options.clockToleranceSeconds ?? 60,
          requiredClaims: ['exp'],
          ...(options.now ? { currentDate: options.now() } : {}),
        }));
      } catch (error) {
        return failureOf(error);
      }
      const id = payload[identityClaim];
      if (typeof id !== 'string' || !id.trim()) return { error: 'missing-identity-claim', message: `the token has no "${identityClaim}" claim` };
      if (identityClaim === 'email' && payload.email_verified === false) return { error: 'unverified-email', message: `the token's email ${id} is not verified` };
      const granted = scopesOf(payload[scopesClaim], scopePrefix);
      if (!granted.size) return { error: 'no-scopes', message: `the token's "${scopesClaim}" claim grants none of ${scopes.map((s) => scopePrefix + s).join(', ')}` };
      return { id, scopes: granted };
    },
  };
}

/** True for a string shaped like a compact JWS: three base64url parts separated by dots (the last may be empty). */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/**
 * The identity of an `Authorization: Bearer …` header: a static token of the registry first, then,
 * when an SSO verifier is given and the token is a JWT, the identity provider's. Throws
 * `HttpError(401, 'Unauthenticated')` with `details: { reason }` for an SSO refusal, and
 * `HttpError(503, 'IdentityProviderUnavailable')` when the provider's keys cannot be fetched.
 */
export async function authenticateBearer(header: string | undefined, options: { tokens: TokenRegistry; sso?: SsoVerifier }): Promise<Identity> {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!match) throw new HttpError(401, 'Unauthenticated', 'send a bearer token: Authorization: Bearer <token>');
  const bearer = match[1]!;
  const known = options.tokens.identify(bearer);
  if (known) return known;
  if (!options.sso || !looksLikeJwt(bearer)) throw new HttpError(401, 'Unauthenticated', 'the bearer token is not known');
  const result = await options.sso.verify(bearer);
  if (!('error' in result)) return result;
  if (result.error === 'jwks-unavailable') throw new HttpError(503, 'IdentityProviderUnavailable', result.message);
  throw new HttpError(401, 'Unauthenticated', `the bearer token was refused: ${result.message}`, { reason: result.error });
}

function failureOf(error: unknown): SsoFailure {
  if (error instanceof JwksUnavailable) return { error: 'jwks-unavailable', message: error.message };
  if (error instanceof errors.JWTExpired) return { error: 'expired', message: 'the token has expired' };
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return { error: 'wrong-issuer', message: 'the token was issued by another identity provider' };
      case 'aud':
        return { error: 'wrong-audience', message: 'the token is meant for another audience' };
      case 'nbf':
        return { error: 'not-yet-valid', message: 'the token is not valid yet' };
      default:
        return { error: 'invalid-claims', message: `the token's "${error.claim}" claim is invalid or missing` };
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return { error: 'algorithm-not-allowed', message: `the token must be signed with ${allowedAlgorithms.join(' or ')}` };
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) return { error: 'unknown-key', message: "the token was not signed by a key of the identity provider's key set" };
  if (error instanceof errors.JWSSignatureVerificationFailed) return { error: 'bad-signature', message: 'the token signature does not verify' };
  return { error: 'malformed', message: 'the token is not a well-formed JWT' };
}

function scopesOf(claim: unknown, prefix: string): ReadonlySet<Scope> {
  const values = typeof claim === 'string' ? claim.split(/\s+/) : Array.isArray(claim) ? claim.filter((value): value is string => typeof value === 'string') : [];
  const granted = new Set<Scope>();
  for (const value of values) {
    if (!value.startsWith(prefix)) continue;
    const scope = scopes.find((known) => known === value.slice(prefix.length));
    if (scope) granted.add(scope);
  }
  return granted;
}
