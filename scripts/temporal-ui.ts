/**
 * The Temporal UI for the cluster of scripts/temporal-server.ts, without Docker: Temporal's `ui-server`
 * (a Go program with the web UI's files embedded), built with `go install` like the server.
 *
 * {@link startTemporalUi} finds `server` in `${XDG_CACHE_HOME:-~/.cache}/escalator/temporal-ui/<version>` or
 * builds it there under an exclusive lock (about 3 minutes with a cold Go build cache; the module is usually in
 * Go's module cache already, since the Temporal CLI embeds the same version), writes its configuration into a temp dir, starts
 * it on a loopback port and waits for `/healthz`.
 *
 * Run directly (`tsx scripts/temporal-ui.ts`) it only builds, and prints the binary's path (.ci/run does this).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { constants as fsConstants, rmSync } from 'node:fs';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { withBuildLock } from './build-lock.js';
import { goInstall } from './go-install.js';
import { escalatorCacheDir, freePort, isMain, sleep, splitLines } from './process-helpers.js';

/**
 * The UI the Temporal CLI 1.5.1 embeds (its dev server's UI), so both topologies show the same one;
 * docker-compose.yml runs the same version's image (scripts/check-compose.ts holds the two together).
 */
export const TEMPORAL_UI_VERSION = '2.42.1';
const PACKAGE = `github.com/temporalio/ui-server/v2/cmd/server@v${TEMPORAL_UI_VERSION}`;

export interface TemporalUiOptions {
  /** The Temporal frontend, `host:port`. */
  temporalAddress: string;
  /** HTTP port on 127.0.0.1; 0 or absent for a free one. */
  port?: number;
  /** The namespace the UI opens on. Default "default". */
  namespace?: string;
  log?: (message: string) => void;
  /** Each line the UI server writes. Default: dropped. */
  output?: (line: string) => void;
  /** How long to wait for `/healthz`. Default 30 s. */
  startTimeoutMs?: number;
}

export interface TemporalUi {
  url: string;
  pid: number;
  /** SIGTERM, SIGKILL after 5 s; deletes the configuration. Idempotent. */
  stop(): Promise<void>;
}

const defaultLog = (message: string): void => {
  process.stderr.write(`[temporal-ui] ${message}\n`);
};

/** `${XDG_CACHE_HOME or ~/.cache}/escalator/temporal-ui/<version>` */
export function temporalUiCacheDir(): string {
  return escalatorCacheDir('temporal-ui', TEMPORAL_UI_VERSION);
}

/** The cached UI server, built with `go install` first when it is missing or does not run. */
export async function ensureTemporalUi(log: (message: string) => void = defaultLog): Promise<string> {
  const dir = temporalUiCacheDir();
  const bin = join(dir, 'server');
  if (await runs(bin)) return bin;
  await mkdir(dir, { recursive: true });
  await withBuildLock(join(dir, '.build.lock'), 'the Temporal UI server', log, async () => {
    if (await runs(bin)) return;
    await goInstall({ gobin: dir, args: [PACKAGE], what: `the Temporal UI server ${TEMPORAL_UI_VERSION}`, coldTime: 'about 3 minutes', log });
    if (!(await runs(bin))) throw new Error(`go install finished, but ${bin} does not run`);
  });
  return bin;
}

async function runs(bin: string): Promise<boolean> {
  try {
    await access(bin, fsConstants.X_OK);
    // "Temporal UI version 2.42.1"; a half-written binary (interrupted build) fails here and gets rebuilt.
    const { stdout } = await promisify(execFile)(bin, ['--version'], { timeout: 30_000 });
    return stdout.includes(TEMPORAL_UI_VERSION);
  } catch {
    return false;
  }
}

/** The UI server's configuration: base.yaml is what it reads first, then <env>.yaml. */
export function uiConfig(options: { temporalAddress: string; port: number; namespace: string }): string {
  return [
    `temporalGrpcAddress: ${options.temporalAddress}`,
    'host: 127.0.0.1',
    `port: ${options.port}`,
    'enableUi: true',
    `defaultNamespace: ${options.namespace}`,
    // Plain HTTP on loopback: the CSRF cookie cannot be Secure-only there.
    'cors:',
    '  cookieInsecure: true',
    '  allowOrigins: []',
    'notifyOnNewVersion: false',
    'refreshInterval: 0s',
    'auth:',
    '  enabled: false',
    '',
  ].join('\n');
}

/** Builds the UI server when needed and starts it; resolves when `/healthz` answers. */
export async function startTemporalUi(options: TemporalUiOptions): Promise<TemporalUi> {
  const log = options.log ?? defaultLog;
  const bin = await ensureTemporalUi(log);
  const port = options.port || (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'escalator-temporal-ui-'));
  const removeDirOnExit = (): void => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeDirOnExit);
  await mkdir(join(dir, 'config'));
  await writeFile(join(dir, 'config', 'base.yaml'), uiConfig({ temporalAddress: options.temporalAddress, port, namespace: options.namespace ?? 'default' }));
  await writeFile(join(dir, 'config', 'production.yaml'), '{}\n');

  const child: ChildProcess = spawn(bin, ['--root', dir, '--config', 'config', '--env', 'production', 'start'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  const onLine = (line: string): void => {
    if (!line.trim()) return;
    tail.push(line);
    if (tail.length > 20) tail.shift();
    options.output?.(line);
  };
  splitLines(child.stdout!, onLine);
  splitLines(child.stderr!, onLine);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exited with code ${code}`));
    child.once('error', (error) => resolve(`failed to spawn: ${error.message}`));
  });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      process.removeListener('exit', removeDirOnExit);
      await rm(dir, { recursive: true, force: true });
    })());

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  let exitedHow: string | undefined;
  void exited.then((how) => (exitedHow = how));
  for (;;) {
    if (exitedHow) {
      await stop();
      throw new Error(`Temporal UI server ${exitedHow}. Last output:\n${tail.join('\n') || '(none)'}`);
    }
    const healthy = await fetch(`${url}/healthz`).then((response) => response.ok, () => false);
    if (healthy) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Temporal UI server did not answer on ${url}/healthz within ${options.startTimeoutMs ?? 30_000} ms. Last output:\n${tail.join('\n') || '(none)'}`);
    }
    await sleep(200);
  }
  log(`Temporal UI ${TEMPORAL_UI_VERSION} at ${url} (for ${options.temporalAddress})`);
  return { url, pid: child.pid ?? Number.NaN, stop };
}


if (isMain(import.meta.url)) {
  ensureTemporalUi().then(
    (bin) => process.stdout.write(`Temporal UI ${TEMPORAL_UI_VERSION}: ${bin}\n`),
    (error: unknown) => {
      process.stderr.write(`[temporal-ui] ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
