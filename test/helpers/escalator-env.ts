import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { inject } from 'vitest';
import { EscalatorClient } from '../../client/escalator-client.js';
import type { OutcomeStore } from '../../adapters/outcome-store/store.js';
import { workerConfigFrom } from '../../worker/config.js';
import { createEscalatorWorker } from '../../worker/create-worker.js';
import { quietRuntime } from './quiet-runtime.js';
import { startSmtpSink } from './smtp-sink.js';

export interface EscalatorEnv {
  escalator: EscalatorClient;
  client: Client;
  connection: Connection;
  smtp: Awaited<ReturnType<typeof startSmtpSink>>;
  taskQueue: string;
  policyFile: string;
  publicUrl: string;
  /** The worker's outcome store (a SQLite file, or PostgreSQL when `databaseUrl` is given). */
  store: OutcomeStore;
  /**
   * Stops the worker, runs `meanwhile`, then starts a fresh worker on the same task queue: messages
   * sent meanwhile wait at the server and reach the new worker together, in one workflow task.
   */
  withWorkerStopped<T>(meanwhile: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * A running Escalator against the shared dev server: a worker on a unique task queue with the given
 * policy, a real SMTP sink, and a client. Close it in `afterAll`.
 */
export async function startEscalator(
  policyYaml: string,
  options: { databaseUrl?: string; actionSecret?: string; environment?: Record<string, string>; smtp?: Parameters<typeof startSmtpSink>[0] } = {},
): Promise<EscalatorEnv> {
  quietRuntime();
  const address = inject('temporalAddress');
  const dir = await mkdtemp(join(tmpdir(), 'escalator-env-'));
  const policyFile = join(dir, 'policy.yaml');
  const outcomesFile = join(dir, 'outcomes.sqlite');
  await writeFile(policyFile, policyYaml);
  const smtp = await startSmtpSink(options.smtp);
  const taskQueue = `test-${randomUUID()}`;
  const publicUrl = 'http://escalator.test';
  const config = workerConfigFrom({
    TEMPORAL_ADDRESS: address,
    ESCALATOR_TASK_QUEUE: taskQueue,
    ESCALATOR_POLICY_FILE: policyFile,
    ESCALATOR_SMTP_URL: smtp.url,
    ESCALATOR_PUBLIC_URL: publicUrl,
    ESCALATOR_OUTCOMES_FILE: outcomesFile,
    ...(options.databaseUrl ? { ESCALATOR_OUTCOMES_DATABASE_URL: options.databaseUrl } : {}),
    ...(options.actionSecret ? { ESCALATOR_ACTION_SECRET: options.actionSecret } : {}),
    ...options.environment,
  });
  const nativeConnection = await NativeConnection.connect({ address });
  const launch = () => createEscalatorWorker(config, { connection: nativeConnection, workflowBundle: { codePath: inject('workflowBundlePath') } });
  const first = await launch();
  const { store } = first;
  let { worker } = first;
  let running = worker.run();
  const closers = [first.close];
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  return {
    escalator: new EscalatorClient(client, taskQueue),
    client,
    connection,
    smtp,
    taskQueue,
    policyFile,
    publicUrl,
    store,
    async withWorkerStopped(meanwhile) {
      await stopWorker(worker, running);
      const result = await meanwhile();
      const next = await launch();
      closers.push(next.close);
      worker = next.worker;
      running = worker.run();
      return result;
    },
    async close() {
      await stopWorker(worker, running);
      for (const closeWorker of closers) await closeWorker();
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

