import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import Fastify from 'fastify';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { tolerateSenderResets } from '../scripts/smtp-peer-errors.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EscalatorClient } from '../client/escalator-client.js';
import { createShimMetrics, shimMetricsPlugin } from '../client/shim/metrics.js';
import { freePort } from './helpers/free-port.js';
import { gateFailure } from './helpers/gate-failure.js';
import { startHttpRecorder } from './helpers/http-recorder.js';
import { parsePrometheus, sampleOf, scrape } from './helpers/prometheus.js';

// obs-approved: two steps nobody lets time out. obs-timeout: alice, her backup bob, then the
// team-leads tier time out after a second each; a fourth hand-off would exceed maxDepth 2, so it
// is blocked at depth 2. obs-refused: the SMTP server refuses ghost's address (550), once.
const policy = `
version: 1
defaults: { maxDepth: 2, onExhausted: block }
people:
  alice: { name: Alice Adler, email: alice@example.com, backup: bob }
  bob:   { name: Bob Brandt, email: bob@example.com }
  carol: { name: Carol Chen, email: carol@example.com }
  lead:  { name: Lee Lead, email: lead@example.com }
  ghost: { name: Gus Ghost, email: ghost@example.com }
tiers:
  team-leads: { reviewers: [lead], timeout: 1s }
gates:
  obs-approved:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 10m }
      - { reviewers: [carol], timeout: 10m }
  obs-timeout:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 1s }
    escalateTo: team-leads
  obs-refused:
    model: sequential
    chain:
      - { reviewers: [ghost], timeout: 10m }
`;

