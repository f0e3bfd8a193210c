import { spawn } from 'node:child_process';
import { splitLines } from './process-helpers.js';

export interface GoInstall {
  /** The `go` binary. Default: `go` from PATH. */
  go?: string;
  /** Where the binaries go (GOBIN); also the working directory, outside any Go module of the caller. */
  gobin: string;
  /** What follows `go install -v`: flags, then package@version. */
  args: string[];
  /** What is built, for the log and the error ("the Temporal CLI 1.5.1"). */
  what: string;
  /** How long it takes cold, for the first log line ("about 3 minutes"). */
  coldTime: string;
  log: (message: string) => void;
}

/**
 * `go install -v …` with GOBIN set: the Temporal CLI, the server and its schema tool, and the UI server are
 * all built this way (no binary downloads here). Logs a line every 15 s with the number of packages compiled,
 * passes everything else Go prints (downloads, errors) through, and fails with the last 40 lines.
 */
export async function goInstall({ go = 'go', gobin, args, what, coldTime, log }: GoInstall): Promise<void> {
  const fullArgs = ['install', '-v', ...args];
  log(`building ${what} with Go (${coldTime} on a cold cache)`);
  log(`GOBIN=${gobin} ${go} ${fullArgs.map((a) => (a.includes(' ') ? JSON.stringify(a) : a)).join(' ')}`);
  const started = Date.now();
  const child = spawn(go, fullArgs, { cwd: gobin, env: { ...process.env, GOBIN: gobin }, stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let compiled = 0;
  let lastPackage = '';
  const onLine = (line: string): void => {
    if (!line.trim()) return;
    tail.push(line);
    if (tail.length > 40) tail.shift();
    // `go install -v` prints one line per compiled package (~1000 for Temporal): count those.
    if (/^[\w.-]+(\/[\w.@~+-]+)*$/.test(line)) {
      compiled++;
      lastPackage = line;
    } else {
      log(line);
    }
  };
  splitLines(child.stdout, onLine);
  splitLines(child.stderr, onLine);
  const progress = setInterval(
    () => log(`… ${formatDuration(Date.now() - started)} elapsed, ${compiled} packages compiled${lastPackage ? ` (${lastPackage})` : ''}`),
    15_000,
  );
  try {
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) =>
      child
        .once('error', (error: NodeJS.ErrnoException) =>
          reject(error.code === 'ENOENT' ? new Error(`${what} is not built, and \`${go}\` is not on PATH to build it: install Go`) : error),
        )
        .once('close', (c, s) => resolve({ code: c, signal: s })),
    );
    if (code !== 0) {
      throw new Error(`go install for ${what} failed (${signal ? `signal ${signal}` : `exit code ${code}`}) after ${formatDuration(Date.now() - started)}:\n${tail.join('\n')}`);
    }
  } finally {
    clearInterval(progress);
  }
  log(`built ${what} in ${formatDuration(Date.now() - started)} (${compiled} packages compiled) into ${gobin}`);
}

export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}
