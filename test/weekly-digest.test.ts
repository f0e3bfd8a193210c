import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EscalationOutcome, OutcomeKind, TimelineEntry } from '../domain/escalation.js';
import { digestWeek } from '../domain/metrics/digest.js';
import { parsePolicy } from '../domain/policy-parser.js';
import { digestScheduleId, ensureDigestSchedule } from '../worker/digest-schedule.js';
import { startEscalator, type EscalatorEnv } from './helpers/escalator-env.js';

const policyYaml = `
version: 1
people:
  alice: { email: alice@example.com, team: checkout }
  bob:   { email: bob@example.com, team: payments }
  carol: { email: carol@example.com, team: checkout, roles: [incident-commander] }
breakGlass: { roles: [incident-commander] }
gates:
  deploy:
    model: sequential
    chain: [{ reviewers: [alice], timeout: 1h }]
  lint:
    model: sequential
    chain: [{ reviewers: [bob], timeout: 1h }]
digest:
  day: Mon
  hour: 9
  leads: { checkout: alice, payments: bob }
`;

const hour = 3_600_000;

/**
 * The weekly digest on the real dev server: the worker creates its Schedule at start, a triggered
 * run emails each team lead their gates' week (read back from the SMTP sink), and a second run in
 * the same week sends nothing. Escalations are scripted into the worker's store in the days before
 * the test starts.
 */
describe('the weekly digest', () => {
  let env: EscalatorEnv;
  const started = Date.now();

  beforeAll(async () => {
    env = await startEscalator(policyYaml);
    await recorded(env, 'digest-e1', 'deploy', started - 50 * hour, 0.5, 'passed', [{ event: 'decided', reviewer: 'alice', decision: 'approve', channel: 'http', step: 0 }]);
    await recorded(env, 'digest-e2', 'deploy', started - 26 * hour, 0.25, 'overridden', [{ event: 'break-glass', by: 'carol', justification: 'outage', channel: 'http' }]);
    await recorded(env, 'digest-e3', 'lint', started - 4 * hour, 1, 'passed', [{ event: 'decided', reviewer: 'bob', decision: 'approve', channel: 'http', step: 0 }], 'bob');
  });
  afterAll(async () => env?.close());

  it('is scheduled by the worker at start: every Monday at 09:00 in the policy time zone, starting the digest workflow', async () => {
    const schedule = await env.client.schedule.getHandle(digestScheduleId(env.taskQueue)).describe();
    expect(schedule.spec.calendars).toEqual([expect.objectContaining({ dayOfWeek: [{ start: 'MONDAY', end: 'MONDAY', step: 1 }], hour: [{ start: 9, end: 9, step: 1 }] })]);
    expect(schedule.spec.timezone).toBe('UTC');
    expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: 'weeklyDigest', taskQueue: env.taskQueue });
    expect(schedule.policies.overlap).toBe('SKIP');
  });

  it("emails each lead their team's gates with the alerts, and a second run that week sends nothing", async () => {
    const handle = env.client.schedule.getHandle(digestScheduleId(env.taskQueue));
    await handle.trigger('ALLOW_ALL');
    const [toAlice] = await env.smtp.waitFor((m) => m.envelopeTo.includes('alice@example.com') && m.mail.headers.has('x-escalator-digest'));
    const [toBob] = await env.smtp.waitFor((m) => m.envelopeTo.includes('bob@example.com') && m.mail.headers.has('x-escalator-digest'));
    const week = digestWeek(new Date(), 'UTC');

    expect(toAlice!.mail.subject).toBe(`Escalator weekly digest: checkout, ${week} (1 needs attention)`);
    const aliceText = toAlice!.mail.text!;
    expect(aliceText).toContain('deploy: 2 raised (last week 0), 2 ended, 0 open');
    expect(aliceText).toContain('time to resolution p50 15m (last week -), p90 30m');
    expect(aliceText).toContain('deploy: 50 % of escalations ended overridden (above 20 %)');
    expect(aliceText).not.toContain('lint');
    expect(aliceText).toMatch(/- digest-e1: 30m passed http:\/\/escalator\.test\/v1\/escalations\/digest-e1/);

    expect(toBob!.mail.subject).toBe(`Escalator weekly digest: payments, ${week}`);
    expect(toBob!.mail.text).toContain('lint: 1 raised (last week 0), 1 ended, 0 open');
    expect(toBob!.mail.text).toContain('Nothing needs attention.');

    // Triggered again in the same week, once the first run completed: the run finds both digests sent.
    const first = await vi.waitFor(async () => {
      const actions = (await handle.describe()).info.recentActions;
      expect(actions.length).toBeGreaterThan(0);
      return actions.at(-1)!;
    });
    await env.client.workflow.getHandle(first.action.workflow.workflowId).result();
    const runsBefore = (await handle.describe()).info.recentActions.length;
    // ALLOW_ALL: the Schedule's own policy skips a run while one is going, which is not this test's question.
    await handle.trigger('ALLOW_ALL');
    const second = await vi.waitFor(async () => {
      const actions = (await handle.describe()).info.recentActions;
      expect(actions.length).toBeGreaterThan(runsBefore);
      return actions.at(-1)!;
    });
    const result = await env.client.workflow.getHandle(second.action.workflow.workflowId).result();
    expect(result).toEqual({ week, sent: [], alreadySent: ['alice', 'bob'] });
    expect(env.smtp.received.filter((m) => m.mail.headers.has('x-escalator-digest'))).toHaveLength(2);
  });

  it('brings an existing Schedule in line with an edited policy, and leaves it alone without a digest', async () => {
    const edited = parsePolicy(policyYaml.replace('day: Mon', 'day: Fri').replace('hour: 9', 'hour: 16'), 'policy.yaml').policy;
    expect(await ensureDigestSchedule(env.client, env.taskQueue, edited)).toBe('updated');
    const schedule = await env.client.schedule.getHandle(digestScheduleId(env.taskQueue)).describe();
    expect(schedule.spec.calendars).toEqual([expect.objectContaining({ dayOfWeek: [{ start: 'FRIDAY', end: 'FRIDAY', step: 1 }], hour: [{ start: 16, end: 16, step: 1 }] })]);
    const without = parsePolicy(policyYaml.replace(/digest:[\s\S]*$/, ''), 'policy.yaml').policy;
    expect(await ensureDigestSchedule(env.client, env.taskQueue, without)).toBe('no digest');
  });
});

/** One ended escalation in the worker's store, as the worker records it: asked `reviewer`, ended after `hours`. */
async function recorded(env: EscalatorEnv, id: string, gate: string, start: number, hours: number, outcome: OutcomeKind, steps: Array<Record<string, unknown>>, reviewer = 'alice'): Promise<void> {
  const at = (h: number) => new Date(start + h * hour).toISOString();
  const timeline = [
    { at: at(0), event: 'raised', gate, service: 'checkout', severity: 'high' },
    { at: at(0), event: 'assigned', step: 0, stage: { kind: 'primary' }, reviewers: [reviewer], deadline: at(1), depth: 0 },
    ...steps.map((step) => ({ at: at(hours), ...step })),
    { at: at(hours), event: 'ended', outcome, reason: 'scripted' },
  ] as TimelineEntry[];
  const record: EscalationOutcome = { escalationId: id, outcome, reason: 'scripted', postmortem: false, gate, service: 'checkout', severity: 'high', model: 'sequential', depth: 0, policyVersion: 'v1', startedAt: at(0), endedAt: at(hours), decisions: [], timeline };
  await env.store.recordOutcome(record);
}
