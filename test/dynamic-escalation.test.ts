import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { DecisionRefusedError } from '../client/errors.js';
import type { EscalationView, RoutingScore, TimelineEntry } from '../domain/escalation.js';
import { basketChange, dynamicPolicy, recordHistory } from './helpers/dynamic-policy.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { recordedEvents, settle } from './helpers/settled.js';
import { gateFailure } from './helpers/gate-failure.js';
import { createDatabase } from './helpers/postgres-database.js';

/** A failure of one of `dynamicPolicy`'s gates; by default bob owns the one changed file. */
function failureOf(gate: string, change: Partial<ReturnType<typeof gateFailure>['change']> = {}) {
  const failure = gateFailure({ gate: { name: gate, kind: 'tests' } });
  return { ...failure, change: { ...failure.change, ...change } };
}

const factor = (value: number, weight: number, why: string) => ({ value, weight, why });

/** True once the reviewer's email for their latest assignment went out (its `notified` entry is in the timeline). */
function notifiedSinceAsked(timeline: TimelineEntry[], reviewer: string): boolean {
  for (let i = timeline.length - 1; i >= 0; i--) {
    const entry = timeline[i]!;
    if (entry.event === 'notified' && entry.reviewer === reviewer) return true;
    if ((entry.event === 'assigned' && entry.reviewers.includes(reviewer)) || (entry.event === 'reassigned' && entry.to === reviewer)) return false;
  }
  return false;
}

