import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { type OutcomeStore, openOutcomeStore } from '../adapters/outcome-store/store.js';
import type { EscalationOutcome, TimelineEntry } from '../domain/escalation.js';
import { scoreCandidates } from '../domain/routing.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { createDatabase } from './helpers/postgres-database.js';

/** One past escalation of `repository`: `reviewer` decided on a change touching `files`. */
async function reviewed(store: OutcomeStore, id: string, repository: string, files: string[], reviewer: string, decidedAt: string): Promise<void> {
  await store.recordChangedFiles(id, repository, files);
  const at = (ms: number) => new Date(Date.parse(decidedAt) + ms).toISOString();
  const timeline = [
    { at: at(-60_000), event: 'raised', gate: 'payments-gate', service: 'payments', severity: 'high' },
    { at: at(-60_000), event: 'assigned', step: 0, stage: { kind: 'primary' }, reviewers: [reviewer], deadline: at(3_600_000), depth: 0 },
    { at: at(0), event: 'decided', reviewer, decision: 'approve', channel: 'http', step: 0 },
    { at: at(0), event: 'ended', outcome: 'passed', reason: 'approved' },
  ] as TimelineEntry[];
  const outcome: EscalationOutcome = {
    escalationId: id,
    outcome: 'passed',
    reason: 'approved',
    postmortem: false,
    gate: 'payments-gate',
    service: 'payments',
    severity: 'high',
    model: 'dynamic',
    depth: 0,
    policyVersion: 'v1',
    startedAt: at(-60_000),
    endedAt: at(0),
    decisions: [{ reviewer, decision: 'approve', channel: 'http', at: at(0), step: 0, stage: { kind: 'primary' } }],
    timeline,
  };
  await store.recordOutcome(outcome);
}

describe('the expertise routing factor', () => {
  it('puts the candidate who reviewed these paths most first, scaled to the most expert, and says why', () => {
    const result = scoreCandidates({
      candidates: ['alice', 'bob', 'carol'],
      routeBy: ['expertise'],
      pick: 1,
      severity: 'high',
      author: 'mallory',
      people: {},
      facts: {},
      ownership: {},
      medianResponseMs: {},
      load: {},
      expertise: { alice: 0.1, bob: 0.4, carol: 0 },
    });
    expect(result.chosen).toEqual(['bob']);
    expect(result.scores.map((s) => [s.person, s.factors.expertise?.value, s.factors.expertise?.why])).toEqual([
      ['alice', 0.25, 'reviewed these paths 25% as much as the most expert candidate'],
      ['bob', 1, 'reviewed these paths 100% as much as the most expert candidate'],
      ['carol', 0, 'has reviewed none of these paths'],
    ]);
  });

  it('scores nobody when nobody here has reviewed these paths', () => {
    const result = scoreCandidates({ candidates: ['alice', 'bob'], routeBy: ['expertise'], pick: 1, severity: 'low', author: 'mallory', people: {}, facts: {}, ownership: {}, medianResponseMs: {}, load: {} });
    expect(result.scores.map((s) => s.factors.expertise)).toEqual([
      { value: 0, weight: 3, why: 'nobody here has reviewed changes to these paths' },
      { value: 0, weight: 3, why: 'nobody here has reviewed changes to these paths' },
    ]);
  });
});

const engines = [
  { name: 'SQLite', open: async (dir: string) => ({ sqliteFile: join(dir, 'outcomes.sqlite') }) },
  { name: 'PostgreSQL', open: async (dir: string) => ({ databaseUrl: await createDatabase(inject('postgresUrl')), sqliteFile: join(dir, 'unused.sqlite') }) },
];

