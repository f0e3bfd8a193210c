import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { createGateMetrics } from '../adapters/gate-metrics.js';
import { openOutcomeStore, type OutcomeStore } from '../adapters/outcome-store/store.js';
import { buildShim } from '../client/shim/app.js';
import { TokenRegistry } from '../client/shim/tokens.js';
import { createActionToken, verifyActionToken } from '../domain/action-tokens.js';
import { createDashboardToken, verifyDashboardToken } from '../domain/dashboard-links.js';
import type { EscalationOutcome, TimelineEntry } from '../domain/escalation.js';
import type { GateFailureInput } from '../domain/gate-failure.js';
import { metricsQuerySchema } from '../domain/metrics/query.js';
import { parsePolicy } from '../domain/policy-parser.js';
import { createRatingToken, verifyRatingToken } from '../domain/rating-tokens.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { sequentialPolicy } from './helpers/policies.js';
import type { ReceivedMail } from './helpers/smtp-sink.js';
import { createDatabase } from './helpers/postgres-database.js';

const secret = 'rating-links-secret-0123456789abcdef-0000';
const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('rating tokens', () => {
  const grant = { escalationId: 'escalation-rated', rater: 'mallory', rating: 4 } as const;

  it('verify with their claims, and fail as expired, tampered or signed with another secret', async () => {
    const token = await createRatingToken(secret, grant);
    const verified = await verifyRatingToken(secret, token);
    expect(verified).toMatchObject({ ok: true, claims: grant });
    if (!verified.ok) return;
    expect(verified.claims.expiresAt.getTime() - verified.claims.issuedAt.getTime()).toBe(7 * 86_400_000);

    const expired = await createRatingToken(secret, grant, { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) });
    expect(await verifyRatingToken(secret, expired)).toEqual({ ok: false, reason: 'expired' });
    expect(await verifyRatingToken(secret, `${token.slice(0, -3)}abc`)).toEqual({ ok: false, reason: 'tampered' });
    expect(await verifyRatingToken(secret, await createRatingToken('another-secret-0123456789abcdef-012345', grant))).toEqual({ ok: false, reason: 'tampered' });
    expect(await verifyRatingToken(secret, 'not.a.token')).toEqual({ ok: false, reason: 'malformed' });
  });

  it('never stand in for an action token or a dashboard link, nor those for them', async () => {
    const rating = await createRatingToken(secret, grant);
    const action = await createActionToken(secret, { reviewer: 'mallory', escalationId: grant.escalationId, step: 0, decision: 'approve' }, { ttlSeconds: 600 });
    const dashboard = await createDashboardToken(secret, 'link', { identity: 'mallory', ttlSeconds: 600 });
    expect(await verifyRatingToken(secret, action)).toEqual({ ok: false, reason: 'malformed' });
    expect(await verifyRatingToken(secret, dashboard)).toEqual({ ok: false, reason: 'malformed' });
    expect((await verifyActionToken(secret, rating)).ok).toBe(false);
    expect((await verifyDashboardToken(secret, 'link', rating)).ok).toBe(false);
  });
});

// --- the outcome store, on both engines -------------------------------------------------------------------------

const T0 = Date.parse('2026-03-02T09:00:00Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ratings-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const engines = [
  { name: 'SQLite', emptyDatabase: async () => ({ sqliteFile: join(dir, randomUUID(), 'outcomes.sqlite') }) },
  { name: 'PostgreSQL', emptyDatabase: async () => ({ databaseUrl: await createDatabase(inject('postgresUrl')), sqliteFile: join(dir, 'unused.sqlite') }) },
];

