import { Client, Connection } from '@temporalio/client';
import { EscalatorClient } from '../escalator-client.js';
import { buildShim } from './app.js';
import { shimConfigFrom } from './config.js';
import { TokenRegistry } from './tokens.js';

async function main(): Promise<void> {
  const config = shimConfigFrom(process.env);
  const tokens = TokenRegistry.fromFile(config.ESCALATOR_TOKENS_FILE);
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS });
  const client = new Client({ connection, namespace: config.TEMPORAL_NAMESPACE });
  const app = buildShim({
    escalator: new EscalatorClient(client, config.ESCALATOR_TASK_QUEUE),
    tokens,
    checkTemporal: async () => void (await connection.healthService.check({})),
    logger: true,
  });
  const shutdown = async () => {
    await app.close();
    await connection.close();
    process.exit(0);
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
  await app.listen({ host: config.ESCALATOR_SHIM_HOST, port: config.ESCALATOR_SHIM_PORT });
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