describe('dynamic escalation on a real Temporal server', () => {
  // A fresh worker and outcome store per test: routing reads history and load from the store.
  let env: EscalatorEnv;

  beforeEach(async () => {
    env = await startEscalator(dynamicPolicy({ fastTimeout: '1s' }));
  });
  afterEach(async () => env?.close());

  /** Waits until the escalation awaits exactly `reviewers` and each of them has been emailed, so no event is on its way. */
  async function waitingOn(escalationId: string, reviewers: string[]): Promise<EscalationView> {
    return vi.waitFor(
      async () => {
        const state = await env.escalator.status(escalationId);
        expect(state.status).toBe('waiting');
        expect(state.awaitedReviewers).toEqual(reviewers);
        for (const reviewer of reviewers) expect(notifiedSinceAsked(state.timeline, reviewer), `${reviewer} notified`).toBe(true);
        return state;
      },
      { timeout: 20_000, interval: 50 },
    );
  }

  function mailedTo(escalationId: string): string[] {
    return env.smtp.received.filter((m) => m.mail.headers.get('x-escalation-id') === escalationId).flatMap((m) => m.envelopeTo);
  }


  async function expectRefused(attempt: Promise<unknown>, code: string, message: RegExp): Promise<void> {
    const refusal = await attempt.then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(DecisionRefusedError);
    expect((refusal as DecisionRefusedError).code).toBe(code);
    expect((refusal as DecisionRefusedError).message).toMatch(message);
  }

  it('routes to the owner of most changed files and shows every candidate’s score and factors, also in the outcome store', async () => {
    await recordHistory(env.store, [
      { gate: 'owner-routing', service: 'checkout', reviewer: 'alice', respondedAfterMinutes: 20 },
      { gate: 'owner-routing', service: 'checkout', reviewer: 'alice', respondedAfterMinutes: 40 },
      { gate: 'owner-routing', service: 'checkout', reviewer: 'bob', respondedAfterMinutes: 90 },
    ]);
    const { escalationId } = await env.escalator.raise(failureOf('owner-routing', { changedFiles: basketChange }));

    const state = await waitingOn(escalationId, ['bob']);
    // alice answers fastest and is always working, but bob owns two thirds of the change.
    const scores: RoutingScore[] = [
      {
        person: 'alice',
        score: 3.5,
        factors: {
          codeowners: factor(0, 3, 'owns none of the changed files'),
          workingHours: factor(1, 2, 'within working hours'),
          responseHistory: factor(0.5, 1, 'median response 30 min'),
          load: factor(1, 1, '0 escalation(s) awaiting them now'),
        },
      },
      {
        person: 'bob',
        score: 4.25,
        factors: {
          codeowners: factor(2 / 3, 3, 'owns 67% of the changed files'),
          workingHours: factor(0.5, 2, 'no working hours in the policy'),
          responseHistory: factor(0.25, 1, 'median response 90 min'),
          load: factor(1, 1, '0 escalation(s) awaiting them now'),
        },
      },
      {
        person: 'carol',
        score: 3.5,
        factors: {
          codeowners: factor(1 / 3, 3, 'owns 33% of the changed files'),
          workingHours: factor(0.5, 2, 'no working hours in the policy'),
          responseHistory: factor(0.5, 1, 'no response history'),
          load: factor(1, 1, '0 escalation(s) awaiting them now'),
        },
      },
    ];
    const routed = { chosen: ['bob'], scores, coldStart: false, reason: 'highest score of 3 candidate(s)', model: 'hand-1' };
    expect(state).toMatchObject({ model: 'dynamic', routing: scores, depth: 0, step: 0, stepCount: 1 });
    expect(state.timeline.filter((e) => e.event === 'routed')).toEqual([{ at: expect.any(String), event: 'routed', ...routed }]);
    expect(mailedTo(escalationId)).toEqual(['bob@example.com']);

    await env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', channel: 'client' });
    const outcome = await env.escalator.outcome(escalationId);
    expect(outcome).toMatchObject({ outcome: 'passed', reason: 'approved by bob, chosen by routing', model: 'dynamic', depth: 0, postmortem: false });
    const stored = await env.store.timeline(escalationId);
    expect(stored.filter((e) => e.kind === 'routed')).toEqual([{ seq: 2, at: expect.any(String), kind: 'routed', actor: null, detail: routed }]);
  });

  it('runs the parallel cold-start model over every candidate while the gate has too little history, and one approval passes', async () => {
    await recordHistory(env.store, [
      { gate: 'owner-routing', service: 'checkout', reviewer: 'alice', respondedAfterMinutes: 20 },
      { gate: 'owner-routing', service: 'checkout', reviewer: 'alice', respondedAfterMinutes: 40 },
    ]);
    const { escalationId } = await env.escalator.raise(failureOf('owner-routing', { changedFiles: basketChange }));

    const state = await waitingOn(escalationId, ['alice', 'bob', 'carol']);
    const [routed] = state.timeline.filter((e) => e.event === 'routed');
    expect(routed).toMatchObject({ chosen: [], coldStart: true, reason: 'cold start: gate owner-routing has 2 ended escalation(s), fewer than 3; running parallel' });
    // The scores are still shown; the best of them is named primary.
    expect(state.routing?.map((s) => [s.person, s.score])).toEqual([
      ['alice', 3.5],
      ['bob', 4.5],
      ['carol', 3.5],
    ]);
    expect(state).toMatchObject({ primary: 'bob', votes: { approve: 0, reject: 0, override: 0, quorum: { approve: 1, override: null, reject: 1 } }, depth: 0 });
    expect(mailedTo(escalationId).sort()).toEqual(['alice@example.com', 'bob@example.com', 'carol@example.com']);

    await env.escalator.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' });
    const outcome = await env.escalator.outcome(escalationId);
    expect(outcome).toMatchObject({ outcome: 'passed', reason: 'approval quorum reached: 1 of 1', depth: 0 });
    expect(outcome.decisions.map((d) => [d.reviewer, d.decision])).toEqual([['carol', 'approve']]);
  });

  it('runs the sequential cold-start model, best candidate first, while the service has too little history', async () => {
    // Enough for the gate, but recorded for another service.
    await recordHistory(
      env.store,
      [20, 30, 40].map((minutes) => ({ gate: 'cold-sequential', service: 'payments', reviewer: 'erin', respondedAfterMinutes: minutes })),
    );
    const { escalationId } = await env.escalator.raise(failureOf('cold-sequential', { changedFiles: basketChange }));

    const state = await waitingOn(escalationId, ['bob']);
    const [routed] = state.timeline.filter((e) => e.event === 'routed');
    expect(routed).toMatchObject({ chosen: [], coldStart: true, reason: 'cold start: service checkout has 0 ended escalation(s), fewer than 3; running sequential' });
    expect(state).toMatchObject({ model: 'dynamic', step: 0, stage: { kind: 'primary' }, primary: null, votes: null, depth: 0 });
    expect(Date.parse(state.deadline!)).toBeGreaterThan(Date.now() + 9 * 60_000);
    expect(mailedTo(escalationId)).toEqual(['bob@example.com']);

    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'test done' });
    expect(await env.escalator.outcome(escalationId)).toMatchObject({ outcome: 'withdrawn' });
  });

  it('falls back to the gate’s sequential chain when the routed reviewer does not decide in time, as one hand-off', async () => {
    const { escalationId } = await env.escalator.raise(failureOf('routed-timeout'));
    await env.smtp.waitFor((m) => m.envelopeTo.includes('erin@example.com') && m.mail.headers.get('x-escalation-id') === escalationId);

    const state = await waitingOn(escalationId, ['erin']);
    expect(state).toMatchObject({ status: 'waiting', depth: 1, step: 0, stepCount: 1, stage: { kind: 'primary' } });
    const moves = state.timeline.filter((e) => ['routed', 'assigned', 'timed-out', 'fallback'].includes(e.event));
    expect(moves.map((e) => e.event)).toEqual(['routed', 'assigned', 'timed-out', 'fallback', 'assigned']);
    expect(moves[1]).toMatchObject({ reviewers: ['bob'], depth: 0 });
    expect(moves[2]).toMatchObject({ reviewers: ['bob'] });
    expect(moves[3]).toEqual({ at: expect.any(String), event: 'fallback', from: 'dynamic', to: 'sequential', reason: 'no decision from bob within the routing threshold', depth: 1 });
    expect(moves[4]).toMatchObject({ step: 0, stage: { kind: 'primary' }, reviewers: ['erin'], depth: 1 });
    expect(mailedTo(escalationId)).toEqual(['bob@example.com', 'erin@example.com']);

    await expectRefused(env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', channel: 'client' }), 'NotAwaitedReviewer', /\(waiting on: erin\)/);
    await env.escalator.decide(escalationId, { reviewer: 'erin', decision: 'approve', channel: 'client' });
    const outcome = await env.escalator.outcome(escalationId);
    expect(outcome).toMatchObject({ outcome: 'passed', reason: 'approved at all 1 steps', depth: 1, postmortem: false });
    expect(outcome.decisions.map((d) => [d.reviewer, d.decision, d.step])).toEqual([['erin', 'approve', 0]]);
    expect((await env.store.escalation(escalationId))?.depth).toBe(1);
  });

  it('without a chain of its own, falls back to the next-best candidate with the one after as backup, then the tiers', async () => {
    const { escalationId } = await env.escalator.raise(failureOf('default-fallback'));
    const outcome = await env.escalator.outcome(escalationId);

    expect(outcome).toMatchObject({ outcome: 'blocked', reason: 'blocked after the escalation was exhausted: no backup or tier is left to hand the step to', postmortem: true, depth: 3 });
    const moves = outcome.timeline.flatMap((e): unknown[][] => {
      if (e.event === 'assigned') return [[e.event, e.step, e.stage.kind, e.reviewers, e.depth]];
      if (e.event === 'timed-out') return [[e.event, e.reviewers]];
      if (e.event === 'fallback' || e.event === 'handed-off' || e.event === 'exhausted') return [[e.event, e.depth]];
      return [];
    });
    // Routing order: bob owns the change, then alice and carol in policy order.
    expect(moves).toEqual([
      ['assigned', 0, 'primary', ['bob'], 0],
      ['timed-out', ['bob']],
      ['fallback', 1],
      ['assigned', 0, 'primary', ['alice'], 1],
      ['timed-out', ['alice']],
      ['handed-off', 2],
      ['assigned', 0, 'backup', ['carol'], 2],
      ['timed-out', ['carol']],
      ['handed-off', 3],
      ['assigned', 0, 'tier', ['lead'], 3],
      ['timed-out', ['lead']],
      ['exhausted', 3],
    ]);
    expect((await env.escalator.status(escalationId)).stepCount).toBe(1);
    await env.smtp.waitFor((m) => m.mail.headers.get('x-escalation-id') === escalationId, 4);
    expect(mailedTo(escalationId)).toEqual(['bob@example.com', 'alice@example.com', 'carol@example.com', 'lead@example.com']);
  });

  it('lets the awaited reviewer reassign to another person, who is emailed and decides, counting one hand-off', async () => {
    const { escalationId } = await env.escalator.raise(failureOf('routed'));
    await waitingOn(escalationId, ['bob']);

    const view = await env.escalator.reassign(escalationId, { by: 'bob', to: 'carol', reason: 'on leave from today', channel: 'client' });
    expect(view).toMatchObject({ status: 'waiting', awaitedReviewers: ['carol'], depth: 1 });
    expect((await env.escalator.status(escalationId)).timeline.filter((e) => e.event === 'reassigned')).toEqual([
      { at: expect.any(String), event: 'reassigned', by: 'bob', from: ['bob'], to: 'carol', reason: 'on leave from today', depth: 1 },
    ]);
    await waitingOn(escalationId, ['carol']);
    expect(mailedTo(escalationId)).toEqual(['bob@example.com', 'carol@example.com']);

    await expectRefused(
      env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', channel: 'client' }),
      'NotAwaitedReviewer',
      /^bob is not a reviewer this escalation is waiting on \(waiting on: carol\)$/,
    );
    await env.escalator.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' });
    const outcome = await env.escalator.outcome(escalationId);
    expect(outcome).toMatchObject({ outcome: 'passed', reason: 'approved by carol, chosen by routing', depth: 1 });

    const reassignedAt = outcome.timeline.find((e) => e.event === 'reassigned')!.at;
    const decisions = await env.store.decisions(escalationId);
    expect(decisions.map((d) => [d.reviewer, d.decision, d.askedAt])).toEqual([['carol', 'approve', new Date(reassignedAt).toISOString()]]);
    expect((await env.store.timeline(escalationId)).map((e) => e.kind)).toContain('reassigned');
  });

  it('refuses a reassignment by someone neither awaited nor a tier lead, to an unknown person or to the author, leaving no trace in history', async () => {
    const { escalationId } = await env.escalator.raise(failureOf('routed'));
    await waitingOn(escalationId, ['bob']);
    await settle(env.escalator, escalationId, (view) => view.timeline.some((e) => e.event === 'notified' && e.reviewer === 'bob'));
    const before = await recordedEvents(env.escalator, escalationId);

    await expectRefused(
      env.escalator.reassign(escalationId, { by: 'erin', to: 'carol', reason: 'I know this code', channel: 'client' }),
      'ReassignNotAllowed',
      /^erin is neither awaited nor a tier lead of this escalation$/,
    );
    await expectRefused(env.escalator.reassign(escalationId, { by: 'bob', to: 'zed', reason: 'zed knows', channel: 'client' }), 'UnknownPerson', /^zed is not a person in the policy$/);
    await expectRefused(env.escalator.reassign(escalationId, { by: 'bob', to: 'mallory', reason: 'ask the author', channel: 'client' }), 'ReassignNotAllowed', /^mallory is the author of the change$/);

    expect(await recordedEvents(env.escalator, escalationId)).toBe(before);
    const history = await env.escalator.handle(escalationId).fetchHistory();
    expect(history.events?.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateCompletedEventAttributes)).toBe(false);
    const state = await env.escalator.status(escalationId);
    expect(state).toMatchObject({ awaitedReviewers: ['bob'], depth: 0 });
    expect(state.timeline.some((e) => e.event === 'reassigned')).toBe(false);
    expect(mailedTo(escalationId)).toEqual(['bob@example.com']);
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'test done' });
  });

  it('lets a tier lead who is not awaited reassign the escalation', async () => {
    const { escalationId } = await env.escalator.raise(failureOf('routed'));
    await waitingOn(escalationId, ['bob']);

    const view = await env.escalator.reassign(escalationId, { by: 'lead', to: 'erin', reason: 'bob is in an incident', channel: 'client' });
    expect(view).toMatchObject({ awaitedReviewers: ['erin'], depth: 1 });
    expect((await env.escalator.status(escalationId)).timeline.filter((e) => e.event === 'reassigned')).toEqual([
      { at: expect.any(String), event: 'reassigned', by: 'lead', from: ['bob'], to: 'erin', reason: 'bob is in an incident', depth: 1 },
    ]);
    await waitingOn(escalationId, ['erin']);
    expect(mailedTo(escalationId)).toEqual(['bob@example.com', 'erin@example.com']);

    await env.escalator.decide(escalationId, { reviewer: 'erin', decision: 'approve', channel: 'client' });
    expect(await env.escalator.outcome(escalationId)).toMatchObject({ outcome: 'passed', reason: 'approved by erin, chosen by routing', depth: 1 });
  });

  it('exhausts the escalation when a reassignment would go beyond the maximum depth', async () => {
    const { escalationId } = await env.escalator.raise(failureOf('routed'));
    await waitingOn(escalationId, ['bob']);
    await env.escalator.reassign(escalationId, { by: 'bob', to: 'carol', reason: 'not mine', channel: 'client' });
    await env.escalator.reassign(escalationId, { by: 'carol', to: 'erin', reason: 'not mine either', channel: 'client' });

    const view = await env.escalator.reassign(escalationId, { by: 'erin', to: 'alice', reason: 'nor mine', channel: 'client' });
    expect(view).toMatchObject({ status: 'ended', depth: 2 });
    const outcome = await env.escalator.outcome(escalationId);
    expect(outcome).toMatchObject({ outcome: 'blocked', reason: 'blocked after the escalation was exhausted: maximum escalation depth 2 reached by a reassignment', postmortem: true, depth: 2 });
    expect(outcome.timeline.filter((e) => e.event === 'reassigned').map((e) => (e.event === 'reassigned' ? [e.by, e.to, e.depth] : null))).toEqual([
      ['bob', 'carol', 1],
      ['carol', 'erin', 2],
    ]);
    expect(mailedTo(escalationId)).not.toContain('alice@example.com');
  });

  it('never routes to the change’s author, even when they own the changed files', async () => {
    const { escalationId } = await env.escalator.raise(failureOf('authored', { author: 'Mallory-GH' }));

    const state = await waitingOn(escalationId, ['alice']);
    const load = factor(1, 1, '0 escalation(s) awaiting them now');
    expect(state.routing).toEqual([
      { person: 'mallory', score: 4, factors: { codeowners: factor(1, 3, 'owns 100% of the changed files'), load } },
      { person: 'alice', score: 1, factors: { codeowners: factor(0, 3, 'owns none of the changed files'), load } },
      { person: 'bob', score: 1, factors: { codeowners: factor(0, 3, 'owns none of the changed files'), load } },
    ]);
    expect(state.timeline.find((e) => e.event === 'routed')).toMatchObject({ chosen: ['alice'], coldStart: false });
    expect(mailedTo(escalationId)).toEqual(['alice@example.com']);
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'test done' });
  });

  it('never hands the fallback to the change’s author, not even as the backup', async () => {
    const { escalationId } = await env.escalator.raise(failureOf('authored-timeout'));
    const outcome = await env.escalator.outcome(escalationId);

    const fallbackAt = outcome.timeline.findIndex((e) => e.event === 'fallback');
    expect(outcome.timeline[fallbackAt]).toMatchObject({ reason: 'no decision from alice within the routing threshold', depth: 1 });
    expect(outcome.timeline.slice(fallbackAt).find((e) => e.event === 'assigned')).toMatchObject({ stage: { kind: 'primary' }, reviewers: ['bob'] });
    // Nobody is left who may approve: the escalation blocks rather than ask mallory about her own change.
    expect(outcome).toMatchObject({ outcome: 'blocked', postmortem: true });
    const asked = outcome.timeline.flatMap((e) => (e.event === 'assigned' ? e.reviewers : []));
    expect(asked).not.toContain('mallory');
    expect(mailedTo(escalationId)).not.toContain('mallory@example.com');
  });
});

