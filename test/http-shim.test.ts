import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildShim } from '../client/shim/app.js';
import { TokenRegistry } from '../client/shim/tokens.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { sequentialPolicy } from './helpers/policies.js';

const tokens = {
  ci: 'ci-token-0123456789abcdef',
  alice: 'alice-token-0123456789abc',
  carol: 'carol-token-0123456789abc',
  mallory: 'mallory-token-0123456789a',
};

describe('HTTP shim over real HTTP', () => {
  let env: EscalatorEnv;
  let shim: FastifyInstance;
  let baseUrl: string;

  beforeAll(async () => {
    env = await startEscalator(sequentialPolicy());
    shim = buildShim({
      escalator: env.escalator,
      tokens: new TokenRegistry([
        { identity: 'ci', scopes: ['raise'], token: tokens.ci },
        { identity: 'alice', scopes: ['decide'], token: tokens.alice },
        { identity: 'carol', scopes: ['decide'], token: tokens.carol },
        { identity: 'mallory', scopes: ['decide'], token: tokens.mallory },
      ]),
      checkTemporal: async () => void (await env.connection.healthService.check({})),
      recordRefusal: (refusal) => env.store.recordRefusal(refusal),
    });
    await shim.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(shim.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await shim?.close();
    await env?.close();
  });

  async function call(method: string, path: string, options: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    return { status: response.status, json: (await response.json()) as any };
  }

  async function raised(): Promise<string> {
    const { status, json } = await call('POST', '/v1/gate-failures', { token: tokens.ci, body: gateFailure() });
    expect(status).toBe(201);
    await vi.waitFor(async () => expect((await call('GET', `/v1/escalations/${json.escalationId}`, { token: tokens.ci })).json.status).toBe('waiting'));
    return json.escalationId;
  }

  function expectError(response: { status: number; json: any }, status: number, code: string): void {
    expect(response.status).toBe(status);
    expect(Object.keys(response.json)).toEqual(['error']);
    expect(Object.keys(response.json.error).sort()).toEqual(['code', 'details', 'message']);
    expect(response.json.error).toMatchObject({ code, message: expect.any(String) });
  }

  it('raises a gate failure, attaches a re-delivery to it, and takes an approval from the awaited reviewer', async () => {
    const failure = gateFailure();
    const first = await call('POST', '/v1/gate-failures', { token: tokens.ci, body: failure });
    expect(first).toEqual({ status: 201, json: { escalationId: `escalation-${failure.idempotencyKey}`, started: true } });
    const again = await call('POST', '/v1/gate-failures', { token: tokens.ci, body: failure });
    expect(again).toEqual({ status: 200, json: { escalationId: first.json.escalationId, started: false } });
    await vi.waitFor(async () => expect((await call('GET', `/v1/escalations/${first.json.escalationId}`, { token: tokens.alice })).json.awaitedReviewers).toEqual(['alice']));
    const decided = await call('POST', `/v1/escalations/${first.json.escalationId}/decisions`, { token: tokens.alice, body: { decision: 'approve', comment: 'ok' } });
    expect(decided.status).toBe(200);
    // The answer is a receipt; the decisions are in the escalation's state.
    expect(decided.json).toMatchObject({ accepted: true, status: 'waiting', awaitedReviewers: ['carol'], step: 1 });
    const state = await call('GET', `/v1/escalations/${first.json.escalationId}`, { token: tokens.alice });
    expect(state.json.decisions).toEqual([expect.objectContaining({ reviewer: 'alice', channel: 'http', comment: 'ok' })]);
  });

  it('takes the reviewer from the token: a body claiming another reviewer is refused as bad input', async () => {
    const escalationId = await raised();
    const response = await call('POST', `/v1/escalations/${escalationId}/decisions`, { token: tokens.carol, body: { decision: 'approve', reviewer: 'alice' } });
    expectError(response, 400, 'InvalidInput');
    expect(JSON.stringify(response.json.error.details)).toContain('reviewer');
  });

  it('answers 400 naming the field for an invalid gate failure', async () => {
    const response = await call('POST', '/v1/gate-failures', { token: tokens.ci, body: { ...gateFailure(), severity: 'urgent' } });
    expectError(response, 400, 'InvalidInput');
    expect(response.json.error.details).toEqual([expect.objectContaining({ path: 'severity' })]);
    const nested = await call('POST', '/v1/gate-failures', { token: tokens.ci, body: { ...gateFailure(), change: { ...gateFailure().change, sha: 'not-a-sha' } } });
    expect(nested.json.error.details).toEqual([expect.objectContaining({ path: 'change.sha' })]);
  });

  it('answers 400 for malformed JSON and a missing comment the policy requires', async () => {
    expectError(await call('POST', '/v1/gate-failures', { token: tokens.ci, rawBody: '{"gate":', headers: { 'content-type': 'application/json' } }), 400, 'FST_ERR_CTP_INVALID_JSON_BODY');
    const escalationId = await raised();
    const response = await call('POST', `/v1/escalations/${escalationId}/decisions`, { token: tokens.alice, body: { decision: 'reject' } });
    expectError(response, 400, 'CommentRequired');
    expect(response.json.error.details).toEqual([{ path: 'comment', message: expect.any(String) }]);
  });

  it('answers 401 without a token and with an unknown token, before touching the escalation', async () => {
    expectError(await call('GET', '/v1/escalations/escalation-x'), 401, 'Unauthenticated');
    expectError(await call('POST', '/v1/gate-failures', { token: 'not-a-known-token-at-all', body: gateFailure() }), 401, 'Unauthenticated');
    expectError(await call('POST', '/v1/gate-failures', { body: gateFailure(), headers: { authorization: 'Basic YWxpY2U6eA==' } }), 401, 'Unauthenticated');
  });

  it('answers 403 for a missing scope, a reviewer not awaited and the author approving', async () => {
    expectError(await call('POST', '/v1/gate-failures', { token: tokens.alice, body: gateFailure() }), 403, 'Forbidden');
    const escalationId = await raised();
    expectError(await call('POST', `/v1/escalations/${escalationId}/decisions`, { token: tokens.ci, body: { decision: 'approve' } }), 403, 'Forbidden');
    expectError(await call('POST', `/v1/escalations/${escalationId}/decisions`, { token: tokens.carol, body: { decision: 'approve' } }), 403, 'NotAwaitedReviewer');
    expect(await env.store.refusals(escalationId)).toEqual([expect.objectContaining({ actor: 'carol', code: 'NotAwaitedReviewer', channel: 'http' })]);

    const selfReview = await call('POST', '/v1/gate-failures', { token: tokens.ci, body: gateFailure({ gate: { name: 'self-review', kind: 'review' }, change: { ...gateFailure().change, author: 'mallory' } }) });
    await vi.waitFor(async () => expect((await call('GET', `/v1/escalations/${selfReview.json.escalationId}`, { token: tokens.ci })).json.status).toBe('waiting'));
    expectError(await call('POST', `/v1/escalations/${selfReview.json.escalationId}/decisions`, { token: tokens.mallory, body: { decision: 'approve' } }), 403, 'AuthorCannotApprove');
    expect((await call('GET', `/v1/escalations/${selfReview.json.escalationId}`, { token: tokens.ci })).json.decisions).toEqual([]);
  });

  it('answers 404 for an unknown escalation on every route', async () => {
    expectError(await call('GET', '/v1/escalations/escalation-never-raised', { token: tokens.ci }), 404, 'EscalationNotFound');
    expectError(await call('POST', '/v1/escalations/escalation-never-raised/decisions', { token: tokens.alice, body: { decision: 'approve' } }), 404, 'EscalationNotFound');
    expectError(await call('POST', '/v1/escalations/escalation-never-raised/withdraw', { token: tokens.ci, body: { reason: 'x' } }), 404, 'EscalationNotFound');
    expectError(await call('GET', '/v1/escalations/..%2F..%2Fetc', { token: tokens.ci }), 404, 'EscalationNotFound');
  });

  it('answers 409 for a decision or withdrawal after the escalation ended', async () => {
    const escalationId = await raised();
    const withdrawn = await call('POST', `/v1/escalations/${escalationId}/withdraw`, { token: tokens.ci, body: { reason: 'reverted upstream' } });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.json.outcome).toMatchObject({ outcome: 'withdrawn' });
    await env.escalator.outcome(escalationId);
    expectError(await call('POST', `/v1/escalations/${escalationId}/decisions`, { token: tokens.alice, body: { decision: 'approve' } }), 409, 'EscalationEnded');
    expectError(await call('POST', `/v1/escalations/${escalationId}/withdraw`, { token: tokens.ci, body: { reason: 'again' } }), 409, 'EscalationEnded');
  });

  it('acknowledges, reassigns and refuses break-glass to someone without the role, over HTTP', async () => {
    const escalationId = await raised();
    const acknowledged = await call('POST', `/v1/escalations/${escalationId}/acknowledge`, { token: tokens.alice, body: {} });
    expect(acknowledged.status).toBe(200);
    expect(acknowledged.json).toMatchObject({ accepted: true, status: 'waiting' });
    expect((await call('GET', `/v1/escalations/${escalationId}`, { token: tokens.alice })).json.timeline.at(-1)).toMatchObject({ event: 'acknowledged', reviewer: 'alice', channel: 'http' });
    expectError(await call('POST', `/v1/escalations/${escalationId}/reassign`, { token: tokens.alice, body: { to: 'nobody-we-know', reason: 'x' } }), 400, 'UnknownPerson');
    const reassigned = await call('POST', `/v1/escalations/${escalationId}/reassign`, { token: tokens.alice, body: { to: 'carol', reason: 'she owns this code' } });
    expect(reassigned.status).toBe(200);
    expect(reassigned.json).toMatchObject({ awaitedReviewers: ['carol'], depth: 1 });
    const glass = await call('POST', `/v1/escalations/${escalationId}/break-glass`, { token: tokens.carol, body: { justification: 'urgent' } });
    expectError(glass, 403, 'NotBreakGlassHolder');
    expectError(await call('POST', `/v1/escalations/${escalationId}/break-glass`, { token: tokens.carol, body: {} }), 400, 'InvalidInput');
    expect((await env.store.refusals(escalationId)).map((r) => [r.actor, r.code])).toEqual([
      ['alice', 'UnknownPerson'],
      ['carol', 'NotBreakGlassHolder'],
    ]);
  });

  it('reports health with Temporal reachable', async () => {
    expect(await call('GET', '/healthz')).toEqual({ status: 200, json: { status: 'ok', temporal: 'reachable' } });
  });
});
