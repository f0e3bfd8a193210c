import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrations } from '../adapters/outcome-store/migrations.js';
import { openOutcomeStore, type EscalationEvents, type OutcomeStore } from '../adapters/outcome-store/store.js';
import { createDatabase } from './helpers/postgres-database.js';
import type { Decision, DecisionKind, EscalationOutcome, OutcomeKind, TimelineEntry } from '../domain/escalation.js';
import type { Stage } from '../domain/sequential-chain.js';

// One PostgreSQL for the whole run, started by test/global-setup.ts.
const postgresUrl = () => inject('postgresUrl');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'outcome-store-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface EngineUnderTest {
  name: string;
  /** Options of `openOutcomeStore` for a new, empty database. */
  emptyDatabase(): Promise<{ databaseUrl?: string; sqliteFile: string }>;
}

const engines: EngineUnderTest[] = [
  // A directory that does not exist yet: the store creates it.
  { name: 'SQLite', emptyDatabase: async () => ({ sqliteFile: join(dir, randomUUID(), 'outcomes.sqlite') }) },
  { name: 'PostgreSQL', emptyDatabase: async () => ({ databaseUrl: await createDatabase(postgresUrl()), sqliteFile: join(dir, 'unused.sqlite') }) },
];

const latestVersion = Math.max(...migrations.map((migration) => migration.version));

