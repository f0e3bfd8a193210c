import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecisionRefusedError } from '../client/errors.js';
import type { DecisionRequest } from '../domain/escalation.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { recordedEvents, settle } from './helpers/settled.js';
import { gateFailure } from './helpers/gate-failure.js';
import { sequentialPolicy } from './helpers/policies.js';

describe('decision validation', () => {
  let env: EscalatorEnv;

  beforeAll(async () => {
    env = await startEscalator(sequentialPolicy({ requireComment: 'on-reject' }));
  });
  afterAll(async () => env?.close());

  async function waitingEscalation(overrides: Parameters<typeof gateFailure>[0] = {}): Promise<string> {
    const { escalationId } = await env.escalator.raise(gateFailure(overrides));
    // Everyone awaited notified, and no history event still on its way.
    await settle(env.escalator, escalationId, (state) => state.status === 'waiting' && state.timeline.filter((e) => e.event === 'notified').length === state.awaitedReviewers.length);
    return escalationId;
  }


  async function expectRefusedWithoutTrace(escalationId: string, request: DecisionRequest, code: string, message: RegExp): Promise<void> {
    const before = await recordedEvents(env.escalator, escalationId);
    const refusal = await env.escalator.decide(escalationId, request).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(DecisionRefusedError);
    expect((refusal as DecisionRefusedError).code).toBe(code);
    expect((refusal as DecisionRefusedError).message).toMatch(message);
    expect(await recordedEvents(env.escalator, escalationId)).toBe(before);
    const history = await env.escalator.handle(escalationId).fetchHistory();
    expect(history.events?.some((e) => e.workflowExecutionUpdateAcceptedEventAttributes || e.workflowExecutionUpdateCompletedEventAttributes)).toBe(false);
    expect((await env.escalator.status(escalationId)).decisions).toEqual([]);
  }

  it('refuses a decision from a reviewer the escalation is not waiting on, leaving no event in history', async () => {
    const escalationId = await waitingEscalation();
    await expectRefusedWithoutTrace(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' }, 'NotAwaitedReviewer', /carol is not a reviewer this escalation is waiting on \(waiting on: alice\)/);
  });

  it('refuses the change author approving their own change, recognised by a version-control handle', async () => {
    const escalationId = await waitingEscalation({ gate: { name: 'self-review', kind: 'review' }, change: { ...gateFailure().change, author: 'Mallory-GH' } });
    await expectRefusedWithoutTrace(escalationId, { reviewer: 'mallory', decision: 'approve', channel: 'client' }, 'AuthorCannotApprove', /mallory is the author of the change/);
    // The other reviewer of the same step still can.
    const view = await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
    expect(view.status).toBe('ended');
    expect(view.outcome?.outcome).toBe('passed');
  });

  it('refuses a rejection without the comment the policy requires', async () => {
    const escalationId = await waitingEscalation();
    await expectRefusedWithoutTrace(escalationId, { reviewer: 'alice', decision: 'reject', channel: 'client' }, 'CommentRequired', /requires a comment to reject/);
  });

  it('refuses a decision after the escalation ended, with the reason', async () => {
    const escalationId = await waitingEscalation();
    await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'reject', comment: 'no', channel: 'client' });
    await env.escalator.outcome(escalationId);
    const refusal = await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(DecisionRefusedError);
    expect(refusal).toMatchObject({ code: 'EscalationEnded', message: 'the escalation has ended; decisions are no longer accepted' });
  });

  it('counts the same decision sent twice with one update id once', async () => {
    const escalationId = await waitingEscalation();
    const request: DecisionRequest = { reviewer: 'alice', decision: 'approve', channel: 'client' };
    const [first, second] = await Promise.all([
      env.escalator.decide(escalationId, request, { updateId: 'alice-approves-once' }),
      env.escalator.decide(escalationId, request, { updateId: 'alice-approves-once' }),
    ]);
    const again = await env.escalator.decide(escalationId, request, { updateId: 'alice-approves-once' });
    expect(second).toEqual(first);
    expect(again).toEqual(first);
    const state = await env.escalator.status(escalationId);
    expect(state.decisions).toHaveLength(1);
    expect(state.awaitedReviewers).toEqual(['carol']);
    const history = await env.escalator.handle(escalationId).fetchHistory();
    const accepted = history.events?.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes) ?? [];
    expect(accepted).toHaveLength(1);
  });

  it('attaches a re-delivered gate failure to the escalation its idempotency key started', async () => {
    const failure = gateFailure();
    const first = await env.escalator.raise(failure);
    const again = await env.escalator.raise(failure);
    expect(first.started).toBe(true);
    expect(again).toEqual({ escalationId: first.escalationId, started: false });
    await env.escalator.withdraw(first.escalationId, { by: 'ci', reason: 'test done' });
    await env.escalator.outcome(first.escalationId);
    expect(await env.escalator.raise(failure)).toEqual({ escalationId: first.escalationId, started: false });
  });

  it('answers the state query with model, step, awaited reviewers, deadline, depth and every decision', async () => {
    const escalationId = await waitingEscalation();
    await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', comment: 'looks fine', channel: 'http' });
    const state = await env.escalator.status(escalationId);
    expect(state).toMatchObject({ model: 'sequential', status: 'waiting', step: 1, stepCount: 3, stage: { kind: 'primary' }, awaitedReviewers: ['carol'], depth: 0, maxDepth: 3 });
    expect(Date.parse(state.deadline!)).toBeGreaterThan(Date.now() + 9 * 60_000);
    expect(state.policyVersion).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(state.decisions).toEqual([expect.objectContaining({ reviewer: 'alice', decision: 'approve', comment: 'looks fine', channel: 'http', step: 0, at: expect.any(String) })]);
  });

  it('keeps a running escalation on the policy it started with when the file is edited', async () => {
    const escalationId = await waitingEscalation();
    const { writeFile } = await import('node:fs/promises');
    const original = sequentialPolicy({ requireComment: 'on-reject' });
    await writeFile(env.policyFile, original.replace('reviewers: [carol]', 'reviewers: [bob]'));
    try {
      await env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' });
      expect((await env.escalator.status(escalationId)).awaitedReviewers).toEqual(['carol']);
      const fresh = await waitingEscalation();
      await env.escalator.decide(fresh, { reviewer: 'alice', decision: 'approve', channel: 'client' });
      expect((await env.escalator.status(fresh)).awaitedReviewers).toEqual(['bob']);
    } finally {
      await writeFile(env.policyFile, original);
    }
  });
});
