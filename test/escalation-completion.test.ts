import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DecisionRefusedError } from '../client/errors.js';
import type { EscalationOutcome } from '../domain/escalation.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { parallelPolicy } from './helpers/parallel-policy.js';

describe('an escalation that ends while its first email is still being retried', () => {
  let env: EscalatorEnv;

  beforeAll(async () => {
    // The relay refuses the first two messages with 451: the first attempt and the first retry fail.
    env = await startEscalator(parallelPolicy(), { smtp: { refuseFirst: 2 } });
  });
  afterAll(async () => env?.close());

  it('completes only after the email went out, and records that it did', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'release', kind: 'tests' }, severity: 'low' }));
    await vi.waitFor(() => expect((env.smtp as typeof env.smtp & { refused: number }).refused).toBeGreaterThanOrEqual(1), { timeout: 15_000 });
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'the pipeline was cancelled' });

    const outcome = (await env.client.workflow.getHandle(escalationId).result()) as EscalationOutcome;
    expect(outcome.outcome).toBe('withdrawn');
    // The retried email reached the relay before the run completed, and its result is in the store.
    expect(env.smtp.received.filter((m) => m.mail.headers.get('x-escalation-id') === escalationId).map((m) => m.envelopeTo)).toEqual([['alice@example.com']]);
    const stored = await env.store.timeline(escalationId);
    expect(stored.filter((e) => e.kind === 'notified').map((e) => e.actor)).toEqual(['alice']);
    expect(stored.map((e) => e.kind).indexOf('notified')).toBeGreaterThan(stored.map((e) => e.kind).indexOf('ended'));
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
