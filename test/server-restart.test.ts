import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openOutcomeStore } from '../adapters/outcome-store/store.js';
import { EscalatorClient } from '../client/escalator-client.js';
import { type DevServer, startDevServer } from '../scripts/dev-server.js';
import { freePort } from './helpers/free-port.js';
import { gateFailure } from './helpers/gate-failure.js';
import { sequentialPolicy } from './helpers/policies.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process.js';

const chain = ['alice', 'carol', 'erin'] as const;

describe('the Temporal server stopped and restarted while escalations wait', () => {
  let dir: string;
  let dbFile: string;
  let port: number;
  let server: DevServer | undefined;
  let smtp: SmtpSink;
  let connection: Connection;
  let client: Client;
  let escalator: EscalatorClient;
  let taskQueue: string;
  let environment: Record<string, string>;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-server-restart-'));
    dbFile = join(dir, 'temporal.sqlite');
    // A server of its own: stopping the shared one would pull it from under every other test file.
    port = await freePort();
    server = await startDevServer({ dbFile, port, headless: true, log: () => {} });
    smtp = await startSmtpSink();
    // flaky-tests: alice has 8 s, then her backup bob; long enough to be raised and notified before
    // the server stops, short enough to fall due while it is down.
    await writeFile(join(dir, 'policy.yaml'), sequentialPolicy({ fastTimeout: '8s' }));
    taskQueue = `server-restart-${randomUUID()}`;
    environment = {
      TEMPORAL_ADDRESS: server.address,
      ESCALATOR_TASK_QUEUE: taskQueue,
      ESCALATOR_POLICY_FILE: join(dir, 'policy.yaml'),
      ESCALATOR_SMTP_URL: smtp.url,
      ESCALATOR_OUTCOMES_FILE: join(dir, 'outcomes.sqlite'),
    };
    worker = await startWorkerProcess(environment);
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection });
    escalator = new EscalatorClient(client, taskQueue);
  });
  afterAll(async () => {
    await worker?.kill('SIGKILL');
    await connection?.close();
    await server?.stop();
    await smtp?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const mailsOf = (escalationId: string) => smtp.received.filter((m) => m.mail.headers.get('x-escalation-id') === escalationId);

  /** Notified, and the notification's result is in history: nothing is in flight when the server stops. */
  async function notified(escalationId: string, reviewer: string, count: number): Promise<void> {
    await smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId && m.envelopeTo.includes(`${reviewer}@example.com`));
    await vi.waitFor(async () => expect((await escalator.status(escalationId)).timeline.filter((e) => e.event === 'notified')).toHaveLength(count), { timeout: 20_000 });
  }

  it('resumes every escalation on the same worker: decisions are taken, the overdue timer fires, nothing is doubled', async () => {
    const waiting = await Promise.all(Array.from({ length: 4 }, async () => (await escalator.raise(gateFailure())).escalationId));
    const overdue = (await escalator.raise(gateFailure({ gate: { name: 'flaky-tests', kind: 'tests' } }))).escalationId;
    await Promise.all([...waiting, overdue].map((id) => notified(id, 'alice', 1)));
    const deadline = Date.parse((await escalator.status(overdue)).deadline!);

    await server!.stop();
    const stoppedAt = Date.now();
    // The scenario needs alice's deadline to fall inside the outage.
    expect(stoppedAt, 'the server stopped only after the short timer was due').toBeLessThan(deadline);
    await new Promise((resolve) => setTimeout(resolve, Math.max(3_000, deadline + 1_000 - stoppedAt)));
    expect({ exitCode: worker!.child.exitCode, signal: worker!.child.signalCode }, worker!.output()).toEqual({ exitCode: null, signal: null });

    // The same SQLite file, on the same port: the escalations and the search attributes are already there.
    const restartedAt = Date.now();
    server = await startDevServer({ dbFile, port, headless: true, log: () => {} });
    expect(worker!.child.exitCode, worker!.output()).toBe(null);

    // The timer that fell due in the outage fires now: alice's step goes to her backup, bob.
    await vi.waitFor(async () => expect(await escalator.status(overdue)).toMatchObject({ status: 'waiting', awaitedReviewers: ['bob'], stage: { kind: 'backup' }, depth: 1 }), { timeout: 30_000, interval: 250 });
    const timedOut = (await escalator.status(overdue)).timeline.filter((e) => e.event === 'timed-out');
    expect(timedOut).toEqual([expect.objectContaining({ step: 0, stage: { kind: 'primary' }, reviewers: ['alice'] })]);
    expect(Date.parse(timedOut[0]!.at)).toBeGreaterThanOrEqual(restartedAt);
    await notified(overdue, 'bob', 2);
    await escalator.decide(overdue, { reviewer: 'bob', decision: 'approve', channel: 'client' });

    // The escalations waiting for decisions take them where they stood.
    await Promise.all(
      waiting.map(async (escalationId) => {
        for (const [step, reviewer] of chain.entries()) {
          if (step > 0) await notified(escalationId, reviewer, step + 1);
          await escalator.decide(escalationId, { reviewer, decision: 'approve', channel: 'client' });
          expect((await escalator.status(escalationId)).decisions.map((d) => d.reviewer)).toEqual(chain.slice(0, step + 1));
        }
      }),
    );

    const store = await openOutcomeStore({ sqliteFile: environment.ESCALATOR_OUTCOMES_FILE! });
    try {
      for (const [escalationId, reviewers, asked] of [...waiting.map((id) => [id, chain, chain] as const), [overdue, ['bob'], ['alice', 'bob']] as const]) {
        const outcome = await escalator.outcome(escalationId);
        expect(outcome).toMatchObject({ outcome: 'passed', depth: escalationId === overdue ? 1 : 0 });
        expect(outcome.decisions.map((d) => d.reviewer)).toEqual(reviewers);
        expect(outcome.timeline.filter((e) => e.event === 'timed-out')).toHaveLength(escalationId === overdue ? 1 : 0);
        expect(outcome.timeline.filter((e) => e.event === 'assigned').map((e) => (e.event === 'assigned' ? e.reviewers : []))).toEqual(asked.map((id) => [id]));
        expect(outcome.timeline.filter((e) => e.event === 'ended')).toHaveLength(1);
        const history = (await escalator.handle(escalationId).fetchHistory()).events ?? [];
        expect(history.filter((e) => e.workflowExecutionCompletedEventAttributes)).toHaveLength(1);
        expect(history.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes)).toHaveLength(reviewers.length);

        expect(await store.escalation(escalationId)).toMatchObject({ outcome: 'passed', endedAt: new Date(outcome.endedAt).toISOString() });
        expect((await store.decisions(escalationId)).map((d) => d.reviewer)).toEqual(reviewers);
        expect((await store.timeline(escalationId)).map((e) => e.kind)).toEqual(outcome.timeline.map((e) => e.event));
        // One email per assignment, none sent again across the outage.
        expect(mailsOf(escalationId).map((m) => m.envelopeTo)).toEqual(asked.map((id) => [`${id}@example.com`]));
      }
    } finally {
      await store.close();
    }

    // Visibility kept the search attributes across the restart, and the worker still shuts down cleanly.
    await vi.waitFor(async () => {
      const ended = [];
      for await (const execution of client.workflow.list({ query: `TaskQueue = "${taskQueue}" AND EscalationState = "ended" AND Outcome = "passed"` })) ended.push(execution.workflowId);
      expect(ended.sort()).toEqual([...waiting, overdue].sort());
    }, { timeout: 10_000, interval: 250 });
    expect(await worker!.kill('SIGTERM')).toBe(0);
  }, 85_000);
});
