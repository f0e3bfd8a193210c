import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from './helpers/free-port.js';

/** A process as /proc shows it; `startTime` tells it apart from a later process given the same pid. */
interface ProcessEntry {
  pid: number;
  ppid: number;
  startTime: string;
  state: string;
  command: string;
}

async function processTable(): Promise<ProcessEntry[]> {
  const entries: ProcessEntry[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      // The command name may hold spaces and parentheses: the fields start after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = (await readFile(`/proc/${name}/cmdline`, 'utf8')).replaceAll('\0', ' ').trim();
      entries.push({ pid: Number(name), state: fields[0]!, ppid: Number(fields[1]), startTime: fields[19]!, command });
    } catch {
      // exited while we looked
    }
  }
  return entries;
}

/** `root` and every process below it. */
async function processTree(root: number): Promise<ProcessEntry[]> {
  const table = await processTable();
  const tree = table.filter((entry) => entry.pid === root);
  for (let i = 0; i < tree.length; i++) tree.push(...table.filter((entry) => entry.ppid === tree[i]!.pid));
  return tree;
}

/** Those of `processes` still running (a zombie has exited; it only waits for its parent to read its status). */
async function stillRunning(processes: ProcessEntry[]): Promise<ProcessEntry[]> {
  const now = new Map((await processTable()).map((entry) => [entry.pid, entry]));
  return processes.filter((entry) => {
    const current = now.get(entry.pid);
    return current !== undefined && current.startTime === entry.startTime && current.state !== 'Z';
  });
}

// The developer's own settings must not reach the stack; TEMPORAL_CLI_PATH may, to skip the lookup.
const cleanEnvironment = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(TEMPORAL_|ESCALATOR_)/.test(name) || name === 'TEMPORAL_CLI_PATH'));

interface RunningStack {
  npm: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `npm start` as a user runs it, every port and the data directory moved so it runs beside anything else. */
async function npmStart(environment: Record<string, string>): Promise<RunningStack> {
  const npm = spawn('npm', ['start'], { env: { ...cleanEnvironment, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.once('exit', (code, signal) => resolve({ code, signal })));
  return { npm, output: () => output, exited };
}

async function movedPorts(dataDir: string): Promise<Record<string, string>> {
  const [temporal, ui, smtp, shim] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  return {
    TEMPORAL_PORT: String(temporal),
    TEMPORAL_UI_PORT: String(ui),
    ESCALATOR_STACK_SMTP_PORT: String(smtp),
    ESCALATOR_SHIM_PORT: String(shim),
    ESCALATOR_DATA_DIR: dataDir,
  };
}

const bannerEnd = 'Ctrl-C stops everything.\n';

describe('npm start', () => {
  let dataDir: string | undefined;
  let started: ProcessEntry[] = [];

  afterEach(async () => {
    // Whatever a failed test left running must not outlive it on a shared machine.
    for (const entry of await stillRunning(started)) process.kill(entry.pid, 'SIGKILL');
    started = [];
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  async function upAndCollected(environment: Record<string, string>): Promise<RunningStack> {
    const stack = await npmStart(environment);
    await vi.waitFor(
      async () => {
        started = await processTree(stack.npm.pid!);
        if (stack.npm.exitCode !== null) throw new Error(`npm start exited with ${stack.npm.exitCode}:\n${stack.output()}`);
        expect(stack.output()).toContain(bannerEnd);
      },
      { timeout: 120_000, interval: 250 },
    );
    started = await processTree(stack.npm.pid!);
    return stack;
  }

  async function expectAllGone(stack: RunningStack): Promise<void> {
    const commands = started.map((entry) => entry.command).join('\n');
    await vi.waitFor(async () => expect((await stillRunning(started)).map((entry) => entry.command)).toEqual([]), { timeout: 30_000, interval: 200 });
    expect(await stack.exited, `started:\n${commands}`).toEqual({ code: 0, signal: null });
  }

  it('names the metrics ports the environment moved, and SIGTERM to npm stops every process it started', { timeout: 180_000 }, async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'escalator-stack-'));
    const [sdkMetrics, workerHttp] = await Promise.all([freePort(), freePort()]);
    const stack = await upAndCollected({
      ...(await movedPorts(dataDir)),
      ESCALATOR_SDK_METRICS_ADDRESS: `127.0.0.1:${sdkMetrics}`,
      ESCALATOR_WORKER_HTTP_ADDRESS: `127.0.0.1:${workerHttp}`,
    });
    expect(stack.output()).toMatch(new RegExp(`Metrics +http://127\\.0\\.0\\.1:${workerHttp}/metrics \\(Escalator\\), http://127\\.0\\.0\\.1:${sdkMetrics}/metrics \\(SDK\\)`));
    expect((await fetch(`http://127.0.0.1:${workerHttp}/metrics`)).status).toBe(200);
    // The banner's dashboard link signs a browser in: the shim answers it with the session cookie and a redirect.
    const link = /Dashboard +(http:\/\/\S+)/.exec(stack.output())?.[1];
    expect(link, stack.output()).toBeDefined();
    const signedIn = await fetch(link!, { redirect: 'manual' });
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('set-cookie')).toMatch(/HttpOnly/);
    // npm, the stack, the dev server, the worker and the shim at least.
    expect(started.length, started.map((entry) => entry.command).join('\n')).toBeGreaterThanOrEqual(5);
    expect(started.some((entry) => entry.command.includes('start-dev'))).toBe(true);

    process.kill(stack.npm.pid!, 'SIGTERM');
    await expectAllGone(stack);
  });

  it('says "off" for a metrics listener the environment turned off, and SIGINT to the stack process stops everything', { timeout: 180_000 }, async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'escalator-stack-'));
    const workerHttp = await freePort();
    const stack = await upAndCollected({ ...(await movedPorts(dataDir)), ESCALATOR_SDK_METRICS_ADDRESS: '', ESCALATOR_WORKER_HTTP_ADDRESS: `127.0.0.1:${workerHttp}` });
    expect(stack.output()).toMatch(new RegExp(`Metrics +http://127\\.0\\.0\\.1:${workerHttp}/metrics \\(Escalator\\), off \\(SDK\\)`));

    // The deepest: the node process running the script, not a shell or launcher above it.
    const stackProcess = started.filter((entry) => entry.command.includes('scripts/stack.ts')).at(-1);
    expect(stackProcess, started.map((entry) => `${entry.pid} ${entry.ppid} ${entry.command}`).join('\n')).toBeDefined();
    process.kill(stackProcess!.pid, 'SIGINT');
    await expectAllGone(stack);
  });
});
