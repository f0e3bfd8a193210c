import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { startDevServer } from '../scripts/dev-server.js';
import { startPostgres } from '../scripts/postgres.js';
import { freePort } from '../scripts/process-helpers.js';
import { workflowsPath } from '../worker/create-worker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    workflowBundlePath: string;
    /** A PostgreSQL server on loopback; tests create their own databases in it. */
    postgresUrl: string;
    /** Debian's Chromium (installed when missing), for tests that render in a real browser. */
    chromiumPath: string;
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
  // apt-get holds a lock, so Chromium is installed before PostgreSQL (which may install itself), not beside it.
  const [server, postgres] = await Promise.all([startDevServer({ dbFile: join(dir, 'temporal.sqlite'), port, headless: true, log: () => {} }), installChromium().then(() => startPostgres({ log: () => {} }))]);
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  const workflowBundlePath = join(dir, 'workflow-bundle.js');
  await writeFile(workflowBundlePath, code);
  project.provide('temporalAddress', server.address);
  project.provide('workflowBundlePath', workflowBundlePath);
  project.provide('postgresUrl', postgres.url);
  project.provide('chromiumPath', execFileSync('bash', ['-c', 'command -v chromium'], { encoding: 'utf8' }).trim());
  return async () => {
    await Promise.all([server.stop(), postgres.stop()]);
    await rm(dir, { recursive: true, force: true });
  };
}

/** Installs Debian's `chromium` package when no `chromium` command exists (scripts/apt-install.sh). */
async function installChromium(): Promise<void> {
  const script = fileURLToPath(new URL('../scripts/apt-install.sh', import.meta.url));
  const code = await new Promise<number | null>((resolve, reject) => spawn('bash', [script, 'chromium', 'chromium'], { stdio: 'inherit' }).once('error', reject).once('close', resolve));
  if (code !== 0) throw new Error(`scripts/apt-install.sh chromium chromium exited with ${code}`);
}

const quietLogger = {
  log: () => {},
  trace: () => {},
  debug: () => {},
  info: () => {},
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};
