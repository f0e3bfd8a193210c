import { workerConfigFrom } from './config.js';
import { createEscalatorWorker } from './create-worker.js';

// The SDK's Runtime installs SIGINT/SIGTERM handlers that shut the worker down gracefully:
// in-flight activities finish, then `run()` resolves.
async function main(): Promise<void> {
  const config = workerConfigFrom(process.env);
  const { worker, connection, store } = await createEscalatorWorker(config);
  console.log(JSON.stringify({ msg: 'worker started', taskQueue: config.ESCALATOR_TASK_QUEUE, address: config.TEMPORAL_ADDRESS, policy: config.ESCALATOR_POLICY_FILE }));
  try {
    await worker.run();
  } finally {
    await connection.close();
    await store.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
