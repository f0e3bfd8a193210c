/**
 * `npm start`: the whole local stack in one terminal — the Temporal dev server with its UI (SQLite
 * file, so escalations survive a restart), a mail catcher, the worker and the HTTP shim. The first
 * run builds the Temporal CLI (a few minutes).
 *
 * `npm start -- --production`: the production topology instead — a Temporal server cluster on
 * PostgreSQL (scripts/temporal-server.ts; the first run builds it, about 3 minutes), two workers on
 * one task queue, the outcome store on the same PostgreSQL, the mail catcher, the shim and the
 * Temporal UI (scripts/temporal-ui.ts, built the same way). PostgreSQL keeps its data in
 * .data/postgres, so escalations and outcomes survive a restart of the stack.
 *
 * Ctrl-C, or SIGTERM/SIGINT sent to `npm start` or to this process, stops everything and exits.
 * package.json runs this as `exec node --import tsx scripts/stack.ts`, for two reasons:
 * - npm forwards SIGTERM/SIGINT only to its own child, the `sh -c` running the script, and sh dies
 *   of the signal without passing it on; `exec` makes this process that child.
 * - tsx's CLI would relay the signal, but SIGKILLs a child that does not confirm it within 30 ms,
 *   and a SIGKILLed stack cannot stop its children.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ListenAddress, workerConfigFrom } from '../worker/config.js';
import { startDevServer } from './dev-server.js';
import { startMailCatcher } from './mail-catcher.js';
import { startTemporalCluster } from './temporal-server.js';
import { startTemporalUi } from './temporal-ui.js';
import { createDashboardToken, dashboardLinkUrl } from '../domain/dashboard-links.js';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const settings = {
  temporalPort: Number(process.env.TEMPORAL_PORT ?? 7233),
  uiPort: Number(process.env.TEMPORAL_UI_PORT ?? 8233),
  smtpPort: Number(process.env.ESCALATOR_STACK_SMTP_PORT ?? 1025),
  shimPort: Number(process.env.ESCALATOR_SHIM_PORT ?? 8080),
  dataDir: resolve(root, process.env.ESCALATOR_DATA_DIR ?? '.data'),
  production: process.argv.slice(2).includes('--production'),
};
/** How long the worker and the shim get to finish after SIGTERM before they are killed. */
const childStopGraceMs = 15_000;

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

/** Where a worker listener's metrics are, as the banner shows it. */
function metricsUrl(address: ListenAddress | null): string {
  return address ? `http://${address.text}/metrics` : 'off';
}

// What has started, stopped newest first, including what finishes starting meanwhile. Once stopping
// has begun, more signals only wait for it: exiting halfway would leave the rest running.
const stops: Array<() => Promise<void> | void> = [];
let stopping: Promise<void> | undefined;
function stopAll(): Promise<void> {
  return (stopping ??= (async () => {
    for (let stop = stops.pop(); stop; stop = stops.pop()) await stop();
  })());
}

/** Only for the local stack: never deploy it. */
const devActionSecret = 'escalator-local-stack-dev-secret-do-not-deploy';

