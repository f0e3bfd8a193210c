import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpError } from '../client/shim/http-error.js';
import { authenticateBearer, createSsoVerifier, looksLikeJwt, type SsoVerifier, type SsoVerifierOptions } from '../client/shim/sso.js';
import { TokenRegistry } from '../client/shim/tokens.js';
import { generateSigningKey, hmacWithPublicKeyToken, startJwksServer, unsecuredToken, type JwksServer } from './helpers/jwks-server.js';

describe('SSO bearer tokens against a local JWKS', () => {
  let idp: JwksServer;
  let sso: SsoVerifier;

  beforeAll(async () => {
    idp = await startJwksServer();
    sso = verifierFor();
  });
  afterAll(async () => {
    await idp?.close();
  });

  function verifierFor(options: Partial<SsoVerifierOptions> = {}): SsoVerifier {
    return createSsoVerifier({ jwksUrl: idp.jwksUrl, issuer: idp.issuer, audience: idp.audience, ...options });
  }

  const alice = { sub: 'f3a1c2d4', preferred_username: 'alice', email: 'alice@example.com', scope: 'openid profile decide' };

  it('maps a valid RS256 token to its identity and scopes', async () => {
    const identity = await sso.verify(await idp.mint({ ...alice, scope: 'openid decide raise unrelated' }));
    expect(identity).toEqual({ id: 'alice', scopes: new Set(['decide', 'raise']) });
  });

  it('accepts ES256 keys of the key set too', async () => {
    const es256 = idp.keys.find((key) => key.alg === 'ES256')!;
    expect(await sso.verify(await idp.mint(alice, { key: es256 }))).toEqual({ id: 'alice', scopes: new Set(['decide']) });
  });

  it('takes the identity and scopes from the configured claims', async () => {
    const token = await idp.mint({ ...alice, scope: undefined, roles: ['escalator:admin', 'escalator:decide', 'decide', 'other'] });
    expect(await verifierFor({ identityClaim: 'email', scopesClaim: 'roles', scopePrefix: 'escalator:' }).verify(token)).toEqual({ id: 'alice@example.com', scopes: new Set(['admin', 'decide']) });
    expect(await verifierFor({ identityClaim: 'sub', scopesClaim: 'roles', scopePrefix: 'escalator:' }).verify(token)).toEqual({ id: 'f3a1c2d4', scopes: new Set(['admin', 'decide']) });
  });

  it('refuses a token from another issuer', async () => {
    expect(await sso.verify(await idp.mint({ ...alice, iss: 'https://evil.test' }))).toEqual({ error: 'wrong-issuer', message: expect.any(String) });
  });

  it('refuses a token meant for another audience', async () => {
    expect(await sso.verify(await idp.mint({ ...alice, aud: 'grafana' }))).toMatchObject({ error: 'wrong-audience' });
    expect(await sso.verify(await idp.mint({ ...alice, aud: ['grafana', 'escalator'] }))).toMatchObject({ id: 'alice' });
  });

  it('refuses a token expired for longer than the clock tolerance', async () => {
    expect(await sso.verify(await idp.mint(alice, { expiresInSeconds: -120 }))).toMatchObject({ error: 'expired' });
    expect(await verifierFor({ clockToleranceSeconds: 0 }).verify(await idp.mint(alice, { expiresInSeconds: -5 }))).toMatchObject({ error: 'expired' });
  });

  it('accepts a token expired within the clock tolerance', async () => {
    expect(await sso.verify(await idp.mint(alice, { expiresInSeconds: -30 }))).toMatchObject({ id: 'alice' });
  });

  it('refuses a token that is not valid yet, beyond the tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await sso.verify(await idp.mint({ ...alice, nbf: now + 600 }))).toMatchObject({ error: 'not-yet-valid' });
    expect(await sso.verify(await idp.mint({ ...alice, nbf: now + 30 }))).toMatchObject({ id: 'alice' });
  });

  it('refuses a token without an expiry', async () => {
    expect(await sso.verify(await idp.mint({ ...alice, exp: undefined }))).toMatchObject({ error: 'invalid-claims' });
  });

  it('refuses a token signed by a key outside the key set', async () => {
    const stranger = await generateSigningKey('RS256');
    expect(await sso.verify(await idp.mint(alice, { key: stranger }))).toMatchObject({ error: 'unknown-key' });
    // A published kid does not help a token signed with another key.
    expect(await sso.verify(await idp.mint(alice, { key: stranger, kid: idp.keys[0]!.kid }))).toMatchObject({ error: 'bad-signature' });
  });

  it('refuses unsecured tokens and HS256 tokens keyed with the public key', async () => {
    expect(await sso.verify(unsecuredToken({ ...alice, iss: idp.issuer, aud: idp.audience, exp: Math.floor(Date.now() / 1000) + 300 }))).toMatchObject({ error: 'algorithm-not-allowed' });
    const forged = await hmacWithPublicKeyToken({ ...alice, iss: idp.issuer, aud: idp.audience, exp: Math.floor(Date.now() / 1000) + 300 }, idp.keys[0]!);
    expect(await sso.verify(forged)).toMatchObject({ error: 'algorithm-not-allowed' });
  });

  it('refuses a token without the identity claim', async () => {
    expect(await sso.verify(await idp.mint({ ...alice, preferred_username: undefined }))).toEqual({ error: 'missing-identity-claim', message: 'the token has no "preferred_username" claim' });
    expect(await sso.verify(await idp.mint({ ...alice, preferred_username: '  ' }))).toMatchObject({ error: 'missing-identity-claim' });
  });

  it('refuses an email identity the provider marks unverified', async () => {
    expect(await verifierFor({ identityClaim: 'email' }).verify(await idp.mint({ ...alice, email_verified: false }))).toMatchObject({ error: 'unverified-email' });
  });

  it('refuses a token that grants no Escalator scope', async () => {
    expect(await sso.verify(await idp.mint({ ...alice, scope: 'openid profile' }))).toMatchObject({ error: 'no-scopes' });
  });

  it('reports garbage as malformed', async () => {
    expect(await sso.verify('a.b.c')).toMatchObject({ error: 'malformed' });
  });

  it('reports an unreachable key set as unavailable, not as a bad token', async () => {
    const closed = await startJwksServer({ keys: idp.keys });
    await closed.close();
    const unreachable = createSsoVerifier({ jwksUrl: closed.jwksUrl, issuer: idp.issuer, audience: idp.audience });
    expect(await unreachable.verify(await idp.mint(alice))).toMatchObject({ error: 'jwks-unavailable' });
  });

  it('fetches the key set once and reuses it', async () => {
    const fresh = await startJwksServer({ keys: idp.keys });
    try {
      const verifier = createSsoVerifier({ jwksUrl: fresh.jwksUrl, issuer: idp.issuer, audience: idp.audience });
      for (let i = 0; i < 3; i += 1) expect(await verifier.verify(await idp.mint(alice))).toMatchObject({ id: 'alice' });
      expect(fresh.fetches).toBe(1);
    } finally {
      await fresh.close();
    }
  });

  describe('authenticateBearer', () => {
    const staticToken = 'ci-token-0123456789abcdef';
    const tokens = new TokenRegistry([{ identity: 'ci', scopes: ['raise'], token: staticToken }]);

    async function refusal(header: string | undefined, withSso = true): Promise<HttpError> {
      const error = await authenticateBearer(header, { tokens, ...(withSso ? { sso } : {}) }).then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(HttpError);
      return error as HttpError;
    }

    it('still accepts static tokens, with or without SSO', async () => {
      expect(await authenticateBearer(`Bearer ${staticToken}`, { tokens, sso })).toEqual({ id: 'ci', scopes: new Set(['raise']) });
      expect(await authenticateBearer(`bearer ${staticToken}`, { tokens })).toEqual({ id: 'ci', scopes: new Set(['raise']) });
    });

    it('accepts an SSO token', async () => {
      expect(await authenticateBearer(`Bearer ${await idp.mint(alice)}`, { tokens, sso })).toEqual({ id: 'alice', scopes: new Set(['decide']) });
    });

    it('answers 401 with the reason an SSO token was refused', async () => {
      const error = await refusal(`Bearer ${await idp.mint({ ...alice, iss: 'https://evil.test' })}`);
      expect({ status: error.status, code: error.code, details: error.details }).toEqual({ status: 401, code: 'Unauthenticated', details: { reason: 'wrong-issuer' } });
      expect(error.message).toMatch(/^the bearer token was refused: /);
    });

    it('answers 401 for a missing header, an unknown opaque token, and a JWT when SSO is off', async () => {
      expect(await refusal(undefined)).toMatchObject({ status: 401, message: 'send a bearer token: Authorization: Bearer <token>' });
      expect(await refusal('Basic YWxpY2U6c2VjcmV0')).toMatchObject({ status: 401 });
      expect(await refusal('Bearer not-a-known-token-at-all')).toMatchObject({ status: 401, message: 'the bearer token is not known' });
      expect(await refusal(`Bearer ${await idp.mint(alice)}`, false)).toMatchObject({ status: 401, message: 'the bearer token is not known' });
    });

    it('answers 503 when the identity provider cannot be reached', async () => {
      const closed = await startJwksServer({ keys: idp.keys });
      await closed.close();
      const unreachable = createSsoVerifier({ jwksUrl: closed.jwksUrl, issuer: idp.issuer, audience: idp.audience });
      const error = await authenticateBearer(`Bearer ${await idp.mint(alice)}`, { tokens, sso: unreachable }).catch((thrown: unknown) => thrown);
      expect(error).toMatchObject({ status: 503, code: 'IdentityProviderUnavailable' });
    });
  });

  it('tells JWT-shaped bearers from opaque ones', () => {
    expect(looksLikeJwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.')).toBe(true);
    expect(looksLikeJwt('abc.def.ghi')).toBe(true);
    expect(looksLikeJwt('ci-token-0123456789abcdef')).toBe(false);
    expect(looksLikeJwt('a.b')).toBe(false);
    expect(looksLikeJwt('a.b.c.d')).toBe(false);
  });
});
