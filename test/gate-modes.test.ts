import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pilotBanner } from '../domain/engine/gate-mode.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { type RollbackEndpoint, startRollbackEndpoint } from './helpers/rollback-endpoint.js';

/**
 * A shadow gate on one-second timers: alice, her backup bob, then the leads tier, then the depth of
 * 2 is used up and the exhausted action would roll back. A pilot gate asks three people and tells
 * only bob, its pilot group.
 */
function modesPolicy(rollbackUrl: string): string {
  return `
version: 1
defaults: { maxDepth: 2, requireComment: never }
people:
  alice: { name: Alice Adler, email: alice@example.com, backup: bob }
  bob:   { name: Bob Brandt, email: bob@example.com }
  carol: { name: Carol Chen, email: carol@example.com }
  lead:  { name: Lee Lead, email: lead@example.com }
tiers:
  leads: { reviewers: [lead], timeout: 1s }
gates:
  shadow-tests:
    model: sequential
    mode: shadow
    chain:
      - { reviewers: [alice], timeout: 1s }
    escalateTo: leads
    onExhausted: { action: rollback, endpoint: "${rollbackUrl}/rollback" }
  pilot-perf:
    model: parallel
    mode: pilot
    pilot: [bob]
    reviewers: [alice, bob, carol]
    decideWithin: 10m
`;
}

describe('gate modes on a real Temporal server', () => {
  let env: EscalatorEnv;
  let rollback: RollbackEndpoint;

  beforeAll(async () => {
    rollback = await startRollbackEndpoint();
    env = await startEscalator(modesPolicy(rollback.url));
  });
  afterAll(async () => {
    await env?.close();
    await rollback?.close();
  });

  const mailsOf = (escalationId: string) => env.smtp.received.filter((m) => m.mail.headers.get('x-escalation-id') === escalationId);

  it('runs a shadow gate to exhaustion on its timers without one email or rollback call, recording who would have been asked', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'shadow-tests', kind: 'tests' } }));
    const outcome = await env.escalator.outcome(escalationId);

    expect(outcome).toMatchObject({ outcome: 'rolled-back', mode: 'shadow', depth: 2, postmortem: true });
    expect(outcome.timeline.filter((e) => e.event === 'would-notify').map((e) => (e.event === 'would-notify' ? [e.reviewer, e.channel] : null))).toEqual([
      ['alice', 'email'],
      ['bob', 'email'],
      ['lead', 'email'],
    ]);
    expect(outcome.timeline.filter((e) => e.event === 'would-roll-back')).toEqual([expect.objectContaining({ endpoint: `${rollback.url}/rollback` })]);
    expect(outcome.timeline.filter((e) => e.event === 'notified')).toEqual([]);
    // The emails' first attempts are awaited before the run moves on: any would have arrived by now.
    expect(mailsOf(escalationId)).toEqual([]);
    expect(rollback.calls).toEqual([]);
    const history = await env.escalator.handle(escalationId).fetchHistory();
    const scheduled = (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : []));
    expect(scheduled).toEqual([]);

    expect(await env.store.escalation(escalationId)).toMatchObject({ outcome: 'rolled-back', gate: 'shadow-tests', depth: 2 });
    const stored = await env.store.timeline(escalationId);
    expect(stored.find((e) => e.kind === 'policy-snapshot')?.detail).toMatchObject({ mode: 'shadow' });
    expect(stored.filter((e) => e.kind === 'would-notify')).toHaveLength(3);
    expect((await env.escalator.status(escalationId)).mode).toBe('shadow');
  });

  it('emails only the pilot group of a pilot gate, with the banner, while everyone is awaited and may decide', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'pilot-perf', kind: 'performance' } }));
    const [received] = await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId);
    expect(received!.envelopeTo).toEqual(['bob@example.com']);
    expect(received!.mail.text).toContain(pilotBanner);
    expect(received!.mail.text!.startsWith(pilotBanner)).toBe(true);
    expect(received!.mail.html).toContain(pilotBanner);

    // The same event asked all three: who was withheld is in the timeline before bob's email went out.
    const view = await env.escalator.status(escalationId);
    expect(view).toMatchObject({ mode: 'pilot', awaitedReviewers: ['alice', 'bob', 'carol'] });
    expect(view.timeline.filter((e) => e.event === 'would-notify').map((e) => (e.event === 'would-notify' ? e.reviewer : null))).toEqual(['alice', 'carol']);

    await env.escalator.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' });
    expect(await env.escalator.outcome(escalationId)).toMatchObject({ outcome: 'passed', mode: 'pilot' });
    expect(mailsOf(escalationId).flatMap((m) => m.envelopeTo)).toEqual(['bob@example.com']);
  });
});
