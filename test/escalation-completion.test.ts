import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { DecisionRefusedError } from '../client/errors.js';
import type { EscalationOutcome } from '../domain/escalation.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { parallelPolicy } from './helpers/parallel-policy.js';

/** The run's history replays on the current workflow code: what it did is deterministic. */
async function expectReplays(env: EscalatorEnv, escalationId: string): Promise<void> {
  const history = await env.client.workflow.getHandle(escalationId).fetchHistory();
  await Worker.runReplayHistory({ workflowBundle: { codePath: inject('workflowBundlePath') } }, history, escalationId);
}

describe('emails still being retried when an escalation ends', () => {
  let env: EscalatorEnv;
  const attemptsTo = (address: string) => env.smtp.received.filter((m) => m.envelopeTo.includes(address));

  beforeAll(async () => {
    // The relay keeps refusing alice's mail with 451; the security reviewer's twice, then takes it.
    env = await startEscalator(parallelPolicy(), { smtp: { refuseFirstTo: { 'alice@example.com': 1_000, 'sec@example.com': 2 } } });
  });
  afterAll(async () => env?.close());

  async function raisedAndRefused(): Promise<string> {
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'release', kind: 'tests' }, severity: 'low' }));
    const before = env.smtp.refused;
    await vi.waitFor(() => expect(env.smtp.refused).toBeGreaterThan(before), { timeout: 15_000 });
    return escalationId;
  }

  /** The stored timeline's kinds and actors after the `ended` entry. */
  async function afterTheEnd(escalationId: string) {
    const stored = await env.store.timeline(escalationId);
    return stored.slice(stored.findIndex((e) => e.kind === 'ended') + 1).map((e) => ({ kind: e.kind, actor: e.actor, detail: e.detail }));
  }

  it('cancels a decision request nobody needs any more, and records that it was not sent', async () => {
    const escalationId = await raisedAndRefused();
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'the pipeline was cancelled' });
    const handle = env.client.workflow.getHandle(escalationId);
    expect(((await handle.result()) as EscalationOutcome).outcome).toBe('withdrawn');

    const history = await handle.fetchHistory();
    expect(history.events!.some((e) => e.activityTaskCancelRequestedEventAttributes)).toBe(true);
    expect(await afterTheEnd(escalationId)).toEqual([
      { kind: 'notification-failed', actor: 'alice', detail: expect.objectContaining({ channel: 'email', error: 'cancelled: the escalation ended before the email was confirmed sent' }) },
    ]);
    expect(attemptsTo('alice@example.com')).toEqual([]);
    await expectReplays(env, escalationId);
  }, 60_000);

  it('completes only after the security review of a break-glass went out, though the relay refused it twice', async () => {
    const escalationId = await raisedAndRefused();
    await env.escalator.breakGlass(escalationId, { by: 'sam', justification: 'prod is down', channel: 'client' });
    const outcome = (await env.client.workflow.getHandle(escalationId).result()) as EscalationOutcome;
    expect(outcome.outcome).toBe('overridden');

    expect(attemptsTo('sec@example.com').filter((m) => m.mail.headers.get('x-escalation-id') === escalationId)).toHaveLength(1);
    const after = await afterTheEnd(escalationId);
    expect(after).toContainEqual({ kind: 'notified', actor: 'sec', detail: expect.objectContaining({ channel: 'email' }) });
    expect(after).toContainEqual({ kind: 'notification-failed', actor: 'alice', detail: expect.objectContaining({ error: 'cancelled: the escalation ended before the email was confirmed sent' }) });
    expect((await env.store.escalation(escalationId))?.outcome).toBe('overridden');
    await expectReplays(env, escalationId);
  }, 60_000);
});

describe('two break-glass overrides arriving together', () => {
  let env: EscalatorEnv;

  beforeAll(async () => {
    env = await startEscalator(parallelPolicy());
  });
  afterAll(async () => env?.close());

  it('takes one, refuses the other as ended, and asks for one security review', async () => {
    for (let round = 0; round < 2; round++) {
      const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'performance', kind: 'performance' }, severity: 'low' }));
      await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).status).toBe('waiting'));
      // Sent while no worker runs, both wait at the server and are validated in the same activation.
      const sent = await env.withWorkerStopped(async () => {
        const both = [
          env.escalator.breakGlass(escalationId, { by: 'sam', justification: 'prod is down', channel: 'client' }),
          env.escalator.breakGlass(escalationId, { by: 'sam', justification: 'prod is still down', channel: 'client' }),
        ];
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        return both;
      });
      const results = await Promise.allSettled(sent);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r) => r.status === 'rejected');
      expect(refused?.reason).toBeInstanceOf(DecisionRefusedError);
      expect((refused?.reason as DecisionRefusedError).code).toBe('EscalationEnded');

      const state = await env.escalator.status(escalationId);
      expect(state.timeline.filter((e) => e.event === 'break-glass')).toHaveLength(1);
      expect(state.decisions).toHaveLength(1);
      await env.client.workflow.getHandle(escalationId).result();
      const reviews = env.smtp.received.filter((m) => m.mail.headers.get('x-escalation-id') === escalationId && m.envelopeTo.includes('sec@example.com'));
      expect(reviews).toHaveLength(1);
    }
  }, 60_000);
});