async function main(): Promise<void> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (!stopping) say('stack', `${signal}: stopping everything`);
      void stopAll().then(() => process.exit(0));
    });
  }
  try {
    const server = settings.production ? await startCluster() : await startDevServer({
      port: settings.temporalPort,
      uiPort: settings.uiPort,
      dbFile: resolve(settings.dataDir, 'temporal.sqlite'),
      log: (line) => say('temporal', line),
    });
    stops.push(() => server.stop());
    const mail = await startMailCatcher({ port: settings.smtpPort, dir: resolve(settings.dataDir, 'mail'), announce: (line) => say('mail', line) });
    stops.push(() => mail.close());

    const environment = {
      TEMPORAL_ADDRESS: server.address,
      ESCALATOR_SMTP_URL: `smtp://127.0.0.1:${settings.smtpPort}`,
      ESCALATOR_PUBLIC_URL: `http://127.0.0.1:${settings.shimPort}`,
      ESCALATOR_OUTCOMES_FILE: resolve(settings.dataDir, 'outcomes.sqlite'),
      ...('postgresUrl' in server ? { ESCALATOR_OUTCOMES_DATABASE_URL: server.postgresUrl } : {}),
      ESCALATOR_SHIM_PORT: String(settings.shimPort),
      // The local stack's own secret, so email action links, rating links and dashboard links work
      // out of the box; a deployment sets its own (README "Configuration").
      ESCALATOR_ACTION_SECRET: process.env.ESCALATOR_ACTION_SECRET ?? devActionSecret,
    };
    // A signal came while the server started: it is being stopped, start nothing more.
    if (stopping) return;
    // The banner names the listeners the worker opens: it reads them from the same environment.
    const workerConfig = workerConfigFrom({ ...process.env, ...environment });
    const worker = startProcess('worker', 'worker/main.ts', environment);
    stops.push(() => stopChild(worker, 'worker'));
    // The second worker's listeners on the next ports, so both can be scraped.
    const secondWorkerEnvironment = {
      ...environment,
      ESCALATOR_SDK_METRICS_ADDRESS: nextPort(workerConfig.ESCALATOR_SDK_METRICS_ADDRESS, 2),
      ESCALATOR_WORKER_HTTP_ADDRESS: nextPort(workerConfig.ESCALATOR_WORKER_HTTP_ADDRESS, 2),
    };
    const workers = settings.production ? [worker, startProcess('worker2', 'worker/main.ts', secondWorkerEnvironment)] : [worker];
    if (workers[1]) stops.push(() => stopChild(workers[1]!, 'worker2'));
    const shim = startProcess('shim', 'client/shim/main.ts', environment);
    stops.push(() => stopChild(shim, 'shim'));
    await Promise.all([...workers.map((w, i) => waitForLine(w, /worker started/, i === 0 ? 'the worker' : 'the second worker')), waitForLine(shim, /Server listening/, 'the HTTP shim')]);

    const secondWorker = workerConfigFrom({ ...process.env, ...secondWorkerEnvironment });
    process.stdout.write(`
Escalator is up${settings.production ? ' on a Temporal cluster on PostgreSQL, with two workers' : ''}. Look here:
  Temporal UI    ${server.uiUrl ?? 'none: the UI server did not start (see above)'}   (workflows, search attributes, histories)
  HTTP shim      http://127.0.0.1:${settings.shimPort}   (curl http://127.0.0.1:${settings.shimPort}/healthz)
  Temporal gRPC  ${server.address}
  Metrics        ${metricsUrl(workerConfig.ESCALATOR_WORKER_HTTP_ADDRESS)} (Escalator), ${metricsUrl(workerConfig.ESCALATOR_SDK_METRICS_ADDRESS)} (SDK), http://127.0.0.1:${settings.shimPort}/metrics (shim)${
    settings.production ? `\n  Worker 2       ${metricsUrl(secondWorker.ESCALATOR_WORKER_HTTP_ADDRESS)} (Escalator), ${metricsUrl(secondWorker.ESCALATOR_SDK_METRICS_ADDRESS)} (SDK)` : ''
  }
  API docs       http://127.0.0.1:${settings.shimPort}/docs
  Mail           smtp://127.0.0.1:${settings.smtpPort}, saved under ${resolve(settings.dataDir, 'mail')}
  Outcomes       ${'ESCALATOR_OUTCOMES_DATABASE_URL' in environment ? `${environment.ESCALATOR_OUTCOMES_DATABASE_URL} (PostgreSQL, kept in ${resolve(settings.dataDir, 'postgres')})` : `${environment.ESCALATOR_OUTCOMES_FILE} (SQLite)`}
  Policy         ${resolve(root, workerConfig.ESCALATOR_POLICY_FILE)}
  Dev tokens     ${resolve(root, 'config/tokens.dev.yaml')}
  Dashboard      ${dashboardLinkUrl(`http://127.0.0.1:${settings.shimPort}`, await createDashboardToken(environment.ESCALATOR_ACTION_SECRET, 'link', { identity: 'ops', ttlSeconds: 24 * 3600 }))}
                 (a link for 24 hours; opening it signs the browser in for 12)
Ctrl-C stops everything.
`);
    await Promise.race([
      ...workers.map((w) => new Promise((_, reject) => w.once('exit', (code) => reject(new Error(`a worker exited with code ${code}`))))),
      new Promise((_, reject) => shim.once('exit', (code) => reject(new Error(`the HTTP shim exited with code ${code}`)))),
    ]);
  } catch (error) {
    // While a signal stops the stack its children exit on purpose; the signal handler exits.
    if (stopping) return;
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    await stopAll();
    process.exit(1);
  }
}

/** The cluster's server writes JSON logs at WARN, many at start-up: to a file, not the console. */
async function startCluster() {
  await mkdir(settings.dataDir, { recursive: true });
  const logFile = resolve(settings.dataDir, 'temporal-server.log');
  const serverLog = createWriteStream(logFile, { flags: 'a' });
  say('temporal', `server output goes to ${logFile}`);
  const cluster = await startTemporalCluster({
    port: settings.temporalPort,
    log: (line) => say('temporal', line),
    serverOutput: (line) => serverLog.write(`${line}\n`),
    // Like the dev server's SQLite file: escalations, histories and outcomes survive a restart of the stack.
    postgresDataDir: resolve(settings.dataDir, 'postgres'),
  });
  // The Temporal UI, built like the server; the stack still comes up without it, saying why.
  const ui = await startTemporalUi({ temporalAddress: cluster.address, port: settings.uiPort, log: (line) => say('temporal', line) }).catch((error: unknown) => {
    say('temporal', `no Temporal UI: ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  });
  return {
    ...cluster,
    uiUrl: ui?.url,
    stop: () => (ui?.stop() ?? Promise.resolve()).then(() => cluster.stop()).finally(() => serverLog.end()),
  };
}

/** `address` with its port moved up by `offset`, as the environment variable spells it; '' when the listener is off. */
function nextPort(address: ListenAddress | null, offset: number): string {
  if (!address) return '';
  return address.text.replace(/\d+$/, String(address.port + offset));
}

function stopChild(child: ChildProcess, component: string): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolvePromise) => {
    const kill = setTimeout(() => {
      say(component, `did not exit within ${childStopGraceMs} ms of SIGTERM; sending SIGKILL`);
      child.kill('SIGKILL');
    }, childStopGraceMs);
    child.once('exit', () => {
      clearTimeout(kill);
      resolvePromise();
    });
    child.kill('SIGTERM');
  });
}

await main();
