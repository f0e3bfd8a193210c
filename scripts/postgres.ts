/**
 * Starts a throwaway PostgreSQL server for tests and local runs: a fresh cluster in a temp dir,
 * listening only on 127.0.0.1 (unix socket in the same temp dir), trust auth, no fsync, with an
 * empty `escalator_test` database. Nothing of a system-wide PostgreSQL is used or touched.
 *
 * The server binaries are looked up in Debian's /usr/lib/postgresql/<major>/bin (highest major
 * first), then on PATH. When none are found, Debian's `postgresql` package is installed with
 * apt-get (through `sudo -n` unless root). PostgreSQL refuses to run as root, so as root the cluster
 * belongs to the `postgres` OS user and every server command runs as that user.
 *
 * Run directly (`tsx scripts/postgres.ts`, PGPORT to pick the port) it prints the URL and runs until SIGINT/SIGTERM.
 */
import { execFile, spawnSync } from 'node:child_process';
import { constants as fsConstants, rmSync } from 'node:fs';
import { access, appendFile, chown, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import pg from 'pg';
import { freePort, isMain } from './process-helpers.js';

export interface RunningPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/escalator_test` */
  url: string;
  /** Stops the server (`pg_ctl stop -m fast`) and deletes its directory, unless it is a durable `dataDir`. Idempotent. */
  stop(): Promise<void>;
}

const DATABASE = 'escalator_test';
const SUPERUSER = 'postgres';

const defaultLog = (message: string): void => {
  process.stderr.write(`[postgres] ${message}\n`);
};

/**
 * Starts a PostgreSQL server on `port` (a free port if omitted), installing PostgreSQL first if it is
 * missing. Without `dataDir` it is a new throwaway server in a temporary directory (no fsync), deleted
 * when it stops; with `dataDir` its data lives there, with fsync, and the next start reuses it. If this
 * process exits without `stop()`, the server is stopped on the way out.
 */
export async function startPostgres(options: { port?: number; log?: (m: string) => void; dataDir?: string } = {}): Promise<RunningPostgres> {
  const log = options.log ?? defaultLog;
  const bin = (await findServerBinaries()) ?? (await installPostgres(log));
  const runAs = await serverUser();
  // Durable: a directory of the caller's that outlives the server and is started again next time.
  const durable = options.dataDir !== undefined;
  const dir = durable ? resolve(options.dataDir!) : await mkdtemp(join(tmpdir(), 'escalator-postgres-'));
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  let port = options.port ?? (await freePort());
  const pgCtl = (...args: string[]) => run(join(bin, 'pg_ctl'), args, { runAs, cwd: dir });

  const removeDir = () => (durable ? Promise.resolve() : rm(dir, { recursive: true, force: true }));
  try {
    await mkdir(dir, { recursive: true });
    if (runAs) await chown(dir, runAs.uid, runAs.gid);
    if (durable && (await exists(join(data, 'PG_VERSION')))) {
      log(`reusing ${data}`);
    } else {
      log(`initdb ${data} (${bin})`);
      await run(join(bin, 'initdb'), ['-D', data, '-U', SUPERUSER, '--auth=trust', '--encoding=UTF8', '--locale=C', ...(durable ? [] : ['--no-sync'])], { runAs, cwd: dir });
      // A test cluster: losing it in a crash costs nothing, waiting for fsync costs every test. A durable one keeps fsync.
      const settings = durable ? ["listen_addresses = '127.0.0.1'"] : ["listen_addresses = '127.0.0.1'", 'fsync = off', 'synchronous_commit = off', 'full_page_writes = off'];
      await appendFile(join(data, 'postgresql.conf'), ['', ...settings, ''].join('\n'));
    }
    await rm(logFile, { force: true });
    // A port found free can be taken before the server binds it (the test setup starts the Temporal
    // dev server, which picks ports of its own, at the same time): a port we chose is chosen again.
    for (let attempt = 1; ; attempt++) {
      log(`starting on 127.0.0.1:${port}`);
      try {
        await pgCtl('start', '-D', data, '-l', logFile, '-w', '-t', '60', '-o', `-p ${port} -k ${shellQuote(dir)}`);
        break;
      } catch (error) {
        const taken = /could not bind .*Address already in use/.test(await readFile(logFile, 'utf8').catch(() => ''));
        if (!taken || options.port !== undefined || attempt >= 5) throw error;
        await rm(logFile, { force: true });
        port = await freePort();
      }
    }
  } catch (error) {
    const serverLog = await readFile(logFile, 'utf8').catch(() => '');
    await removeDir();
    throw new Error(`${error instanceof Error ? error.message : String(error)}${serverLog ? `\nserver log:\n${serverLog}` : ''}`, { cause: error });
  }

  // Don't leave a server running in a deleted directory when the process ends without stop().
  const stopOnExit = (): void => {
    // A durable server stops cleanly (fast: its data is written), a throwaway one at once.
    spawnSync(...commandFor(join(bin, 'pg_ctl'), ['stop', '-D', data, '-m', durable ? 'fast' : 'immediate'], runAs), { cwd: dir, stdio: 'ignore' });
    if (!durable) rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stopOnExit);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      process.removeListener('exit', stopOnExit);
      try {
        await pgCtl('stop', '-D', data, '-m', 'fast', '-w');
      } finally {
        await removeDir();
      }
    })());

  try {
    const admin = new pg.Client({ connectionString: `postgres://${SUPERUSER}@127.0.0.1:${port}/postgres` });
    await admin.connect();
    try {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (!rowCount) await admin.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await admin.end();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `postgres://${SUPERUSER}@127.0.0.1:${port}/${DATABASE}`, stop };
}

