import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EscalationView } from '../domain/escalation.js';
import { startTemporalCluster, type TemporalCluster } from '../scripts/temporal-server.js';
import { startTemporalUi } from '../scripts/temporal-ui.js';
import { startClusterEscalator, type ClusterEscalator } from './helpers/cluster-env.js';
import { gateFailure } from './helpers/gate-failure.js';

/** One gate per escalation model, and one whose first step times out; bob owns the file gateFailure() changes, so routing picks him. */
const policy = `
version: 1
defaults: { maxDepth: 3, requireComment: never }
people:
  alice:   { email: alice@example.com, handles: [alice-gh] }
  bob:     { email: bob@example.com, handles: [bob-gh] }
  carol:   { email: carol@example.com }
  mallory: { email: mallory@example.com, handles: [mallory-gh] }
tiers:
  leads: { reviewers: [carol], timeout: 10m }
gates:
  release:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 10m }
      - { reviewers: [bob], timeout: 10m }
  hand-off:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 4s }
    escalateTo: [leads]
  performance:
    model: parallel
    reviewers: [alice, bob, carol]
    quorum: { approve: 2 }
    decideWithin: 10m
  ownership:
    model: dynamic
    candidates: [alice, bob, carol]
    routeBy: [codeowners]
    decideWithin: 10m
    coldStart: { model: parallel, minHistory: 0 }
    codeowners: |
      src/basket/   @bob-gh
`;

const failureOf = (gate: string, overrides: Parameters<typeof gateFailure>[0] = {}) => gateFailure({ gate: { name: gate, kind: 'tests' }, ...overrides });

/**
 * Escalator on a real Temporal server cluster (scripts/temporal-server.ts: Temporal 1.29.1, 4 history shards,
 * PostgreSQL persistence and visibility) with two worker processes on one task queue. The cluster is this file's
 * own: the first run on a machine builds the server (about 3 minutes), later runs start it in seconds.
 */
