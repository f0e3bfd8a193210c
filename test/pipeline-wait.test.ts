import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EscalatorClient } from '../client/escalator-client.js';
import { escalationIdFor, type GateFailureInput } from '../domain/gate-failure.js';
import { escalator, launchEscalator } from './helpers/cli-run.js';
import { gateFailure } from './helpers/gate-failure.js';
import { sequentialPolicy } from './helpers/policies.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process.js';

/**
 * A pipeline step that raises and waits: `escalator raise --wait` in its own process, against a
 * worker in its own process (so it can be killed) and, for the network drop, through a proxy that
 * can cut the link to Temporal.
 */
describe('a pipeline waiting on its escalation with raise --wait', () => {
  let dir: string;
  let smtp: SmtpSink;
  let connection: Connection;
  let client: EscalatorClient;
  let environment: Record<string, string>;
  let taskQueue: string;
  let proxy: TcpProxy;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-wait-'));
    smtp = await startSmtpSink();
    await writeFile(join(dir, 'policy.yaml'), sequentialPolicy());
    taskQueue = `wait-${randomUUID()}`;
    environment = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      ESCALATOR_TASK_QUEUE: taskQueue,
      ESCALATOR_POLICY_FILE: join(dir, 'policy.yaml'),
      ESCALATOR_SMTP_URL: smtp.url,
      ESCALATOR_OUTCOMES_FILE: join(dir, 'outcomes.sqlite'),
    };
    workers.push(await startWorkerProcess(environment));
    connection = await Connection.connect({ address: inject('temporalAddress') });
    client = new EscalatorClient(new Client({ connection }), taskQueue);
    proxy = await startTcpProxy(inject('temporalAddress'));
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill('SIGKILL')));
    await proxy?.close();
    await connection?.close();
    await smtp?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function failureFile(failure: GateFailureInput): Promise<string> {
    const file = join(dir, `${randomUUID()}.json`);
    await writeFile(file, JSON.stringify(failure));
    return file;
  }

  function raiseAndWait(file: string, extra: string[] = [], address = inject('temporalAddress')) {
    return launchEscalator(['raise', '--wait', '--file', file, '--address', address, '--task-queue', taskQueue, '--ui-url', 'http://ui.example.test', ...extra]);
  }

  it('prints who is asked and a link, then exits 0 once the gate is approved', async () => {
    const failure = gateFailure();
    const escalationId = escalationIdFor(failure.idempotencyKey);
    const run = raiseAndWait(await failureFile(failure));
    await run.waitForOutput(/waiting for the outcome/);
    expect(run.output().stdout).toContain(`${escalationId} started`);
    expect(run.output().stdout).toContain(`follow it: http://ui.example.test/namespaces/default/workflows/${escalationId}`);
    expect(run.output().stdout).toMatch(/asked: alice, step 1 of 3 until \d{4}-/);

    await client.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    await client.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' });
    await client.decide(escalationId, { reviewer: 'erin', decision: 'approve', channel: 'client' });
    const finished = await run.finished;
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stdout).toMatch(/outcome: passed — /);
  });

  it('exits 7 when the gate is blocked and 9 when the escalation is withdrawn', async () => {
    const rejected = gateFailure();
    const blockedRun = raiseAndWait(await failureFile(rejected));
    await blockedRun.waitForOutput(/waiting for the outcome/);
    await client.decide(escalationIdFor(rejected.idempotencyKey), { reviewer: 'alice', decision: 'reject', comment: 'breaks refunds', channel: 'client' });
    expect((await blockedRun.finished).code).toBe(7);

    const withdrawn = gateFailure();
    const withdrawnRun = raiseAndWait(await failureFile(withdrawn));
    await withdrawnRun.waitForOutput(/waiting for the outcome/);
    await client.withdraw(escalationIdFor(withdrawn.idempotencyKey), { by: 'ci', reason: 'reverted' });
    const finished = await withdrawnRun.finished;
    expect(finished.code).toBe(9);
    expect(finished.stdout).toContain('outcome: withdrawn');
  });

  it('exits 10 when --timeout passes first; the re-run of the job attaches to the same escalation and gets its outcome', async () => {
    const failure = gateFailure();
    const escalationId = escalationIdFor(failure.idempotencyKey);
    const file = await failureFile(failure);
    const first = await raiseAndWait(file, ['--timeout', '1s']).finished;
    expect(first.code, first.stderr).toBe(10);
    expect(first.stdout).toContain('the escalation goes on');

    const rerun = raiseAndWait(file);
    await rerun.waitForOutput(/waiting for the outcome/);
    expect(rerun.output().stdout).toContain(`${escalationId} attached`);
    await client.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    await client.withdraw(escalationId, { by: 'ci', reason: 'superseded by a newer run' });
    const finished = await rerun.finished;
    expect(finished.code, finished.stderr).toBe(9);
    expect(finished.stdout).toContain('outcome: withdrawn');
  });

  it('keeps waiting through a worker killed with SIGKILL and a network drop to Temporal, and exits by the outcome', async () => {
    const failure = gateFailure();
    const escalationId = escalationIdFor(failure.idempotencyKey);
    const run = raiseAndWait(await failureFile(failure), [], proxy.address);
    await run.waitForOutput(/waiting for the outcome/);

    // The worker dies; the pipeline step does not notice: its wait is on the server's history.
    expect(await workers[0]!.kill('SIGKILL')).toBe(null);
    await proxy.cut();
    // The SDK retries a broken call for about 20 s before the CLI sees it fail and says so.
    await run.waitForOutput(/lost Temporal .*still waiting/);
    workers.push(await startWorkerProcess(environment));
    await client.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    await client.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' });
    await client.decide(escalationId, { reviewer: 'erin', decision: 'approve', channel: 'client' });
    await proxy.restore();
    const finished = await run.finished;
    expect(finished.code, finished.stderr).toBe(0);
    expect(finished.stdout).toContain('outcome: passed');
  });

  it('refuses --timeout without --wait, and bad input, with exit 2 before anything is raised', async () => {
    const failure = gateFailure();
    const file = await failureFile(failure);
    const noWait = await escalator(['raise', '--file', file, '--timeout', '5m', '--address', inject('temporalAddress'), '--task-queue', taskQueue]);
    expect(noWait.code).toBe(2);
    expect(noWait.stderr).toContain('--timeout: only with --wait');
    const badTimeout = await escalator(['raise', '--wait', '--file', file, '--timeout', 'soon', '--address', inject('temporalAddress'), '--task-queue', taskQueue]);
    expect(badTimeout.code).toBe(2);
    expect(badTimeout.stderr).toContain('is not a positive duration');
    await expect(client.status(escalationIdFor(failure.idempotencyKey))).rejects.toThrow(/no escalation/);
  });
});
