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