describe('dynamic escalation with the outcome store on PostgreSQL', () => {
  it('keeps the escalation row, the routed timeline and the decision with its response time', async () => {
    const databaseUrl = await createDatabase(inject('postgresUrl'));
    const env = await startEscalator(dynamicPolicy(), { databaseUrl });
    try {
      expect(env.store.engine).toBe('postgres');
      const failure = failureOf('routed');
      const { escalationId } = await env.escalator.raise(failure);
      await vi.waitFor(async () => expect(await env.store.currentLoad(['alice', 'bob', 'carol'])).toEqual({ alice: 0, bob: 1, carol: 0 }), { timeout: 20_000, interval: 50 });
      expect(await env.store.escalation(escalationId)).toMatchObject({ gate: 'routed', model: 'dynamic', endedAt: null, outcome: null });
      await vi.waitFor(async () => expect((await env.escalator.status(escalationId)).timeline.some((e) => e.event === 'notified')).toBe(true), { timeout: 20_000, interval: 50 });

      await env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'approve', comment: 'owner approves', channel: 'client' });
      const outcome = await env.escalator.outcome(escalationId);

      expect(await env.store.escalation(escalationId)).toEqual({
        escalationId,
        gate: 'routed',
        service: 'checkout',
        repository: 'acme/checkout',
        severity: 'high',
        model: 'dynamic',
        policyVersion: outcome.policyVersion,
        startedAt: outcome.startedAt,
        endedAt: outcome.endedAt,
        outcome: 'passed',
        reason: 'approved by bob, chosen by routing',
        depth: 0,
        postmortem: false,
      });
      expect(outcome.policyVersion).toMatch(/^sha256:[0-9a-f]{64}$/);
      const timeline = await env.store.timeline(escalationId);
      expect(timeline.map((e) => e.kind)).toEqual(['raised', 'policy-snapshot', 'routed', 'assigned', 'notified', 'decided', 'ended']);
      expect(timeline[2]!.detail).toMatchObject({ chosen: ['bob'], coldStart: false, reason: 'highest score of 3 candidate(s)', model: 'hand-1' });
      // Routing kept every candidate's factor values; with bob's decision they are an example retraining learns from.
      const examples = await env.store.routingExamples({ from: outcome.startedAt, to: new Date(Date.parse(outcome.endedAt) + 1).toISOString() });
      expect(examples.filter((e) => e.escalationId === escalationId)).toEqual([
        { escalationId, candidates: expect.arrayContaining([expect.objectContaining({ person: 'bob' })]), positives: ['bob'], reassigned: false },
      ]);
      const assignedAt = outcome.timeline.find((e) => e.event === 'assigned')!.at;
      const decidedAt = outcome.decisions[0]!.at;
      expect(await env.store.decisions(escalationId)).toEqual([
        {
          seq: 5,
          reviewer: 'bob',
          decision: 'approve',
          channel: 'client',
          comment: 'owner approves',
          step: 0,
          askedAt: assignedAt,
          decidedAt,
          responseMs: Date.parse(decidedAt) - Date.parse(assignedAt),
        },
      ]);
      expect(await env.store.currentLoad(['bob'])).toEqual({ bob: 0 });
      expect(await env.store.historySize({ gate: 'routed', service: 'checkout' })).toBe(1);
    } finally {
      await env.close();
    }
  });
});
