/**
 * A real Temporal server cluster (all services in one process) on PostgreSQL, without Docker: what
 * `docker-compose.yml` describes, provisioned like the dev server's CLI.
 *
 * {@link startTemporalCluster}:
 *   1. finds `server` and `sql` (temporal-sql-tool) in `${XDG_CACHE_HOME:-~/.cache}/escalator/temporal-server/<version>`,
 *      or builds both there with `go install` (GOBIN = that dir) under an exclusive lock, so concurrent callers
 *      build once (about 3 minutes cold);
 *   2. starts a throwaway PostgreSQL (scripts/postgres.ts);
 *   3. creates the `temporal` and `temporal_visibility` databases and migrates them with the schema tool, from the
 *      module cache's `schema/postgresql/v12` (the tool's embedded copy when the module cache was cleaned);
 *   4. renders config/temporal-server.template.yaml (loopback ports, history shards, database address) into a temp
 *      dir and starts `server start` there;
 *   5. waits for the frontend, registers the namespace and Escalator's search attributes through the SDK.
 *
 * Run directly (`tsx scripts/temporal-server.ts`; TEMPORAL_PORT, TEMPORAL_HISTORY_SHARDS) it prints the address and
 * the time each step took, and stops everything on SIGINT/SIGTERM.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { constants as fsConstants, rmSync } from 'node:fs';
import { access, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { searchAttributeRegistrations } from '../workflows/search-attributes.js';
import { withBuildLock } from './build-lock.js';
import { goInstall } from './go-install.js';
import { startPostgres } from './postgres.js';
import { escalatorCacheDir, isMain, sleep, splitLines } from './process-helpers.js';

/** The one place the Temporal server version is pinned (docker-compose.yml runs the same). */
export const TEMPORAL_SERVER_VERSION = '1.29.1';

const MODULE = 'go.temporal.io/server';
const PACKAGES = [`${MODULE}/cmd/server@v${TEMPORAL_SERVER_VERSION}`, `${MODULE}/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`];
const TEMPLATE = new URL('../config/temporal-server.template.yaml', import.meta.url);
/** The two databases, named as docker-compose.yml names them (scripts/check-compose.ts holds the two together). */
export const TEMPORAL_DATABASES = { history: 'temporal', visibility: 'temporal_visibility' } as const;
/** History shards when not given: few, for one machine; fixed when a cluster is first created. */
export const DEFAULT_HISTORY_SHARDS = 4;
const IP = '127.0.0.1';

/** temporal.api.enums.v1.IndexedValueType of each CLI type name in workflows/search-attributes.ts. */
const INDEXED_VALUE_TYPE = { Keyword: 2, Int: 3, KeywordList: 7 } as const;

/** gRPC status codes the namespace registration expects. */
const GRPC_NOT_FOUND = 5;
const GRPC_ALREADY_EXISTS = 6;

export interface TemporalClusterOptions {
  /** Frontend gRPC port. A free port if omitted; the other services take free ports too. */
  port?: number;
  /** History shards, fixed for the life of the database. Default 4. */
  numHistoryShards?: number;
  /** Namespace to register (with the search attributes). Default "default". */
  namespace?: string;
  /** Level of the server's own log (see `serverOutput`). Default "warn". */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Progress of the provisioning steps. Default: stderr. */
  log?: (message: string) => void;
  /** Each line the server process writes (JSON at `logLevel`). Default: `log`, prefixed with `[server]`. */
  serverOutput?: (line: string) => void;
  /** How long to wait for the frontend after each (re)start. Default 60 s. */
  startTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL when stopping the server. Default 10 s. */
  stopGraceMs?: number;
  /**
   * Where PostgreSQL keeps its data, kept across starts (escalations, histories and outcomes survive a
   * stop); absent: a throwaway server deleted at stop. The shard count must stay the same for its life.
   */
  postgresDataDir?: string;
}

