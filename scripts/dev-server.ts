/**
 * Starts a local Temporal dev server (`temporal server start-dev`) with Escalator's custom search attributes.
 *
 * Normally it runs the CLI found or built by `ensureTemporalCli` (scripts/temporal-cli.ts). When that throws
 * `TemporalCliUnavailableError` (no CLI and no Go), it falls back to the Temporal SDK, whose only public way to fetch
 * the CLI is `TestWorkflowEnvironment.createLocal` with a `cached-download` executable: the SDK downloads CLI
 * v<TEMPORAL_CLI_VERSION> into the same cache dir and starts the server itself. In that mode the server's output goes
 * straight to this process's stdout/stderr, `pid` is found best-effort via /proc (NaN if not found), and `stop()`
 * tears the SDK environment down (the SDK kills the server; no graceful SIGTERM).
 *
 * Run directly (`tsx scripts/dev-server.ts`) it starts a server configured from env (defaults: TEMPORAL_PORT=7233,
 * TEMPORAL_UI_PORT=8233, TEMPORAL_DB_FILE=.data/temporal.sqlite relative to the repo root, TEMPORAL_NAMESPACE=default),
 * with the Web UI unless TEMPORAL_HEADLESS is `1` or `true`, prints its address and UI URL, and stops it on
 * SIGINT/SIGTERM.
 */
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { searchAttributeRegistrations } from '../workflows/search-attributes.js';
import {
  ensureTemporalCli,
  TEMPORAL_CLI_SDK_DOWNLOAD_VERSION,
  temporalCliCacheDir,
  TemporalCliUnavailableError,
} from './temporal-cli.js';
import { isMain, sleep, splitLines } from './process-helpers.js';

export interface DevServerOptions {
  /** SQLite file to persist state in (parent dir is created). In-memory if omitted. */
  dbFile?: string;
  /** Frontend gRPC port. Default 7233. */
  port?: number;
  /** Web UI port. Default 8233. Ignored when `headless`. */
  uiPort?: number;
  /** Disable the Web UI. */
  headless?: boolean;
  /** Namespace to create (the "default" namespace always exists). Default "default". */
  namespace?: string;
  log?: (m: string) => void;
  /** How long to wait for the frontend to answer. Default 60 s. */
  startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL in `stop()`. Default 10 s. */
  stopGraceMs?: number;
  /**
   * SQLite's `synchronous` pragma. Unset: SQLite's default, FULL (an fsync per commit). `normal`
   * with the write-ahead log fsyncs at checkpoints only: a crash of the process loses nothing, a power
   * cut may lose the last commits. For the benchmark's before/after; the stack keeps the default.
   */
  sqliteSynchronous?: 'full' | 'normal';
}

export interface DevServer {
  /** `host:port` of the frontend, for `Connection.connect({ address })`. */
  address: string;
  uiUrl: string | undefined;
  /** Sends SIGTERM, then SIGKILL after the grace period; resolves once the process has exited. Idempotent. */
  stop(): Promise<void>;
  pid: number;
  /** Resolves when the server process exits (for whatever reason). */
  exited: Promise<void>;
}

const IP = '127.0.0.1';
const DEFAULT_PORT = 7233;
const DEFAULT_UI_PORT = 8233;
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** temporal.api.enums.v1.IndexedValueType values of the CLI type names we use. */
const INDEXED_VALUE_TYPE: Record<(typeof searchAttributeRegistrations)[number]['cliType'], number> = {
  Keyword: 2,
  Int: 3,
  KeywordList: 7,
};

const defaultLog = (m: string): void => {
  process.stderr.write(`[dev-server] ${m}\n`);
};

/** Flags shared by the CLI and the SDK-fallback paths (besides port/ui/db/namespace, which the SDK sets itself). */
function extraServerFlags(o: { sqliteSynchronous?: 'full' | 'normal' }): string[] {
  return [
    // Write-ahead log: readers (visibility queries, UI) don't block writers; survives restarts in the db header.
    '--sqlite-pragma',
    'journal_mode=wal',
    ...(o.sqliteSynchronous ? ['--sqlite-pragma', `synchronous=${o.sqliteSynchronous}`] : []),
    ...searchAttributeRegistrations.flatMap(({ name, cliType }) => ['--search-attribute', `${name}=${cliType}`]),
  ];
}

/** The full `temporal` argument list used for a CLI-spawned server. */
export function devServerArgs(o: { dbFile?: string; port: number; uiPort: number; headless: boolean; namespace: string; sqliteSynchronous?: 'full' | 'normal' }): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    IP,
    '--port',
    String(o.port),
    ...(o.headless ? ['--headless'] : ['--ui-port', String(o.uiPort)]),
    ...(o.dbFile ? ['--db-filename', o.dbFile] : []),
    ...(o.namespace !== 'default' ? ['--namespace', o.namespace] : []),
    '--log-level',
    'warn',
    ...extraServerFlags(o),
  ];
}

