import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { EscalatorClient } from '../../client/escalator-client.js';
import type { EscalationOutcome } from '../../domain/escalation.js';
import { workerConfigFrom } from '../../worker/config.js';
import { createEscalatorWorker } from '../../worker/create-worker.js';
import { quietRuntime } from './quiet-runtime.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';

export interface EscalatorEnv {
  escalator: EscalatorClient;
  client: Client;
  connection: Connection;
  smtp: SmtpSink;
  taskQueue: string;
  policyFile: string;
  auditFile: string;
  publicUrl: string;
  /** Outcomes appended to the audit file so far. */
  auditedOutcomes(): Promise<EscalationOutcome[]>;
  close(): Promise<void>;
}

/**
 * A running Escalator against the shared dev server: a worker on a unique task queue with the given
 * policy, a real SMTP sink, and a client. Close it in `afterAll`.
 */
export async function startEscalator(policyYaml: string): Promise<EscalatorEnv> {
  quietRuntime();
  const address = inject('temporalAddress');
  const dir = await mkdtemp(join(tmpdir(), 'escalator-env-'));
  const policyFile = join(dir, 'policy.yaml');
  const auditFile = join(dir, 'outcomes.jsonl');
  await writeFile(policyFile, policyYaml);
  const smtp = await startSmtpSink();
  const taskQueue = `test-${randomUUID()}`;
  const publicUrl = 'http://escalator.test';
  const config = workerConfigFrom({
    TEMPORAL_ADDRESS: address,
    ESCALATOR_TASK_QUEUE: taskQueue,
    ESCALATOR_POLICY_FILE: policyFile,
    ESCALATOR_SMTP_URL: smtp.url,
    ESCALATOR_PUBLIC_URL: publicUrl,
    ESCALATOR_AUDIT_FILE: auditFile,
  });
  const nativeConnection = await NativeConnection.connect({ address });
  const { worker } = await createEscalatorWorker(config, { connection: nativeConnection, workflowBundle: { codePath: inject('workflowBundlePath') } });
  const running = worker.run();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  return {
    escalator: new EscalatorClient(client, taskQueue),
    client,
    connection,
    smtp,
    taskQueue,
    policyFile,
    auditFile,
    publicUrl,
    async auditedOutcomes() {
      const text = await readFile(auditFile, 'utf8').catch(() => '');
      return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as EscalationOutcome);
    },
    async close() {
      await stopWorker(worker, running);
      await nativeConnection.close();
      await connection.close();
      await smtp.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function stopWorker(worker: Worker, running: Promise<void>): Promise<void> {
  if (worker.getState() === 'RUNNING') worker.shutdown();
  await running;
}

