import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DecisionRefusedError } from '../client/errors.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { parallelPolicy, voters } from './helpers/parallel-policy.js';

describe('parallel escalation on a real Temporal server', () => {
  let env: EscalatorEnv;

  beforeAll(async () => {
    env = await startEscalator(parallelPolicy());
  });
  afterAll(async () => env?.close());

  const mailsOf = (escalationId: string) => env.smtp.received.filter((m) => m.mail.headers.get('x-escalation-id') === escalationId);

  async function waiting(gate: string, overrides: Parameters<typeof gateFailure>[0] = {}): Promise<string> {
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: gate, kind: 'performance' }, ...overrides }));
    await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).status).toBe('waiting'), { timeout: 10_000 });
    return escalationId;
  }

  async function refusalOf(promise: Promise<unknown>): Promise<DecisionRefusedError> {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DecisionRefusedError);
    return error as DecisionRefusedError;
  }

  it('notifies the whole group at once, names one primary, and passes at 2 approvals of 3', async () => {
    const escalationId = await waiting('performance');
    const mails = await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId, 3);
    expect(mails.flatMap((m) => m.envelopeTo).sort()).toEqual(['alice@example.com', 'bob@example.com', 'carol@example.com']);
    const state = await env.escalator.status(escalationId);
    expect(state).toMatchObject({ model: 'parallel', awaitedReviewers: ['alice', 'bob', 'carol'], votes: { approve: 0, reject: 0, override: 0, quorum: { approve: 2, override: 3, reject: 1 } } });
    expect(['alice', 'bob', 'carol']).toContain(state.primary);
    for (const { mail } of mails) expect(mail.text).toContain(mail.to && JSON.stringify(mail.to).includes(`${state.primary}@`) ? 'You are the primary reviewer' : `The primary reviewer is ${state.primary}`);

    const afterOne = await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    expect(afterOne).toMatchObject({ status: 'waiting', awaitedReviewers: ['bob', 'carol'], votes: { approve: 1 } });
    const afterTwo = await env.escalator.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' });
    expect(afterTwo.outcome).toMatchObject({ outcome: 'passed', reason: 'approval quorum reached: 2 of 2' });
  });

  it('gives each reviewer one vote', async () => {
    const escalationId = await waiting('performance');
    await env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', channel: 'client' });
    const refusal = await refusalOf(env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', channel: 'http' }));
    expect(refusal.code).toBe('AlreadyVoted');
    expect((await env.escalator.status(escalationId)).votes?.approve).toBe(1);
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'done' });
  });

  it('blocks at the first rejection and overrides only at the override quorum', async () => {
    const blocked = await waiting('performance');
    await env.escalator.decide(blocked, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    const view = await env.escalator.decide(blocked, { reviewer: 'bob', decision: 'reject', channel: 'client' });
    expect(view.outcome).toMatchObject({ outcome: 'blocked' });

    const overridden = await waiting('performance');
    await env.escalator.decide(overridden, { reviewer: 'alice', decision: 'override', channel: 'client' });
    // Two overrides are also two approvals: the approval quorum is reached first.
    const second = await env.escalator.decide(overridden, { reviewer: 'bob', decision: 'override', channel: 'client' });
    expect(second.outcome).toMatchObject({ outcome: 'passed' });
  });

  it('counts 20 votes arriving at the same moment exactly: one per reviewer, ending at the quorum of 11', async () => {
    const escalationId = await waiting('crowd');
    const results = await Promise.allSettled(voters(20).map((reviewer) => env.escalator.decide(escalationId, { reviewer, decision: 'approve', channel: 'client' })));
    const accepted = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    const outcome = await env.escalator.outcome(escalationId);
    expect(outcome).toMatchObject({ outcome: 'passed', reason: 'approval quorum reached: 11 of 11' });
    expect(outcome.decisions).toHaveLength(11);
    expect(new Set(outcome.decisions.map((d) => d.reviewer)).size).toBe(11);
    expect(accepted).toHaveLength(11);
    expect(refused).toHaveLength(9);
    for (const r of refused) expect(r.reason).toMatchObject({ code: 'EscalationEnded' });
  });

  it('re-notifies the group without an acknowledgement, then brings in the next tier, then exhausts', async () => {
    const escalationId = await waiting('perf-renotify');
    const outcome = await env.escalator.outcome(escalationId);
    expect(outcome).toMatchObject({ outcome: 'blocked', postmortem: true, depth: 3 });
    const events = outcome.timeline.map((e) => e.event);
    expect(events.filter((e) => e === 'renotified')).toHaveLength(2);
    expect(outcome.timeline.find((e) => e.event === 'handed-off')).toMatchObject({ to: { kind: 'tier', tier: 'seniors' }, depth: 3 });
    expect(outcome.timeline.find((e) => e.event === 'exhausted')).toMatchObject({ reason: 'no quorum, and no tier is left to escalate to' });
    await vi.waitFor(() => expect(mailsOf(escalationId)).toHaveLength(3 + 2 * 3 + 1));
    const subjects = mailsOf(escalationId).map((m) => m.mail.subject ?? '');
    expect(subjects.filter((s) => s.includes('reminder:'))).toHaveLength(6);
    expect(mailsOf(escalationId).at(-1)!.envelopeTo).toEqual(['lead@example.com']);
  });

  it('stops re-notifying once a reviewer acknowledges', async () => {
    const escalationId = await waiting('perf-renotify');
    const receipt = await env.escalator.acknowledge(escalationId, { reviewer: 'bob', channel: 'client' });
    expect(receipt).toMatchObject({ accepted: true, status: 'waiting' });
    expect((await env.escalator.status(escalationId)).acknowledgedBy).toEqual(['bob']);
    await env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', channel: 'client' });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const state = await env.escalator.status(escalationId);
    expect(state.timeline.filter((e) => e.event === 'renotified')).toHaveLength(0);
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'done' });
  });

  it('lets a break-glass holder override at once, flags it and asks the security tier to review', async () => {
    const escalationId = await waiting('performance');
    const refused = await refusalOf(env.escalator.breakGlass(escalationId, { by: 'alice', justification: 'prod is down', channel: 'client' }));
    expect(refused.code).toBe('NotBreakGlassHolder');
    const author = await refusalOf(env.escalator.breakGlass(escalationId, { by: 'mallory', justification: 'my own fix', channel: 'client' }));
    expect(author.code).toBe('AuthorCannotApprove');

    const view = await env.escalator.breakGlass(escalationId, { by: 'sam', justification: 'checkout is down, hotfix must ship', channel: 'http' });
    expect(view.outcome).toMatchObject({ outcome: 'overridden', postmortem: true, reason: 'break-glass by sam: checkout is down, hotfix must ship' });
    expect((await env.escalator.status(escalationId)).timeline.find((e) => e.event === 'break-glass')).toMatchObject({ by: 'sam', justification: 'checkout is down, hotfix must ship', channel: 'http' });
    const [review] = await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId && m.envelopeTo.includes('sec@example.com'));
    expect(review!.mail.subject).toContain('break-glass override to review');
    expect(review!.mail.text).toContain('sam broke the glass');
    await env.escalator.outcome(escalationId);
    expect(await env.store.escalation(escalationId)).toMatchObject({ outcome: 'overridden', postmortem: true });
    expect((await env.store.decisions(escalationId)).map((d) => [d.reviewer, d.decision])).toEqual([['sam', 'override']]);
  });

  it('refuses an override vote where the gate has no override quorum', async () => {
    const escalationId = await waiting('perf-renotify');
    const refusal = await refusalOf(env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'override', channel: 'client' }));
    expect(refusal.code).toBe('OverrideNotAllowed');
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'done' });
  });

  it('chooses the model by rule: a rollback runs parallel with quorum 1, and says which rule chose it', async () => {
    const escalationId = await waiting('release', { rollback: true, severity: 'low' });
    const state = await env.escalator.status(escalationId);
    expect(state).toMatchObject({ model: 'parallel', selectedBy: 'rule rollbacks-fast (rollback: true)', awaitedReviewers: ['alice', 'bob'] });
    expect(Date.parse(state.deadline!) - Date.now()).toBeLessThanOrEqual(5 * 60_000);
    const view = await env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', channel: 'client' });
    expect(view.outcome?.outcome).toBe('passed');
  });

  it('escalates critical failures in parallel and low ones to a single assignee', async () => {
    const critical = await waiting('release', { severity: 'critical' });
    expect(await env.escalator.status(critical)).toMatchObject({ model: 'parallel', selectedBy: 'rule urgent-in-parallel (gate: release, severity: critical|high)' });
    const low = await waiting('release', { severity: 'low' });
    expect(await env.escalator.status(low)).toMatchObject({ model: 'sequential', selectedBy: "gate release's own model", awaitedReviewers: ['alice'] });
    await env.escalator.withdraw(critical, { by: 'ci', reason: 'done' });
    await env.escalator.withdraw(low, { by: 'ci', reason: 'done' });
  });
});

