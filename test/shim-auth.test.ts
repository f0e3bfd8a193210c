import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildShim } from '../client/shim/app.js';
import { createSsoVerifier } from '../client/shim/sso.js';
import { TokenRegistry } from '../client/shim/tokens.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { generateSigningKey, type JwksServer, startJwksServer } from './helpers/jwks-server.js';
import { sequentialPolicy } from './helpers/policies.js';

describe('the shim with SSO and rate limits, over real HTTP', () => {
  let env: EscalatorEnv;
  let jwks: JwksServer;
  let shim: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    env = await startEscalator(sequentialPolicy());
    jwks = await startJwksServer();
    shim = buildShim({
      escalator: env.escalator,
      tokens: new TokenRegistry([{ identity: 'ci', scopes: ['raise'], token: 'ci-token-0123456789abcdef' }]),
      sso: createSsoVerifier({ jwksUrl: jwks.jwksUrl, issuer: jwks.issuer, audience: jwks.audience }),
      checkTemporal: async () => undefined,
      rateLimitPerMinute: 8,
    });
    await shim.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(shim.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await shim?.close();
    await jwks?.close();
    await env?.close();
  });

  const decide = (escalationId: string, token: string, decision = 'approve') =>
    fetch(`${base}/v1/escalations/${escalationId}/decisions`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ decision }) });

  it('takes the reviewer from a verified SSO token and refuses wrong issuers, audiences, keys and expired tokens', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure());
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).status).toBe('waiting'));
    const claims = { preferred_username: 'alice', scope: 'decide' };
    const stranger = await generateSigningKey();
    for (const [why, token] of [
      ['wrong issuer', await jwks.mint({ ...claims, iss: 'https://evil.example.com' })],
      ['wrong audience', await jwks.mint({ ...claims, aud: 'someone-else' })],
      ['unknown key', await jwks.mint(claims, { key: stranger })],
      ['expired', await jwks.mint(claims, { expiresInSeconds: -3600 })],
    ] as const) {
      const response = await decide(escalationId, token);
      expect(response.status, why).toBe(401);
      expect((await response.json()).error.code).toBe('Unauthenticated');
    }
    expect((await env.escalator.status(escalationId)).decisions).toEqual([]);
    const ok = await decide(escalationId, await jwks.mint(claims));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ accepted: true, escalationId });
    expect((await env.escalator.status(escalationId)).decisions).toEqual([expect.objectContaining({ reviewer: 'alice', channel: 'http' })]);
    const author = await decide(escalationId, await jwks.mint({ preferred_username: 'mallory', scope: 'decide' }));
    expect(author.status).toBe(403);
  });

  it('limits requests per identity with 429 and the JSON error shape', async () => {
    const token = await jwks.mint({ preferred_username: 'carol', scope: 'decide' });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await fetch(`${base}/v1/escalations/escalation-never-raised`, { headers: { authorization: `Bearer ${token}` } })).status);
    expect(statuses.filter((s) => s === 404)).toHaveLength(8);
    expect(statuses.slice(8)).toEqual([429, 429]);
    const limited = await fetch(`${base}/v1/escalations/escalation-never-raised`, { headers: { authorization: `Bearer ${token}` } });
    expect((await limited.json()).error).toMatchObject({ code: 'RateLimited' });
    // Another identity has its own budget.
    const other = await fetch(`${base}/v1/escalations/escalation-never-raised`, { headers: { authorization: 'Bearer ci-token-0123456789abcdef' } });
    expect(other.status).toBe(404);
  });
});
