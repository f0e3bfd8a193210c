import type { Logger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { collectDefaultMetrics } from 'prom-client';
import { createEscalatorMetrics } from '../activities/metrics.js';
import { PolicySource } from '../adapters/policy-source.js';
import { type WorkerConfig, workerConfigFrom } from './config.js';
import { type ConnectRetry, connectWithRetry } from './connect-with-retry.js';
import { createEscalatorWorker } from './create-worker.js';
import { type Readiness, startHealthServer, workerReadiness } from './health-server.js';
import { TemporalUnreachableError } from './temporal-unreachable-error.js';
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

  // Up before the worker, so /healthz answers and /readyz says "starting" (or "waiting for the
  // Temporal server") while the worker connects and the workflows bundle.
  let worker: Worker | undefined;
  let connection: NativeConnection | undefined;
  let lastRetry: ConnectRetry | undefined;
  const readiness = () => (connection || !lastRetry ? workerReadiness(worker, connection) : Promise.resolve(waitingForTemporal(lastRetry)));
  const httpAddress = config.ESCALATOR_WORKER_HTTP_ADDRESS;
  const health = httpAddress
    ? await startHealthServer({ host: httpAddress.host, port: httpAddress.port, registry: metrics.registry, readiness }).catch((error: unknown) => {
        throw new Error(`ESCALATOR_WORKER_HTTP_ADDRESS ${httpAddress.text} cannot be bound: ${error instanceof Error ? error.message : String(error)}`);
      })
    : undefined;
  const tracing = startTracing(config);
  try {
    connection = await connectToTemporal(config, logger, runtime.options.shutdownSignals, (retry) => (lastRetry = retry));
    if (!connection) return;
    try {
      const created = await createEscalatorWorker(config, { connection, policy, metrics, ...(tracing ? { tracing } : {}) });
      worker = created.worker;
      logger.info('worker started', {
        taskQueue: config.ESCALATOR_TASK_QUEUE,
        address: config.TEMPORAL_ADDRESS,
        policy: config.ESCALATOR_POLICY_FILE,
        http: health?.url ?? null,
        sdkMetrics: config.ESCALATOR_SDK_METRICS_ADDRESS ? `http://${config.ESCALATOR_SDK_METRICS_ADDRESS.text}/metrics` : null,
        tracing: tracing ? config.ESCALATOR_OTEL_EXPORTER : 'off',
        weeklyDigest: created.digestSchedule,
        routingRetraining: created.retrainingSchedule,
        // The effective tuning, the SDK's defaults included.
        maxCachedWorkflows: created.worker.options.maxCachedWorkflows,
        maxConcurrentWorkflowTaskExecutions: created.worker.options.maxConcurrentWorkflowTaskExecutions,
        maxConcurrentActivityTaskExecutions: created.worker.options.maxConcurrentActivityTaskExecutions,
        maxConcurrentLocalActivityExecutions: created.worker.options.maxConcurrentLocalActivityExecutions,
      });
      try {
        await created.worker.run();
      } finally {
        await created.close();
      }
    } finally {
      await connection.close();
    }
  } finally {
    await tracing?.shutdown();
    await health?.close();
  }
}

/**
 * Connects to TEMPORAL_ADDRESS, waiting up to ESCALATOR_TEMPORAL_CONNECT_TIMEOUT for a server that
 * is not up yet. Undefined when a shutdown signal ends the wait: stopping then is not a failure.
 */
async function connectToTemporal(config: WorkerConfig, logger: Logger, shutdownSignals: NodeJS.Signals[], onRetry: (retry: ConnectRetry) => void): Promise<NativeConnection | undefined> {
  const address = config.TEMPORAL_ADDRESS;
  // The Runtime's own handlers stop workers, and there is none yet to stop.
  const stop = new AbortController();
  const stopWaiting = () => stop.abort();
  for (const signal of shutdownSignals) process.on(signal, stopWaiting);
  try {
    return await connectWithRetry({
      address,
      timeoutMs: config.ESCALATOR_TEMPORAL_CONNECT_TIMEOUT,
      signal: stop.signal,
      onRetry(retry) {
        onRetry(retry);
        logger.warn('cannot reach the Temporal server yet; retrying', {
          address,
          attempt: retry.attempt,
          error: errorMessage(retry.error),
          retryInMs: retry.delayMs,
          giveUpAt: retry.giveUpAt.toISOString(),
        });
      },
    });
  } catch (error) {
    if (stop.signal.aborted) {
      logger.info('stopped while waiting for the Temporal server', { address });
      return undefined;
    }
    if (error instanceof TemporalUnreachableError) throw error;
    // Not retried (not a Temporal server, TLS, a malformed address): say which setting to look at.
    throw new Error(`cannot connect to the Temporal server at ${address} (TEMPORAL_ADDRESS): ${errorMessage(error)}`, { cause: error });
  } finally {
    for (const signal of shutdownSignals) process.off(signal, stopWaiting);
  }
}

function waitingForTemporal(retry: ConnectRetry): Readiness {
  return {
    ready: false,
    worker: 'STARTING',
    temporal: 'unreachable',
    reasons: [`waiting for the Temporal server at ${retry.address}: attempt ${retry.attempt} failed (${errorMessage(retry.error)}); retrying until ${retry.giveUpAt.toISOString()}`],
  };
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

main().catch((error: unknown) => {
  // Plain text on stderr: start-up errors (bad policy, bad environment, no Temporal server) are read by people.
  console.error(errorMessage(error));
  runtime?.flushLogs();
  process.exit(1);
});
