import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from './helpers/free-port.js';

const dirs: string[] = [];

/**
 * `scripts/dev-server.ts` run directly, as its header documents: what it printed once up (the UI port
 * shown as <ui-port>), and how the UI port answered then.
 */
async function runDevServer(environment: Record<string, string>): Promise<{ printed: string; ui: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'escalator-dev-server-'));
  dirs.push(dir);
  const [port, uiPort] = await Promise.all([freePort(), freePort()]);
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_') || name === 'TEMPORAL_CLI_PATH'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev-server.ts'], {
    env: { ...inherited, TEMPORAL_PORT: String(port), TEMPORAL_UI_PORT: String(uiPort), TEMPORAL_DB_FILE: join(dir, 'temporal.sqlite'), ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (/^pid \d+/m.test(stdout)) resolve();
    });
    void exited.then((code) => reject(new Error(`dev-server.ts exited with ${code}:\n${stdout}\n${stderr}`)));
  });
  const ui = await fetch(`http://127.0.0.1:${uiPort}/`).then(
    (response) => `HTTP ${response.status}`,
    () => 'nothing listening',
  );
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  return { printed: stdout.replace(String(uiPort), '<ui-port>'), ui };
}

describe('scripts/dev-server.ts run directly', () => {
  afterAll(async () => {
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('serves the Web UI unless TEMPORAL_HEADLESS is set', { timeout: 120_000 }, async () => {
    const [byDefault, headless] = await Promise.all([runDevServer({}), runDevServer({ TEMPORAL_HEADLESS: '1' })]);
    expect(byDefault.printed).toMatch(/^Temporal UI: +http:\/\/127\.0\.0\.1:<ui-port>$/m);
    expect(byDefault.ui).toBe('HTTP 200');
    expect(headless.printed).toMatch(/^Temporal UI: +\(headless\)$/m);
    expect(headless.ui).toBe('nothing listening');
  });
});