describe.each(engines)('rating requests in the outcome store on $name', (engine) => {
  const opened: OutcomeStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  async function migratedStore(): Promise<OutcomeStore> {
    const store = await openOutcomeStore(await engine.emptyDatabase());
    opened.push(store);
    await store.migrate();
    return store;
  }

  it('asks each person once, however often or concurrently asked, and answers who was asked just now', async () => {
    const store = await migratedStore();
    await store.recordOutcome(endedEscalation('esc-1', 0));
    expect(await store.askForRatings('esc-1', ['mallory', 'alice', 'alice'], at(30))).toEqual(['mallory', 'alice']);
    expect(await store.askForRatings('esc-1', ['alice', 'bob'], at(31))).toEqual(['bob']);
    expect(await store.askForRatings('esc-1', [], at(32))).toEqual([]);
    const concurrent = await Promise.all([1, 2, 3, 4].map(() => store.askForRatings('esc-1', ['carol'], at(33))));
    expect(concurrent.flat()).toEqual(['carol']);
    expect(await store.ratingRequest('esc-1', 'alice')).toEqual({ escalationId: 'esc-1', rater: 'alice', askedAt: at(30), rating: null, comment: null, ratedAt: null });
    expect(await store.ratingRequest('esc-1', 'erin')).toBeUndefined();
  });

  it('records one rating per person with its comment, and refuses a second one and anyone never asked', async () => {
    const store = await migratedStore();
    await store.recordOutcome(endedEscalation('esc-1', 0));
    await store.askForRatings('esc-1', ['mallory', 'alice'], at(30));
    expect(await store.recordRating({ escalationId: 'esc-1', rater: 'mallory', rating: 4, comment: 'quick and clear', at: at(40) })).toBe('recorded');
    expect(await store.recordRating({ escalationId: 'esc-1', rater: 'mallory', rating: 1, comment: null, at: at(41) })).toBe('already-rated');
    expect(await store.recordRating({ escalationId: 'esc-1', rater: 'erin', rating: 5, comment: null, at: at(42) })).toBe('not-asked');
    expect(await store.recordRating({ escalationId: 'esc-unknown', rater: 'mallory', rating: 5, comment: null, at: at(42) })).toBe('not-asked');
    expect(await store.ratingRequest('esc-1', 'mallory')).toEqual({ escalationId: 'esc-1', rater: 'mallory', askedAt: at(30), rating: 4, comment: 'quick and clear', ratedAt: at(40) });

    const racing = await Promise.all([2, 3, 5].map((rating) => store.recordRating({ escalationId: 'esc-1', rater: 'alice', rating, comment: null, at: at(43) })));
    expect(racing.filter((result) => result === 'recorded')).toHaveLength(1);
    expect(racing.filter((result) => result === 'already-rated')).toHaveLength(2);
  });

  it('keeps ratings within 1 to 5', async () => {
    const store = await migratedStore();
    await store.recordOutcome(endedEscalation('esc-1', 0));
    await store.askForRatings('esc-1', ['alice'], at(30));
    await expect(store.recordRating({ escalationId: 'esc-1', rater: 'alice', rating: 6, comment: null, at: at(40) })).rejects.toThrow();
    await expect(store.recordRating({ escalationId: 'esc-1', rater: 'alice', rating: 0, comment: null, at: at(40) })).rejects.toThrow();
    expect((await store.ratingRequest('esc-1', 'alice'))?.rating).toBeNull();
  });

  it('gives the metrics who was asked and what they rated, for the escalations started in the range', async () => {
    const store = await migratedStore();
    await store.recordOutcome(endedEscalation('esc-early', 0));
    await store.recordOutcome(endedEscalation('esc-late', 120));
    await store.recordOutcome(endedEscalation('esc-outside', 24 * 60));
    await store.recordOutcome(endedEscalation('esc-unasked', 60));
    await store.askForRatings('esc-early', ['mallory', 'alice'], at(30));
    await store.askForRatings('esc-late', ['mallory', 'bob', 'carol'], at(150));
    await store.askForRatings('esc-outside', ['alice'], at(24 * 60 + 30));
    await store.recordRating({ escalationId: 'esc-early', rater: 'alice', rating: 5, comment: null, at: at(40) });
    await store.recordRating({ escalationId: 'esc-late', rater: 'bob', rating: 2, comment: 'slow', at: at(160) });
    await store.recordRating({ escalationId: 'esc-late', rater: 'carol', rating: 3, comment: null, at: at(161) });
    await store.recordRating({ escalationId: 'esc-outside', rater: 'alice', rating: 1, comment: null, at: at(24 * 60 + 40) });

    const ratings = await store.ratings({ from: at(-60), to: at(12 * 60) });
    expect(Object.fromEntries(ratings.asked)).toEqual({ 'esc-early': 2, 'esc-late': 3 });
    expect(Object.fromEntries([...ratings.given].map(([id, given]) => [id, [...given].sort()]))).toEqual({ 'esc-early': [5], 'esc-late': [2, 3] });
    const none = await store.ratings({ from: at(2 * 24 * 60), to: at(3 * 24 * 60) });
    expect([none.asked.size, none.given.size]).toEqual([0, 0]);
  });

  it('keeps the change author the first snapshot named', async () => {
    const store = await migratedStore();
    expect(await store.changeAuthor('esc-1')).toBeUndefined();
    await store.recordChangeAuthor('esc-1', 'mallory-gh');
    await store.recordChangeAuthor('esc-1', 'someone-else');
    expect(await store.changeAuthor('esc-1')).toBe('mallory-gh');
  });
});

