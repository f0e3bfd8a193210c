import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export type SigningAlgorithm = 'RS256' | 'ES256';

/** A key pair an identity provider signs with; `publicJwk` is what its JWKS publishes. */
export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicJwk: JWK;
}

export async function generateSigningKey(alg: SigningAlgorithm = 'RS256', kid = `key-${randomUUID()}`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, publicKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface MintOptions {
  /** The key to sign with; default the server's first key. It need not be published. */
  key?: SigningKey;
  /** The `kid` header; default the key's own. */
  kid?: string;
  /** Seconds from now to `exp` (negative: already expired); default 300. Ignored when the claims set `exp`. */
  expiresInSeconds?: number;
}

/** A local identity provider: its JWKS over real HTTP, and tokens signed with its (or other) keys. */
export interface JwksServer {
  /** The JWKS URL. */
  jwksUrl: string;
  issuer: string;
  audience: string;
  /** The published keys; push to or splice this array to rotate. */
  keys: SigningKey[];
  /** How many times the JWKS was fetched. */
  fetches: number;
  /**
   * A signed JWT with `iss`, `aud`, `iat` and `exp` filled in; `claims` override them (a claim set
   * to `undefined` is left out).
   */
  mint(claims: JWTPayload, options?: MintOptions): Promise<string>;
  close(): Promise<void>;
}

export async function startJwksServer(options: { keys?: SigningKey[]; issuer?: string; audience?: string } = {}): Promise<JwksServer> {
  const keys = options.keys ?? [await generateSigningKey('RS256'), await generateSigningKey('ES256')];
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/jwks') {
      response.writeHead(404).end();
      return;
    }
    jwks.fetches += 1;
    response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: jwks.keys.map((key) => key.publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const jwks: JwksServer = {
    jwksUrl: `http://127.0.0.1:${port}/jwks`,
    issuer: options.issuer ?? 'https://idp.test/realms/escalator',
    audience: options.audience ?? 'escalator',
    keys,
    fetches: 0,
    async mint(claims, mintOptions = {}) {
      const key = mintOptions.key ?? jwks.keys[0];
      if (!key) throw new Error('the JWKS server has no key to sign with');
      const now = Math.floor(Date.now() / 1000);
      const payload = withoutUndefined({ iss: jwks.issuer, aud: jwks.audience, iat: now, exp: now + (mintOptions.expiresInSeconds ?? 300), ...claims });
      return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: mintOptions.kid ?? key.kid, typ: 'JWT' }).sign(key.privateKey);
    },
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
  return jwks;
}

/** An unsecured JWT (`alg: none`, empty signature) with the given claims. */
export function unsecuredToken(claims: JWTPayload): string {
  return `${encodePart({ alg: 'none', typ: 'JWT' })}.${encodePart(claims)}.`;
}

/**
 * The classic key-confusion forgery: an HS256 JWT whose HMAC secret is the provider's public key
 * (PEM), with that key's `kid`. A verifier that lets the token pick the algorithm accepts it.
 */
export async function hmacWithPublicKeyToken(claims: JWTPayload, key: SigningKey): Promise<string> {
  const secret = new TextEncoder().encode(await exportSPKI(key.publicKey));
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: key.kid, typ: 'JWT' }).sign(secret);
}

function encodePart(value: object): string {
  return base64url.encode(JSON.stringify(value));
}

function withoutUndefined(claims: JWTPayload): JWTPayload {
  return Object.fromEntries(Object.entries(claims).filter(([, value]) => value !== undefined));
}