describe('Escalator on a Temporal cluster on PostgreSQL', () => {
  let cluster: TemporalCluster;
  let env: ClusterEscalator;
  /** The server's last lines, shown when a test fails. */
  const serverLog: string[] = [];
  const keep = (line: string): void => {
    serverLog.push(line);
    if (serverLog.length > 200) serverLog.shift();
  };

  beforeAll(async () => {
    cluster = await startTemporalCluster({ log: keep });
    env = await startClusterEscalator(cluster, policy);
  }, 600_000);
  afterEach(({ task }) => {
    if (task.result?.state === 'fail') process.stderr.write(`Temporal server, last lines:\n${serverLog.slice(-40).join('\n')}\n`);
  });
  afterAll(async () => {
    await env?.close();
    await cluster?.stop();
  });

  async function waitingOn(escalationId: string, reviewers: string[]): Promise<EscalationView> {
    return vi.waitFor(
      async () => {
        const view = await env.escalator.status(escalationId);
        expect(view.status).toBe('waiting');
        expect([...view.awaitedReviewers].sort()).toEqual(reviewers);
        return view;
      },
      { timeout: 30_000, interval: 200 },
    );
  }

  /** Pids of the processes that ran the escalation's workflow tasks, in order (identities are `pid@host`). */
  async function workflowTaskPids(escalationId: string): Promise<number[]> {
    const history = await env.client.workflow.getHandle(escalationId).fetchHistory();
    return (history.events ?? []).flatMap((event) => {
      const identity = event.workflowTaskStartedEventAttributes?.identity;
      return identity ? [Number(identity.split('@')[0])] : [];
    });
  }

  /** The ids of the workflows a visibility query finds, waiting up to 15 s for them to be `expected`. */
  async function expectQueryFinds(query: string, among: string[], expected: string[]): Promise<void> {
    await vi.waitFor(
      async () => {
        const found: string[] = [];
        for await (const execution of env.client.workflow.list({ query: `${query} AND TaskQueue = "${env.taskQueue}"` })) found.push(execution.workflowId);
        expect(found.filter((id) => among.includes(id)).sort()).toEqual([...expected].sort());
      },
      { timeout: 15_000, interval: 250 },
    );
  }

  it('passes a sequential escalation after each step of the chain approves', async () => {
    const { escalationId } = await env.escalator.raise(failureOf('release'));
    await waitingOn(escalationId, ['alice']);
    await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    await waitingOn(escalationId, ['bob']);
    await env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', channel: 'client' });
    const outcome = await env.escalator.outcome(escalationId);
    expect(outcome).toMatchObject({ outcome: 'passed', model: 'sequential' });
    expect(outcome.decisions.map((d) => d.reviewer)).toEqual(['alice', 'bob']);
    await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId, 2);
  });

  it('passes a parallel escalation once two of three reviewers approve', async () => {
    const { escalationId } = await env.escalator.raise(failureOf('performance'));
    await waitingOn(escalationId, ['alice', 'bob', 'carol']);
    await env.escalator.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' });
    await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    const outcome = await env.escalator.outcome(escalationId);
    expect(outcome).toMatchObject({ outcome: 'passed', model: 'parallel' });
    expect(outcome.decisions.map((d) => d.reviewer)).toEqual(['carol', 'alice']);
  });

  it('routes a dynamic escalation to the owner of the changed files, whose approval passes it', async () => {
    const { escalationId } = await env.escalator.raise(failureOf('ownership'));
    await waitingOn(escalationId, ['bob']);
    await env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', channel: 'client' });
    expect(await env.escalator.outcome(escalationId)).toMatchObject({ outcome: 'passed', model: 'dynamic' });
  });

  it('finds waiting escalations by state, severity and awaited reviewer in PostgreSQL visibility', async () => {
    const high = (await env.escalator.raise(failureOf('release', { severity: 'high' }))).escalationId;
    const low = (await env.escalator.raise(failureOf('release', { severity: 'low' }))).escalationId;
    await waitingOn(high, ['alice']);
    await waitingOn(low, ['alice']);
    await env.escalator.decide(high, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    await waitingOn(high, ['bob']);

    const ours = [high, low];
    await expectQueryFinds('EscalationState = "waiting" AND Severity = "high"', ours, [high]);
    await expectQueryFinds('AwaitedReviewers = "alice"', ours, [low]);
    await expectQueryFinds('AwaitedReviewers = "bob"', ours, [high]);
  });

  it('shows a waiting escalation in the Temporal UI built for the cluster, found by its search attributes', async () => {
    const ui = await startTemporalUi({ temporalAddress: cluster.address, log: keep, output: keep });
    try {
      const page = await fetch(`${ui.url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
      const { escalationId } = await env.escalator.raise(failureOf('release', { severity: 'high' }));
      await waitingOn(escalationId, ['alice']);
      // The UI's own API (what its workflow list calls): the server's visibility on PostgreSQL, through the UI server.
      const query = `WorkflowId = "${escalationId}" AND EscalationState = "waiting" AND AwaitedReviewers = "alice"`;
      await vi.waitFor(
        async () => {
          const response = await fetch(`${ui.url}/api/v1/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
          expect(response.status).toBe(200);
          const body = (await response.json()) as { executions?: Array<{ execution: { workflowId: string } }> };
          expect(body.executions?.map((e) => e.execution.workflowId)).toEqual([escalationId]);
        },
        { timeout: 15_000, interval: 250 },
      );
    } finally {
      await ui.stop();
    }
  });

  it('finishes an escalation on the other worker when the worker running it is SIGKILLed', async () => {
    const { escalationId } = await env.escalator.raise(failureOf('release'));
    await waitingOn(escalationId, ['alice']);
    const holderPid = (await workflowTaskPids(escalationId)).at(-1);
    const holder = env.workers.find((worker) => worker.child.pid === holderPid);
    expect(holder, `worker ${holderPid} among ${env.workers.map((w) => w.child.pid).join(', ')}`).toBeDefined();
    expect(await holder!.kill('SIGKILL')).toBe(null);
    env.workers.splice(env.workers.indexOf(holder!), 1);
    const tasksBefore = (await workflowTaskPids(escalationId)).length;

    await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    await waitingOn(escalationId, ['bob']);
    await env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', channel: 'client' });
    const outcome = await env.escalator.outcome(escalationId);
    expect(outcome).toMatchObject({ outcome: 'passed' });
    expect(outcome.decisions.map((d) => d.reviewer)).toEqual(['alice', 'bob']);
    const survivor = env.workers[0]!.child.pid;
    expect(new Set((await workflowTaskPids(escalationId)).slice(tasksBefore))).toEqual(new Set([survivor]));
    // Two workers again for the tests after this one.
    await env.startWorker();
  });

  it('carries waiting escalations and their timers across a crash and restart of the server', async () => {
    const release = (await env.escalator.raise(failureOf('release'))).escalationId;
    const handOff = (await env.escalator.raise(failureOf('hand-off'))).escalationId;
    await waitingOn(release, ['alice']);
    await waitingOn(handOff, ['alice']);
    const pidBefore = cluster.pid();

    await cluster.restart({ signal: 'SIGKILL' });
    expect(cluster.pid()).not.toBe(pidBefore);

    // alice's 4 s step timer, started before the crash, hands the step to the leads tier.
    await waitingOn(handOff, ['carol']);
    await env.escalator.decide(handOff, { reviewer: 'carol', decision: 'approve', channel: 'client' });
    await env.escalator.decide(release, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    await waitingOn(release, ['bob']);
    await env.escalator.decide(release, { reviewer: 'bob', decision: 'approve', channel: 'client' });
    expect(await env.escalator.outcome(release)).toMatchObject({ outcome: 'passed' });
    const handedOff = await env.escalator.outcome(handOff);
    expect(handedOff).toMatchObject({ outcome: 'passed', depth: 1 });
    expect(handedOff.timeline.filter((entry) => entry.event === 'handed-off')).toHaveLength(1);
  });
});

