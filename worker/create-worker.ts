import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import nodemailer from 'nodemailer';
import { createActivities } from '../activities/index.js';
import { openOutcomeStore, type OutcomeStore } from '../activities/outcome-store/store.js';
import { PolicySource } from '../activities/policy-source.js';
import type { WorkerConfig } from './config.js';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/**
 * Builds a worker for the escalation task queue. The policy file is read and validated here, so a
 * bad policy stops start-up with its file, path and problem; the outcome store is opened and migrated.
 * Close `store` after the worker stopped. Pass `workflowBundle` to reuse a
 * pre-built bundle (tests build one per run).
 */
export async function createEscalatorWorker(
  config: WorkerConfig,
  options: { connection?: NativeConnection; workflowBundle?: WorkerOptions['workflowBundle'] } = {},
): Promise<{ worker: Worker; connection: NativeConnection; ownsConnection: boolean; store: OutcomeStore }> {
  const policy = new PolicySource(config.ESCALATOR_POLICY_FILE);
  const store = await openOutcomeStore({ sqliteFile: config.ESCALATOR_OUTCOMES_FILE, ...(config.ESCALATOR_OUTCOMES_DATABASE_URL ? { databaseUrl: config.ESCALATOR_OUTCOMES_DATABASE_URL } : {}) });
  await store.migrate();
  const mail = nodemailer.createTransport(config.ESCALATOR_SMTP_URL);
  const activities = createActivities({
    policy,
    mail,
    email: { from: config.ESCALATOR_MAIL_FROM, publicUrl: config.ESCALATOR_PUBLIC_URL },
    store,
  });
  const connection = options.connection ?? (await NativeConnection.connect({ address: config.TEMPORAL_ADDRESS }));
  const worker = await Worker.create({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.ESCALATOR_TASK_QUEUE,
    activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath }),
  });
  return { worker, connection, ownsConnection: options.connection === undefined, store };
}
