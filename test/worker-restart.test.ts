import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EscalatorClient } from '../client/escalator-client.js';
import type { EscalationOutcome } from '../domain/escalation.js';
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
      ESCALATOR_AUDIT_FILE: join(dir, 'outcomes.jsonl'),
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
    const audited = (await readFile(environment.ESCALATOR_AUDIT_FILE!, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as EscalationOutcome);
    expect(audited.map((o) => [o.escalationId, o.outcome])).toEqual([[escalationId, 'passed']]);

    // SIGTERM shuts the worker down gracefully: it exits 0.
    expect(await second.kill('SIGTERM')).toBe(0);
  });
});
