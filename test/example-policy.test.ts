import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { placeWindows, placementFromEnvironment } from './helpers/policy-windows.js';
import { createDatabase } from './helpers/postgres-database.js';

// The shipped policy (DESIGN.md's shape: all three models, rules, pools, rotations, quiet hours) runs
// with its outcome store on SQLite and on PostgreSQL. Its clock windows are placed around the moment
// the file starts (outside them by default, inside with ESCALATOR_TEST_WINDOWS=inside), with the
// rotations' first members on shift: alice is the on-call, the pool serves alice, bob and carol. What
// happens inside and outside quiet hours is tested on its own in quiet-hours-duties.test.ts.
describe.each([
  { engine: 'SQLite', databaseUrl: async () => undefined },
  { engine: 'PostgreSQL', databaseUrl: async () => createDatabase(inject('postgresUrl')) },
])('the example policy, outcomes in $engine', ({ databaseUrl }) => {
  let env: EscalatorEnv;

  beforeAll(async () => {
    const url = await databaseUrl();
    const policy = placeWindows(await readFile('policies/example.yaml', 'utf8'), new Date(), placementFromEnvironment());
    env = await startEscalator(policy, url ? { databaseUrl: url } : {});
  });

  /** The store holds the whole timeline, the outcome and every decision the workflow returned. */
  async function expectStored(escalationId: string): Promise<void> {
    const outcome = await env.escalator.outcome(escalationId);
    expect(await env.store.escalation(escalationId)).toMatchObject({ outcome: outcome.outcome, model: outcome.model, depth: outcome.depth, postmortem: outcome.postmortem, endedAt: expect.any(String) });
    expect((await env.store.timeline(escalationId)).map((e) => e.kind)).toEqual(outcome.timeline.map((e) => e.event));
    expect((await env.store.decisions(escalationId)).map((d) => [d.reviewer, d.decision])).toEqual(outcome.decisions.map((d) => [d.reviewer, d.decision]));
    expect(await env.store.currentLoad(['alice', 'bob', 'carol', 'dave', 'dana'])).toEqual({ alice: 0, bob: 0, carol: 0, dave: 0, dana: 0 });
  }
  afterAll(async () => env?.close());

  async function waiting(overrides: Parameters<typeof gateFailure>[0]) {
    const { escalationId } = await env.escalator.raise(gateFailure({ severity: 'low', ...overrides }));
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).status).toBe('waiting'));
    return { escalationId, state: await env.escalator.status(escalationId) };
  }

  it('runs the security scan as a commented sequential chain', async () => {
    const { escalationId, state } = await waiting({ gate: { name: 'security-scan', kind: 'security' } });
    expect(state).toMatchObject({ model: 'sequential', awaitedReviewers: ['alice'], stepCount: 2 });
    await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', comment: 'scanner false positive', channel: 'client' });
    const view = await env.escalator.decide(escalationId, { reviewer: 'dana', decision: 'approve', comment: 'agreed', channel: 'client' });
    expect(view.outcome).toMatchObject({ outcome: 'passed' });
    expect((await env.escalator.outcome(escalationId)).model).toBe('sequential');
    await expectStored(escalationId);
  });

  it('runs performance as a parallel vote of the weekly pool', async () => {
    const { escalationId, state } = await waiting({ gate: { name: 'performance', kind: 'performance' } });
    expect(state).toMatchObject({ model: 'parallel', votes: { quorum: { approve: 2, override: 3, reject: 1 } } });
    const [first, second] = state.awaitedReviewers;
    await env.escalator.decide(escalationId, { reviewer: first!, decision: 'approve', channel: 'client' });
    const view = await env.escalator.decide(escalationId, { reviewer: second!, decision: 'approve', channel: 'client' });
    expect(view.outcome).toMatchObject({ outcome: 'passed' });
    expect((await env.escalator.outcome(escalationId)).model).toBe('parallel');
    await expectStored(escalationId);
  });

  it('routes unit tests dynamically, starting cold with a parallel vote of the candidates', async () => {
    const { escalationId, state } = await waiting({ gate: { name: 'unit-tests', kind: 'tests' }, change: { ...gateFailure().change, changedFiles: ['src/basket/totals.ts'] } });
    expect(state).toMatchObject({ model: 'dynamic', awaitedReviewers: ['alice', 'bob', 'carol', 'dave'] });
    const routed = state.timeline.find((e) => e.event === 'routed');
    expect(routed).toMatchObject({ coldStart: true, reason: expect.stringContaining('cold start') });
    expect(state.routing?.find((s) => s.person === 'alice')?.factors.codeowners).toMatchObject({ value: 1, why: 'owns 100% of the changed files' });
    const view = await env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', channel: 'client' });
    expect(view.outcome).toMatchObject({ outcome: 'passed' });
    expect((await env.escalator.outcome(escalationId)).model).toBe('dynamic');
    await expectStored(escalationId);
    const storedRouting = (await env.store.timeline(escalationId)).find((e) => e.kind === 'routed');
    expect(storedRouting?.detail).toMatchObject({ coldStart: true, scores: expect.arrayContaining([expect.objectContaining({ person: 'alice' })]) });
  });
});