export async function startDevServer(opts: DevServerOptions = {}): Promise<DevServer> {
  const log = opts.log ?? defaultLog;
  const port = opts.port ?? DEFAULT_PORT;
  const headless = opts.headless ?? false;
  const uiPort = opts.uiPort ?? DEFAULT_UI_PORT;
  const namespace = opts.namespace ?? 'default';
  const startTimeoutMs = opts.startTimeoutMs ?? 60_000;
  const dbFile = opts.dbFile ? resolve(opts.dbFile) : undefined;
  if (dbFile) await mkdir(dirname(dbFile), { recursive: true });
  const sync = opts.sqliteSynchronous ? { sqliteSynchronous: opts.sqliteSynchronous } : {};

  // Fail early and clearly instead of racing a half-started server against whatever already holds the port.
  await assertPortFree(port, 'frontend');
  if (!headless) await assertPortFree(uiPort, 'UI');

  let cli: string;
  try {
    cli = await ensureTemporalCli(log);
  } catch (err) {
    if (!(err instanceof TemporalCliUnavailableError)) throw err;
    log(`${err.message}\nFalling back to the Temporal SDK's CLI download (${TEMPORAL_CLI_SDK_DOWNLOAD_VERSION} into ${temporalCliCacheDir()}).`);
    return await startViaSdk({ dbFile, port, uiPort, headless, namespace, log, ...sync });
  }

  const args = devServerArgs({ dbFile, port, uiPort, headless, namespace, ...sync });
  log(`starting ${cli} ${args.join(' ')}`);
  const child = spawn(cli, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const onLine = (stream: string) => (line: string) => {
    if (!line.trim()) return;
    tail.push(`${stream}: ${line}`);
    if (tail.length > 30) tail.shift();
    log(`[temporal] ${line}`);
  };
  splitLines(child.stdout!, onLine('stdout'));
  splitLines(child.stderr!, onLine('stderr'));

  let exitInfo: string | undefined;
  const exited = new Promise<void>((res) => {
    child.once('exit', (code, signal) => {
      exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
      res();
    });
    child.once('error', (err) => {
      exitInfo = `failed to spawn: ${err.message}`;
      res();
    });
  });
  // Don't leave the server running (holding the port and the db) if this process exits without stop().
  const killOnExit = (): void => {
    child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (exitInfo === undefined) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => {
          log(`server did not exit within ${opts.stopGraceMs ?? 10_000} ms of SIGTERM; sending SIGKILL`);
          child.kill('SIGKILL');
        }, opts.stopGraceMs ?? 10_000);
        await exited;
        clearTimeout(timer);
      }
    })());

  const address = `${IP}:${port}`;
  try {
    await waitUntilReady(address, namespace, startTimeoutMs, exited, () => exitInfo, tail);
  } catch (err) {
    await stop();
    throw err;
  }
  if (child.pid === undefined) throw new Error('temporal server start-dev has no pid'); // unreachable: spawn succeeded
  return { address, uiUrl: headless ? undefined : `http://${IP}:${uiPort}`, stop, pid: child.pid, exited };
}

async function waitUntilReady(
  address: string,
  namespace: string,
  timeoutMs: number,
  exited: Promise<void>,
  exitInfo: () => string | undefined,
  tail: string[],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const died = exited.then(() => {
    throw new Error(`temporal server start-dev ${exitInfo()} before it was ready. Last output:\n${tail.join('\n') || '(none)'}`);
  });
  died.catch(() => undefined); // only observed through the races below
  const timedOut = (what: string): Error =>
    new Error(`temporal server start-dev did not ${what} within ${timeoutMs} ms. Last output:\n${tail.join('\n') || '(none)'}`);

  // 1. Wait for the port (cheap; avoids gRPC reconnect back-off while the server boots).
  for (;;) {
    if (await Promise.race([canConnect(address), died])) break;
    if (Date.now() > deadline) throw timedOut(`listen on ${address}`);
    await Promise.race([sleep(200), died]);
  }

  // 2. gRPC answers, the namespace exists, and all search attributes are registered.
  const connection = Connection.lazy({ address, connectTimeout: Math.max(1000, deadline - Date.now()) });
  try {
    await Promise.race([connection.ensureConnected(), died]);
    for (;;) {
      try {
        await Promise.race([
          connection.withDeadline(Date.now() + 5000, async () => {
            await connection.workflowService.getSystemInfo({});
            await connection.workflowService.describeNamespace({ namespace });
          }),
          died,
        ]);
        break;
      } catch (err) {
        if (exitInfo() !== undefined) throw err;
        if (Date.now() > deadline) throw timedOut(`answer on ${address} (${err instanceof Error ? err.message : String(err)})`);
        await Promise.race([sleep(250), died]);
      }
    }
    await Promise.race([ensureSearchAttributes(connection, namespace), died]);
  } finally {
    await connection.close();
  }
}

