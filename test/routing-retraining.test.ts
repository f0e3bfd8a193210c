import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EscalationOutcome, TimelineEntry } from '../domain/escalation.js';
import type { RetrainingReport } from '../domain/routing-model/retrain.js';
import { retrainingScheduleId } from '../worker/retraining-schedule.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';
import { gateFailure } from './helpers/gate-failure.js';

const policyYaml = `
version: 1
people:
  alice: { email: alice@example.com }
  bob:   { email: bob@example.com }
  carol: { email: carol@example.com }
gates:
  deploy:
    model: dynamic
    candidates: [alice, bob, carol]
    routeBy: [expertise, approvals, load]
    coldStart: { model: sequential, minHistory: 0 }
    decideWithin: 1h
`;

const DAY = 86_400_000;
const factors = ['expertise', 'approvals', 'load'];

/**
 * Retraining on the real dev server: the worker creates the weekly Schedule at start; a triggered run
 * fits on the escalations routed before the last 7 days, measures on those 7 days, keeps the fitted
 * model because it ranks them better, and the next routing scores with it and says so.
 *
 * The history is scripted into the worker's store relative to the moment the test starts: in every
 * past escalation the person who decided had the most recent decisions in the gate (approvals), while
 * someone else had the most path expertise, which the hand-set weights favour.
 */
describe('routing retraining on a Temporal Schedule', () => {
  let env: EscalatorEnv;
  const started = Date.now();

  beforeAll(async () => {
    env = await startEscalator(policyYaml);
    const people = ['alice', 'bob', 'carol'];
    for (let n = 0; n < 60; n++) {
      // 35 before the period (8 to 42 days ago), 25 in it (6.5 days ago to 1 hour ago).
      const at = n < 35 ? started - (8 + n) * DAY : started - (n - 35) * 6 * 3_600_000 - 3_600_000;
      const decider = people[n % 3]!;
      const expert = people[(n + 1) % 3]!;
      const values = (person: string) => [person === expert ? 1 : 0.2, person === decider ? 1 : 0.3 + ((n * 7) % 5) / 20, 1];
      await scripted(env, `past-${n}`, at, decider, Object.fromEntries(people.map((person) => [person, values(person)])));
    }
  });
  afterAll(async () => env?.close());

  it('is scheduled by the worker at start: every 7 days, starting the retraining workflow, never two at once', async () => {
    const schedule = await env.client.schedule.getHandle(retrainingScheduleId(env.taskQueue)).describe();
    expect(schedule.spec.intervals).toMatchObject([{ every: 7 * DAY }]);
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'routingRetraining', taskQueue: env.taskQueue });
    expect(schedule.policies.overlap).toBe('SKIP');
  });

  it('keeps a fitted model that ranks the last period better, reports both models, and routes with it', async () => {
    expect(await env.store.currentRoutingModel()).toBeUndefined();
    const handle = env.client.schedule.getHandle(retrainingScheduleId(env.taskQueue));
    await handle.trigger('ALLOW_ALL');
    const run = await vi.waitFor(async () => {
      const actions = (await handle.describe()).info.recentActions;
      expect(actions.length).toBeGreaterThan(0);
      return actions.at(-1)!;
    });
    const report = await env.client.workflow.getHandle<() => Promise<RetrainingReport>>(run.action.workflow.workflowId).result();

    expect(report.trainedOn).toBe(35);
    expect(report.accuracy.current).toEqual({ escalations: 25, top1: 0, top3: 1, mrr: expect.any(Number) });
    expect(report.accuracy.candidate).toMatchObject({ escalations: 25, top1: 1, mrr: 1 });
    expect(report).toMatchObject({ kept: 'candidate', reassignRate: 0, candidate: { version: 'fit-1' } });
    expect(report.reason).toMatch(/^not worse on 25 escalation\(s\): top-1 100\.0 %, MRR 1\.000 against top-1 0\.0 %/);
    expect(report.candidate.weights.approvals).toBeGreaterThan(report.candidate.weights.expertise);
    expect(await env.store.currentRoutingModel()).toEqual(report.candidate);
    expect(await env.store.retrainings(5)).toEqual([report]);

    const { escalationId } = await env.escalator.raise(gateFailure({ gate: { name: 'deploy', kind: 'review' } }));
    const routed = await vi.waitFor(async () => {
      const entry = (await env.escalator.status(escalationId)).timeline.find((e) => e.event === 'routed');
      expect(entry).toBeDefined();
      return entry as Extract<TimelineEntry, { event: 'routed' }>;
    });
    expect(routed.model).toBe('fit-1');
    expect(routed.scores[0]!.factors.approvals!.weight).toBe(report.candidate.weights.approvals);
    await env.escalator.withdraw(escalationId, { by: 'ci', reason: 'test done' });
  });

  it('keeps one report per period: a retried retraining finds the first', async () => {
    const [first] = await env.store.retrainings(1);
    const again = await env.store.saveRetraining({ ...first!, kept: 'current', reason: 'a retried attempt' });
    expect(again).toEqual(first);
    expect(await env.store.retrainings(5)).toHaveLength(1);
  });
});

/** One past dynamic escalation in the worker's store: routed with these factor values, then `decider` approved. */
async function scripted(env: EscalatorEnv, id: string, start: number, decider: string, candidates: Record<string, number[]>): Promise<void> {
  const at = (minutes: number) => new Date(start + minutes * 60_000).toISOString();
  await env.store.recordRoutingFeatures({ escalationId: id, routedAt: at(0), model: 'hand-1', factors, candidates });
  const timeline = [
    { at: at(0), event: 'raised', gate: 'deploy', service: 'checkout', severity: 'high' },
    { at: at(0), event: 'assigned', step: 0, stage: { kind: 'primary' }, reviewers: [decider], deadline: at(60), depth: 0 },
    { at: at(10), event: 'decided', reviewer: decider, decision: 'approve', channel: 'http', step: 0 },
    { at: at(10), event: 'ended', outcome: 'passed', reason: 'scripted' },
  ] as TimelineEntry[];
  const outcome: EscalationOutcome = {
    escalationId: id,
    outcome: 'passed',
    reason: 'scripted',
    postmortem: false,
    gate: 'deploy',
    service: 'checkout',
    severity: 'high',
    model: 'dynamic',
    depth: 0,
    policyVersion: 'v1',
    startedAt: at(0),
    endedAt: at(10),
    decisions: [{ reviewer: decider, decision: 'approve', channel: 'http', at: at(10), step: 0, stage: { kind: 'primary' } }],
    timeline,
  };
  await env.store.recordOutcome(outcome);
}