/** The directory holding initdb, pg_ctl and postgres, or undefined when PostgreSQL's server is not installed. */
export async function findServerBinaries(): Promise<string | undefined> {
  const debian = '/usr/lib/postgresql';
  const majors = (await readdir(debian).catch(() => [] as string[])).filter((name) => /^\d+$/.test(name)).sort((a, b) => Number(b) - Number(a));
  const candidates = [...majors.map((major) => join(debian, major, 'bin')), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const dir of candidates) {
    const present = await Promise.all(['initdb', 'pg_ctl', 'postgres'].map((name) => isExecutable(join(dir, name))));
    if (present.every(Boolean)) return dir;
  }
  return undefined;
}

async function installPostgres(log: (m: string) => void): Promise<string> {
  if (!(await isExecutable('/usr/bin/apt-get'))) {
    throw new Error('PostgreSQL server binaries (initdb, pg_ctl, postgres) not found, and there is no apt-get to install them: install PostgreSQL');
  }
  const root = process.getuid?.() === 0;
  const aptGet = (...args: string[]) => {
    const command = ['env', 'DEBIAN_FRONTEND=noninteractive', 'apt-get', '-o', 'DPkg::Lock::Timeout=300', ...args];
    // -n: fail instead of waiting for a password nobody will type.
    return root ? run(command[0]!, command.slice(1)) : run('sudo', ['-n', ...command]);
  };
  log('PostgreSQL is not installed; installing Debian\'s postgresql package with apt-get (a minute or two)');
  const started = Date.now();
  try {
    await aptGet('install', '-y', '--no-install-recommends', 'postgresql');
  } catch {
    log('apt-get install failed; updating the package lists and trying again');
    await aptGet('update');
    await aptGet('install', '-y', '--no-install-recommends', 'postgresql');
  }
  log(`installed in ${Math.round((Date.now() - started) / 1000)} s`);
  const bin = await findServerBinaries();
  if (!bin) throw new Error('apt-get installed postgresql, but no initdb/pg_ctl/postgres was found under /usr/lib/postgresql/<major>/bin');
  return bin;
}

interface OsUser {
  name: string;
  uid: number;
  gid: number;
}

/** The OS user the server must run as: `postgres` when we are root, otherwise ourselves (undefined). */
async function serverUser(): Promise<OsUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const line = (await readFile('/etc/passwd', 'utf8')).split('\n').find((entry) => entry.startsWith(`${SUPERUSER}:`));
  if (!line) throw new Error(`PostgreSQL cannot run as root, and there is no "${SUPERUSER}" OS user to run it as (installing Debian's postgresql package creates it)`);
  const [, , uid, gid] = line.split(':');
  return { name: SUPERUSER, uid: Number(uid), gid: Number(gid) };
}

/** The command line that runs `file args` as `user` (runuser, or su where there is no runuser). */
function commandFor(file: string, args: string[], user: OsUser | undefined): [string, string[]] {
  if (!user) return [file, args];
  if (spawnSync('runuser', ['--version'], { stdio: 'ignore' }).status === 0) return ['runuser', ['-u', user.name, '--', file, ...args]];
  return ['su', [user.name, '-s', '/bin/sh', '-c', [file, ...args].map(shellQuote).join(' ')]];
}

function run(file: string, args: string[], options: { runAs?: OsUser | undefined; cwd?: string } = {}): Promise<string> {
  const [command, commandArgs] = commandFor(file, args, options.runAs);
  return new Promise((resolvePromise, reject) => {
    execFile(command, commandArgs, { cwd: options.cwd, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${[command, ...commandArgs].join(' ')} failed (${error.message.split('\n')[0]})\n${stderr || stdout}`));
      else resolvePromise(stdout);
    });
  });
}

function shellQuote(word: string): string {
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}



async function main(): Promise<void> {
  const port = process.env.PGPORT ? Number(process.env.PGPORT) : undefined;
  const server = await startPostgres({ port });
  process.stdout.write(`${server.url}\nCtrl-C to stop\n`);
  // The server is pg_ctl's daemon, not our child: nothing else keeps this process alive until a signal.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await new Promise<NodeJS.Signals>((resolveSignal) => {
    process.once('SIGINT', resolveSignal);
    process.once('SIGTERM', resolveSignal);
  });
  clearInterval(keepAlive);
  defaultLog('stopping');
  await server.stop();
}

if (isMain(import.meta.url)) {
  main().catch((error: unknown) => {
    defaultLog(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}