/**
 * `--search-attribute` only takes effect when start-dev creates a namespace, i.e. on a fresh db file. For an existing
 * db (created before an attribute was added to workflows/search-attributes.ts) register the missing ones here.
 */
async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing: Record<string, number> = {};
  for (const { name, cliType } of searchAttributeRegistrations) {
    const existing = customAttributes[name];
    if (existing === undefined) missing[name] = INDEXED_VALUE_TYPE[cliType];
    else if (existing !== INDEXED_VALUE_TYPE[cliType]) {
      throw new Error(
        `search attribute ${name} is registered in namespace ${namespace} with type ${existing}, expected ${cliType}; ` +
          `delete the dev server's db file to start over`,
      );
    }
  }
  if (Object.keys(missing).length > 0) {
    await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  }
}

// --- SDK fallback ----------------------------------------------------------------------------------------------------

async function startViaSdk(o: {
  dbFile: string | undefined;
  port: number;
  uiPort: number;
  headless: boolean;
  namespace: string;
  log: (m: string) => void;
  sqliteSynchronous?: 'full' | 'normal';
}): Promise<DevServer> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  await mkdir(temporalCliCacheDir(), { recursive: true }); // the SDK does not create its downloadDir
  const before = await temporalChildPids();
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download', version: TEMPORAL_CLI_SDK_DOWNLOAD_VERSION, downloadDir: temporalCliCacheDir() },
      ip: IP,
      port: o.port,
      ui: !o.headless,
      ...(o.headless ? {} : { uiPort: o.uiPort }),
      ...(o.dbFile ? { dbFilename: o.dbFile } : {}),
      namespace: o.namespace,
      log: { format: 'text', level: 'warn' },
      extraArgs: extraServerFlags(o),
    },
  });
  try {
    await ensureSearchAttributes(env.connection, o.namespace);
  } catch (err) {
    await env.teardown();
    throw err;
  }
  const pid = (await temporalChildPids()).find((p) => !before.includes(p)) ?? Number.NaN;
  let resolveExited!: () => void;
  const exited = new Promise<void>((r) => (resolveExited = r));
  // The SDK's native server handle does not keep Node's event loop alive (a spawned ChildProcess does); without this
  // the process could exit, dropping the handle and killing the server.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= env.teardown().finally(() => {
      clearInterval(keepAlive);
      resolveExited();
    }));
  o.log(`started through the Temporal SDK at ${env.address}${Number.isNaN(pid) ? '' : ` (pid ${pid})`}`);
  return { address: env.address, uiUrl: o.headless ? undefined : `http://${IP}:${o.uiPort}`, stop, pid, exited };
}

/** Pids of this process's children whose command name starts with "temporal" (Linux only; [] elsewhere). */
async function temporalChildPids(): Promise<number[]> {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && comm.startsWith('temporal')) pids.push(Number(entry));
    } catch {
      // process vanished
    }
  }
  return pids;
}

// --- helpers ---------------------------------------------------------------------------------------------------------

function assertPortFree(port: number, what: string): Promise<void> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      rej(
        new Error(
          `cannot start the Temporal dev server: ${what} port ${IP}:${port} is not available (${err.code ?? err.message}); ` +
            `is another dev server running?`,
        ),
      ),
    );
    server.listen({ host: IP, port, exclusive: true }, () => server.close(() => res()));
  });
}

function canConnect(address: string): Promise<boolean> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((res) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      res(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}



function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name}=${raw} is not a valid port`);
  return n;
}


async function main(): Promise<void> {
  const server = await startDevServer({
    port: envInt('TEMPORAL_PORT', DEFAULT_PORT),
    uiPort: envInt('TEMPORAL_UI_PORT', DEFAULT_UI_PORT),
    dbFile: resolve(REPO_ROOT, process.env.TEMPORAL_DB_FILE || '.data/temporal.sqlite'),
    headless: ['1', 'true'].includes(process.env.TEMPORAL_HEADLESS ?? ''),
    namespace: process.env.TEMPORAL_NAMESPACE || 'default',
  });
  process.stdout.write(`Temporal dev server: ${server.address}\n`);
  process.stdout.write(`Temporal UI:         ${server.uiUrl ?? '(headless)'}\n`);
  process.stdout.write(`pid ${server.pid}; Ctrl-C to stop\n`);

  let shuttingDown = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    defaultLog(`${signal}: stopping`);
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        defaultLog(`stop failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  await server.exited;
  if (!shuttingDown) {
    defaultLog('server exited unexpectedly');
    process.exit(1);
  }
}

if (isMain(import.meta.url)) {
  main().catch((err: unknown) => {
    defaultLog(err instanceof Error ? err.message : String(err));
    process.exit(1);
  });
}