describe('quiet hours', () => {
  let env: EscalatorEnv;

  beforeAll(async () => {
    env = await startEscalator(parallelPolicy({ quietAllDay: true }));
  });
  afterAll(async () => env?.close());

  it('notifies only the primary on-call, and records who was held back', async () => {
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'performance', kind: 'performance' } }));
    const [mail] = await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId);
    expect(mail!.envelopeTo).toEqual(['ann@example.com']);
    const state = await env.escalator.status(escalationId);
    expect(state.timeline.find((e) => e.event === 'quiet-hours')).toMatchObject({ notified: ['oncall-ann'], held: ['alice', 'bob', 'carol'] });
    // The one paged may act: the on-call's vote counts with the group's.
    expect(state.awaitedReviewers).toEqual(['alice', 'bob', 'carol', 'oncall-ann']);
    const voted = await env.escalator.decide(escalationId, { reviewer: 'oncall-ann', decision: 'approve', channel: 'client' });
    expect(voted.votes?.approve).toBe(1);
    expect(voted.awaitedReviewers).toEqual(['alice', 'bob', 'carol']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(env.smtp.received.filter((m) => m.mail.headers.get('x-escalation-id') === escalationId)).toHaveLength(1);
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'done' });
  });
});

describe('quiet hours ending', () => {
  let env: EscalatorEnv;
  let quietEnds: number;

  beforeAll(async () => {
    // Quiet hours on the policy's clock (Europe/Berlin) from a minute ago to the next minute at least
    // 30 s away, so that starting the worker on loaded cores cannot reach their end before the failure
    // is raised: the test waits at most about a minute and a half for them to end.
    const now = Date.now();
    quietEnds = Math.ceil((now + 30_000) / 60_000) * 60_000;
    const clock = (t: number) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(t);
    env = await startEscalator(parallelPolicy({ quiet: { from: clock(now - 60_000), to: clock(quietEnds) } }));
  });
  afterAll(async () => env?.close());

  it('emails the reviewers held back once quiet hours end, if they are still awaited', async () => {
    expect(Date.now(), 'raised while quiet hours still hold').toBeLessThan(quietEnds - 5_000);
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'performance', kind: 'performance' } }));
    const [first] = await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId);
    expect(first!.envelopeTo).toEqual(['ann@example.com']);
    await env.escalator.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' });
    const later = await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId, 3, 120_000);
    expect(Date.now()).toBeGreaterThanOrEqual(quietEnds);
    // carol voted during quiet hours, so only alice and bob are still awaited and emailed.
    expect(later.slice(1).flatMap((m) => m.envelopeTo).sort()).toEqual(['alice@example.com', 'bob@example.com']);
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'done' });
  }, 150_000);
});
