import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EscalatorClient } from '../client/escalator-client.js';
import { openOutcomeStore } from '../adapters/outcome-store/store.js';
import { gateFailure } from './helpers/gate-failure.js';
import { sequentialPolicy } from './helpers/policies.js';
import { startSmtpSink, type SmtpSink } from './helpers/smtp-sink.js';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process.js';

describe('a worker killed while an escalation waits', () => {
  let dir: string;
  let smtp: SmtpSink;
  let connection: Connection;
  let environment: Record<string, string>;
  let escalator: EscalatorClient;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-restart-'));
    smtp = await startSmtpSink();
    await writeFile(join(dir, 'policy.yaml'), sequentialPolicy());
    const taskQueue = `restart-${randomUUID()}`;
    environment = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      ESCALATOR_TASK_QUEUE: taskQueue,
      ESCALATOR_POLICY_FILE: join(dir, 'policy.yaml'),
      ESCALATOR_SMTP_URL: smtp.url,
      ESCALATOR_OUTCOMES_FILE: join(dir, 'outcomes.sqlite'),
    };
    connection = await Connection.connect({ address: inject('temporalAddress') });
    escalator = new EscalatorClient(new Client({ connection }), taskQueue);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill('SIGKILL')));
    await connection?.close();
    await smtp?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('completes on a new worker with one outcome and no decision lost', async () => {
    const first = await startWorkerProcess(environment);
    workers.push(first);
    const { escalationId } = await escalator.raise(gateFailure());
    await smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId);
    await escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });

    expect(await first.kill('SIGKILL')).toBe(null);
    // Sent while no worker runs: the server holds it until the next worker takes the workflow.
    const carolDecides = escalator.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' });

    const second = await startWorkerProcess(environment);
    workers.push(second);
    expect((await carolDecides).awaitedReviewers).toEqual(['erin']);
    await escalator.decide(escalationId, { reviewer: 'erin', decision: 'approve', channel: 'client' });

    const outcome = await escalator.outcome(escalationId);
    expect(outcome.outcome).toBe('passed');
    expect(outcome.decisions.map((d) => d.reviewer)).toEqual(['alice', 'carol', 'erin']);
    const history = await escalator.handle(escalationId).fetchHistory();
    expect(history.events?.filter((e) => e.workflowExecutionCompletedEventAttributes)).toHaveLength(1);
    const store = await openOutcomeStore({ sqliteFile: environment.ESCALATOR_OUTCOMES_FILE! });
    try {
      expect(await store.escalation(escalationId)).toMatchObject({ outcome: 'passed' });
      expect((await store.decisions(escalationId)).map((d) => d.reviewer)).toEqual(['alice', 'carol', 'erin']);
    } finally {
      await store.close();
    }

    // SIGTERM shuts the worker down gracefully: it exits 0.
    expect(await second.kill('SIGTERM')).toBe(0);
  });
});