describe('a worker started through its entry point, observed from outside', () => {
  let dir: string;
  let smtp: RefusingSmtp;
  let connection: Connection;
  let escalator: EscalatorClient;
  let worker: ObservedWorker;
  let taskQueue: string;
  let sdkMetricsUrl: string;
  const ids: Record<'approved' | 'timedOut' | 'refused', string> = { approved: '', timedOut: '', refused: '' };
  const readinessDuringStartUp: Array<{ status: number; body: unknown }> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-observability-'));
    await writeFile(join(dir, 'policy.yaml'), policy);
    smtp = await startRefusingSmtp('ghost@example.com');
    taskQueue = `observability-${randomUUID()}`;
    const [sdkPort, httpPort] = [await freePort(), await freePort()];
    sdkMetricsUrl = `http://127.0.0.1:${sdkPort}/metrics`;
    // The health server is up before the worker: ask /readyz all through start-up.
    let starting = true;
    const polling = (async () => {
      while (starting) {
        const answer = await fetch(`http://127.0.0.1:${httpPort}/readyz`).then(async (r) => ({ status: r.status, body: await r.json() }), () => undefined);
        if (answer) readinessDuringStartUp.push(answer);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    worker = await startObservedWorker({
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      ESCALATOR_TASK_QUEUE: taskQueue,
      ESCALATOR_POLICY_FILE: join(dir, 'policy.yaml'),
      ESCALATOR_SMTP_URL: smtp.url,
      ESCALATOR_OUTCOMES_FILE: join(dir, 'outcomes.sqlite'),
      ESCALATOR_SDK_METRICS_ADDRESS: `127.0.0.1:${sdkPort}`,
      ESCALATOR_WORKER_HTTP_ADDRESS: `127.0.0.1:${httpPort}`,
      ESCALATOR_LOG_LEVEL: 'INFO',
      ESCALATOR_OTEL_ENABLED: 'false',
    }).finally(() => (starting = false));
    await polling;
    connection = await Connection.connect({ address: inject('temporalAddress') });
    escalator = new EscalatorClient(new Client({ connection }), taskQueue);
  });
  afterAll(async () => {
    await worker?.kill();
    await connection?.close();
    await smtp?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers /readyz with 503 and the reasons while the worker starts: not connected yet, then connected while it bundles', () => {
    const notConnected = { status: 503, body: { ready: false, worker: 'STARTING', temporal: 'unchecked', reasons: ['the worker is STARTING, not RUNNING', 'not connected to the Temporal server yet'] } };
    const connected = { status: 503, body: { ready: false, worker: 'STARTING', temporal: 'reachable', reasons: ['the worker is STARTING, not RUNNING'] } };
    const ready = { status: 200, body: { ready: true, worker: 'RUNNING', temporal: 'reachable', reasons: [] } };
    // The worker connects first (retrying while Temporal is away), then bundles the workflows, then
    // runs; the last poll may land after it started.
    for (const answer of readinessDuringStartUp) expect([notConnected, connected, ready]).toContainEqual(answer);
    const starting = readinessDuringStartUp.filter((answer) => answer.status === 503);
    expect(starting.length).toBeGreaterThan(0);
    expect(readinessDuringStartUp.slice(0, starting.length)).toEqual(starting);
    expect(starting.at(-1)).toEqual(connected);
  });

  it('answers /healthz and, once the worker runs and Temporal answers, /readyz', async () => {
    const health = await fetch(`${worker.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${worker.httpUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, worker: 'RUNNING', temporal: 'reachable', reasons: [] });
  });

  it('counts escalations started and ended, timeouts, hand-offs, depth, resolution time and notifications', async () => {
    ids.approved = (await escalator.raise(gateFailure({ gate: { name: 'obs-approved', kind: 'tests' } }))).escalationId;
    ids.timedOut = (await escalator.raise(gateFailure({ gate: { name: 'obs-timeout', kind: 'tests' } }))).escalationId;
    ids.refused = (await escalator.raise(gateFailure({ gate: { name: 'obs-refused', kind: 'tests' } }))).escalationId;

    for (const reviewer of ['alice', 'carol']) {
      await smtp.waitFor(`${reviewer}@example.com`, ids.approved);
      await escalator.decide(ids.approved, { reviewer, decision: 'approve', channel: 'client' });
    }
    expect((await escalator.outcome(ids.approved)).outcome).toBe('passed');
    expect(await escalator.outcome(ids.timedOut)).toMatchObject({ outcome: 'blocked', depth: 2 });
    // The refused address fails its only attempt (550 is final); then CI withdraws the failure.
    await expect.poll(async () => (await escalator.status(ids.refused)).timeline.some((e) => e.event === 'notification-failed'), { timeout: 20_000 }).toBe(true);
    await escalator.withdraw(ids.refused, { by: 'ci', reason: 'superseded' });
    expect((await escalator.outcome(ids.refused)).outcome).toBe('withdrawn');

    // Emails are not awaited by the workflow: the last counts may land just after the outcome.
    await expect.poll(async () => sampleOf(await scrape(`${worker.httpUrl}/metrics`), 'escalator_notifications_total', { channel: 'email', result: 'sent' }), { timeout: 10_000 }).toBe(5);
    const metrics = await scrape(`${worker.httpUrl}/metrics`);
    const value = (name: string, labels: Record<string, string>) => sampleOf(metrics, name, labels);

    expect(value('escalator_notifications_total', { channel: 'email', result: 'failed' })).toBe(1);
    for (const gate of ['obs-approved', 'obs-timeout', 'obs-refused']) {
      expect(value('escalator_escalations_started_total', { gate, model: 'sequential' }), gate).toBe(1);
      expect(value('escalator_time_to_resolution_seconds_count', { gate }), gate).toBe(1);
      expect(value('escalator_time_to_resolution_seconds_bucket', { gate, le: '60' }), gate).toBe(1);
      expect(value('escalator_depth_reached_count', { gate }), gate).toBe(1);
    }
    expect(value('escalator_escalations_ended_total', { gate: 'obs-approved', model: 'sequential', outcome: 'passed' })).toBe(1);
    expect(value('escalator_escalations_ended_total', { gate: 'obs-timeout', model: 'sequential', outcome: 'blocked' })).toBe(1);
    expect(value('escalator_escalations_ended_total', { gate: 'obs-refused', model: 'sequential', outcome: 'withdrawn' })).toBe(1);
    expect(metrics.filter((s) => s.name === 'escalator_escalations_ended_total')).toHaveLength(3);

    expect(value('escalator_timeouts_total', { gate: 'obs-timeout' })).toBe(3);
    expect(value('escalator_timeouts_total', { gate: 'obs-approved' })).toBeUndefined();
    expect(value('escalator_handoffs_total', { gate: 'obs-timeout', kind: 'backup' })).toBe(1);
    expect(value('escalator_handoffs_total', { gate: 'obs-timeout', kind: 'tier' })).toBe(1);
    expect(metrics.filter((s) => s.name === 'escalator_handoffs_total')).toHaveLength(2);

    expect(value('escalator_depth_reached_sum', { gate: 'obs-timeout' })).toBe(2);
    expect(value('escalator_depth_reached_bucket', { gate: 'obs-timeout', le: '1' })).toBe(0);
    expect(value('escalator_depth_reached_bucket', { gate: 'obs-timeout', le: '2' })).toBe(1);
    expect(value('escalator_depth_reached_sum', { gate: 'obs-approved' })).toBe(0);
  });

  it("exports the SDK's own worker metrics on their own address", async () => {
    const metrics = await scrape(sdkMetricsUrl);
    // Core counts each workflow execution that completed on this worker.
    expect(sampleOf(metrics, 'temporal_workflow_completed', { namespace: 'default', service_name: 'temporal-core-sdk', task_queue: taskQueue, workflow_type: 'escalateGateFailure' })).toBe(3);
    expect(metrics.some((s) => s.name === 'temporal_num_pollers' && s.labels.task_queue === taskQueue)).toBe(true);
  });

  it('writes one JSON object per stdout line, with the escalation id on every activity line', async () => {
    // The Runtime holds log lines for 100 ms to order them by time.
    await expect.poll(() => worker.stdoutLines().filter((line) => line.includes('"msg":"escalation ended"')).length).toBe(3);
    const lines = worker.stdoutLines().map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const line of lines) expect(Object.keys(line).slice(0, 3)).toEqual(['time', 'level', 'msg']);
    const activityLines = lines.filter((line) => line.activityType !== undefined);
    expect(activityLines.length).toBeGreaterThan(0);
    for (const line of activityLines) expect(line.escalationId, JSON.stringify(line)).toBe(line.workflowId);
    const notified = lines.filter((line) => line.msg === 'reviewer notified' && line.escalationId === ids.approved);
    expect(notified.map((line) => line.reviewer)).toEqual(['alice', 'carol']);
    const ended = lines.filter((line) => line.msg === 'escalation ended');
    expect(ended.map((line) => [line.escalationId, line.outcome]).sort()).toEqual(
      [
        [ids.approved, 'passed'],
        [ids.timedOut, 'blocked'],
        [ids.refused, 'withdrawn'],
      ].sort(),
    );
    // The first attempt runs in the batch activity, which logs each email it could not send.
    const failed = lines.find((line) => line.msg === 'email failed' && line.escalationId === ids.refused);
    expect(failed).toMatchObject({ level: 'WARN', activityType: 'emailReviewers', final: true, error: { type: 'InvalidRecipient' } });
  });

  it('stops gracefully on SIGTERM, exiting 0', async () => {
    expect(await worker.stop('SIGTERM')).toBe(0);
  });
});

describe('a worker with OpenTelemetry tracing to the console', () => {
  let dir: string;
  let smtp: RefusingSmtp;
  let connection: Connection;
  let escalator: EscalatorClient;
  let worker: ObservedWorker;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-tracing-'));
    await writeFile(join(dir, 'policy.yaml'), policy);
    smtp = await startRefusingSmtp('ghost@example.com');
    const taskQueue = `tracing-${randomUUID()}`;
    worker = await startObservedWorker({
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      ESCALATOR_TASK_QUEUE: taskQueue,
      ESCALATOR_POLICY_FILE: join(dir, 'policy.yaml'),
      ESCALATOR_SMTP_URL: smtp.url,
      ESCALATOR_OUTCOMES_FILE: join(dir, 'outcomes.sqlite'),
      ESCALATOR_SDK_METRICS_ADDRESS: '',
      ESCALATOR_WORKER_HTTP_ADDRESS: '127.0.0.1:0',
      // DEBUG: the SDK logs each workflow's start and completion through the workflow logger.
      ESCALATOR_LOG_LEVEL: 'DEBUG',
      ESCALATOR_OTEL_ENABLED: 'true',
      ESCALATOR_OTEL_EXPORTER: 'console',
    });
    connection = await Connection.connect({ address: inject('temporalAddress') });
    escalator = new EscalatorClient(new Client({ connection }), taskQueue);
  });
  afterAll(async () => {
    await worker?.kill();
    await connection?.close();
    await smtp?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the spans of an escalation as JSON lines: its workflow and activities in one trace, its updates', async () => {
    expect(worker.httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { escalationId } = await escalator.raise(gateFailure({ gate: { name: 'obs-approved', kind: 'tests' } }));
    for (const reviewer of ['alice', 'carol']) {
      await smtp.waitFor(`${reviewer}@example.com`, escalationId);
      await escalator.decide(escalationId, { reviewer, decision: 'approve', channel: 'client' });
    }
    expect((await escalator.outcome(escalationId)).outcome).toBe('passed');

    const spans = () =>
      worker
        .stdoutLines()
        .map((line) => JSON.parse(line) as { msg: string; span?: { name: string; traceId: string; spanId: string; parentSpanId?: string; attributes: Record<string, unknown> } })
        .flatMap((line) => (line.msg === 'span' && line.span ? [line.span] : []));
    await expect.poll(() => spans().some((span) => span.name === 'RunWorkflow:escalateGateFailure'), { timeout: 10_000 }).toBe(true);
    const run = spans().find((span) => span.name === 'RunWorkflow:escalateGateFailure')!;
    const trace = spans().filter((span) => span.traceId === run.traceId);
    const names = new Set(trace.map((span) => span.name));
    for (const name of ['StartActivity:snapshotPolicy', 'RunActivity:snapshotPolicy', 'StartActivity:emailReviewers', 'RunActivity:emailReviewers', 'StartActivity:recordOutcome']) {
      expect(names, name).toContain(name);
    }
    // The client sends updates without a trace context: each update is a trace of its own.
    expect(spans().filter((span) => span.name === 'HandleUpdate:decide')).toHaveLength(2);
    const startEmail = trace.find((span) => span.name === 'StartActivity:emailReviewers')!;
    expect(trace.some((span) => span.name === 'RunActivity:emailReviewers' && span.parentSpanId === startEmail.spanId)).toBe(true);
    expect(trace.find((span) => span.name === 'RunActivity:emailReviewers')!.attributes.temporalWorkflowId).toBe(escalationId);
  });

  it('puts the escalation id on workflow log lines too, and trace ids on activity lines', async () => {
    await expect.poll(() => worker.stdoutLines().some((line) => line.includes('"msg":"Workflow completed"'))).toBe(true);
    const lines = worker.stdoutLines().map((line) => JSON.parse(line) as Record<string, unknown>);
    const workflowLines = lines.filter((line) => line.workflowType === 'escalateGateFailure' && line.activityType === undefined && line.workflowId !== undefined);
    expect(workflowLines.map((line) => line.msg)).toEqual(expect.arrayContaining(['Workflow started', 'Workflow completed']));
    for (const line of workflowLines) expect(line.escalationId).toBe(line.workflowId);
    const notified = lines.filter((line) => line.msg === 'reviewer notified');
    expect(notified).toHaveLength(2);
    for (const line of notified) expect(line).toMatchObject({ escalationId: expect.stringMatching(/^escalation-/), trace_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('stops gracefully on SIGTERM with tracing on, exiting 0', async () => {
    expect(await worker.stop('SIGTERM')).toBe(0);
  });
});

describe('a worker with OpenTelemetry tracing over OTLP/HTTP', () => {
  it('sends the spans to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces, the last ones when it shuts down', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'escalator-otlp-'));
    const smtp = await startRefusingSmtp('ghost@example.com');
    const collector = await startHttpRecorder([200]);
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    const taskQueue = `otlp-${randomUUID()}`;
    let worker: ObservedWorker | undefined;
    try {
      await writeFile(join(dir, 'policy.yaml'), policy);
      worker = await startObservedWorker({
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        ESCALATOR_TASK_QUEUE: taskQueue,
        ESCALATOR_POLICY_FILE: join(dir, 'policy.yaml'),
        ESCALATOR_SMTP_URL: smtp.url,
        ESCALATOR_OUTCOMES_FILE: join(dir, 'outcomes.sqlite'),
        ESCALATOR_SDK_METRICS_ADDRESS: '',
        ESCALATOR_WORKER_HTTP_ADDRESS: '',
        ESCALATOR_OTEL_ENABLED: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      });
      const escalator = new EscalatorClient(new Client({ connection }), taskQueue);
      const { escalationId } = await escalator.raise(gateFailure({ gate: { name: 'obs-refused', kind: 'tests' } }));
      await escalator.withdraw(escalationId, { by: 'ci', reason: 'superseded' });
      expect((await escalator.outcome(escalationId)).outcome).toBe('withdrawn');
      expect(await worker.stop('SIGTERM')).toBe(0);

      expect(collector.requests.length).toBeGreaterThan(0);
      for (const request of collector.requests) expect(request).toMatchObject({ method: 'POST', path: '/v1/traces' });
      // OTLP protobuf keeps strings as they are: span names and the escalation id can be found in the bytes.
      const sent = collector.requests.map((request) => request.body).join('');
      for (const text of ['RunWorkflow:escalateGateFailure', 'StartActivity:snapshotPolicy', 'RunActivity:recordOutcome', 'HandleUpdate:withdraw', escalationId]) expect(sent, text).toContain(text);
    } finally {
      await worker?.kill();
      await connection.close();
      await collector.close();
      await smtp.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the HTTP shim metrics plugin', () => {
  it('counts refusals by reason and answered requests by route, and serves them at /metrics', async () => {
    const metrics = createShimMetrics({ processMetrics: false });
    const app = Fastify();
    await app.register(shimMetricsPlugin(metrics));
    app.get('/v1/escalations/:id', async () => ({ status: 'waiting' }));
    try {
      metrics.countRefusal('NotAwaitedReviewer');
      metrics.countRefusal('NotAwaitedReviewer');
      metrics.countRefusal('EscalationEnded');
      expect((await app.inject('/v1/escalations/escalation-a')).statusCode).toBe(200);
      expect((await app.inject('/v1/escalations/escalation-b')).statusCode).toBe(200);
      expect((await app.inject('/nowhere')).statusCode).toBe(404);

      const response = await app.inject('/metrics');
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      const samples = parsePrometheus(response.body);
      expect(sampleOf(samples, 'escalator_decisions_refused_total', { reason: 'NotAwaitedReviewer' })).toBe(2);
      expect(sampleOf(samples, 'escalator_decisions_refused_total', { reason: 'EscalationEnded' })).toBe(1);
      expect(sampleOf(samples, 'escalator_shim_requests_total', { method: 'GET', route: '/v1/escalations/:id', status: '200' })).toBe(2);
      expect(sampleOf(samples, 'escalator_shim_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    } finally {
      await app.close();
    }
  });
});

// ---- helpers ----

interface ObservedWorker {
  /** `http://host:port` of the worker's health and metrics server, from its "worker started" line. */
  httpUrl: string;
  /** Complete stdout lines so far. */
  stdoutLines(): string[];
  /** Sends `signal` and resolves with the exit code. */
  stop(signal: NodeJS.Signals): Promise<number | null>;
  kill(): Promise<void>;
}

/** `worker/main.ts` in a child process, with stdout (the JSON log) kept apart from stderr. */
async function startObservedWorker(environment: Record<string, string>): Promise<ObservedWorker> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'worker/main.ts'], { env: { ...process.env, ...environment }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const complete = () => stdout.split('\n').slice(0, -1);
  const started = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start within 60 s:\n${stdout}\n${stderr}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const line = complete().find((text) => text.includes('"msg":"worker started"'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as Record<string, unknown>);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code} before starting:\n${stdout}\n${stderr}`));
    });
  });
  const stop = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return {
    httpUrl: started.http as string,
    stdoutLines: complete,
    stop,
    kill: async () => void (await stop('SIGKILL')),
  };
}

interface RefusingSmtp {
  url: string;
  /** Resolves once a message to `address` about `escalationId` was accepted. */
  waitFor(address: string, escalationId: string): Promise<void>;
  close(): Promise<void>;
}

/** An SMTP server on loopback that accepts every recipient but `refused`, which it answers with 550. */
async function startRefusingSmtp(refused: string): Promise<RefusingSmtp> {
  const accepted: Array<{ to: string[]; escalationId: string | undefined }> = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (address.address === refused) return callback(Object.assign(new Error(`${refused}: no such user`), { responseCode: 550 }));
      callback();
    },
    onData(stream, session, callback) {
      simpleParser(stream)
        .then((mail) => {
          accepted.push({ to: session.envelope.rcptTo.map((r) => r.address), escalationId: mail.headers.get('x-escalation-id') as string | undefined });
          callback();
        })
        .catch(callback);
    },
  });
  tolerateSenderResets(server, (error) => console.error('refusing smtp:', error));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.server.address() as { port: number };
  return {
    url: `smtp://127.0.0.1:${port}`,
    async waitFor(address, escalationId) {
      await expect.poll(() => accepted.some((mail) => mail.to.includes(address) && mail.escalationId === escalationId), { timeout: 20_000 }).toBe(true);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
