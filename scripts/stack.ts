/**
 * `npm start`: the whole local stack in one terminal — the Temporal dev server with its UI (SQLite
 * file, so escalations survive a restart), a mail catcher, the worker and the HTTP shim. Ctrl-C
 * stops everything. The first run builds the Temporal CLI (a few minutes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevServer } from './dev-server.js';
import { startMailCatcher } from './mail-catcher.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const settings = {
  temporalPort: Number(process.env.TEMPORAL_PORT ?? 7233),
  uiPort: Number(process.env.TEMPORAL_UI_PORT ?? 8233),
  smtpPort: Number(process.env.ESCALATOR_STACK_SMTP_PORT ?? 1025),
  shimPort: Number(process.env.ESCALATOR_SHIM_PORT ?? 8080),
  dataDir: resolve(root, process.env.ESCALATOR_DATA_DIR ?? '.data'),
};

function say(component: string, line: string): void {
  process.stdout.write(`${component.padEnd(8)}| ${line}\n`);
}

function startProcess(component: string, script: string, environment: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: root, env: { ...process.env, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => chunk.split('\n').filter(Boolean).forEach((line) => say(component, line)));
  }
  return child;
}

function waitForLine(child: ChildProcess, pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const onData = (chunk: Buffer | string) => {
      if (pattern.test(chunk.toString())) {
        child.stdout!.off('data', onData);
        child.stderr!.off('data', onData);
        resolvePromise();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${what} exited with code ${code} before it was ready (see its output above)`)));
  });
}

async function main(): Promise<void> {
  const started: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const stop of started.reverse()) await stop();
  };
  process.once('SIGINT', () => void stopAll().then(() => process.exit(0)));
  process.once('SIGTERM', () => void stopAll().then(() => process.exit(0)));
  try {
    const server = await startDevServer({
      port: settings.temporalPort,
      uiPort: settings.uiPort,
      dbFile: resolve(settings.dataDir, 'temporal.sqlite'),
      log: (line) => say('temporal', line),
    });
    started.push(() => server.stop());
    const mail = await startMailCatcher({ port: settings.smtpPort, dir: resolve(settings.dataDir, 'mail'), announce: (line) => say('mail', line) });
    started.push(() => mail.close());

    const environment = {
      TEMPORAL_ADDRESS: server.address,
      ESCALATOR_SMTP_URL: `smtp://127.0.0.1:${settings.smtpPort}`,
      ESCALATOR_PUBLIC_URL: `http://127.0.0.1:${settings.shimPort}`,
      ESCALATOR_OUTCOMES_FILE: resolve(settings.dataDir, 'outcomes.sqlite'),
      ESCALATOR_SHIM_PORT: String(settings.shimPort),
    };
    const worker = startProcess('worker', 'worker/main.ts', environment);
    started.push(() => stopChild(worker));
    const shim = startProcess('shim', 'client/shim/main.ts', environment);
    started.push(() => stopChild(shim));
    await Promise.all([waitForLine(worker, /worker started/, 'the worker'), waitForLine(shim, /Server listening/, 'the HTTP shim')]);

    process.stdout.write(`
Escalator is up. Look here:
  Temporal UI    ${server.uiUrl}   (workflows, search attributes, histories)
  HTTP shim      http://127.0.0.1:${settings.shimPort}   (curl http://127.0.0.1:${settings.shimPort}/healthz)
  Temporal gRPC  ${server.address}
  Metrics        http://127.0.0.1:9465/metrics (Escalator), http://127.0.0.1:9464/metrics (SDK), http://127.0.0.1:${settings.shimPort}/metrics (shim)
  API docs       http://127.0.0.1:${settings.shimPort}/docs
  Mail           smtp://127.0.0.1:${settings.smtpPort}, saved under ${resolve(settings.dataDir, 'mail')}
  Outcomes       ${environment.ESCALATOR_OUTCOMES_FILE} (SQLite)
  Policy         ${resolve(root, process.env.ESCALATOR_POLICY_FILE ?? 'policies/example.yaml')}
  Dev tokens     ${resolve(root, 'config/tokens.dev.yaml')}
Ctrl-C stops everything.
`);
    await Promise.race([
      new Promise((_, reject) => worker.once('exit', (code) => reject(new Error(`the worker exited with code ${code}`)))),
      new Promise((_, reject) => shim.once('exit', (code) => reject(new Error(`the HTTP shim exited with code ${code}`)))),
    ]);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    await stopAll();
    process.exit(1);
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    child.once('exit', () => resolvePromise());
    child.kill('SIGTERM');
  });
}

await main();