describe.each(engines)('outcome store on $name', (engine) => {
  const opened: OutcomeStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  async function openStore(database?: { databaseUrl?: string; sqliteFile: string }): Promise<OutcomeStore> {
    const store = await openOutcomeStore(database ?? (await engine.emptyDatabase()));
    opened.push(store);
    return store;
  }

  async function migratedStore(): Promise<OutcomeStore> {
    const store = await openStore();
    await store.migrate();
    return store;
  }

  it('has no schema before migrate, the latest after it, and keeps data when migrate runs again', async () => {
    const store = await openStore();
    expect(await store.schemaVersion()).toBe(0);

    await store.migrate();
    expect(await store.schemaVersion()).toBe(latestVersion);
    await store.recordEvents(batch('esc-1', [...opening(), assigned(0, 0, ['alice'])]));

    await store.migrate();
    expect(await store.schemaVersion()).toBe(latestVersion);
    expect(await store.timeline('esc-1')).toHaveLength(3);
  });

  it('lets several connections migrate one empty database at the same time', async () => {
    const database = await engine.emptyDatabase();
    const stores = await Promise.all([1, 2, 3, 4].map(() => openStore(database)));

    await Promise.all(stores.map((store) => store.migrate()));

    for (const store of stores) expect(await store.schemaVersion()).toBe(latestVersion);
    await stores[0]!.recordEvents(batch('esc-1', opening()));
    expect(await stores[3]!.timeline('esc-1')).toHaveLength(2);
  });

  it('stores each timeline entry once when the same recordEvents call is retried, in turn or at once', async () => {
    const store = await migratedStore();
    const entries = [...opening(), assigned(0, 0, ['alice']), decided(7, 'alice', 'approve', 0), assigned(7, 1, ['carol'])];
    const input = batch('esc-1', entries, { decisions: [decision(7, 'alice', 'approve', 0)] });

    await store.recordEvents(input);
    await store.recordEvents(input);
    await Promise.all([store.recordEvents(input), store.recordEvents(input)]);

    const timeline = await store.timeline('esc-1');
    expect(timeline.map((event) => [event.seq, event.kind])).toEqual(entries.map((entry, seq) => [seq, entry.event]));
    expect(await store.decisions('esc-1')).toHaveLength(1);
    expect(await store.currentLoad(['carol'])).toEqual({ carol: 1 });
  });

  it("keeps each entry's time, actor and remaining fields", async () => {
    const store = await migratedStore();
    await store.recordEvents(
      batch('esc-1', [
        ...opening(),
        assigned(0, 0, ['alice']),
        decided(7, 'alice', 'approve', 0),
        { at: '2026-11-27T10:00:00Z', event: 'withdrawn', by: 'mallory', reason: 'reverted the change' },
      ]),
    );

    const timeline = await store.timeline('esc-1');

    expect(timeline[0]).toEqual({ seq: 0, at: at(0), kind: 'raised', actor: null, detail: { gate: 'integration-tests', service: 'checkout', severity: 'high' } });
    expect(timeline[3]).toEqual({ seq: 3, at: at(7), kind: 'decided', actor: 'alice', detail: { reviewer: 'alice', decision: 'approve', channel: 'http', step: 0 } });
    // Stored in one spelling (with milliseconds), so times compare correctly as text.
    expect(timeline[4]).toEqual({ seq: 4, at: '2026-11-27T10:00:00.000Z', kind: 'withdrawn', actor: 'mallory', detail: { by: 'mallory', reason: 'reverted the change' } });
  });

  it('continues a timeline at fromSeq, keeps what is stored against a contradicting batch, and takes the outcome’s timeline as final', async () => {
    const store = await migratedStore();
    const entries = [...opening(), assigned(0, 0, ['alice']), decided(7, 'alice', 'approve', 0), assigned(7, 1, ['carol']), decided(9, 'carol', 'approve', 1)];
    await store.recordEvents(batch('esc-1', entries.slice(0, 3)));
    // A later batch overlapping the stored entries, as after a retry that raced a newer call.
    await store.recordEvents(batch('esc-1', entries.slice(2, 5), { fromSeq: 2 }));
    expect((await store.timeline('esc-1')).map((event) => event.kind)).toEqual(entries.slice(0, 5).map((entry) => entry.event));

    // A replayed workflow task may order entries differently: seq 4 is offered another entry.
    await store.recordEvents(batch('esc-1', entries.slice(5), { fromSeq: 4 }));
    expect((await store.timeline('esc-1')).map((event) => event.kind)).toEqual(entries.slice(0, 5).map((entry) => entry.event));
    expect(await store.decisions('esc-1')).toHaveLength(1);

    // The outcome carries the workflow's final timeline, which replaces the live one.
    await store.recordOutcome(outcome('esc-1', entries, 'passed'));
    expect((await store.timeline('esc-1')).map((event) => event.kind)).toEqual(entries.map((entry) => entry.event));
    expect((await store.decisions('esc-1')).map((d) => d.reviewer)).toEqual(['alice', 'carol']);
  });

  it('uses an email action token once, also across connections, and forgets it after it expired', async () => {
    const store = await migratedStore();
    const expires = new Date(at(60));
    expect(await store.consumeActionToken('tok-1', expires, new Date(at(1)))).toBe('fresh');
    expect(await store.consumeActionToken('tok-1', expires, new Date(at(2)))).toBe('replayed');
    const [a, b] = await Promise.all([store.consumeActionToken('tok-2', expires, new Date(at(3))), store.consumeActionToken('tok-2', expires, new Date(at(3)))]);
    expect([a, b].sort()).toEqual(['fresh', 'replayed']);
    // Expired rows are pruned; a token past its expiry is refused by its signature check before this.
    expect(await store.consumeActionToken('tok-1', new Date(at(200)), new Date(at(100)))).toBe('fresh');
  });

  it('keeps the first time of an entry a retried call offers again with its replay-time clock', async () => {
    const store = await migratedStore();
    const entries = [...opening(), assigned(0, 0, ['alice'])];
    await store.recordEvents(batch('esc-1', entries));
    const replayed = entries.map((entry, i) => (i === 1 ? { ...entry, at: at(0.5) } : entry));
    await store.recordEvents(batch('esc-1', replayed));
    const timeline = await store.timeline('esc-1');
    expect(timeline).toHaveLength(entries.length);
    expect(timeline[1]!.at).toBe(entries[1]!.at);
  });

  it('measures each response from the assignment that asked that reviewer, across batches', async () => {
    const store = await migratedStore();
    const decisions = [decision(7, 'alice', 'approve', 0), decision(25, 'bob', 'reject', 1, 'roll it back instead')];
    const entries = [
      ...opening(),
      assigned(0, 0, ['alice']),
      { at: at(0.1), event: 'notified', reviewer: 'alice', channel: 'email', messageId: '<m1@escalator>', step: 0 },
      decided(7, 'alice', 'approve', 0),
      assigned(7, 1, ['carol']),
      { at: at(22), event: 'timed-out', step: 1, stage: primary, reviewers: ['carol'] },
      { at: at(22), event: 'handed-off', step: 1, from: primary, to: backup, depth: 1 },
      assigned(22, 1, ['bob'], backup, 1),
      decided(25, 'bob', 'reject', 1),
    ] satisfies TimelineEntry[];

    await store.recordEvents(batch('esc-1', entries.slice(0, 8), { decisions: decisions.slice(0, 1) }));
    await store.recordEvents(batch('esc-1', entries.slice(8), { fromSeq: 8, decisions }));

    expect(await store.decisions('esc-1')).toEqual([
      { seq: 4, reviewer: 'alice', decision: 'approve', channel: 'http', comment: null, step: 0, askedAt: at(0), decidedAt: at(7), responseMs: 7 * MINUTE },
      { seq: 9, reviewer: 'bob', decision: 'reject', channel: 'http', comment: 'roll it back instead', step: 1, askedAt: at(22), decidedAt: at(25), responseMs: 3 * MINUTE },
    ]);
    expect((await store.escalation('esc-1'))?.depth).toBe(1);
  });

  it('counts an open escalation against the reviewers it awaits until it moves on or ends', async () => {
    const store = await migratedStore();
    const first = [...opening(), assigned(0, 0, ['alice'])];
    const second = [...opening(), assigned(1, 0, ['carol'])];
    await store.recordEvents(batch('esc-1', first));
    await store.recordEvents(batch('esc-2', second));
    expect(await store.currentLoad(['alice', 'carol', 'dave'])).toEqual({ alice: 1, carol: 1, dave: 0 });

    const firstMoves = [decided(5, 'alice', 'approve', 0), assigned(5, 1, ['carol'])];
    await store.recordEvents(batch('esc-1', firstMoves, { fromSeq: first.length }));
    expect(await store.currentLoad(['alice', 'carol'])).toEqual({ alice: 0, carol: 2 });

    await store.recordEvents(
      batch('esc-2', [{ at: at(30), event: 'timed-out', step: 0, stage: primary, reviewers: ['carol'] }, { at: at(30), event: 'exhausted', reason: 'no backup', action: 'rollback', depth: 0 }], {
        fromSeq: second.length,
      }),
    );
    expect(await store.currentLoad(['carol'])).toEqual({ carol: 1 });

    const timeline = [...first, ...firstMoves, decided(9, 'carol', 'approve', 1), ended(9, 'passed')];
    await store.recordOutcome(outcome('esc-1', timeline, 'passed'));
    expect(await store.currentLoad(['alice', 'carol'])).toEqual({ alice: 0, carol: 0 });
  });

  it('fills in a response time when the assignment arrives after the decision', async () => {
    const store = await migratedStore();
    const entries = [...opening(), assigned(0, 0, ['alice']), decided(6, 'alice', 'approve', 0), assigned(6, 1, ['carol'])];
    // The workflow re-sends a failed batch later, after newer batches went through.
    await store.recordEvents(batch('esc-1', entries.slice(3), { fromSeq: 3, decisions: [decision(6, 'alice', 'approve', 0, 'known flake')] }));
    expect(await store.decisions('esc-1')).toMatchObject([{ reviewer: 'alice', askedAt: null, responseMs: null, comment: 'known flake' }]);

    await store.recordEvents(batch('esc-1', entries.slice(0, 3)));

    expect(await store.decisions('esc-1')).toMatchObject([{ reviewer: 'alice', askedAt: at(0), responseMs: 6 * MINUTE, comment: 'known flake' }]);
    expect(await store.currentLoad(['alice', 'carol'])).toEqual({ alice: 0, carol: 1 });
  });

  it('stops awaiting a reviewer of a shared step once they have decided', async () => {
    const store = await migratedStore();

    await store.recordEvents(batch('esc-1', [...opening(), assigned(0, 0, ['alice', 'bob']), decided(4, 'alice', 'approve', 0)]));

    expect(await store.currentLoad(['alice', 'bob'])).toEqual({ alice: 0, bob: 1 });
  });

  it('keeps a reviewer waited on since their first assignment when a hand-off lists them again', async () => {
    const store = await migratedStore();
    const tier: Stage = { kind: 'tier', tier: 'team-leads', tierIndex: 0 };
    await store.recordEvents(
      batch('esc-1', [
        ...opening(),
        assigned(0, 0, ['alice', 'bob']),
        decided(3, 'alice', 'approve', 0),
        { at: at(15), event: 'timed-out', step: 0, stage: primary, reviewers: ['bob'] },
        { at: at(15), event: 'handed-off', step: 0, from: primary, to: tier, depth: 1 },
        assigned(15, 0, ['bob', 'lead'], tier, 1),
        decided(20, 'bob', 'approve', 0),
      ]),
    );

    expect((await store.decisions('esc-1')).map((d) => [d.reviewer, d.askedAt, d.responseMs])).toEqual([
      ['alice', at(0), 3 * MINUTE],
      ['bob', at(0), 20 * MINUTE],
    ]);
    expect(await store.currentLoad(['bob', 'lead'])).toEqual({ bob: 0, lead: 1 });
  });

  it('moves the wait to whoever the escalation is reassigned to', async () => {
    const store = await migratedStore();
    const entries = [...opening(), assigned(0, 0, ['alice']), { at: at(5), event: 'reassigned', by: 'alice', from: ['alice'], to: 'carol', reason: 'on leave', depth: 1 }] satisfies TimelineEntry[];
    await store.recordEvents(batch('esc-1', entries));
    expect(await store.currentLoad(['alice', 'carol'])).toEqual({ alice: 0, carol: 1 });

    await store.recordEvents(batch('esc-1', [decided(9, 'carol', 'approve', 0)], { fromSeq: entries.length }));

    expect(await store.decisions('esc-1')).toMatchObject([{ reviewer: 'carol', askedAt: at(5), responseMs: 4 * MINUTE }]);
    expect((await store.escalation('esc-1'))?.depth).toBe(1);
  });

  it('records a break-glass override as a decision, timed only when its holder was awaited', async () => {
    const store = await migratedStore();
    const breakGlass = (minutes: number, by: string): TimelineEntry => ({ at: at(minutes), event: 'break-glass', by, justification: 'prod is down', channel: 'cli' });
    await store.recordEvents(batch('awaited', [...opening(), assigned(0, 0, ['alice']), breakGlass(6, 'alice')]));
    await store.recordEvents(batch('bystander', [...opening(), assigned(0, 0, ['alice']), breakGlass(6, 'sam')]));

    expect(await store.decisions('awaited')).toEqual([
      { seq: 3, reviewer: 'alice', decision: 'override', channel: 'cli', comment: 'prod is down', step: 0, askedAt: at(0), decidedAt: at(6), responseMs: 6 * MINUTE },
    ]);
    expect(await store.decisions('bystander')).toMatchObject([{ reviewer: 'sam', decision: 'override', askedAt: null, responseMs: null }]);
  });

  it('records an outcome idempotently, the last attempt’s outcome and timeline replacing an earlier one', async () => {
    const store = await migratedStore();
    const timeline = [
      ...opening(),
      assigned(0, 0, ['alice']),
      { at: at(15), event: 'timed-out', step: 0, stage: primary, reviewers: ['alice'] },
      { at: at(15), event: 'exhausted', reason: 'maximum escalation depth 0 reached', action: 'block', depth: 0 },
      ended(15, 'blocked'),
    ] satisfies TimelineEntry[];
    await store.recordEvents(batch('esc-1', timeline.slice(0, 3)));
    const final = outcome('esc-1', timeline, 'blocked', { postmortem: true, reason: 'blocked after the escalation was exhausted' });

    // An earlier workflow-task attempt that failed after its local activity ran: not the durable result.
    await store.recordOutcome({ ...final, outcome: 'passed', reason: 'an attempt that did not last', endedAt: at(99), timeline: timeline.slice(0, 2) });
    await store.recordOutcome(final);
    await store.recordOutcome(final);

    expect(await store.escalation('esc-1')).toEqual({
      escalationId: 'esc-1',
      gate: 'integration-tests',
      service: 'checkout',
      repository: 'acme/checkout',
      severity: 'high',
      model: 'sequential',
      policyVersion: 'v1',
      startedAt: at(0),
      endedAt: at(15),
      outcome: 'blocked',
      reason: 'blocked after the escalation was exhausted',
      depth: 0,
      postmortem: true,
    });
    expect((await store.timeline('esc-1')).map((event) => [event.seq, event.kind])).toEqual(timeline.map((entry, seq) => [seq, entry.event]));
    expect(await store.historySize({})).toBe(1);
  });

  it('creates the escalation from its outcome alone when no events were recorded', async () => {
    const store = await migratedStore();
    const timeline = [opening()[0]!, ended(0, 'blocked')];

    await store.recordOutcome(outcome('esc-1', timeline, 'blocked', { model: null, postmortem: true, policyVersion: null, reason: 'no policy for gate "integration-tests"' }));

    expect(await store.escalation('esc-1')).toMatchObject({ repository: null, model: null, policyVersion: null, outcome: 'blocked', postmortem: true, endedAt: at(0) });
    expect(await store.timeline('esc-1')).toHaveLength(2);
    expect(await store.escalation('esc-unknown')).toBeUndefined();
  });

  it('keeps every refused decision attempt with who tried, why and through which channel', async () => {
    const store = await migratedStore();
    const refusal = { escalationId: 'esc-1', actor: 'mallory', code: 'AuthorCannotApprove', message: 'mallory is the author of the change and cannot approve it', channel: 'http' };

    await store.recordRefusal({ ...refusal, at: at(2) });
    await store.recordRefusal({ ...refusal, at: at(1), actor: 'dave', code: 'NotAwaitedReviewer', message: 'dave is not awaited', channel: 'slack' });
    await store.recordRefusal({ ...refusal, at: at(3), escalationId: 'esc-2' });

    const refusals = await store.refusals('esc-1');
    expect(refusals.map(({ id: _id, ...rest }) => rest)).toEqual([
      { escalationId: 'esc-1', at: at(1), actor: 'dave', code: 'NotAwaitedReviewer', message: 'dave is not awaited', channel: 'slack' },
      { ...refusal, at: at(2) },
    ]);
    expect(new Set(refusals.map((r) => r.id)).size).toBe(2);
  });

  it("gives each reviewer's decision count and median response time, within a gate, a service and a time window", async () => {
    const store = await migratedStore();
    const day = 24 * 60;
    await decidedEscalation(store, 'a1', { reviewer: 'alice', askedAt: 0, decidedAt: 5 });
    await decidedEscalation(store, 'a2', { reviewer: 'alice', askedAt: 0, decidedAt: 10, service: 'payments' });
    await decidedEscalation(store, 'a3', { reviewer: 'alice', askedAt: 0, decidedAt: 30, gate: 'security-scan' });
    await decidedEscalation(store, 'a4', { reviewer: 'alice', askedAt: day, decidedAt: day + 2 });
    await decidedEscalation(store, 'b1', { reviewer: 'bob', askedAt: 0, decidedAt: 4 });
    await decidedEscalation(store, 'b2', { reviewer: 'bob', askedAt: day, decidedAt: day + 8 });
    // Decided without an assignment in the timeline: counted, but with no response time.
    await store.recordEvents(batch('b3', [...opening(), decided(3, 'bob', 'approve', 0)]));

    expect(await store.responseStats(['alice', 'bob', 'carol'])).toEqual({
      alice: { decisions: 4, medianResponseMs: 7.5 * MINUTE },
      bob: { decisions: 3, medianResponseMs: 6 * MINUTE },
      carol: { decisions: 0, medianResponseMs: null },
    });
    expect(await store.responseStats(['alice'], { gate: 'integration-tests' })).toEqual({ alice: { decisions: 3, medianResponseMs: 5 * MINUTE } });
    expect(await store.responseStats(['alice'], { service: 'checkout' })).toEqual({ alice: { decisions: 3, medianResponseMs: 5 * MINUTE } });
    expect(await store.responseStats(['alice'], { gate: 'integration-tests', service: 'checkout', since: at(day) })).toEqual({ alice: { decisions: 1, medianResponseMs: 2 * MINUTE } });
    expect(await store.responseStats([])).toEqual({});
  });

  it('counts the ended escalations of a gate, a service or all of them', async () => {
    const store = await migratedStore();
    await decidedEscalation(store, 'e1', { reviewer: 'alice', askedAt: 0, decidedAt: 5 });
    await decidedEscalation(store, 'e2', { reviewer: 'alice', askedAt: 0, decidedAt: 5 });
    await decidedEscalation(store, 'e3', { reviewer: 'alice', askedAt: 0, decidedAt: 5, gate: 'security-scan' });
    await store.recordEvents(batch('open', [...opening(), assigned(0, 0, ['alice'])]));

    expect(await store.historySize({})).toBe(3);
    expect(await store.historySize({ gate: 'integration-tests' })).toBe(2);
    expect(await store.historySize({ service: 'checkout' })).toBe(3);
    expect(await store.historySize({ gate: 'security-scan', service: 'payments' })).toBe(0);
  });
});

