import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EscalatorClient } from '../client/escalator-client.js';
import { type DevServer, startDevServer } from '../scripts/dev-server.js';
import { freePort } from './helpers/free-port.js';
import { gateFailure } from './helpers/gate-failure.js';
import { sequentialPolicy } from './helpers/policies.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { type LaunchedWorkerProcess, launchWorkerProcess, startWorkerProcess } from './helpers/worker-process.js';

describe('worker start-up', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-startup-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('stops with the policy file, the path inside it and the problem when the policy is invalid', async () => {
    const policyFile = join(dir, 'broken-policy.yaml');
    await writeFile(policyFile, 'version: 1\npeople:\n  alice: { email: alice@example.com }\ngates:\n  build:\n    model: sequential\n    chain:\n      - { reviewers: [alice, zed], timeout: 1h }\n');
    const failure = await startWorkerProcess({ TEMPORAL_ADDRESS: inject('temporalAddress'), ESCALATOR_POLICY_FILE: policyFile }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failure).toContain('worker exited with 1 before starting');
    expect(failure).toContain(`invalid policy ${policyFile}:`);
    expect(failure).toContain(`${policyFile}:8:30 at gates.build.chain[0].reviewers[1]: refers to "zed", who is not under people`);
  });

  it('stops naming each invalid environment variable', async () => {
    const failure = await startWorkerProcess({ ESCALATOR_SMTP_URL: 'http://mail.example.com', ESCALATOR_PUBLIC_URL: 'not a url' }).then(
      () => undefined,
      (error: Error) => error.message,
    );
    expect(failure).toContain('invalid worker configuration:');
    expect(failure).toMatch(/ESCALATOR_SMTP_URL: /);
    expect(failure).toMatch(/ESCALATOR_PUBLIC_URL: /);
  });
});

describe('a worker started before the Temporal server', () => {
  let dir: string;
  let policyFile: string;
  let smtp: SmtpSink;
  let server: DevServer | undefined;
  let connection: Connection | undefined;
  const workers: LaunchedWorkerProcess[] = [];
  const retryMessage = 'cannot reach the Temporal server yet; retrying';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-startup-wait-'));
    policyFile = join(dir, 'policy.yaml');
    await writeFile(policyFile, sequentialPolicy());
    smtp = await startSmtpSink();
  });
  afterAll(async () => {
    await Promise.all(workers.map((worker) => worker.kill('SIGKILL')));
    await connection?.close();
    await server?.stop();
    await smtp?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A worker of its own (task queue, outcome store) pointed at `address`. */
  function launchWorker(address: string, environment: Record<string, string> = {}): LaunchedWorkerProcess {
    const name = randomUUID();
    const worker = launchWorkerProcess({
      TEMPORAL_ADDRESS: address,
      ESCALATOR_TASK_QUEUE: `startup-${name}`,
      ESCALATOR_POLICY_FILE: policyFile,
      ESCALATOR_SMTP_URL: smtp.url,
      ESCALATOR_OUTCOMES_FILE: join(dir, `${name}.sqlite`),
      ...environment,
    });
    workers.push(worker);
    return worker;
  }

  it('retries, saying so in its log and on /readyz, and runs escalations once the server is up', async () => {
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    let httpPort = await freePort();
    while (httpPort === port) httpPort = await freePort();
    const worker = launchWorker(address, { ESCALATOR_WORKER_HTTP_ADDRESS: `127.0.0.1:${httpPort}` });

    await worker.waitForOutput(/"attempt":2\b/);
    const [first, second] = logLines(worker.output()).filter((line) => line.msg === retryMessage);
    expect(first).toMatchObject({ level: 'WARN', address, attempt: 1, error: expect.stringContaining('ConnectionRefused'), retryInMs: expect.any(Number) });
    expect(second).toMatchObject({ level: 'WARN', address, attempt: 2 });
    expect(second!.retryInMs).toBeGreaterThan(first!.retryInMs as number);

    const waiting = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
    expect(waiting.status).toBe(503);
    expect(await waiting.json()).toMatchObject({ ready: false, temporal: 'unreachable', reasons: [expect.stringContaining(`waiting for the Temporal server at ${address}`)] });
    expect((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status).toBe(200);

    server = await startDevServer({ port, dbFile: join(dir, 'temporal.sqlite'), headless: true, log: () => {} });
    await worker.waitForOutput(/"msg":"worker started"/, 90_000);
    await expect.poll(async () => (await fetch(`http://127.0.0.1:${httpPort}/readyz`)).status, { timeout: 10_000 }).toBe(200);

    connection = await Connection.connect({ address });
    const taskQueue = logLines(worker.output()).find((line) => line.msg === 'worker started')!.taskQueue as string;
    const escalator = new EscalatorClient(new Client({ connection }), taskQueue);
    const { escalationId } = await escalator.raise(gateFailure());
    await smtp.waitFor((mail) => mail.mail.headers.get('x-escalation-id') === escalationId);
  }, 150_000);

  it('exits non-zero naming the address and the timeout when no server answers in time', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const worker = launchWorker(address, { ESCALATOR_TEMPORAL_CONNECT_TIMEOUT: '2s' });

    expect(await worker.exited).toBe(1);
    expect(logLines(worker.output()).filter((line) => line.msg === retryMessage).length).toBeGreaterThanOrEqual(2);
    expect(worker.output()).toMatch(new RegExp(`cannot reach the Temporal server at ${address} within 2s \\(ESCALATOR_TEMPORAL_CONNECT_TIMEOUT, \\d+ attempts\\); last error: .*Connection refused`));
  });

  it('exits 0 at once on SIGTERM while it waits', async () => {
    const worker = launchWorker(`127.0.0.1:${await freePort()}`);
    await worker.waitForOutput(/"attempt":1\b/);

    const signalled = Date.now();
    expect(await worker.kill('SIGTERM')).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5_000);
    expect(worker.output()).toContain('"msg":"stopped while waiting for the Temporal server"');
  });

  it('fails at once, without retrying, when something other than a Temporal server answers', async () => {
    const notTemporal = createServer((_request, response) => response.end('hello'));
    await new Promise<void>((resolve) => notTemporal.listen(0, '127.0.0.1', resolve));
    try {
      const address = `127.0.0.1:${(notTemporal.address() as AddressInfo).port}`;
      const worker = launchWorker(address);

      expect(await worker.exited).toBe(1);
      expect(worker.output()).toContain(`cannot connect to the Temporal server at ${address} (TEMPORAL_ADDRESS): `);
      expect(worker.output()).not.toContain(retryMessage);
    } finally {
      notTemporal.closeAllConnections();
      await new Promise((resolve) => notTemporal.close(resolve));
    }
  });
});

/** The worker's JSON log lines, skipping anything else it printed. */
function logLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
