/**
 * `npm run bench [-- --topology dev|cluster --workers N]`: a Temporal dev server (SQLite file, WAL) or,
 * with `cluster`, a Temporal server on PostgreSQL with the outcome store there too; N Escalator worker
 * processes (worker/main.ts, tuned through their ESCALATOR_MAX_* environment variables), a baseline worker
 * process for the bare workflows, an SMTP sink and the HTTP shim; measures throughput against a bare
 * workflow, notification and decision latency, timer lateness and a scale run in one go, and the
 * worker process's RSS. Writes bench/results/<timestamp>.json and prints a table.
 * The issue's scale figure uses `--open 10000`; the default (1000) keeps a run under ~5 minutes.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import Table from 'cli-table3';
import { buildShim } from '../client/shim/app.js';
import { TokenRegistry } from '../client/shim/tokens.js';
import { EscalatorClient } from '../client/escalator-client.js';
import type { EscalationOutcome, TimelineEntry } from '../domain/escalation.js';
import { startDevServer } from '../scripts/dev-server.js';
import { startTemporalCluster } from '../scripts/temporal-server.js';
import { freePort } from '../test/helpers/free-port.js';
import { gateFailure } from '../test/helpers/gate-failure.js';
import { startWorkerProcess, type WorkerProcess } from '../test/helpers/worker-process.js';
import { startMailClock } from './mail-clock.js';
import { inPool, sleep, summary } from './stats.js';
import { bareWorkflow, finishUpdate, sleepWorkflow } from './workflows.js';

const benchDir = dirname(fileURLToPath(import.meta.url));
const { values: args } = parseArgs({
  options: {
    count: { type: 'string', default: '300' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '20' },
    rate: { type: 'string', default: '5' },
    'load-seconds': { type: 'string', default: '30' },
    timers: { type: 'string', default: '50' },
    timeout: { type: 'string', default: '2' },
    open: { type: 'string', default: '1000' },
    probes: { type: 'string', default: '50' },
    'open-timeout': { type: 'string' },
    // The scale phase's starts per second (each waits for its first mail, at most 200 in flight): what
    // the machine sustains, so that the backlog of first workflow tasks does not become the measure.
    'open-rate': { type: 'string', default: '50' },
    // The rate at which the N open deadlines fall due, whatever the start rate: each escalation's gate
    // is chosen (one per timeout second) so that its deadline lands on this schedule.
    'expiry-rate': { type: 'string', default: '50' },
    // SQLite's synchronous pragma for the dev server's file: full (SQLite's default) or normal.
    'sqlite-synchronous': { type: 'string', default: 'full' },
    // Writes V8 CPU profiles of the Escalator worker (main and workflow threads) into this directory.
    'profile-worker': { type: 'string' },
    // dev: the Temporal dev server (one shard, SQLite); cluster: a Temporal server on PostgreSQL (scripts/temporal-server.ts), the outcome store on PostgreSQL too.
    topology: { type: 'string', default: 'dev' },
    // Escalator worker processes on the one task queue.
    workers: { type: 'string', default: '1' },
  },
});
const topology = args.topology;
if (topology !== 'dev' && topology !== 'cluster') throw new Error(`--topology must be dev or cluster, got ${topology}`);
const workerCount = Number(args.workers);
if (!Number.isInteger(workerCount) || workerCount < 1) throw new Error(`--workers must be a whole number of at least 1, got ${args.workers}`);
const settings = {
  count: Number(args.count),
  rounds: Number(args.rounds),
  concurrency: Number(args.concurrency),
  rate: Number(args.rate),
  loadSeconds: Number(args['load-seconds']),
  timers: Number(args.timers),
  timeoutSeconds: Number(args.timeout),
  open: Number(args.open),
  probes: Number(args.probes),
  openRate: Number(args['open-rate']),
  expiryRate: Number(args['expiry-rate']),
  // From the scale phase's start to its first deadline: long enough that every escalation is open, and
  // the probes done, before the first of them expires.
  openTimeoutSeconds: Number(args['open-timeout'] ?? Math.ceil(Number(args.open) / Number(args['open-rate'])) + 90),
};
/** The scale phase's timeouts in whole seconds: escalation i is due `openTimeoutSeconds + i / expiryRate` after the phase began. */
const scaleTimeouts = { min: 30, max: settings.openTimeoutSeconds + Math.ceil(settings.open / settings.expiryRate) + 1 };
const synchronousArg = args['sqlite-synchronous'];
if (synchronousArg !== 'full' && synchronousArg !== 'normal') throw new Error(`--sqlite-synchronous must be full or normal, got ${synchronousArg}`);
const sqliteSynchronous: 'full' | 'normal' = synchronousArg;
for (const [name, value] of Object.entries(settings)) {
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${value}`);
}

const tokens = { alice: 'bench-alice-token-0123456789', bob: 'bench-bob-token-01234567890' };
const progress = (line: string): void => void process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

function policy(): string {
  return `
version: 1
defaults: { maxDepth: 3, requireComment: never }
people:
  alice: { email: alice@example.com }
  bob:   { email: bob@example.com }
  carol: { email: carol@example.com }
gates:
  performance:
    model: parallel
    reviewers: [alice, bob, carol]
    quorum: { approve: 2 }
    decideWithin: 1h
  deadline:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: ${settings.timeoutSeconds}s }
    onExhausted: block
