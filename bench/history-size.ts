/**
 * `npm run bench:history`: the size of one escalation's history, the figure behind "a gate failure
 * enters history once". A 3-step sequential escalation whose change has `--files` changed files
 * (1,000 by default) is approved at each step through the client, as reviewers would; then its
 * history is fetched and measured: events, and bytes as the server stores them (the protobuf
 * encoding of the History message), and the bytes of each kind of event.
 * Runs its own dev server (in memory), worker and SMTP sink; nothing outside the run is touched.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { NativeConnection } from '@temporalio/worker';
import { EscalatorClient } from '../client/escalator-client.js';
import { startDevServer } from '../scripts/dev-server.js';
import { freePort } from '../test/helpers/free-port.js';
import { gateFailure } from '../test/helpers/gate-failure.js';
import { sequentialPolicy } from '../test/helpers/policies.js';
import { quietRuntime } from '../test/helpers/quiet-runtime.js';
import { startSmtpSink } from '../test/helpers/smtp-sink.js';
import { workerConfigFrom } from '../worker/config.js';
import { createEscalatorWorker } from '../worker/create-worker.js';

// The package is CommonJS: its namespace comes through the default export.
const { temporal } = proto;
const { values: args } = parseArgs({ options: { files: { type: 'string', default: '1000' } } });
const fileCount = Number(args.files);

quietRuntime();
const port = await freePort();
const server = await startDevServer({ port, headless: true, log: () => undefined });
const dir = await mkdtemp(join(tmpdir(), 'escalator-history-size-'));
const smtp = await startSmtpSink();
try {
  const policyFile = join(dir, 'policy.yaml');
  await writeFile(policyFile, sequentialPolicy());
  const taskQueue = `history-size-${randomUUID()}`;
  const config = workerConfigFrom({
    TEMPORAL_ADDRESS: server.address,
    ESCALATOR_TASK_QUEUE: taskQueue,
    ESCALATOR_POLICY_FILE: policyFile,
    ESCALATOR_SMTP_URL: smtp.url,
    ESCALATOR_PUBLIC_URL: 'http://escalator.test',
    ESCALATOR_OUTCOMES_FILE: join(dir, 'outcomes.sqlite'),
  });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const { worker, close } = await createEscalatorWorker(config, { connection: nativeConnection });
  const running = worker.run();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const escalator = new EscalatorClient(client, taskQueue);

  const changedFiles = Array.from({ length: fileCount }, (_, i) => `services/checkout/src/module-${Math.floor(i / 50)}/file-${i}.ts`);
  const failure = gateFailure({ change: { ...gateFailure().change, changedFiles } });
  const { escalationId } = await escalator.raise(failure);
  for (const reviewer of ['alice', 'carol', 'erin']) {
    await waitUntilAwaited(escalator, escalationId, reviewer);
    await escalator.decide(escalationId, { reviewer, decision: 'approve', channel: 'client' });
  }
  await client.workflow.getHandle(escalationId).result();
  const history = await client.workflow.getHandle(escalationId).fetchHistory();
  const bytes = temporal.api.history.v1.History.encode(history).finish().length;
  const byType = new Map<string, { count: number; bytes: number }>();
  for (const event of history.events ?? []) {
    const type = temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? String(event.eventType);
    const size = temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
    const entry = byType.get(type) ?? { count: 0, bytes: 0 };
    byType.set(type, { count: entry.count + 1, bytes: entry.bytes + size });
  }
  console.log(`3-step sequential escalation, ${fileCount} changed files: ${history.events?.length ?? 0} events, ${bytes} bytes of history`);
  for (const [type, { count, bytes: size }] of [...byType].sort((a, b) => b[1].bytes - a[1].bytes)) {
    console.log(`  ${type.replace('EVENT_TYPE_', '').padEnd(40)} ${String(count).padStart(3)} events ${String(size).padStart(9)} bytes`);
  }
  worker.shutdown();
  await running;
  await close();
  await nativeConnection.close();
  await connection.close();
} finally {
  await smtp.close();
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}

async function waitUntilAwaited(escalator: EscalatorClient, escalationId: string, reviewer: string): Promise<void> {
  for (let attempt = 0; attempt < 300; attempt++) {
    const view = await escalator.status(escalationId);
    if (view.awaitedReviewers.includes(reviewer)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${reviewer} was never awaited by ${escalationId}`);
}