it('refuses a database URL that is not PostgreSQL instead of quietly using SQLite', async () => {
  await expect(openOutcomeStore({ databaseUrl: 'mysql://db.example.com/escalator', sqliteFile: join(dir, 'never.sqlite') })).rejects.toThrow(/postgres:\/\//);
});

// --- fixtures: hand-built timelines of a Sequential escalation raised at 09:00 -----------------------------------------

const MINUTE = 60_000;
const T0 = Date.parse('2026-11-27T09:00:00.000Z');
const primary: Stage = { kind: 'primary' };
const backup: Stage = { kind: 'backup' };

/** The instant `minutes` after the escalation was raised. */
function at(minutes: number): string {
  return new Date(T0 + minutes * MINUTE).toISOString();
}

function opening(options: { gate?: string; service?: string } = {}): TimelineEntry[] {
  return [
    { at: at(0), event: 'raised', gate: options.gate ?? 'integration-tests', service: options.service ?? 'checkout', severity: 'high' },
    { at: at(0), event: 'policy-snapshot', policyVersion: 'v1', gateKey: options.gate ?? 'integration-tests', model: 'sequential', selectedBy: 'the gate', notes: [] },
  ];
}

function assigned(minutes: number, step: number, reviewers: string[], stage: Stage = primary, depth = 0): TimelineEntry {
  return { at: at(minutes), event: 'assigned', step, stage, reviewers, deadline: at(minutes + 15), depth };
}

function decided(minutes: number, reviewer: string, verdict: DecisionKind, step: number): TimelineEntry {
  return { at: at(minutes), event: 'decided', reviewer, decision: verdict, channel: 'http', step };
}

function decision(minutes: number, reviewer: string, verdict: DecisionKind, step: number, comment?: string): Decision {
  return { at: at(minutes), reviewer, decision: verdict, channel: 'http', step, stage: primary, ...(comment ? { comment } : {}) };
}

function ended(minutes: number, kind: OutcomeKind): TimelineEntry {
  return { at: at(minutes), event: 'ended', outcome: kind, reason: `ended ${kind}` };
}

function batch(escalationId: string, entries: TimelineEntry[], options: { fromSeq?: number; decisions?: Decision[]; gate?: string; service?: string } = {}): EscalationEvents {
  return {
    escalationId,
    gate: options.gate ?? 'integration-tests',
    service: options.service ?? 'checkout',
    repository: 'acme/checkout',
    severity: 'high',
    model: 'sequential',
    startedAt: at(0),
    policyVersion: 'v1',
    fromSeq: options.fromSeq ?? 0,
    entries,
    decisions: options.decisions ?? [],
  };
}

function outcome(escalationId: string, timeline: TimelineEntry[], kind: OutcomeKind, overrides: Partial<EscalationOutcome> = {}): EscalationOutcome {
  return {
    escalationId,
    outcome: kind,
    reason: `ended ${kind}`,
    postmortem: false,
    gate: 'integration-tests',
    service: 'checkout',
    severity: 'high',
    model: 'sequential',
    depth: 0,
    policyVersion: 'v1',
    startedAt: at(0),
    endedAt: timeline.at(-1)!.at,
    decisions: [],
    timeline,
    ...overrides,
  };
}

/** One single-step escalation in which `reviewer`, asked at `askedAt` minutes, approved at `decidedAt`, recorded as it runs. */
async function decidedEscalation(store: OutcomeStore, escalationId: string, o: { reviewer: string; askedAt: number; decidedAt: number; gate?: string; service?: string }): Promise<void> {
  const scope = { gate: o.gate, service: o.service };
  const timeline = [...opening(scope), assigned(o.askedAt, 0, [o.reviewer]), decided(o.decidedAt, o.reviewer, 'approve', 0), ended(o.decidedAt, 'passed')];
  await store.recordEvents(batch(escalationId, timeline.slice(0, 3), scope));
  await store.recordOutcome(outcome(escalationId, timeline, 'passed', { gate: o.gate ?? 'integration-tests', service: o.service ?? 'checkout' }));
}

// --- servers -----------------------------------------------------------------------------------------------------------
