import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { openOutcomeStore } from '../adapters/outcome-store/store.js';
import { EscalatorClient } from '../client/escalator-client.js';
import type { EscalationOutcome, TimelineEntry } from '../domain/escalation.js';
import { startFakeSlack, type FakeSlack } from './helpers/fake-slack.js';
import { freePort } from './helpers/free-port.js';
import { gateFailure } from './helpers/gate-failure.js';
import { sequentialPolicy } from './helpers/policies.js';
import { sampleOf, scrape } from './helpers/prometheus.js';
import { startRollbackEndpoint } from './helpers/rollback-endpoint.js';
import { startSmtpSink } from './helpers/smtp-sink.js';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process.js';

/**
 * Faults in the side effects and in the worker itself. Each test runs the real worker process
 * (worker/main.ts) against the shared dev server, so SIGKILL is a real crash, and checks that the
 * escalation ends exactly once with nothing lost.
 */
describe('faults around an escalation', () => {
  let connection: Connection;
  let dir: string;
  let taskQueueCount = 0;
  const workers: WorkerProcess[] = [];
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-faults-'));
    connection = await Connection.connect({ address: inject('temporalAddress') });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill('SIGKILL')));
    await Promise.all(cleanups.splice(0).map((close) => close()));
  });
  afterAll(async () => {
    await connection?.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A task queue, policy file and outcome store of its own; workers for it start with `worker()`. */
  async function setting(policy: string, environment: Record<string, string>) {
    const name = `faults-${++taskQueueCount}`;
    await writeFile(join(dir, `${name}.yaml`), policy);
    const taskQueue = `${name}-${randomUUID()}`;
    const env: Record<string, string> = {
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      ESCALATOR_TASK_QUEUE: taskQueue,
      ESCALATOR_POLICY_FILE: join(dir, `${name}.yaml`),
      ESCALATOR_OUTCOMES_FILE: join(dir, `${name}.sqlite`),
      ...environment,
    };
    return {
      escalator: new EscalatorClient(new Client({ connection }), taskQueue),
      outcomesFile: env.ESCALATOR_OUTCOMES_FILE!,
      async worker(extra: Record<string, string> = {}) {
        const worker = await startWorkerProcess({ ...env, ...extra });
        workers.push(worker);
        return worker;
      },
    };
  }

  async function storedOutcome(outcomesFile: string, escalationId: string) {
    const store = await openOutcomeStore({ sqliteFile: outcomesFile });
    try {
      return { escalation: await store.escalation(escalationId), timeline: await store.timeline(escalationId), decisions: await store.decisions(escalationId) };
    } finally {
      await store.close();
    }
  }

  async function completions(escalator: EscalatorClient, escalationId: string): Promise<number> {
    const history = await escalator.handle(escalationId).fetchHistory();
    return history.events!.filter((e) => e.workflowExecutionCompletedEventAttributes).length;
  }

  const events = (outcome: EscalationOutcome, event: TimelineEntry['event']) => outcome.timeline.filter((e) => e.event === event);

  it('resends an email whose worker was killed mid-send, once the next worker takes it, and loses no decision', async () => {
    // The relay never answers the first message: the worker is killed while it waits on SMTP.
    const smtp = await startSmtpSink({ holdFirst: 1 });
    cleanups.push(() => smtp.close());
    const { escalator, outcomesFile, worker } = await setting(sequentialPolicy(), { ESCALATOR_SMTP_URL: smtp.url });
    const first = await worker();
    const { escalationId } = await escalator.raise(gateFailure());
    await vi.waitFor(() => expect(smtp.held).toBe(1), { timeout: 20_000 });
    expect(await first.kill('SIGKILL')).toBe(null);

    await worker();
    // The email's first attempt is a local activity inside the workflow task the killed worker held:
    // once that task times out, the next worker replays it and sends the email again.
    const [mail] = await smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId, 1, 30_000);
    expect(mail!.mail.messageId).toBe(`<${escalationId}.step1.n1@escalator>`);
    await escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    await escalator.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' });
    await escalator.decide(escalationId, { reviewer: 'erin', decision: 'approve', channel: 'client' });

    const outcome = await escalator.outcome(escalationId);
    expect(outcome.outcome).toBe('passed');
    expect(outcome.decisions.map((d) => d.reviewer)).toEqual(['alice', 'carol', 'erin']);
    // Notified once in the timeline: the killed attempt never reported, the retried one did.
    expect(events(outcome, 'notified').filter((e) => e.event === 'notified' && e.step === 0)).toHaveLength(1);
    expect(await completions(escalator, escalationId)).toBe(1);
    const stored = await storedOutcome(outcomesFile, escalationId);
    expect(stored.escalation).toMatchObject({ outcome: 'passed' });
    expect(stored.decisions.map((d) => d.reviewer)).toEqual(['alice', 'carol', 'erin']);
  });

  it('rolls back exactly once when the worker is killed while the rollback request is in flight', async () => {
    const smtp = await startSmtpSink();
    // The first rollback request is taken and never answered; the retry gets the service's answer.
    const rollback = await startRollbackEndpoint(['hang']);
    cleanups.push(() => smtp.close(), () => rollback.close());
    const { escalator, outcomesFile, worker } = await setting(sequentialPolicy({ rollbackUrl: rollback.url, maxDepth: 1 }), { ESCALATOR_SMTP_URL: smtp.url });
    const first = await worker();
    const { escalationId } = await escalator.raise(gateFailure({ gate: { name: 'flaky-tests', kind: 'tests' } }));
    await vi.waitFor(() => expect(rollback.calls).toHaveLength(1), { timeout: 30_000 });
    expect((await escalator.status(escalationId)).status).toBe('rolling-back');
    expect(await first.kill('SIGKILL')).toBe(null);

    await worker();
    const outcome = await escalator.outcome(escalationId);
    expect(outcome).toMatchObject({ outcome: 'rolled-back', postmortem: true });
    // The request reached the service twice (at least once is all HTTP gives), with one key: one rollback.
    expect(rollback.calls.length).toBeGreaterThanOrEqual(2);
    expect(new Set(rollback.calls.map((c) => c.idempotencyKey))).toEqual(new Set([`${escalationId}:rollback`]));
    expect(rollback.performed()).toBe(1);
    expect(events(outcome, 'rollback-requested')).toHaveLength(1);
    expect(await completions(escalator, escalationId)).toBe(1);
    expect((await storedOutcome(outcomesFile, escalationId)).escalation).toMatchObject({ outcome: 'rolled-back', postmortem: true });
  });

  it('retries a rollback endpoint answering 500 with one idempotency key, then records the failure and asks a person to roll back by hand', async () => {
    const smtp = await startSmtpSink();
    const rollback = await startRollbackEndpoint([500, 500, 500, 500, 500, 500]);
    cleanups.push(() => smtp.close(), () => rollback.close());
    const { escalator, outcomesFile, worker } = await setting(sequentialPolicy({ rollbackUrl: rollback.url, maxDepth: 1 }), { ESCALATOR_SMTP_URL: smtp.url });
    await worker();
    const { escalationId } = await escalator.raise(gateFailure({ gate: { name: 'flaky-tests', kind: 'tests' } }));

    // While the endpoint fails, the retries are visible to operators with their last error.
    await vi.waitFor(
      async () => {
        const [retrying] = await escalator.retrying(escalationId);
        expect(retrying).toMatchObject({ action: 'requestRollback', lastError: 'rollback endpoint answered 500' });
        expect(retrying!.attempt).toBeGreaterThanOrEqual(2);
      },
      { timeout: 30_000, interval: 250 },
    );

    const outcome = await escalator.outcome(escalationId);
    // Six attempts (the workflow's retry policy), all with the same key; no rollback happened.
    expect(rollback.calls).toHaveLength(6);
    expect(new Set(rollback.calls.map((c) => c.idempotencyKey))).toEqual(new Set([`${escalationId}:rollback`]));
    expect(rollback.performed()).toBe(0);
    expect(outcome).toMatchObject({ outcome: 'blocked', postmortem: true });
    expect(outcome.reason).toBe('rollback failed (rollback endpoint answered 500); the gate stays blocked; senior is asked to roll back by hand');
    const handedOff = events(outcome, 'rollback-handed-off');
    expect(handedOff).toEqual([expect.objectContaining({ to: ['senior'], endpoint: `${rollback.url}/rollback`, error: 'rollback endpoint answered 500' })]);
    expect(events(outcome, 'rollback-failed')).toHaveLength(1);

    // The person (the last tier, as the policy names no rollback owner and no tier lead) is emailed.
    const [mail] = await smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId && m.envelopeTo.includes('senior@example.com'));
    expect(mail!.mail.subject).toContain('ROLLBACK FAILED, roll back checkout by hand');
    expect(mail!.mail.text).toContain(`POST ${rollback.url}/rollback — rollback endpoint answered 500.`);
    expect(mail!.mail.text).not.toContain('/actions/');
    expect(await completions(escalator, escalationId)).toBe(1);
    const stored = await storedOutcome(outcomesFile, escalationId);
    expect(stored.escalation).toMatchObject({ outcome: 'blocked', postmortem: true });
    expect(stored.timeline.map((e) => e.kind)).toEqual(expect.arrayContaining(['rollback-failed', 'rollback-handed-off']));
  });

  describe('with the SMTP relay down', () => {
    let slack: FakeSlack;
    beforeAll(async () => {
      slack = await startFakeSlack({ users: ['U0ALICE', 'U0BOB'] });
    });
    afterAll(async () => {
      await slack?.close();
    });

    it('still reaches reviewers on Slack, keeps the deadline, and shows the failing email in state and metrics', async () => {
      const policy = `
version: 1
defaults: { maxDepth: 3, requireComment: never }
people:
  alice: { email: alice@example.com, slack: U0ALICE, backup: bob }
  bob:   { email: bob@example.com, slack: U0BOB }
channels:
  bySeverity: { critical: [email, slack], high: [email, slack], medium: [email], low: [email] }
gates:
  release:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 4s }
`;
      const deadPort = await freePort(); // nothing listens: connection refused, as when the relay is down
      const httpPort = await freePort();
      const { escalator, worker } = await setting(policy, {
        ESCALATOR_SMTP_URL: `smtp://127.0.0.1:${deadPort}`,
        ESCALATOR_SLACK_BOT_TOKEN: slack.token,
        ESCALATOR_SLACK_API_URL: slack.url,
        ESCALATOR_WORKER_HTTP_ADDRESS: `127.0.0.1:${httpPort}`,
      });
      await worker();
      const { escalationId } = await escalator.raise(gateFailure({ gate: { name: 'release', kind: 'tests' }, severity: 'high' }));

      // Slack does not wait for email.
      await vi.waitFor(() => expect(slack.messages.filter((m) => JSON.stringify(m).includes(escalationId)).length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
      // The failing email is visible while it is retried: which attempt, whose email, why.
      await vi.waitFor(
        async () => {
          const [retrying] = await escalator.retrying(escalationId);
          expect(retrying).toMatchObject({ action: 'emailReviewer' });
          expect(retrying!.attempt).toBeGreaterThanOrEqual(2);
          expect(retrying!.lastError).toMatch(/^email to alice@example\.com failed: .*ECONNREFUSED/);
        },
        { timeout: 15_000, interval: 250 },
      );
      // The same, as GET /v1/escalations/:id and `escalator status` give it: the state with its retries.
      expect((await escalator.statusWithRetries(escalationId)).retrying).toEqual(expect.arrayContaining([expect.objectContaining({ action: 'emailReviewer', lastError: expect.stringContaining('alice@example.com') })]));
      // One `failed` sample per failed attempt; the email is never counted as sent.
      const metricsUrl = `http://127.0.0.1:${httpPort}/metrics`;
      await expect.poll(async () => sampleOf(await scrape(metricsUrl), 'escalator_notifications_total', { channel: 'email', result: 'failed' }), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
      const metrics = await scrape(metricsUrl);
      expect(sampleOf(metrics, 'escalator_notifications_total', { channel: 'email', result: 'sent' })).toBeUndefined();
      expect(sampleOf(metrics, 'escalator_notifications_total', { channel: 'slack', result: 'sent' })).toBeGreaterThanOrEqual(1);

      // The 4 s step runs out although alice's email is still being retried: bob (backup) is awaited,
      // and alice's email has neither been sent nor given up on — the deadline never waited on it.
      await vi.waitFor(async () => expect((await escalator.status(escalationId)).awaitedReviewers).toEqual(['bob']), { timeout: 15_000 });
      const view = await escalator.status(escalationId);
      const timedOut = view.timeline.find((e) => e.event === 'timed-out');
      expect(timedOut).toMatchObject({ reviewers: ['alice'] });
      expect(view.timeline.filter((e) => (e.event === 'notified' || e.event === 'notification-failed') && e.channel === 'email')).toEqual([]);
      expect((await escalator.retrying(escalationId)).filter((r) => r.lastError?.startsWith('email to alice@example.com'))).toHaveLength(1);

      await escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', channel: 'client' });
      expect((await escalator.outcome(escalationId)).outcome).toBe('passed');
    });
  });
});
