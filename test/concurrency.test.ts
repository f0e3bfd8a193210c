import type { WorkflowHandle } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DecisionRefusedError } from '../client/errors.js';
import type { Receipt } from '../domain/engine/view.js';
import type { DecisionKind, EscalationOutcome, EscalationView } from '../domain/escalation.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';
import { voters } from './helpers/parallel-policy.js';

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

const crowd = voters(100);

/**
 * One gate per race. `crowd-vote`: 100 people, 51 approvals pass; only 30 of them reject in the
 * test, so the rejection quorum of 31 can never block and the approvals alone decide the end.
 */
function racePolicy(): string {
  return `
version: 1
defaults: { maxDepth: 3, requireComment: never }
people:
  alice: { email: alice@example.com }
  bob:   { email: bob@example.com }
  carol: { email: carol@example.com }
  lead:  { email: lead@example.com }
${crowd.map((id) => `  ${id}: { email: ${id}@example.com }`).join('\n')}
tiers:
  team-leads: { reviewers: [lead], timeout: 10m }
gates:
  crowd-vote:
    model: parallel
    reviewers: [${crowd.join(', ')}]
    quorum: { approve: 51, reject: 31 }
    decideWithin: 10m
  split-vote:
    model: parallel
    reviewers: [alice, bob]
    quorum: { approve: 1, reject: 1 }
    decideWithin: 10m
  pair-step:
    model: sequential
    chain:
      - { reviewers: [alice, bob], timeout: 10m }
  trio-vote:
    model: parallel
    reviewers: [alice, bob, carol]
    quorum: { approve: 2 }
    decideWithin: 10m
  two-steps:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 10m }
      - { reviewers: [carol], timeout: 10m }
  deadline:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 2s }
    escalateTo: [team-leads]
`;
}

