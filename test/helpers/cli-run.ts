import { spawn } from 'node:child_process';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

// The developer's own connection settings must not leak into the runs.
export const cleanEnvironment = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'ESCALATOR_TASK_QUEUE', 'ESCALATOR_CONNECT_TIMEOUT'].includes(name)),
);

/** Runs the real CLI entry point in its own process, as an operator would. */
export function escalator(args: string[], environment: Record<string, string> = {}): Promise<CliRun> {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'client/cli/main.ts', ...args], { env: { ...cleanEnvironment, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, elapsedMs: Date.now() - started }));
  });
}

/** The run's stdout as JSON, or an error showing what it printed instead. */
export function json<T>(run: CliRun): T {
  try {
    return JSON.parse(run.stdout) as T;
  } catch {
    throw new Error(`stdout is not JSON (exit ${run.code}):\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}

/** A CLI run still going: what it printed so far, and its end. */
export interface LiveCliRun {
  output(): { stdout: string; stderr: string };
  /** Resolves once stdout or stderr matches; rejects if the run ends first. */
  waitForOutput(pattern: RegExp): Promise<void>;
  finished: Promise<CliRun>;
  kill(signal: NodeJS.Signals): void;
}

/** Starts the real CLI like {@link escalator}, returning at once, for commands that wait (`raise --wait`). */
export function launchEscalator(args: string[], environment: Record<string, string> = {}): LiveCliRun {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'client/cli/main.ts', ...args], { env: { ...cleanEnvironment, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const changed = () => listeners.forEach((listener) => listener());
  child.stdout.on('data', (chunk: Buffer) => ((stdout += chunk.toString()), changed()));
  child.stderr.on('data', (chunk: Buffer) => ((stderr += chunk.toString()), changed()));
  const finished = new Promise<CliRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr, elapsedMs: Date.now() - started }));
  });
  return {
    output: () => ({ stdout, stderr }),
    waitForOutput: (pattern) =>
      new Promise<void>((resolve, reject) => {
        const check = () => {
          if (pattern.test(stdout) || pattern.test(stderr)) {
            listeners.delete(check);
            resolve();
          }
        };
        listeners.add(check);
        check();
        void finished.then((run) => {
          if (listeners.delete(check)) reject(new Error(`the CLI exited (${run.code}) before printing ${pattern}:\n${run.stdout}\n${run.stderr}`));
        });
      }),
    finished,
    kill: (signal) => child.kill(signal),
  };
}