/**
 * `npm start -- --production` keeps the cluster's PostgreSQL in `.data/postgres`: a stopped and
 * restarted cluster still has its workflows and the outcome store's rows, as the dev server keeps its
 * SQLite file. A workflow on a task queue nobody polls stays open, which is all this needs.
 */
describe('a Temporal cluster on durable PostgreSQL data', () => {
  let dir: string;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('has its open workflows and the outcome database’s rows again after a stop and a start on the same directory', async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-durable-'));
    // mkdtemp makes it private to this user; PostgreSQL runs as `postgres` when we are root and must reach its data.
    await chmod(dir, 0o755);
    const dataDir = join(dir, 'postgres');
    const workflowId = `durable-${randomUUID()}`;
    const first = await startTemporalCluster({ postgresDataDir: dataDir, log: () => {}, serverOutput: () => {} });
    try {
      const connection = await Connection.connect({ address: first.address });
      await new Client({ connection }).workflow.start('neverPolled', { taskQueue: `nobody-${workflowId}`, workflowId, args: [] });
      await connection.close();
      const db = new pg.Client({ connectionString: first.postgresUrl });
      await db.connect();
      await db.query('CREATE TABLE kept (id text)');
      await db.query('INSERT INTO kept VALUES ($1)', [workflowId]);
      await db.end();
    } finally {
      await first.stop();
    }

    const second = await startTemporalCluster({ postgresDataDir: dataDir, log: () => {}, serverOutput: () => {} });
    try {
      const connection = await Connection.connect({ address: second.address });
      const description = await new Client({ connection }).workflow.getHandle(workflowId).describe();
      expect(description.status.name).toBe('RUNNING');
      await connection.close();
      const db = new pg.Client({ connectionString: second.postgresUrl });
      await db.connect();
      expect((await db.query('SELECT id FROM kept')).rows).toEqual([{ id: workflowId }]);
      await db.end();
    } finally {
      await second.stop();
    }
  }, 300_000);
});