${scaleGates()}`;
}

/** One gate per timeout second of the scale phase, so that each escalation's deadline can be put on the expiry schedule. */
function scaleGates(): string {
  const gates: string[] = [];
  for (let seconds = scaleTimeouts.min; seconds <= scaleTimeouts.max; seconds++) {
    gates.push(`  scale-${seconds}:\n    model: sequential\n    chain:\n      - { reviewers: [alice], timeout: ${seconds}s }\n    onExhausted: block\n`);
  }
  return gates.join('');
}

const isEntry =
  <E extends TimelineEntry['event']>(event: E) =>
  (entry: TimelineEntry): entry is Extract<TimelineEntry, { event: E }> =>
    entry.event === event;

/** How late the first deadline fired: the 'timed-out' entry's time minus the 'assigned' entry's deadline. */
function deadlineLateness(outcome: EscalationOutcome): number | undefined {
  const assigned = outcome.timeline.find(isEntry('assigned'));
  const timedOut = outcome.timeline.find(isEntry('timed-out'));
  return assigned && timedOut ? Date.parse(timedOut.at) - Date.parse(assigned.deadline) : undefined;
}

/** Resident set size of a process, from /proc (Linux); 0 where there is none. */
async function rssOf(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** CPU seconds a process has used so far (user + system, all threads), from /proc (Linux); 0 where there is none. */
async function cpuSecondsOf(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th of those, in clock ticks (100/s).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of PostgreSQL: the postmaster serving `port` and its children (a backend per connection, the background workers). */
async function postgresCpuSeconds(port: number): Promise<number> {
  const processes = await Promise.all(
    (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(async (pid) => {
      try {
        const [cmdline, stat] = await Promise.all([readFile(`/proc/${pid}/cmdline`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
        return { pid: Number(pid), cmdline: cmdline.split('\0'), ppid: Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) };
      } catch {
        return undefined;
      }
    }),
  );
  const postmaster = processes.find((p) => p && p.cmdline.some((arg) => arg.endsWith('postgres')) && p.cmdline.join(' ').includes(`-p ${port}`));
  if (!postmaster) return 0;
  const tree = processes.filter((p) => p && (p.pid === postmaster.pid || p.ppid === postmaster.pid));
  return (await Promise.all(tree.map((p) => cpuSecondsOf(p!.pid)))).reduce((sum, seconds) => sum + seconds, 0);
}

/** The Temporal server of the topology: its address, its pid, and PostgreSQL's for the cluster. */
async function startServer(dir: string): Promise<{ address: string; pid(): number; postgresUrl?: string; postgresPort?: number; stop(): Promise<void> }> {
  if (topology === 'dev') {
    const dev = await startDevServer({ dbFile: join(dir, 'temporal.sqlite'), port: await freePort(), headless: true, log: () => {}, sqliteSynchronous });
    return { address: dev.address, pid: () => dev.pid!, stop: () => dev.stop() };
  }
  const cluster = await startTemporalCluster({ log: (line) => progress(`   ${line}`), serverOutput: () => {} });
  return { address: cluster.address, pid: () => cluster.pid(), postgresUrl: cluster.postgresUrl, postgresPort: Number(new URL(cluster.postgresUrl).port), stop: () => cluster.stop() };
}

/** CPU seconds used by each process of the run while `work` ran. */
async function cpuDuring(pids: Record<string, () => Promise<number>>, work: () => Promise<void>): Promise<Record<string, number>> {
  const before = Object.fromEntries(await Promise.all(Object.entries(pids).map(async ([name, read]) => [name, await read()] as const)));
  const selfBefore = process.cpuUsage();
  await work();
  const self = process.cpuUsage(selfBefore);
  const after = await Promise.all(Object.entries(pids).map(async ([name, read]) => [name, (await read()) - before[name]!] as const));
  return { ...Object.fromEntries(after), 'bench (client, shim, SMTP sink)': (self.user + self.system) / 1e6 };
}

/** The worker's effective settings, from its "worker started" log line. */
function startedLine(worker: WorkerProcess): Record<string, unknown> {
  const line = worker.output().split('\n').find((l) => l.includes('"msg":"worker started"'));
  return line ? (JSON.parse(line) as Record<string, unknown>) : {};
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'escalator-bench-'));
  const policyFile = join(dir, 'policy.yaml');
  await writeFile(policyFile, policy());
  progress(`${cpus().length} cores, Node ${process.version}; settings ${JSON.stringify(settings)}`);

  const server = await startServer(dir);
  const mail = await startMailClock();
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const taskQueue = `bench-escalator-${randomUUID()}`;
  const bareTaskQueue = `bench-bare-${randomUUID()}`;
  progress(`${topology === 'dev' ? 'dev server' : 'Temporal server on PostgreSQL'} at ${server.address}; starting ${workerCount} Escalator worker process(es) and the bare worker (they bundle their workflows)`);

  const escalatorWorkers: WorkerProcess[] = [];
  for (let i = 0; i < workerCount; i++) {
    const worker = await startWorkerProcess({
      TEMPORAL_ADDRESS: server.address,
      ESCALATOR_TASK_QUEUE: taskQueue,
      ESCALATOR_POLICY_FILE: policyFile,
      ESCALATOR_SMTP_URL: mail.url,
      // The production topology keeps the outcome store on PostgreSQL; the dev topology on a SQLite file.
      ...(server.postgresUrl ? { ESCALATOR_OUTCOMES_DATABASE_URL: server.postgresUrl } : { ESCALATOR_OUTCOMES_FILE: join(dir, 'outcomes.sqlite') }),
      // INFO, as in production: the JSON log lines are part of what a worker costs.
      ESCALATOR_LOG_LEVEL: 'INFO',
      ESCALATOR_SDK_METRICS_ADDRESS: '',
      ESCALATOR_WORKER_HTTP_ADDRESS: '',
    }, 'worker/main.ts', args['profile-worker'] ? ['--cpu-prof', `--cpu-prof-dir=${args['profile-worker']}`] : []).catch((error: unknown) => {
      throw new Error(`Escalator worker ${i + 1} did not start: ${error instanceof Error ? error.message : String(error)}`);
    });
    escalatorWorkers.push(worker);
  }
  const escalatorWorker = escalatorWorkers[0]!;
  const bareWorker = await startWorkerProcess({ TEMPORAL_ADDRESS: server.address, BENCH_TASK_QUEUE: bareTaskQueue }, join(benchDir, 'bare-worker.ts'));
  const workerSettings = startedLine(escalatorWorker);
  const workerPids = escalatorWorkers.map((worker) => worker.child.pid!);
  // Each worker's resident memory, sampled every 250 ms: the goal is per process (under 1 GiB each).
  const workersRss = () => Promise.all(workerPids.map(rssOf));
  let rssMax: number[] = workerPids.map(() => 0);
  const rssSampler = setInterval(() => void workersRss().then((rss) => (rssMax = rss.map((value, i) => Math.max(rssMax[i] ?? 0, value)))), 250);

  const escalator = new EscalatorClient(client, taskQueue);
  const shim = buildShim({
    escalator,
    tokens: new TokenRegistry([
      { identity: 'alice', scopes: ['decide'], token: tokens.alice },
      { identity: 'bob', scopes: ['decide'], token: tokens.bob },
    ]),
    checkTemporal: async () => void (await connection.healthService.check({})),
    rateLimitPerMinute: 1_000_000,
  });
  await shim.listen({ host: '127.0.0.1', port: 0 });
  const shimUrl = `http://127.0.0.1:${(shim.server.address() as AddressInfo).port}`;

  const raise = async (gate: string): Promise<string> => (await escalator.raise(gateFailure({ gate: { name: gate, kind: 'tests' } }))).escalationId;
  const decideOverHttp = async (escalationId: string, reviewer: keyof typeof tokens): Promise<number> => {
    const started = performance.now();
    const response = await fetch(`${shimUrl}/v1/escalations/${escalationId}/decisions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens[reviewer]}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'approve' }),
    });
    if (response.status !== 200) throw new Error(`POST decisions for ${escalationId} answered ${response.status}: ${await response.text()}`);
    await response.arrayBuffer();
    return performance.now() - started;
  };
  const decideDirectly = async (escalationId: string, reviewer: string): Promise<number> => {
    const started = performance.now();
    await escalator.decide(escalationId, { reviewer, decision: 'approve', channel: 'client' });
    return performance.now() - started;
  };

  /** One escalation of the throughput measure: raised, first mail, two approvals over HTTP, passed. */
  const wholeEscalation = async (): Promise<void> => {
    const escalationId = await raise('performance');
    await mail.firstMail(escalationId);
    await decideOverHttp(escalationId, 'alice');
    await decideOverHttp(escalationId, 'bob');
    const outcome = await escalator.outcome(escalationId);
    if (outcome.outcome !== 'passed') throw new Error(`${escalationId} ended ${outcome.outcome}, expected passed`);
  };
  /** Its baseline: a workflow with one activity and one update. */
  const wholeBareWorkflow = async (): Promise<void> => {
    const handle = await client.workflow.start(bareWorkflow, { taskQueue: bareTaskQueue, workflowId: `bare-${randomUUID()}` });
    await handle.executeUpdate(finishUpdate);
    await handle.result();
  };

  try {
    // 1. Throughput: whole escalations (raise, first mail, two approvals over HTTP, outcome) against the bare workflow.
    progress(`1/5 throughput: ${settings.count} escalations, ${settings.concurrency} in flight`);
    // Warm-up, not measured: both workers' code paths JIT-compiled and their connections busy once.
    await inPool(20, 10, async () => {
      await wholeEscalation();
      await wholeBareWorkflow();
    });
    const pids: Record<string, () => Promise<number>> = {
      [topology === 'dev' ? 'Temporal dev server' : 'Temporal server']: () => cpuSecondsOf(server.pid()),
      ...Object.fromEntries(workerPids.map((pid, i) => [`Escalator worker ${i + 1}`, () => cpuSecondsOf(pid)])),
      'bare worker': () => cpuSecondsOf(bareWorker.child.pid!),
      ...(server.postgresPort ? { 'PostgreSQL (all processes)': () => postgresCpuSeconds(server.postgresPort!) } : {}),
    };
    // Alternating rounds, so that a slow spell of the machine falls on both sides of the ratio.
    const perRound = Math.ceil(settings.count / settings.rounds);
    let escalationSeconds = 0;
    let bareSeconds = 0;
    const escalationCpu: Record<string, number> = {};
    const bareCpu: Record<string, number> = {};
    const addTo = (sum: Record<string, number>, add: Record<string, number>) => Object.entries(add).forEach(([name, value]) => (sum[name] = (sum[name] ?? 0) + value));
    for (let round = 0; round < settings.rounds; round++) {
      let started = performance.now();
      addTo(
        escalationCpu,
        await cpuDuring(pids, () =>
          inPool(perRound, settings.concurrency, wholeEscalation).then(() => undefined),
        ),
      );
      escalationSeconds += (performance.now() - started) / 1000;
      started = performance.now();
      addTo(
        bareCpu,
        await cpuDuring(pids, () =>
          inPool(perRound, settings.concurrency, wholeBareWorkflow).then(() => undefined),
        ),
      );
      bareSeconds += (performance.now() - started) / 1000;
      progress(`   round ${round + 1}/${settings.rounds}: ${perRound} escalations and ${perRound} bare workflows`);
    }
    const escalationsPerSecond = (perRound * settings.rounds) / escalationSeconds;
    const bareWorkflowsPerSecond = (perRound * settings.rounds) / bareSeconds;
    progress(`   ${escalationsPerSecond.toFixed(1)} escalations/s, CPU s ${JSON.stringify(escalationCpu)}`);
    progress(`   ${bareWorkflowsPerSecond.toFixed(1)} bare workflows/s, CPU s ${JSON.stringify(bareCpu)}`);

    // 2. Raised → first notification accepted by SMTP, at a steady offered load.
    const offered = Math.round(settings.rate * settings.loadSeconds);
    progress(`2/5 notification latency: ${settings.rate}/s for ${settings.loadSeconds} s (${offered} escalations)`);
    const loadStart = performance.now();
    const inFlight: Array<Promise<{ escalationId: string; ms: number }>> = [];
    for (let i = 0; i < offered; i++) {
      await sleep(loadStart + (i * 1000) / settings.rate - performance.now());
      inFlight.push(
        (async () => {
          const raisedAt = Date.now();
          const escalationId = await raise('performance');
          return { escalationId, ms: (await mail.firstMail(escalationId)) - raisedAt };
        })(),
      );
    }
    const notified = await Promise.all(inFlight);
    const notifyLatency = summary(notified.map((n) => n.ms));

    // 3. Decision round trips on those escalations: one approval over HTTP, one through the client, alternating order.
    progress(`3/5 decision latency: ${notified.length} × (HTTP POST /decisions + EscalatorClient.decide)`);
    const httpMs: number[] = [];
    const directMs: number[] = [];
    await inPool(notified.length, 5, async (i) => {
      const { escalationId } = notified[i]!;
      if (i % 2 === 0) {
        httpMs.push(await decideOverHttp(escalationId, 'alice'));
        directMs.push(await decideDirectly(escalationId, 'bob'));
      } else {
        directMs.push(await decideDirectly(escalationId, 'alice'));
        httpMs.push(await decideOverHttp(escalationId, 'bob'));
      }
    });

    // 4. Timer fidelity: escalation deadlines next to bare sleeps of the same length, side by side.
    progress(`4/5 timer lateness: ${settings.timers} escalations with a ${settings.timeoutSeconds} s deadline, ${settings.timers} bare sleeps`);
    const [deadlineLate, sleepLate] = await Promise.all([
      inPool(settings.timers, settings.concurrency, async () => deadlineLateness(await escalator.outcome(await raise('deadline')))),
      inPool(settings.timers, settings.concurrency, async () => {
        const { deadline, firedAt } = await client.workflow.execute(sleepWorkflow, {
          taskQueue: bareTaskQueue,
          workflowId: `sleep-${randomUUID()}`,
          args: [settings.timeoutSeconds * 1000],
        });
        return firedAt - deadline;
      }),
    ]);

    // 5. Scale: many escalations open at once, started at --open-rate, their deadlines falling due at --expiry-rate.
    progress(`5/5 scale: ${settings.open} escalations at ${settings.openRate}/s, deadlines due from ${settings.openTimeoutSeconds} s at ${settings.expiryRate}/s`);
    const rssBeforeScale = await workersRss();
    rssMax = [...rssBeforeScale];
    const started = performance.now();
    const dueAt = (i: number): number => started + (settings.openTimeoutSeconds + i / settings.expiryRate) * 1000;
    // The gate whose timeout puts escalation i's deadline on the expiry schedule (the deadline counts from the
    // assignment, a few ms after the raise; rounding up keeps it on or just after its slot).
    const scaleGate = (i: number): string => {
      const seconds = Math.ceil((dueAt(i) - performance.now()) / 1000);
      return `scale-${Math.min(scaleTimeouts.max, Math.max(scaleTimeouts.min, seconds))}`;
    };
    const startLag: number[] = [];
    let offSchedule = 0;
    const openCpu: Record<string, number> = {};
    let openIds: string[] = [];
    Object.assign(
      openCpu,
      await cpuDuring(pids, async () => {
        openIds = await inPool(settings.open, 200, async (i) => {
          await sleep(started + (i * 1000) / settings.openRate - performance.now());
          startLag.push(performance.now() - (started + (i * 1000) / settings.openRate));
          if (i > 0 && i % 1000 === 0) progress(`   ${i} started`);
          const gate = scaleGate(i);
          if (gate === `scale-${scaleTimeouts.min}`) offSchedule++;
          const escalationId = await raise(gate);
          // Open means asked: the first mail is out, so the next start does not pile onto a backlog.
          await mail.firstMail(escalationId);
          return escalationId;
        });
      }),
    );
    const startSeconds = (performance.now() - started) / 1000;
    // The fidelity that matters: a deadline falling due while all of them stay open.
    progress(`   all ${settings.open} open after ${startSeconds.toFixed(1)} s (start lag p99 ${summary(startLag).p99.toFixed(0)} ms); ${settings.probes} probe escalations with a ${settings.timeoutSeconds} s deadline at ${settings.rate}/s`);
    const probeStart = performance.now();
    const probeLate = await inPool(settings.probes, settings.probes, async (i) => {
      await sleep(probeStart + (i * 1000) / settings.rate - performance.now());
      return deadlineLateness(await escalator.outcome(await raise('deadline')));
    });
    const rssWhileOpen = [...rssMax];
    // Then every one of them expires, on the schedule: a throughput test for timers and the workers.
    progress(`   now waiting for the ${settings.open} deadlines, due from ${((dueAt(0) - performance.now()) / 1000).toFixed(0)} s from now at ${settings.expiryRate}/s`);
    const expiryCpu: Record<string, number> = {};
    let openLate: Array<number | undefined> = [];
    Object.assign(
      expiryCpu,
      await cpuDuring(pids, async () => {
        await sleep(dueAt(0) - performance.now() - 1000);
        openLate = await inPool(openIds.length, 200, async (i) => deadlineLateness(await escalator.outcome(openIds[i]!)));
      }),
    );
    const expirySeconds = (performance.now() - dueAt(0)) / 1000;
    const scaleRssMax = [...rssMax];

    const mib = (bytes: number): number => Math.round(bytes / 2 ** 20);
    const defined = (values: Array<number | undefined>): number[] => values.filter((v): v is number => v !== undefined);
    const results = {
      at: new Date().toISOString(),
      machine: { cores: cpus().length, node: process.version, platform: `${process.platform}/${process.arch}` },
      settings: { ...settings, sqliteSynchronous, topology, workers: workerCount },
      worker: {
        maxCachedWorkflows: workerSettings.maxCachedWorkflows,
        maxConcurrentWorkflowTaskExecutions: workerSettings.maxConcurrentWorkflowTaskExecutions,
        maxConcurrentActivityTaskExecutions: workerSettings.maxConcurrentActivityTaskExecutions,
        maxConcurrentLocalActivityExecutions: workerSettings.maxConcurrentLocalActivityExecutions,
      },
      throughput: { escalationsPerSecond, bareWorkflowsPerSecond, ratio: escalationsPerSecond / bareWorkflowsPerSecond, cpuSeconds: { escalations: escalationCpu, bare: bareCpu } },
      notifyLatencyMs: notifyLatency,
      decisionLatencyMs: { http: summary(httpMs), direct: summary(directMs) },
      timerLatenessMs: { escalationDeadline: summary(defined(deadlineLate)), bareSleep: summary(sleepLate), missing: deadlineLate.length - defined(deadlineLate).length },
      scale: {
        open: settings.open,
        startSeconds,
        startLagMs: summary(startLag),
        // Escalations started too late for their slot on the expiry schedule (given the shortest timeout instead).
        offSchedule,
        rssBeforeMiB: rssBeforeScale.map(mib),
        rssWhileOpenMiB: rssWhileOpen.map(mib),
        rssMaxMiB: scaleRssMax.map(mib),
        probeDeadlineLatenessMs: summary(defined(probeLate)),
        expiryLatenessMs: summary(defined(openLate)),
        // From the first deadline due to the last outcome read.
        expirySeconds,
        cpuSeconds: { open: openCpu, expiry: expiryCpu },
        missing: openLate.length - defined(openLate).length + probeLate.length - defined(probeLate).length,
      },
      mailsAccepted: mail.accepted,
    };
    const resultsFile = join(benchDir, 'results', `${results.at.replace(/[:.]/g, '-')}.json`);
    await mkdir(dirname(resultsFile), { recursive: true });
    await writeFile(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
    printTable(results);
    console.log(`\nwritten to ${resultsFile}`);
  } finally {
    clearInterval(rssSampler);
    await shim.close();
    await Promise.all([...escalatorWorkers.map((worker) => worker.kill('SIGTERM')), bareWorker.kill('SIGTERM')]);
    await connection.close();
    await mail.close();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

function printTable(r: {
  machine: { cores: number; node: string };
  settings: typeof settings;
  worker: Record<string, unknown>;
  throughput: { escalationsPerSecond: number; bareWorkflowsPerSecond: number; ratio: number; cpuSeconds: { escalations: Record<string, number> } };
  notifyLatencyMs: ReturnType<typeof summary>;
  decisionLatencyMs: { http: ReturnType<typeof summary>; direct: ReturnType<typeof summary> };
  timerLatenessMs: { escalationDeadline: ReturnType<typeof summary>; bareSleep: ReturnType<typeof summary> };
  scale: { open: number; startSeconds: number; rssWhileOpenMiB: number[]; rssMaxMiB: number[]; probeDeadlineLatenessMs: ReturnType<typeof summary>; expiryLatenessMs: ReturnType<typeof summary>; expirySeconds: number; offSchedule: number; cpuSeconds: { open: Record<string, number>; expiry: Record<string, number> } };
}): void {
  const ms = (value: number): string => `${value.toFixed(0)} ms`;
  const table = new Table({ head: ['measure', 'value', 'next to'], style: { head: [], border: [] } });
  table.push(
    ['throughput (escalations/s ÷ bare/s)', `${r.throughput.ratio.toFixed(3)}`, `${r.throughput.escalationsPerSecond.toFixed(1)}/s ÷ ${r.throughput.bareWorkflowsPerSecond.toFixed(1)}/s`],
    [`raised → first mail at ${r.settings.rate}/s, p50 / p99`, `${ms(r.notifyLatencyMs.p50)} / ${ms(r.notifyLatencyMs.p99)}`, `n=${r.notifyLatencyMs.n}`],
    ['HTTP decision → update accepted, p50 / p99', `${ms(r.decisionLatencyMs.http.p50)} / ${ms(r.decisionLatencyMs.http.p99)}`, `executeUpdate ${ms(r.decisionLatencyMs.direct.p50)} / ${ms(r.decisionLatencyMs.direct.p99)}`],
    ['deadline lateness, p99', ms(r.timerLatenessMs.escalationDeadline.p99), `bare sleep ${ms(r.timerLatenessMs.bareSleep.p99)}`],
    [`scale: ${r.scale.open} open, RSS max per worker`, r.scale.rssWhileOpenMiB.map((m) => `${m} MiB`).join(', '), `cache ${String(r.worker.maxCachedWorkflows)} workflows; ${r.scale.rssMaxMiB.map((m) => `${m} MiB`).join(', ')} as they expire; opened in ${r.scale.startSeconds.toFixed(0)} s`],
    [`scale: deadline lateness p99 with ${r.scale.open} open`, ms(r.scale.probeDeadlineLatenessMs.p99), `p50 ${ms(r.scale.probeDeadlineLatenessMs.p50)}, n=${r.scale.probeDeadlineLatenessMs.n}`],
    [`scale: ${r.scale.open} due at ${r.settings.expiryRate}/s, lateness p99`, ms(r.scale.expiryLatenessMs.p99), `p50 ${ms(r.scale.expiryLatenessMs.p50)}; last read ${r.scale.expirySeconds.toFixed(0)} s after the first was due; ${r.scale.offSchedule} off schedule`],
  );
  console.log(`Escalator benchmark (${topology}, ${workerCount} Escalator worker process(es)) — ${r.machine.cores} cores, Node ${r.machine.node}, settings ${JSON.stringify(r.settings)}`);
  console.log(`worker ${JSON.stringify(r.worker)}`);
  console.log(table.toString());
  // Where the CPU went, per escalation: the split from which what more cores would give can be read.
  const perEscalation = (seconds: number | undefined, count: number): string => (seconds === undefined ? '' : `${((seconds / count) * 1000).toFixed(1)} ms`);
  const cpu = new Table({ head: ['CPU per escalation', 'whole escalation (throughput)', 'opening (raise → first mail)', 'expiring (deadline → blocked)'], style: { head: [], border: [] } });
  const throughputCount = Math.ceil(r.settings.count / r.settings.rounds) * r.settings.rounds;
  for (const name of Object.keys(r.throughput.cpuSeconds.escalations)) {
    cpu.push([
      name,
      perEscalation(r.throughput.cpuSeconds.escalations[name], throughputCount),
      perEscalation(r.scale.cpuSeconds.open[name], r.scale.open),
      perEscalation(r.scale.cpuSeconds.expiry[name], r.scale.open),
    ]);
  }
  console.log(cpu.toString());
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
