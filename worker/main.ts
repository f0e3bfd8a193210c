import type { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { collectDefaultMetrics } from 'prom-client';
import { createEscalatorMetrics } from '../activities/metrics.js';
import { PolicySource } from '../activities/policy-source.js';
import { workerConfigFrom } from './config.js';
import { createEscalatorWorker } from './create-worker.js';
import { startHealthServer, workerReadiness } from './health-server.js';
import { installRuntime, jsonLogger, startTracing } from './telemetry.js';

let runtime: Runtime | undefined;

// The SDK's Runtime installs SIGINT/SIGTERM handlers that shut the worker down gracefully:
// in-flight activities finish, then `run()` resolves.
async function main(): Promise<void> {
  const config = workerConfigFrom(process.env);
  // A bad policy stops start-up before anything listens: its error is the one to read.
  const policy = new PolicySource(config.ESCALATOR_POLICY_FILE);
  const logger = jsonLogger(config.ESCALATOR_LOG_LEVEL);
  runtime = installRuntime(config, logger);
  const metrics = createEscalatorMetrics();
  collectDefaultMetrics({ register: metrics.registry });

  // Up before the worker, so /healthz answers and /readyz says "starting" while the workflows bundle.
  let worker: Worker | undefined;
  let connection: NativeConnection | undefined;
  const httpAddress = config.ESCALATOR_WORKER_HTTP_ADDRESS;
  const health = httpAddress
    ? await startHealthServer({ host: httpAddress.host, port: httpAddress.port, registry: metrics.registry, readiness: () => workerReadiness(worker, connection) }).catch((error: unknown) => {
        throw new Error(`ESCALATOR_WORKER_HTTP_ADDRESS ${httpAddress.text} cannot be bound: ${error instanceof Error ? error.message : String(error)}`);
      })
    : undefined;
  const tracing = startTracing(config);
  try {
    const created = await createEscalatorWorker(config, { policy, metrics, ...(tracing ? { tracing } : {}) });
    ({ worker, connection } = created);
    logger.info('worker started', {
      taskQueue: config.ESCALATOR_TASK_QUEUE,
      address: config.TEMPORAL_ADDRESS,
      policy: config.ESCALATOR_POLICY_FILE,
      http: health?.url ?? null,
      sdkMetrics: config.ESCALATOR_SDK_METRICS_ADDRESS ? `http://${config.ESCALATOR_SDK_METRICS_ADDRESS.text}/metrics` : null,
      tracing: tracing ? config.ESCALATOR_OTEL_EXPORTER : 'off',
      // The effective tuning, the SDK's defaults included.
      maxCachedWorkflows: created.worker.options.maxCachedWorkflows,
      maxConcurrentWorkflowTaskExecutions: created.worker.options.maxConcurrentWorkflowTaskExecutions,
      maxConcurrentActivityTaskExecutions: created.worker.options.maxConcurrentActivityTaskExecutions,
      maxConcurrentLocalActivityExecutions: created.worker.options.maxConcurrentLocalActivityExecutions,
    });
    try {
      await created.worker.run();
    } finally {
      await created.connection.close();
      await created.close();
    }
  } finally {
    await tracing?.shutdown();
    await health?.close();
  }
}

main().catch((error: unknown) => {
  // Plain text on stderr: start-up errors (bad policy, bad environment) are read by people.
  console.error(error instanceof Error ? error.message : error);
  runtime?.flushLogs();
  process.exit(1);
});
