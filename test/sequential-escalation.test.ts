import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { startHttpRecorder, type HttpRecorder } from './helpers/http-recorder.js';
import { sequentialPolicy } from './helpers/policies.js';

describe('sequential escalation on a real Temporal server', () => {
  let env: EscalatorEnv;
  let rollbackEndpoint: HttpRecorder;

  beforeAll(async () => {
    rollbackEndpoint = await startHttpRecorder([200]);
    env = await startEscalator(sequentialPolicy({ rollbackUrl: rollbackEndpoint.url, maxDepth: 2 }));
  });
  afterAll(async () => {
    await env?.close();
    await rollbackEndpoint?.close();
  });

  it('passes the gate after every step of a 3-step chain approves, emailing each reviewer in turn', async () => {
    const failure = gateFailure();
    const { escalationId, started } = await env.escalator.raise(failure);
    expect(started).toBe(true);

    for (const [index, reviewer] of (['alice', 'carol', 'erin'] as const).entries()) {
      const [received] = await env.smtp.waitFor((m) => m.envelopeTo.includes(`${reviewer}@example.com`) && m.mail.headers.get('x-escalation-id') === escalationId);
      const mail = received!.mail;
      expect(mail.subject).toBe(`[Escalator] high: integration-tests failed on checkout — your decision (step ${index + 1} of 3)`);
      expect(mail.messageId).toBe(`<${escalationId}.step${index + 1}.n${index + 1}@escalator>`);
      expect(mail.text).toContain(failure.change.url);
      expect(mail.text).toContain(failure.pipelineRun.url);
      expect(mail.text).toContain(`${env.publicUrl}/v1/escalations/${escalationId}`);
      const state = await env.escalator.status(escalationId);
      expect(state.awaitedReviewers).toEqual([reviewer]);
      expect(state.step).toBe(index);
      await env.escalator.decide(escalationId, { reviewer, decision: 'approve', channel: 'client' });
    }

    const outcome = await env.escalator.outcome(escalationId);
    expect(outcome).toMatchObject({ outcome: 'passed', depth: 0, postmortem: false, gate: 'integration-tests' });
    expect(outcome.decisions.map((d) => [d.reviewer, d.decision, d.step])).toEqual([
      ['alice', 'approve', 0],
      ['carol', 'approve', 1],
      ['erin', 'approve', 2],
    ]);
    expect(await env.store.escalation(escalationId)).toMatchObject({ outcome: 'passed', model: 'sequential', depth: 0, postmortem: false });
    const stored = await env.store.timeline(escalationId);
    expect(stored.filter((e) => e.kind === 'ended')).toHaveLength(1);
    expect(stored.map((e) => e.seq)).toEqual(outcome.timeline.map((_, i) => i));
  });

  it('blocks the gate when an awaited reviewer rejects, keeping the comment', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure());
    await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId);
    await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'reject', comment: 'breaks checkout totals', channel: 'client' });
    const outcome = await env.escalator.outcome(escalationId);
    expect(outcome.outcome).toBe('blocked');
    expect(outcome.reason).toBe('rejected by alice at step 1');
    expect(outcome.decisions[0]).toMatchObject({ reviewer: 'alice', decision: 'reject', comment: 'breaks checkout totals', channel: 'client' });
  });

  it('hands a silent step to the backup, then the next tier, and rolls back exactly once at maximum depth', async () => {
    const failure = gateFailure({ gate: { name: 'flaky-tests', kind: 'tests' } });
    const { escalationId } = await env.escalator.raise(failure);
    const outcome = await env.escalator.outcome(escalationId);

    expect(outcome).toMatchObject({ outcome: 'rolled-back', depth: 2, postmortem: true });
    const handOffs = outcome.timeline.filter((e) => e.event === 'handed-off');
    expect(handOffs.map((e) => (e.event === 'handed-off' ? [e.from.kind, e.to.kind, e.depth] : null))).toEqual([
      ['primary', 'backup', 1],
      ['backup', 'tier', 2],
    ]);
    // alice, her backup bob, then the first tier; the second tier would be depth 3, beyond the bound of 2.
    await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId, 3);
    const notified = env.smtp.received.filter((m) => m.mail.headers.get('x-escalation-id') === escalationId).flatMap((m) => m.envelopeTo);
    expect(notified).toEqual(['alice@example.com', 'bob@example.com', 'lead@example.com']);

    const calls = rollbackEndpoint.requests.filter((r) => JSON.parse(r.body).escalationId === escalationId);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/rollback' });
    expect(calls[0]!.headers['idempotency-key']).toBe(`${escalationId}:rollback`);
    expect(JSON.parse(calls[0]!.body)).toMatchObject({ service: 'checkout', sha: failure.change.sha, pipelineRunId: 'run-7781' });
  });

  it('ends as recovered when the gate re-runs green, and as withdrawn when withdrawn', async () => {
    const recovered = await env.escalator.raise(gateFailure());
    await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === recovered.escalationId);
    await env.escalator.reportRecovered(recovered.escalationId, 'run-7790');
    expect(await env.escalator.outcome(recovered.escalationId)).toMatchObject({ outcome: 'recovered', reason: 'the gate re-ran green in pipeline run run-7790' });

    const withdrawn = await env.escalator.raise(gateFailure());
    await env.escalator.withdraw(withdrawn.escalationId, { by: 'ci', reason: 'change reverted' });
    expect(await env.escalator.outcome(withdrawn.escalationId)).toMatchObject({ outcome: 'withdrawn', reason: 'withdrawn by ci: change reverted' });
  });

  it('shuffles the chain where the policy asks for it, each run in its own seeded order', async () => {
    const orders: string[] = [];
    for (let run = 0; run < 6; run++) {
      const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'shuffled', kind: 'review' } }));
      const order: string[] = [];
      for (let step = 0; step < 3; step++) {
        const reviewer = await vi.waitFor(async () => {
          const [awaited] = (await env.escalator.status(escalationId)).awaitedReviewers;
          expect(awaited).toBeDefined();
          return awaited!;
        });
        order.push(reviewer);
        await env.escalator.decide(escalationId, { reviewer, decision: 'approve', channel: 'client' });
      }
      expect([...order].sort()).toEqual(['alice', 'carol', 'erin']);
      expect((await env.escalator.outcome(escalationId)).outcome).toBe('passed');
      orders.push(order.join(','));
    }
    // Six runs in one order would happen with probability (1/6)^5 if the shuffle works.
    expect(new Set(orders).size).toBeGreaterThan(1);
  });

  it('blocks with a postmortem flag when the gate has no policy at all', async () => {
    const bare = await startEscalator(sequentialPolicy().replace(/ {2}"\*":[\s\S]*$/, ''));
    try {
      const { escalationId } = await bare.escalator.raise(gateFailure({ gate: { name: 'unknown-gate', kind: 'custom' } }));
      const outcome = await bare.escalator.outcome(escalationId);
      expect(outcome).toMatchObject({ outcome: 'blocked', postmortem: true });
      expect(outcome.reason).toContain('no policy for gate "unknown-gate"');
    } finally {
      await bare.close();
    }
  });
});
