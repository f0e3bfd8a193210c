/**
 * The benchmark's baseline worker, in its own process like Escalator's: the bare workflows on
 * BENCH_TASK_QUEUE against TEMPORAL_ADDRESS, with the SDK's default settings.
 */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { quietRuntime } from '../test/helpers/quiet-runtime.js';
import * as activities from './bare-activities.js';

async function main(): Promise<void> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  const worker = await Worker.create({
    connection,
    taskQueue: process.env.BENCH_TASK_QUEUE!,
    activities,
    workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
  });
  process.once('SIGTERM', () => worker.shutdown());
  console.log(JSON.stringify({ msg: 'worker started', maxCachedWorkflows: worker.options.maxCachedWorkflows }));
  await worker.run();
  await connection.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
