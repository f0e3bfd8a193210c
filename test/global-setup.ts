import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../scripts/dev-server.js';
import { startPostgres } from '../scripts/postgres.js';
import { workflowsPath } from '../worker/create-worker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
    /** A PostgreSQL server on loopback; tests create their own databases in it. */
    postgresUrl: string;
  }
}

/**
 * One real Temporal dev server (SQLite file, headless), one PostgreSQL (installed from Debian's
 * packages when missing) and one workflow bundle for the whole run; every test file connects to
 * them with its own task queue and database.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'escalator-test-'));
  const port = await freePort();
  const [server, postgres] = await Promise.all([startDevServer({ dbFile: join(dir, 'temporal.sqlite'), port, headless: true, log: () => {} }), startPostgres({ log: () => {} })]);
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, code);
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('postgresUrl', postgres.url);
  return async () => {
    await Promise.all([server.stop(), postgres.stop()]);
    await rm(dir, { recursive: true, force: true });
  };
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