function endedEscalation(escalationId: string, startMinute: number): EscalationOutcome {
  const timeline: TimelineEntry[] = [
    { at: at(startMinute), event: 'raised', gate: 'integration-tests', service: 'checkout', severity: 'high' },
    { at: at(startMinute + 10), event: 'ended', outcome: 'passed', reason: 'approved' },
  ];
  return {
    escalationId,
    outcome: 'passed',
    reason: 'approved',
    postmortem: false,
    gate: 'integration-tests',
    service: 'checkout',
    severity: 'high',
    model: 'sequential',
    depth: 0,
    policyVersion: 'v1',
    startedAt: at(startMinute),
    endedAt: at(startMinute + 10),
    decisions: [],
    timeline,
  };
}

// --- end to end: the worker asks, the shim records, the metrics count --------------------------------------------

/** A failure of a gate of its own, which the policy's "*" entry sends to alice alone: her approval ends it. */
function oneStepFailure(author: string): GateFailureInput {
  return gateFailure({ gate: { name: `rated-${randomUUID().slice(0, 8)}`, kind: 'tests' }, change: { ...gateFailure().change, author } });
}

/** The rating emails of an escalation: one per person asked, Message-ID `<id.rating.person@escalator>`. */
function isRatingMail(escalationId: string): (mail: ReceivedMail) => boolean {
  return (m) => m.mail.headers.get('x-escalation-id') === escalationId && (m.mail.messageId ?? '').startsWith(`<${escalationId}.rating.`);
}

