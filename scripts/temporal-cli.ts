/**
 * Locates (or builds) the Temporal CLI that `scripts/dev-server.ts` runs as `temporal server start-dev`.
 *
 * Lookup order of {@link ensureTemporalCli}:
 *   1. `$TEMPORAL_CLI_PATH` (must point to an executable, otherwise this fails loudly);
 *   2. `temporal` on `$PATH`;
 *   3. the versioned cache `${XDG_CACHE_HOME:-~/.cache}/escalator/temporal-cli/<version>/temporal`;
 *   4. a CLI previously downloaded into that same directory by the Temporal SDK (see the dev-server fallback);
 *   5. if `go` is on `$PATH`: `go install github.com/temporalio/cli/cmd/temporal@v<version>` with GOBIN = the cache
 *      dir, under an exclusive lock so concurrent callers build only once;
 *   6. otherwise a {@link TemporalCliUnavailableError} is thrown.
 *
 * There is no public, supported SDK API that only downloads the CLI: `@temporalio/core-bridge` is marked internal, and
 * the only public entry point, `TestWorkflowEnvironment.createLocal({ server: { executable: { type: 'cached-download' } } })`
 * from `@temporalio/testing`, downloads the CLI *and starts a server*. So the "no Go, but internet" fallback lives in
 * `scripts/dev-server.ts`, which catches {@link TemporalCliUnavailableError} and starts the server through the SDK
 * (downloading CLI {@link TEMPORAL_CLI_SDK_DOWNLOAD_VERSION} into {@link temporalCliCacheDir}). Step 4 above then
 * reuses that download on later runs.
 *
 * Run directly (`tsx scripts/temporal-cli.ts`) it prints the absolute path of the binary on stdout (progress on stderr).
 */
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { withBuildLock } from './build-lock.js';
import { goInstall } from './go-install.js';
import { escalatorCacheDir, isMain } from './process-helpers.js';

/** The one place the Temporal CLI version is pinned. */
export const TEMPORAL_CLI_VERSION = '1.5.1';

/** Version string the SDK's `cached-download` executable expects (`https://temporal.download/cli/<version>`). */
export const TEMPORAL_CLI_SDK_DOWNLOAD_VERSION = `v${TEMPORAL_CLI_VERSION}`;

const GO_PACKAGE = `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`;
const GO_LDFLAGS = `-X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`;

/** Thrown when no CLI is installed and it cannot be built because Go is not available. */
export class TemporalCliUnavailableError extends Error {
  readonly code = 'TEMPORAL_CLI_UNAVAILABLE';
  constructor(message: string) {
    super(message);
    this.name = 'TemporalCliUnavailableError';
  }
}

/** `${XDG_CACHE_HOME or ~/.cache}/escalator/temporal-cli/<version>` */
export function temporalCliCacheDir(): string {
  return escalatorCacheDir('temporal-cli', TEMPORAL_CLI_VERSION);
}

/** Where `go install` puts the binary. */
export function cachedTemporalCliPath(): string {
  return join(temporalCliCacheDir(), process.platform === 'win32' ? 'temporal.exe' : 'temporal');
}

/** Where the SDK's `cached-download` puts the binary when given `downloadDir: temporalCliCacheDir()`. */
export function sdkDownloadedTemporalCliPath(): string {
  const ext = process.platform === 'win32' ? '.exe' : '';
  return join(temporalCliCacheDir(), `temporal-${TEMPORAL_CLI_SDK_DOWNLOAD_VERSION}${ext}`);
}

const defaultLog = (msg: string): void => {
  process.stderr.write(`[temporal-cli] ${msg}\n`);
};

export async function ensureTemporalCli(log: (msg: string) => void = defaultLog): Promise<string> {
  // 1. Explicit override.
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    const path = resolve(fromEnv);
    if (!(await isExecutableFile(path))) {
      throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
    }
    return path;
  }

  // 2. Already installed on PATH.
  const onPath = await findOnPath(process.platform === 'win32' ? 'temporal.exe' : 'temporal');
  if (onPath) {
    const version = await cliVersion(onPath);
    if (version !== undefined) {
      if (!version.includes(TEMPORAL_CLI_VERSION)) {
        log(`using ${onPath} (${version}); the project pins ${TEMPORAL_CLI_VERSION}`);
      }
      return onPath;
    }
    log(`ignoring ${onPath}: \`temporal --version\` failed`);
  }

  // 3./4. Cached from an earlier build or SDK download.
  const cached = await findCached();
  if (cached) return cached;

  // 5. Build with Go.
  const go = await findOnPath(process.platform === 'win32' ? 'go.exe' : 'go');
  if (!go) {
    throw new TemporalCliUnavailableError(
      `Temporal CLI ${TEMPORAL_CLI_VERSION} not found (checked $TEMPORAL_CLI_PATH, $PATH, ${cachedTemporalCliPath()}) ` +
        `and \`go\` is not on PATH to build it. Install Go (then re-run), install the CLI yourself and set ` +
        `TEMPORAL_CLI_PATH, or let scripts/dev-server.ts download it through the Temporal SDK (needs internet).`,
    );
  }

  const dir = temporalCliCacheDir();
  await mkdir(dir, { recursive: true });
  return await withBuildLock(join(dir, '.build.lock'), 'the Temporal CLI', log, async () => {
    // Someone else may have finished the build while we waited for the lock.
    const builtMeanwhile = await findCached();
    if (builtMeanwhile) return builtMeanwhile;
    await goInstall({ go, gobin: dir, args: ['-ldflags', GO_LDFLAGS, GO_PACKAGE], what: `the Temporal CLI ${TEMPORAL_CLI_VERSION}`, coldTime: 'several minutes', log });
    const bin = cachedTemporalCliPath();
    const version = await cliVersion(bin);
    if (version === undefined) throw new Error(`go install finished but ${bin} does not run`);
    log(`installed ${bin} (${version})`);
    return bin;
  });
}

async function findCached(): Promise<string | undefined> {
  for (const bin of [cachedTemporalCliPath(), sdkDownloadedTemporalCliPath()]) {
    if (!(await isExecutableFile(bin))) continue;
    // A half-written binary (interrupted build) fails here and gets rebuilt.
    const version = await cliVersion(bin);
    if (version?.includes(TEMPORAL_CLI_VERSION)) return bin;
  }
  return undefined;
}

// --- helpers ------------------------------------------------------------------------------------------------------

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function findOnPath(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = resolve(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/** First line of `temporal --version`, or undefined if it does not run. */
async function cliVersion(bin: string): Promise<string | undefined> {
  try {
    const { stdout } = await promisify(execFile)(bin, ['--version'], { timeout: 30_000 });
    return stdout.trim().split('\n')[0];
  } catch {
    return undefined;
  }
}





if (isMain(import.meta.url)) {
  ensureTemporalCli().then(
    (path) => {
      process.stdout.write(`${path}\n`);
    },
    (err: unknown) => {
      process.stderr.write(`[temporal-cli] ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