describe('decisions racing each other and the clock', () => {
  let env: EscalatorEnv;

  beforeAll(async () => {
    env = await startEscalator(racePolicy());
  });
  afterAll(async () => env?.close());

  /** Raised, waiting, and every notification recorded: no activity result is still on its way. */
  async function waitingAndNotified(gate: string, notified: number): Promise<string> {
    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: gate, kind: 'tests' } }));
    await vi.waitFor(
      async () => {
        const state = await env.escalator.status(escalationId);
        expect(state.status).toBe('waiting');
        expect(state.timeline.filter((e) => e.event === 'notified')).toHaveLength(notified);
      },
      { timeout: 30_000, interval: 100 },
    );
    return escalationId;
  }

  async function historyOf(escalationId: string): Promise<HistoryEvent[]> {
    return (await env.escalator.handle(escalationId).fetchHistory()).events ?? [];
  }

  const acceptedUpdateIds = (events: HistoryEvent[]) => events.flatMap((e) => (e.workflowExecutionUpdateAcceptedEventAttributes ? [e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest?.meta?.updateId] : []));
  const completedUpdates = (events: HistoryEvent[]) => events.flatMap((e) => (e.workflowExecutionUpdateCompletedEventAttributes ? [e.workflowExecutionUpdateCompletedEventAttributes] : []));

  /**
   * What a replay of the history must reproduce. The state of an ended escalation is answered by
   * replaying its history, and the SDK may date entries that follow a local activity differently
   * from the live run, or, after an eviction, log notifications among later entries: so times and
   * the position of `notified` entries are left out here, and compared exactly with the store below.
   */
  /**
   * What every view must agree on. Times are left out, of timeline entries and of decisions alike:
   * each is the workflow clock of the activation that handled it, and under load (100 votes at
   * once, other suites running) a replay can place a vote in a later workflow task than the one the
   * live run handled it in, some tens of milliseconds apart. Who decided what, in which order, at
   * which step and through which channel must agree.
   */
  function essentials(outcome: EscalationOutcome) {
    const entries = outcome.timeline.map(({ at: _at, ...entry }) => ({ ...entry, deadline: undefined }));
    return {
      kind: outcome.outcome,
      reason: outcome.reason,
      depth: outcome.depth,
      postmortem: outcome.postmortem,
      decisions: withoutTimes(outcome.decisions),
      entries: entries.filter((entry) => entry.event !== 'notified'),
      notified: entries.filter((entry) => entry.event === 'notified').map((entry) => JSON.stringify(entry)).sort(),
    };
  }

  /**
   * The one end every view agrees on: the workflow's result, its state query, its history (one
   * completion) and the worker's outcome store (same outcome, same decisions, same timeline).
   */
  async function expectOneConsistentEnd(escalationId: string): Promise<{ outcome: EscalationOutcome; state: EscalationView; history: HistoryEvent[] }> {
    const outcome = await env.escalator.outcome(escalationId);
    const state = await env.escalator.status(escalationId);
    const history = await historyOf(escalationId);
    expect(history.filter((e) => e.workflowExecutionCompletedEventAttributes)).toHaveLength(1);
    expect(history.filter((e) => e.workflowExecutionFailedEventAttributes || e.workflowExecutionTerminatedEventAttributes)).toHaveLength(0);
    expect(state.status).toBe('ended');
    expect(essentials(state.outcome!)).toEqual(essentials(outcome));
    expect(withoutTimes(state.decisions)).toEqual(withoutTimes(outcome.decisions));
    expect(essentials({ ...outcome, timeline: state.timeline })).toEqual(essentials(outcome));
    expect(outcome.timeline.filter((e) => e.event === 'ended')).toEqual([expect.objectContaining({ outcome: outcome.outcome, reason: outcome.reason })]);

    expect(await env.store.escalation(escalationId)).toMatchObject({ outcome: outcome.outcome, reason: outcome.reason, endedAt: new Date(outcome.endedAt).toISOString(), depth: outcome.depth });
    const stored = await env.store.decisions(escalationId);
    expect(stored.map((d) => [d.reviewer, d.decision, d.channel, d.step, d.decidedAt])).toEqual(outcome.decisions.map((d) => [d.reviewer, d.decision, d.channel, d.step, new Date(d.at).toISOString()]));
    expect((await env.store.timeline(escalationId)).map((e) => [e.kind, e.at])).toEqual(outcome.timeline.map((e) => [e.event, new Date(e.at).toISOString()]));
    return { outcome, state, history };
  }

  function withoutTimes(decisions: EscalationOutcome['decisions']) {
    return decisions.map(({ at: _at, ...decision }) => decision);
  }

  function refusalCode(result: PromiseSettledResult<unknown>): string {
    if (result.status === 'fulfilled') return 'accepted';
    if (result.reason instanceof DecisionRefusedError) return result.reason.code;
    const cause = (result.reason as { cause?: { type?: string; message?: string } }).cause;
    return `unexpected ${String(result.reason)}${cause ? ` (cause ${cause.type}: ${cause.message})` : ''}`;
  }

  it('counts 100 simultaneous votes once each, ends at the 51st approval and refuses every later vote as ended', async () => {
    const escalationId = await waitingAndNotified('crowd-vote', 100);
    // Seven of every ten approve, so rejections arrive throughout rather than after the quorum.
    const ballots = crowd.map((reviewer, i) => ({ reviewer, decision: (i % 10 < 7 ? 'approve' : 'reject') as DecisionKind, updateId: `${escalationId}:${reviewer}` }));
    const results = await Promise.allSettled(ballots.map(({ reviewer, decision, updateId }) => env.escalator.decide(escalationId, { reviewer, decision, channel: 'client' }, { updateId })));

    const answers = ballots.map((ballot, i) => ({ ...ballot, result: results[i]!, code: refusalCode(results[i]!) }));
    const accepted = answers.filter((a) => a.code === 'accepted');
    const refused = answers.filter((a) => a.code !== 'accepted');
    // Every vote is answered: counted, or refused because the quorum already ended the escalation.
    expect.soft(refused.filter((a) => a.code !== 'EscalationEnded').map((a) => `${a.reviewer}: ${a.code}`)).toEqual([]);
    expect(accepted.filter((a) => a.decision === 'approve')).toHaveLength(51);
    const rejections = accepted.filter((a) => a.decision === 'reject').length;

    const { outcome, state, history } = await expectOneConsistentEnd(escalationId);
    expect(outcome).toMatchObject({ outcome: 'passed', reason: 'approval quorum reached: 51 of 51' });
    expect(state.votes).toMatchObject({ approve: 51, reject: rejections, override: 0 });
    // Exactly the callers told "accepted" are counted, once each, and the 51st approval is the last vote.
    expect(outcome.decisions.map((d) => d.reviewer).sort()).toEqual(accepted.map((a) => a.reviewer).sort());
    expect(outcome.decisions.map((d) => d.decision)).toEqual(outcome.decisions.map((d) => accepted.find((a) => a.reviewer === d.reviewer)!.decision));
    expect(outcome.decisions.at(-1)!.decision).toBe('approve');
    // Each accepted caller's receipt shows the state right after its own vote: one distinct count per
    // caller, and only the caller whose vote reached the quorum saw the end.
    const receipts = accepted.map((a) => (a.result as PromiseFulfilledResult<Receipt>).value);
    expect(receipts.map((r) => r.votes!.approve + r.votes!.reject).sort((a, b) => a - b)).toEqual(accepted.map((_, i) => i + 1));
    expect(receipts.filter((r) => r.status === 'ended').map((r) => r.outcome)).toEqual([{ outcome: outcome.outcome, reason: outcome.reason, postmortem: outcome.postmortem }]);
    // Refused votes left no trace in history; each accepted one is one update, completed once.
    expect(acceptedUpdateIds(history).sort()).toEqual(accepted.map((a) => a.updateId).sort());
    expect(completedUpdates(history).filter((u) => u.outcome?.success)).toHaveLength(accepted.length);
    expect(completedUpdates(history)).toHaveLength(accepted.length);
    // The client keeps 8 of them in flight at the workflow and queues the rest (client/updates-in-flight.ts):
    // sent all at once they met the server's limit of 10 and took minutes; the figures above, not the
    // time, are what this test is about.
  }, 180_000);

  it('takes exactly one of an approval and a rejection sent at the same instant, ten times over', async () => {
    const gates = ['split-vote', 'pair-step', 'split-vote', 'pair-step', 'split-vote', 'pair-step', 'split-vote', 'pair-step', 'split-vote', 'pair-step'];
    const races = await Promise.all(
      gates.map(async (gate) => {
        const escalationId = await waitingAndNotified(gate, 2);
        const approveId = `${escalationId}:alice-approves`;
        const rejectId = `${escalationId}:bob-rejects`;
        const [approval, rejection] = await Promise.allSettled([
          env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' }, { updateId: approveId }),
          env.escalator.decide(escalationId, { reviewer: 'bob', decision: 'reject', channel: 'http' }, { updateId: rejectId }),
        ]);
        return { gate, escalationId, approveId, rejectId, approval: refusalCode(approval!), rejection: refusalCode(rejection!) };
      }),
    );

    for (const race of races) {
      const codes = [race.approval, race.rejection].sort();
      expect(codes, `${race.gate} ${race.escalationId}`).toEqual(['EscalationEnded', 'accepted']);
      const approved = race.approval === 'accepted';
      const { outcome, history } = await expectOneConsistentEnd(race.escalationId);
      expect(outcome.decisions.map((d) => [d.reviewer, d.decision])).toEqual([approved ? ['alice', 'approve'] : ['bob', 'reject']]);
      const reasons = {
        'split-vote': approved ? 'approval quorum reached: 1 of 1' : '1 of 1 rejection(s) needed to block',
        'pair-step': approved ? 'approved at all 1 steps' : 'rejected by bob at step 1',
      } as Record<string, string>;
      expect(outcome).toMatchObject({ outcome: approved ? 'passed' : 'blocked', reason: reasons[race.gate] });
      expect(acceptedUpdateIds(history)).toEqual([approved ? race.approveId : race.rejectId]);
    }
  });

  it('counts one decision sent twice at once with one update id, answers both callers alike, and refuses the same vote under another id', async () => {
    const escalationId = await waitingAndNotified('trio-vote', 3);
    const vote = { reviewer: 'alice', decision: 'approve', channel: 'client' } as const;
    const [first, second] = await Promise.all([env.escalator.decide(escalationId, vote, { updateId: 'alice-once' }), env.escalator.decide(escalationId, vote, { updateId: 'alice-once' })]);
    expect(second).toEqual(first);
    expect(first.votes).toMatchObject({ approve: 1, reject: 0 });
    expect((await env.escalator.status(escalationId)).decisions.map((d) => d.reviewer)).toEqual(['alice']);

    // Another id is another attempt: the one-vote rule refuses it, approve or reject alike.
    for (const decision of ['approve', 'reject'] as const) {
      const refusal = await env.escalator.decide(escalationId, { ...vote, decision }, { updateId: `alice-again-${decision}` }).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(DecisionRefusedError);
      expect(refusal).toMatchObject({ code: 'AlreadyVoted', message: 'alice has already voted; one vote per reviewer' });
    }
    expect((await env.escalator.status(escalationId)).votes).toMatchObject({ approve: 1, reject: 0 });
    expect(acceptedUpdateIds(await historyOf(escalationId))).toEqual(['alice-once']);

    const ending = await env.escalator.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' }, { updateId: 'carol-ends-it' });
    expect(ending.outcome).toMatchObject({ outcome: 'passed', reason: 'approval quorum reached: 2 of 2' });
    const { outcome, history } = await expectOneConsistentEnd(escalationId);
    expect(outcome.decisions.map((d) => d.reviewer)).toEqual(['alice', 'carol']);
    expect(acceptedUpdateIds(history)).toEqual(['alice-once', 'carol-ends-it']);
    expect(completedUpdates(history)).toHaveLength(2);
  });

  it('counts a step decision sent twice at once with one update id once, and refuses it under another id once the step moved on', async () => {
    const escalationId = await waitingAndNotified('two-steps', 1);
    const decision = { reviewer: 'alice', decision: 'approve', channel: 'client' } as const;
    const answers = await Promise.all(Array.from({ length: 5 }, () => env.escalator.decide(escalationId, decision, { updateId: 'alice-step-1' })));
    for (const answer of answers) expect(answer).toEqual(answers[0]);
    expect(answers[0]).toMatchObject({ status: 'waiting', step: 1, awaitedReviewers: ['carol'] });

    const refusal = await env.escalator.decide(escalationId, decision, { updateId: 'alice-step-1-again' }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(DecisionRefusedError);
    expect(refusal).toMatchObject({ code: 'AlreadyVoted', message: 'alice already decided step 1 of this escalation; one person decides at most one step' });
    expect(acceptedUpdateIds(await historyOf(escalationId))).toEqual(['alice-step-1']);

    await env.escalator.decide(escalationId, { reviewer: 'carol', decision: 'approve', channel: 'client' }, { updateId: 'carol-step-2' });
    const { outcome } = await expectOneConsistentEnd(escalationId);
    expect(outcome.decisions.map((d) => [d.reviewer, d.step])).toEqual([
      ['alice', 0],
      ['carol', 1],
    ]);
  });

  it('either takes a decision sent around the step deadline or times the step out and refuses it, never both and never neither', async () => {
    // Around the deadline, and beyond: the timer's workflow task runs a few hundred milliseconds after
    // the deadline, and a decision that reaches the workflow first still counts.
    // The first and the last are far enough from it to be certain even on a loaded machine.
    const offsets = [-1500, -100, -50, 0, 50, 100, 200, 300, 800, 4000];
    const races = await Promise.all(
      offsets.map(async (offsetMs) => {
        const escalationId = await waitingAndNotified('deadline', 1);
        const deadline = Date.parse((await env.escalator.status(escalationId)).deadline!);
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline + offsetMs - Date.now())));
        const sentAt = Date.now() - deadline;
        const updateId = `${escalationId}:alice-at-deadline`;
        const [result] = await Promise.allSettled([env.escalator.decide(escalationId, { reviewer: 'alice', decision: 'approve', channel: 'client' }, { updateId })]);
        return { escalationId, offsetMs, sentAt, updateId, code: refusalCode(result!) };
      }),
    );

    // A decision well before the deadline is taken, and one 4 s after it is refused: both ways out are taken.
    expect(races.find((race) => race.offsetMs === -1500)!.code).toBe('accepted');
    expect(races.find((race) => race.offsetMs === 4000)!.code).toBe('NotAwaitedReviewer');
    for (const race of races) {
      const label = `${race.escalationId} sent ${race.sentAt} ms after the deadline`;
      expect(['accepted', 'NotAwaitedReviewer'], label).toContain(race.code);
      if (race.code === 'accepted') {
        const { outcome, history } = await expectOneConsistentEnd(race.escalationId);
        expect(outcome, label).toMatchObject({ outcome: 'passed', depth: 0 });
        expect(outcome.decisions.map((d) => [d.reviewer, d.step, d.stage.kind])).toEqual([['alice', 0, 'primary']]);
        expect(outcome.timeline.filter((e) => e.event === 'timed-out' || e.event === 'handed-off'), label).toEqual([]);
        expect(acceptedUpdateIds(history)).toEqual([race.updateId]);
      } else {
        // The refusal is the timeout's doing: the step went to the next tier, and nothing of alice's counts.
        const state = await env.escalator.status(race.escalationId);
        expect(state, label).toMatchObject({ status: 'waiting', depth: 1, awaitedReviewers: ['lead'], stage: { kind: 'tier', tier: 'team-leads' }, decisions: [] });
        expect(state.timeline.filter((e) => e.event === 'timed-out'), label).toEqual([expect.objectContaining({ step: 0, stage: { kind: 'primary' }, reviewers: ['alice'] })]);
        expect(acceptedUpdateIds(await historyOf(race.escalationId))).toEqual([]);
        await vi.waitFor(async () => expect((await env.escalator.status(race.escalationId)).timeline.filter((e) => e.event === 'notified')).toHaveLength(2), { timeout: 10_000 });
        await env.escalator.decide(race.escalationId, { reviewer: 'lead', decision: 'approve', channel: 'client' });
        const { outcome } = await expectOneConsistentEnd(race.escalationId);
        expect(outcome, label).toMatchObject({ outcome: 'passed', depth: 1 });
        expect(outcome.decisions.map((d) => [d.reviewer, d.stage.kind])).toEqual([['lead', 'tier']]);
        expect(outcome.timeline.filter((e) => e.event === 'timed-out')).toHaveLength(1);
      }
    }
  });
});
