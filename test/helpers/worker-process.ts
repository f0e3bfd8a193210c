import { type ChildProcess, spawn } from 'node:child_process';

/** The real worker entry point (`worker/main.ts`) in its own process, so a test can SIGKILL it. */
export interface WorkerProcess {
  child: ChildProcess;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<number | null>;
}

/**
 * `script`: another worker entry point that also logs `"msg":"worker started"` once it polls (the
 * benchmark's baseline); `nodeArgs`: options for Node itself (the benchmark's `--cpu-prof`).
 */
export async function startWorkerProcess(environment: Record<string, string>, script = 'worker/main.ts', nodeArgs: string[] = []): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script], {
    // Tests run several workers at once: no fixed metrics or health ports unless a test asks for them.
    env: { ...process.env, ESCALATOR_SDK_METRICS_ADDRESS: '', ESCALATOR_WORKER_HTTP_ADDRESS: '127.0.0.1:0', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // The first 4 MiB: all of a test's worker, and the start of a benchmark's, whose INFO lines run long.
  const keep = (chunk: Buffer) => {
    if (output.length < 4 * 2 ** 20) output += chunk.toString();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start within 60 s:\n${output}`)), 60_000);
    const check = () => {
      if (output.includes('"msg":"worker started"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', check);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before starting:\n${output}`));
    });
  });
  return {
    child,
    output: () => output,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** A worker process started without waiting for it to poll, for what it does before (or instead). */
export interface LaunchedWorkerProcess extends WorkerProcess {
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Resolves once the output matches `pattern`; rejects after `timeoutMs` or when the worker exits first. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
}

/** Starts `worker/main.ts` like {@link startWorkerProcess} but returns at once. */
export function launchWorkerProcess(environment: Record<string, string>): LaunchedWorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], {
    env: { ...process.env, ESCALATOR_SDK_METRICS_ADDRESS: '', ESCALATOR_WORKER_HTTP_ADDRESS: '127.0.0.1:0', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const changed = new Set<() => void>();
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    for (const check of changed) check();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // 'close', not 'exit': the last lines on stderr (the reason it stopped) are read by then.
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => output,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
    waitForOutput(pattern, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const done = () => {
          changed.delete(check);
          clearTimeout(timer);
        };
        const check = () => {
          const match = output.match(pattern);
          if (match) {
            done();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`worker output did not match ${pattern} within ${timeoutMs} ms:\n${output}`));
        }, timeoutMs);
        changed.add(check);
        exited.then((code) => {
          if (!changed.has(check)) return;
          check();
          if (!changed.has(check)) return;
          done();
          reject(new Error(`worker exited with ${code} before its output matched ${pattern}:\n${output}`));
        });
        check();
      });
    },
  };
}