export interface TemporalCluster {
  /** `host:port` of the frontend, for `Connection.connect({ address })`. */
  address: string;
  namespace: string;
  /** The PostgreSQL server's `escalator_test` database, free for the outcome store. */
  postgresUrl: string;
  /** Pid of the running server process (changes on restart). */
  pid(): number;
  /**
   * Stops the server process (SIGTERM, or `signal`) and starts it again on the same ports and databases; resolves
   * when the frontend answers again. PostgreSQL keeps running.
   */
  restart(options?: { signal?: NodeJS.Signals }): Promise<void>;
  /** Stops the server, then PostgreSQL, and deletes the generated configuration. Idempotent. */
  stop(): Promise<void>;
}

const defaultLog = (message: string): void => {
  process.stderr.write(`[temporal-server] ${message}\n`);
};

/**
 * Starts PostgreSQL and a Temporal server on it, building the server first when it is not cached. If this process
 * exits without `stop()`, the server is killed and its files deleted on the way out (PostgreSQL has its own exit hook).
 */
export async function startTemporalCluster(options: TemporalClusterOptions = {}): Promise<TemporalCluster> {
  const log = options.log ?? defaultLog;
  const serverOutput = options.serverOutput ?? ((line: string) => log(`[server] ${line}`));
  const namespace = options.namespace ?? 'default';
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const numHistoryShards = options.numHistoryShards ?? DEFAULT_HISTORY_SHARDS;
  if (!Number.isInteger(numHistoryShards) || numHistoryShards < 1) throw new Error(`numHistoryShards must be a positive integer, got ${numHistoryShards}`);

  const binaries = await ensureTemporalServer(log);
  const postgres = await startPostgres({ log, ...(options.postgresDataDir ? { dataDir: options.postgresDataDir } : {}) });
  const cleanups: Array<() => Promise<void>> = [() => postgres.stop()];
  const cleanUp = async (): Promise<void> => {
    for (let cleanup = cleanups.pop(); cleanup; cleanup = cleanups.pop()) await cleanup();
  };
  try {
    const database = new URL(postgres.url);
    const connectTo = { host: database.hostname, port: Number(database.port), user: decodeURIComponent(database.username) };
    await migrateDatabases(binaries.sql, connectTo, log);

    const dir = await mkdtemp(join(tmpdir(), 'escalator-temporal-'));
    const removeDirOnExit = (): void => rmSync(dir, { recursive: true, force: true });
    process.once('exit', removeDirOnExit);
    cleanups.push(() => {
      process.removeListener('exit', removeDirOnExit);
      return rm(dir, { recursive: true, force: true });
    });
    const ports = await freePorts(9, options.port);
    const dynamicConfigFile = join(dir, 'config', 'dynamicconfig.yaml');
    const config = await renderServerConfig({
      LOG_LEVEL: options.logLevel ?? 'warn',
      NUM_HISTORY_SHARDS: String(numHistoryShards),
      DATABASE: TEMPORAL_DATABASES.history,
      VISIBILITY_DATABASE: TEMPORAL_DATABASES.visibility,
      POSTGRES_ADDRESS: `${connectTo.host}:${connectTo.port}`,
      POSTGRES_USER: connectTo.user,
      POSTGRES_PASSWORD: decodeURIComponent(database.password),
      FRONTEND_PORT: String(ports[0]),
      FRONTEND_HTTP_PORT: String(ports[1]),
      HISTORY_PORT: String(ports[2]),
      MATCHING_PORT: String(ports[3]),
      WORKER_PORT: String(ports[4]),
      FRONTEND_MEMBERSHIP_PORT: String(ports[5]),
      HISTORY_MEMBERSHIP_PORT: String(ports[6]),
      MATCHING_MEMBERSHIP_PORT: String(ports[7]),
      WORKER_MEMBERSHIP_PORT: String(ports[8]),
      DYNAMIC_CONFIG_FILE: dynamicConfigFile,
    });
    await mkdir(join(dir, 'config'));
    // The server reads <root>/<config>/<env>.yaml.
    await writeFile(join(dir, 'config', 'development.yaml'), config.server);
    await writeFile(dynamicConfigFile, config.dynamic);

    const address = `${IP}:${ports[0]}`;
    let server = launchServer(binaries.server, dir, serverOutput);
    cleanups.push(() => server.stop(options.stopGraceMs ?? 10_000));
    await waitForFrontend(address, startTimeoutMs, server);
    await registerNamespace(address, namespace, startTimeoutMs, log);

    let stopping: Promise<void> | undefined;
    return {
      address,
      namespace,
      postgresUrl: postgres.url,
      pid: () => server.pid,
      async restart({ signal = 'SIGTERM' } = {}) {
        await server.stop(options.stopGraceMs ?? 10_000, signal);
        server = launchServer(binaries.server, dir, serverOutput);
        await waitForFrontend(address, startTimeoutMs, server);
      },
      stop: () => (stopping ??= cleanUp()),
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

// --- binaries ----------------------------------------------------------------------------------------------------

export interface TemporalServerBinaries {
  server: string;
  /** temporal-sql-tool, which `go install` names after its directory. */
  sql: string;
}

/** `${XDG_CACHE_HOME or ~/.cache}/escalator/temporal-server/<version>` */
export function temporalServerCacheDir(): string {
  return escalatorCacheDir('temporal-server', TEMPORAL_SERVER_VERSION);
}

/** The cached server and schema tool, built with `go install` first when either is missing or does not run. */
export async function ensureTemporalServer(log: (message: string) => void = defaultLog): Promise<TemporalServerBinaries> {
  const dir = temporalServerCacheDir();
  const binaries = { server: join(dir, 'server'), sql: join(dir, 'sql') };
  if (await binariesRun(binaries)) return binaries;
  await mkdir(dir, { recursive: true });
  await withBuildLock(join(dir, '.build.lock'), 'the Temporal server', log, async () => {
    // Another process may have finished the build while we waited for the lock.
    if (await binariesRun(binaries)) return;
    await goInstall({ gobin: dir, args: PACKAGES, what: `the Temporal server ${TEMPORAL_SERVER_VERSION} and its schema tool`, coldTime: 'about 3 minutes', log });
    if (!(await binariesRun(binaries))) throw new Error(`go install finished, but ${binaries.server} or ${binaries.sql} does not run`);
  });
  return binaries;
}

async function binariesRun(binaries: TemporalServerBinaries): Promise<boolean> {
  // A half-written binary (interrupted build) fails here and gets rebuilt.
  const [server, sql] = await Promise.all([versionOf(binaries.server), versionOf(binaries.sql)]);
  return [server, sql].every((version) => version?.includes(TEMPORAL_SERVER_VERSION));
}

async function versionOf(bin: string): Promise<string | undefined> {
  try {
    await access(bin, fsConstants.X_OK);
    const { stdout } = await promisify(execFile)(bin, ['--version'], { timeout: 30_000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

// --- databases ---------------------------------------------------------------------------------------------------

/**
 * Creates both databases and brings their schemas to the newest version the tool knows. Idempotent: an existing
 * database is kept and only migrated forward.
 */
export async function migrateDatabases(sqlTool: string, postgres: { host: string; port: number; user: string }, log: (message: string) => void): Promise<void> {
  const schemaRoot = join(await goModCache(), `${MODULE}@v${TEMPORAL_SERVER_VERSION}`, 'schema', 'postgresql', 'v12');
  const fromModuleCache = await isDirectory(schemaRoot);
  for (const [database, schema] of [[TEMPORAL_DATABASES.history, 'temporal'], [TEMPORAL_DATABASES.visibility, 'visibility']] as const) {
    const tool = (...args: string[]) =>
      promisify(execFile)(sqlTool, ['--plugin', 'postgres12', '--ep', postgres.host, '-p', String(postgres.port), '-u', postgres.user, '--db', database, ...args], { timeout: 120_000 });
    const started = Date.now();
    await tool('create-database').catch((error: unknown) => {
      if (!/already exists/.test(String((error as { stderr?: string }).stderr ?? error))) throw error;
    });
    await tool('setup-schema', '-v', '0.0');
    // The same versioned files docker-compose.yml's temporal-schema step applies; the tool embeds a copy too.
    await tool('update-schema', ...(fromModuleCache ? ['-d', join(schemaRoot, schema, 'versioned')] : ['--schema-name', `postgresql/v12/${schema}`]));
    log(`database ${database} migrated in ${seconds(Date.now() - started)}`);
  }
}

async function goModCache(): Promise<string> {
  try {
    return (await promisify(execFile)('go', ['env', 'GOMODCACHE'])).stdout.trim();
  } catch {
    return join(homedir(), 'go', 'pkg', 'mod');
  }
}

// --- configuration -----------------------------------------------------------------------------------------------

/**
 * Fills the `${NAME}` placeholders of config/temporal-server.template.yaml. Returns the server configuration and the
 * dynamic configuration (the template's second YAML document). Throws on a placeholder without a value and on a
 * value without a placeholder, so the template and this code cannot drift apart silently.
 */
export async function renderServerConfig(values: Record<string, string>): Promise<{ server: string; dynamic: string }> {
  const template = await readFile(TEMPLATE, 'utf8');
  const used = new Set<string>();
  const rendered = template.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`config/temporal-server.template.yaml: no value for \${${name}}`);
    used.add(name);
    return value;
  });
  const unused = Object.keys(values).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`config/temporal-server.template.yaml has no placeholder for ${unused.join(', ')}`);
  const [server, dynamic, ...rest] = rendered.split(/^---$/m);
  if (server === undefined || dynamic === undefined || rest.length > 0) throw new Error('config/temporal-server.template.yaml must hold exactly two YAML documents');
  return { server, dynamic };
}

// --- server process ----------------------------------------------------------------------------------------------

interface ServerProcess {
  pid: number;
  /** Rejects once the process has exited, with its last output. */
  died: Promise<never>;
  stop(graceMs: number, signal?: NodeJS.Signals): Promise<void>;
}

function launchServer(bin: string, root: string, output: (line: string) => void): ServerProcess {
  const child: ChildProcess = spawn(bin, ['--root', root, '--config', 'config', '--env', 'development', '--allow-no-auth', 'start'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const onLine = (line: string): void => {
    if (!line.trim()) return;
    tail.push(line);
    if (tail.length > 30) tail.shift();
    output(line);
  };
  splitLines(child.stdout!, onLine);
  splitLines(child.stderr!, onLine);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exited with code ${code}`));
    child.once('error', (error) => resolve(`failed to spawn: ${error.message}`));
  });
  const died = exited.then((how): never => {
    throw new Error(`Temporal server ${how}. Last output:\n${tail.join('\n') || '(none)'}`);
  });
  died.catch(() => undefined); // observed through the races in waitForFrontend
  // Don't leave the server holding its ports if this process exits without stop().
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  return {
    pid: child.pid ?? Number.NaN,
    died,
    async stop(graceMs, signal = 'SIGTERM') {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

async function waitForFrontend(address: string, timeoutMs: number, server: ServerProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const port = Number(address.slice(address.lastIndexOf(':') + 1));
  while (!(await Promise.race([canConnect(port), server.died]))) {
    if (Date.now() > deadline) throw new Error(`the Temporal frontend did not listen on ${address} within ${timeoutMs} ms`);
    await Promise.race([sleep(200), server.died]);
  }
  const connection = await Promise.race([Connection.connect({ address, connectTimeout: timeoutMs }), server.died]);
  try {
    for (;;) {
      try {
        await Promise.race([connection.withDeadline(Date.now() + 5000, () => connection.workflowService.getSystemInfo({})), server.died]);
        return;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`the Temporal frontend on ${address} did not answer within ${timeoutMs} ms`, { cause: error });
        await Promise.race([sleep(250), server.died]);
      }
    }
  } finally {
    await connection.close();
  }
}

/** Registers `namespace` unless it exists (30 days' retention, as docker-compose.yml), then adds the missing search attributes once the services know it. */
async function registerNamespace(address: string, namespace: string, timeoutMs: number, log: (message: string) => void): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const connection = await Connection.connect({ address });
  try {
    try {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('30 days') });
      log(`registered namespace ${namespace}`);
    } catch (error) {
      if ((error as { code?: number }).code !== GRPC_ALREADY_EXISTS) throw error;
    }
    // The services' namespace caches refresh every 2 s: until then the new namespace is "not found".
    for (;;) {
      try {
        await addSearchAttributes(connection, namespace, log);
        return;
      } catch (error) {
        if ((error as { code?: number }).code !== GRPC_NOT_FOUND || Date.now() > deadline) throw error;
        await sleep(250);
      }
    }
  } finally {
    await connection.close();
  }
}

async function addSearchAttributes(connection: Connection, namespace: string, log: (message: string) => void): Promise<void> {
  const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
  const missing: Record<string, number> = {};
  for (const { name, cliType } of searchAttributeRegistrations) {
    const existing = customAttributes[name];
    if (existing === undefined) missing[name] = INDEXED_VALUE_TYPE[cliType];
    else if (existing !== INDEXED_VALUE_TYPE[cliType]) throw new Error(`search attribute ${name} is registered in ${namespace} with type ${existing}, expected ${cliType}`);
  }
  if (Object.keys(missing).length === 0) return;
  await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: missing });
  log(`registered search attributes ${Object.keys(missing).join(', ')}`);
}


// --- helpers -----------------------------------------------------------------------------------------------------

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/**
 * `count` distinct free loopback ports, the first one `first` when given. Chosen below 32768: the server stores its
 * membership ports in a PostgreSQL smallint, and Linux hands out ephemeral ports from 32768 up.
 */
async function freePorts(count: number, first?: number): Promise<number[]> {
  const ports = first === undefined ? [] : [first];
  while (ports.length < count) {
    const candidate = 10_000 + Math.floor(Math.random() * 22_000);
    if (!ports.includes(candidate) && (await isFree(candidate))) ports.push(candidate);
  }
  return ports;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: IP, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, IP, () => done(true));
  });
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

async function main(): Promise<void> {
  const started = Date.now();
  // Until the cluster is up, a signal exits at once; the exit hooks stop PostgreSQL and the server.
  const exitEarly = (): void => process.exit(130);
  process.on('SIGINT', exitEarly).on('SIGTERM', exitEarly);
  const cluster = await startTemporalCluster({
    ...(process.env.TEMPORAL_PORT ? { port: Number(process.env.TEMPORAL_PORT) } : {}),
    ...(process.env.TEMPORAL_HISTORY_SHARDS ? { numHistoryShards: Number(process.env.TEMPORAL_HISTORY_SHARDS) } : {}),
    log: (message) => defaultLog(`${seconds(Date.now() - started).padStart(7)} ${message}`),
  });
  process.stdout.write(`Temporal server ${TEMPORAL_SERVER_VERSION} on PostgreSQL: ${cluster.address} (namespace ${cluster.namespace}), up in ${seconds(Date.now() - started)}\n`);
  process.stdout.write(`PostgreSQL: ${cluster.postgresUrl}\npid ${cluster.pid()}; Ctrl-C to stop\n`);
  process.removeListener('SIGINT', exitEarly).removeListener('SIGTERM', exitEarly);
  // Every signal waits for the one stop: dying of a second Ctrl-C would leave PostgreSQL running.
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.on('SIGINT', resolve);
    process.on('SIGTERM', resolve);
  });
  defaultLog(`${signal}: stopping`);
  const stopping = Date.now();
  await cluster.stop();
  defaultLog(`stopped in ${seconds(Date.now() - stopping)}`);
}

if (isMain(import.meta.url)) {
  // `--build`: find or build the binaries only (CI runs this up front, so the build shows its progress there).
  const run = process.argv.includes('--build') ? ensureTemporalServer().then(({ server }) => process.stdout.write(`Temporal server ${TEMPORAL_SERVER_VERSION}: ${server}\n`)) : main();
  run.catch((error: unknown) => {
    defaultLog(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