describe('ratings after an escalation ends, end to end', () => {
  const policyText = sequentialPolicy();
  let env: EscalatorEnv;
  let shim: FastifyInstance;
  let base: string;

  beforeAll(async () => {
    env = await startEscalator(policyText, { actionSecret: secret });
    shim = buildShim({
      escalator: env.escalator,
      tokens: new TokenRegistry([{ identity: 'ci', scopes: ['raise'], token: 'ci-token-0123456789abcdef' }]),
      checkTemporal: async () => undefined,
      actions: { secret, consume: (id, expires) => env.store.consumeActionToken(id, expires), used: (id) => env.store.actionTokenUsed(id) },
      ratings: { secret, store: env.store },
    });
    await shim.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(shim.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await shim?.close();
    await env?.close();
  });

  /** The five rating links of one email, by rating, pointed at this test's shim. */
  function linksIn(mail: ReceivedMail): Record<number, string> {
    const links = [...(mail.mail.text ?? '').matchAll(/^([1-5]) \([^)]*\): (\S+)$/gm)].map(([, rating, url]) => [Number(rating), url!.replace(env.publicUrl, base)]);
    expect(links.map(([rating]) => rating)).toEqual([1, 2, 3, 4, 5]);
    return Object.fromEntries(links);
  }

  it('asks the author and the decider once each; a link shows the rating, its form records it once, and the metrics count it', async () => {
    // The failure names the author by a handle of theirs: the policy maps it to mallory.
    const failure = oneStepFailure('Mallory-GH');
    const gate = failure.gate.name;
    const { escalationId } = await env.escalator.raise(failure);
    await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId && m.envelopeTo.includes('alice@example.com'));
    await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    expect((await env.escalator.outcome(escalationId)).outcome).toBe('passed');

    const mails = await env.smtp.waitFor(isRatingMail(escalationId), 2);
    expect(mails.map((m) => m.envelopeTo).sort()).toEqual([['alice@example.com'], ['mallory@example.com']]);
    const toMallory = mails.find((m) => m.envelopeTo.includes('mallory@example.com'))!;
    expect(toMallory.mail.text).toMatch(/add a comment/);
    expect(String(toMallory.mail.html).match(/<a href="http:\/\/escalator\.test\/v1\/ratings\/[^"]+"[^>]*>[1-5]<\/a>/g)).toHaveLength(5);
    const links = linksIn(toMallory);

    // Following a link (as a mail scanner does) records nothing.
    const page = await fetch(links[4]!);
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toContain('no-store');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await page.text();
    expect(html).toContain('Rate this escalation: 4/5');
    expect(html).toContain('method="post"');
    expect((await env.store.ratingRequest(escalationId, 'mallory'))?.rating).toBeNull();

    const posted = await fetch(links[4]!, { method: 'POST', headers: form, body: 'comment=fast+and+clear' });
    expect(posted.status).toBe(200);
    expect(await posted.text()).toContain('4/5 recorded');
    expect(await env.store.ratingRequest(escalationId, 'mallory')).toMatchObject({ rating: 4, comment: 'fast and clear' });

    // The person has rated: that link and every other one of theirs is refused from now on.
    const replay = await fetch(links[4]!, { method: 'POST', headers: form, body: '' });
    expect(replay.status).toBe(409);
    expect(await replay.text()).toMatch(/already rated/i);
    expect((await fetch(links[5]!, { method: 'POST', headers: form, body: '' })).status).toBe(409);
    expect((await fetch(links[2]!)).status).toBe(409);
    expect(await env.store.ratingRequest(escalationId, 'mallory')).toMatchObject({ rating: 4, comment: 'fast and clear' });

    // alice answers nothing: one of two asked rated, 4 on average.
    const report = await createGateMetrics({ store: env.store, policy: () => parsePolicy(policyText, 'policy.yaml').policy, ratings: (range) => env.store.ratings(range) })(
      metricsQuerySchema.parse({ gate, from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 86_400_000).toISOString() }),
    );
    expect(report.rows.map((row) => row.current.satisfaction)).toEqual([{ average: 4, responses: 1, asked: 2, responseRate: 0.5 }]);
    expect(env.smtp.received.filter(isRatingMail(escalationId))).toHaveLength(2);
  });

  it('refuses tampered, expired and unasked rating links, and an action token used as one, with pages and recording nothing', async () => {
    const { escalationId } = await env.escalator.raise(oneStepFailure('someone-outside-the-policy'));
    await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId && m.envelopeTo.includes('alice@example.com'));
    await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    await env.escalator.outcome(escalationId);
    // An author the policy does not know is not asked: only the decider is.
    const [toAlice] = await env.smtp.waitFor(isRatingMail(escalationId));
    expect(toAlice!.envelopeTo).toEqual(['alice@example.com']);
    const links = linksIn(toAlice!);
    const rating = (token: string) => `${base}/v1/ratings/${token}`;

    const tampered = await fetch(`${links[3]!.slice(0, -3)}abc`, { method: 'POST', headers: form, body: '' });
    expect(tampered.status).toBe(400);
    expect(tampered.headers.get('cache-control')).toContain('no-store');
    expect(await tampered.text()).toMatch(/^<!doctype html>/);

    const action = await createActionToken(secret, { reviewer: 'alice', escalationId, step: 0, decision: 'approve' }, { ttlSeconds: 600 });
    expect((await fetch(rating(action))).status).toBe(400);
    expect((await fetch(rating(action), { method: 'POST', headers: form, body: '' })).status).toBe(400);
    // And the other way round: a rating token is no action link.
    const ratingToken = decodeURIComponent(links[3]!.split('/').at(-1)!);
    expect((await fetch(`${base}/v1/actions/${ratingToken}`)).status).toBe(400);

    const expired = await createRatingToken(secret, { escalationId, rater: 'alice', rating: 5 }, { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) });
    expect((await fetch(rating(expired), { method: 'POST', headers: form, body: '' })).status).toBe(410);
    const unasked = await createRatingToken(secret, { escalationId, rater: 'carol', rating: 5 });
    expect((await fetch(rating(unasked))).status).toBe(404);
    expect((await fetch(rating(unasked), { method: 'POST', headers: form, body: '' })).status).toBe(404);

    expect(await env.store.ratingRequest(escalationId, 'alice')).toMatchObject({ rating: null, comment: null });
    expect(await env.store.ratingRequest(escalationId, 'carol')).toBeUndefined();
  });
});

describe('a rating email the mail relay refuses', () => {
  it('is logged and lost, while the outcome is recorded and the others are asked', async () => {
    const env = await startEscalator(sequentialPolicy(), { actionSecret: secret, smtp: { refuseFirstTo: { 'mallory@example.com': 1 } } });
    try {
      const { escalationId } = await env.escalator.raise(oneStepFailure('mallory'));
      await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId && m.envelopeTo.includes('alice@example.com'));
      await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
      expect((await env.escalator.outcome(escalationId)).outcome).toBe('passed');
      const [toAlice] = await env.smtp.waitFor(isRatingMail(escalationId));
      expect(toAlice!.envelopeTo).toEqual(['alice@example.com']);
      await vi.waitFor(() => expect(env.smtp.refused).toBe(1));
      expect(env.smtp.received.filter(isRatingMail(escalationId))).toHaveLength(1);
      expect((await env.store.escalation(escalationId))?.outcome).toBe('passed');
      // Asked, and counted as asked: the rating is lost, not retried.
      expect(await env.store.ratingRequest(escalationId, 'mallory')).toMatchObject({ rating: null });
    } finally {
      await env.close();
    }
  });
});
