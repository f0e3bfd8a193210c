import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { EscalatorClient } from '../../client/escalator-client.js';
import type { TemporalCluster } from '../../scripts/temporal-server.js';
import { createDatabase } from './postgres-database.js';
import { startSmtpSink, type SmtpSink } from './smtp-sink.js';
import { startWorkerProcess, type WorkerProcess } from './worker-process.js';

/** Escalator as production runs it on a Temporal cluster: worker processes sharing a task queue and an outcome store. */
export interface ClusterEscalator {
  escalator: EscalatorClient;
  client: Client;
  smtp: SmtpSink;
  taskQueue: string;
  /** The running worker processes (worker/main.ts), oldest first: SIGKILL one and the others carry on. */
  workers: WorkerProcess[];
  /** Starts one more worker process on the task queue and adds it to `workers`. */
  startWorker(): Promise<WorkerProcess>;
  close(): Promise<void>;
}

/**
 * Starts `workers` worker processes (default 2) on one unique task queue of `cluster`, with the given policy, a real
 * SMTP sink, and one outcome store in a new database on the cluster's PostgreSQL. Close it in `afterAll`.
 */
export async function startClusterEscalator(cluster: TemporalCluster, policyYaml: string, options: { workers?: number } = {}): Promise<ClusterEscalator> {
  const dir = await mkdtemp(join(tmpdir(), 'escalator-cluster-'));
  const policyFile = join(dir, 'policy.yaml');
  await writeFile(policyFile, policyYaml);
  const smtp = await startSmtpSink();
  const taskQueue = `cluster-${randomUUID()}`;
  const environment = {
    TEMPORAL_ADDRESS: cluster.address,
    TEMPORAL_NAMESPACE: cluster.namespace,
    ESCALATOR_TASK_QUEUE: taskQueue,
    ESCALATOR_POLICY_FILE: policyFile,
    ESCALATOR_SMTP_URL: smtp.url,
    ESCALATOR_PUBLIC_URL: 'http://escalator.test',
    ESCALATOR_OUTCOMES_DATABASE_URL: await createDatabase(cluster.postgresUrl),
  };
  const workers: WorkerProcess[] = [];
  const connection = await Connection.connect({ address: cluster.address });
  const close = async (): Promise<void> => {
    await Promise.all(workers.map((worker) => worker.kill('SIGTERM')));
    await connection.close();
    await smtp.close();
    await rm(dir, { recursive: true, force: true });
  };
  const startWorker = async (): Promise<WorkerProcess> => {
    const worker = await startWorkerProcess(environment);
    workers.push(worker);
    return worker;
  };
  try {
    // One after the other: the first migrates the outcome store, the next finds it migrated.
    for (let i = 0; i < (options.workers ?? 2); i++) await startWorker();
  } catch (error) {
    await close();
    throw error;
  }
  const client = new Client({ connection, namespace: cluster.namespace });
  return { escalator: new EscalatorClient(client, taskQueue), client, smtp, taskQueue, workers, startWorker, close };
}