describe.each(engines)('reviewed paths in the outcome store on $name', (engine) => {
  let dir: string;
  let store: OutcomeStore;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-paths-'));
    store = await openOutcomeStore(await engine.open(dir));
    await store.migrate();
  });
  afterAll(async () => {
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('keeps each escalation’s changed files once and feeds every decision from a moment on, oldest first, with its gate, service, paths and response time', async () => {
    await reviewed(store, 'p1', 'acme/pay', ['./src/refund.ts', 'src/ledger.ts'], 'bob', '2026-05-01T10:00:00.000Z');
    await reviewed(store, 'p2', 'acme/shop', ['src/cart.ts'], 'alice', '2026-05-02T10:00:00.000Z');
    // A second record of the same escalation's files changes nothing: the first write wins.
    await store.recordChangedFiles('p1', 'acme/other', ['elsewhere.ts']);
    const common = { decision: 'approve', gate: 'payments-gate', service: 'payments', responseMs: 60_000 };
    expect(await store.decisionFeed(null)).toEqual([
      { escalationId: 'p1', reviewer: 'bob', paths: ['acme/pay/src/refund.ts', 'acme/pay/src/ledger.ts'], at: Date.parse('2026-05-01T10:00:00.000Z'), decidedAt: '2026-05-01T10:00:00.000Z', ...common },
      { escalationId: 'p2', reviewer: 'alice', paths: ['acme/shop/src/cart.ts'], at: Date.parse('2026-05-02T10:00:00.000Z'), decidedAt: '2026-05-02T10:00:00.000Z', ...common },
    ]);
    expect((await store.decisionFeed('2026-05-01T10:00:00.001Z')).map((r) => r.reviewer)).toEqual(['alice']);
    expect((await store.decisionFeed('2026-05-01T10:00:00.000Z')).map((r) => r.reviewer)).toEqual(['bob', 'alice']);
  });
});

// Routes at once (no cold start) on expertise alone, so the history decides.
const policy = `
version: 1
people:
  alice: { email: alice@example.com }
  bob:   { email: bob@example.com }
  carol: { email: carol@example.com }
gates:
  payments-gate:
    model: dynamic
    candidates: [alice, bob, carol]
    routeBy: [expertise]
    coldStart: { model: sequential, minHistory: 0 }
    decideWithin: 10m
    chain: [{ reviewers: [carol], timeout: 10m }]
`;

describe('Dynamic routing on a real worker learns who reviews which paths from the outcome store', () => {
  let env: EscalatorEnv;

  beforeAll(async () => {
    env = await startEscalator(policy);
  });
  afterAll(async () => env?.close());

  it('asks the person who reviewed the same folder before, and learns a review that came after the worker started', async () => {
    const day = 86_400_000;
    const earlier = (days: number) => new Date(Date.now() - days * day).toISOString();
    await reviewed(env.store, 'hist-1', 'acme/checkout', ['src/payments/refund.ts', 'src/payments/ledger.ts'], 'bob', earlier(3));
    await reviewed(env.store, 'hist-2', 'acme/checkout', ['src/payments/card.ts'], 'bob', earlier(2));
    await reviewed(env.store, 'hist-3', 'acme/checkout', ['src/basket/totals.ts'], 'alice', earlier(2));

    const payments = await env.escalator.raise(gateFailure({ gate: { name: 'payments-gate', kind: 'review' }, change: { ...gateFailure().change, changedFiles: ['src/payments/refund-fees.ts'] } }));
    const first = await vi.waitFor(async () => {
      const view = await env.escalator.status(payments.escalationId);
      expect(view.awaitedReviewers).toHaveLength(1);
      return view;
    });
    expect(first.awaitedReviewers).toEqual(['bob']);
    expect(first.routing?.find((s) => s.person === 'bob')?.factors.expertise).toMatchObject({ value: 1 });

    // carol reviews the basket code after the worker learned its first reviews: the next routing knows it.
    await reviewed(env.store, 'hist-4', 'acme/checkout', ['src/basket/discounts.ts', 'src/basket/totals.ts'], 'carol', earlier(1));
    await reviewed(env.store, 'hist-5', 'acme/checkout', ['src/basket/totals.ts'], 'carol', earlier(0.5));
    const basket = await env.escalator.raise(gateFailure({ gate: { name: 'payments-gate', kind: 'review' }, change: { ...gateFailure().change, changedFiles: ['src/basket/totals.ts'] } }));
    const second = await vi.waitFor(async () => {
      const view = await env.escalator.status(basket.escalationId);
      expect(view.awaitedReviewers).toHaveLength(1);
      return view;
    });
    expect(second.awaitedReviewers).toEqual(['carol']);
    await env.escalator.withdraw(payments.escalationId, { by: 'ci', reason: 'test done' });
    await env.escalator.withdraw(basket.escalationId, { by: 'ci', reason: 'test done' });
  });
});
