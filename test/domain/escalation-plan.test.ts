import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolvePlan } from '../../domain/escalation-plan.js';
import { type GateFailureInput, gateFailureSchema } from '../../domain/gate-failure.js';
import { type PolicyError } from '../../domain/policy-error.js';
import { parsePolicy } from '../../domain/policy-parser.js';
import { gateFailure } from '../helpers/gate-failure.js';

const { policy: example } = parsePolicy(readFileSync('policies/example.yaml', 'utf8'), 'policies/example.yaml');

function planAt(iso: string, overrides: Partial<GateFailureInput> = {}, ordinal = 0) {
  return resolvePlan(example, gateFailureSchema.parse(gateFailure(overrides)), { at: new Date(iso), ordinal })!;
}

// Friday 27 November 2026: 10:00 in Berlin is 09:00Z; 23:30 in Berlin is 22:30Z.
const fridayMorning = '2026-11-27T09:00:00Z';
const fridayNight = '2026-11-27T22:30:00Z';

describe('plan resolution', () => {
  it('runs each gate with its own model when no rule matches', () => {
    expect(planAt(fridayMorning, { gate: { name: 'security-scan', kind: 'security' }, severity: 'low' })).toMatchObject({ model: 'sequential', rule: null, selectedBy: "gate security-scan's own model" });
    expect(planAt(fridayMorning, { gate: { name: 'performance', kind: 'performance' } })).toMatchObject({ model: 'parallel', quorum: { approve: 2, override: 3, reject: 1 } });
    expect(planAt(fridayMorning, { gate: { name: 'unit-tests', kind: 'tests' }, severity: 'medium' })).toMatchObject({ model: 'dynamic', coldStart: { model: 'parallel', minHistory: 5 } });
  });

  it('lets the first matching rule choose: a rollback runs parallel with quorum 1 and a 5-minute window', () => {
    const plan = planAt(fridayMorning, { gate: { name: 'security-scan', kind: 'security' }, rollback: true, hotfix: true });
    expect(plan).toMatchObject({ model: 'parallel', rule: 'rollbacks-fast', group: ['alice', 'carol', 'erin'], quorum: { approve: 1 }, decideWithinMs: 300_000 });
  });

  it('sends a hotfix at night to the on-call in parallel with a short timeout, but not in business hours', () => {
    const night = planAt(fridayNight, { gate: { name: 'security-scan', kind: 'security' }, hotfix: true, severity: 'low' });
    expect(night).toMatchObject({ model: 'parallel', rule: 'night-hotfix', decideWithinMs: 600_000 });
    const day = planAt(fridayMorning, { gate: { name: 'security-scan', kind: 'security' }, hotfix: true, severity: 'low' });
    expect(day).toMatchObject({ model: 'sequential', rule: null });
  });

  it('escalates critical and high test failures in parallel while medium and low go to routing', () => {
    expect(planAt(fridayMorning, { gate: { name: 'unit-tests', kind: 'tests' }, severity: 'critical' })).toMatchObject({ model: 'parallel', rule: 'severe-tests-in-parallel' });
    expect(planAt(fridayMorning, { gate: { name: 'unit-tests', kind: 'tests' }, severity: 'low' })).toMatchObject({ model: 'dynamic', rule: null });
  });

  it('serves the approver pool of the week and rotates the named primary across escalations', () => {
    const week1 = planAt('2026-11-23T10:00:00Z', { gate: { name: 'performance', kind: 'performance' } });
    const week2 = planAt('2026-11-30T10:00:00Z', { gate: { name: 'performance', kind: 'performance' } });
    if (week1.model !== 'parallel' || week2.model !== 'parallel') throw new Error('expected parallel plans');
    expect(week1.group).not.toEqual(week2.group);
    expect([...week1.group].sort()).toEqual(['alice', 'bob', 'carol']);
    const primaries = [0, 1, 2].map((ordinal) => {
      const plan = planAt(fridayMorning, { gate: { name: 'performance', kind: 'performance' } }, ordinal);
      return plan.model === 'parallel' ? plan.primary : '';
    });
    expect(new Set(primaries).size).toBe(3);
  });

  it('resolves the on-call rotation, follows tier links, and knows the break-glass holders', () => {
    const plan = planAt(fridayMorning, { gate: { name: 'lint', kind: 'custom' }, severity: 'low' });
    if (plan.model !== 'sequential') throw new Error('expected a sequential plan');
    expect(plan.gateKey).toBe('*');
    // 2026-01-05 alice, then carol, then dave, weekly on Mondays: week of 23 November is week 46 → index 46 % 3 = 1.
    expect(plan.steps[0]!.reviewers).toEqual(['carol']);
    expect(plan.tiers.map((t) => t.name)).toEqual(['team-leads', 'release-managers']);
    expect(plan.breakGlass).toEqual({ holders: ['erin'], notify: ['dana'] });
    expect(plan.quietHours?.onCall).toBe('carol');
  });

  it('replaces a reviewer who is out of office by their backup, and says so', () => {
    const { policy } = parsePolicy(readFileSync('policies/example.yaml', 'utf8').replace('outOfOffice: [{ from: 2026-12-24, to: 2026-12-31 }]', 'outOfOffice: [{ from: 2026-11-01, to: 2026-12-31 }], backup: erin'), 'p.yaml');
    const plan = resolvePlan(policy, gateFailureSchema.parse(gateFailure({ gate: { name: 'lint', kind: 'custom' }, severity: 'low' })), { at: new Date('2026-11-30T10:00:00Z'), ordinal: 0 })!;
    if (plan.model !== 'sequential') throw new Error('expected a sequential plan');
    // Week of 30 November: dave is on call, but away.
    expect(plan.steps[0]!.reviewers).toEqual(['erin']);
    expect(plan.notes).toEqual(['dave is out of office; erin stands in']);
  });

  it('records each dynamic candidate’s availability at the start', () => {
    const plan = planAt(fridayMorning, { gate: { name: 'unit-tests', kind: 'tests' }, severity: 'low' });
    if (plan.model !== 'dynamic') throw new Error('expected a dynamic plan');
    // 10:00 Berlin: alice and carol work; 04:00 in New York: bob does not; dave has no working hours.
    expect(plan.facts).toEqual({
      alice: { working: true, outOfOffice: false, onCall: false },
      bob: { working: false, outOfOffice: false, onCall: false },
      carol: { working: true, outOfOffice: false, onCall: true },
      dave: { working: null, outOfOffice: false, onCall: false },
    });
  });

  it('names who rolls back by hand when the rollback endpoint fails: the policy’s notify list, else the tiers’ leads, else the last tier', () => {
    const source = readFileSync('policies/example.yaml', 'utf8');
    const integration = (yaml: string) =>
      resolvePlan(parsePolicy(yaml, 'p.yaml').policy, gateFailureSchema.parse(gateFailure({ gate: { name: 'integration-tests', kind: 'tests' } })), { at: new Date(fridayMorning), ordinal: 0 })!;
    // integration-tests escalates to release-managers, who have no lead: the tier's reviewers.
    expect(integration(source).rollbackOwners).toEqual(['erin']);
    expect(integration(source.replace('escalateTo: release-managers\n    maxDepth: 2', 'escalateTo: team-leads\n    maxDepth: 2')).rollbackOwners).toEqual(['carol']);
    const named = source.replace('endpoint: "http://127.0.0.1:9099/rollback" }', 'endpoint: "http://127.0.0.1:9099/rollback", notify: [alice, bob] }');
    expect(integration(named).rollbackOwners).toEqual(['alice', 'bob']);
    // A gate that blocks has nothing to roll back.
    expect(planAt(fridayMorning, { gate: { name: 'security-scan', kind: 'security' }, severity: 'low' }).rollbackOwners).toEqual([]);
    expect(() => parsePolicy(source.replace('endpoint: "http://127.0.0.1:9099/rollback" }', 'endpoint: "http://127.0.0.1:9099/rollback", notify: [nobody] }'), 'p.yaml')).toThrow(
      'p.yaml:72:91 at gates.integration-tests.onExhausted.notify[0]: refers to "nobody", who is not under people',
    );
  });

  it('refuses at load a policy whose tiers escalate in a cycle', () => {
    const cyclic = readFileSync('policies/example.yaml', 'utf8').replace('release-managers: { reviewers: [erin], timeout: 1h }', 'release-managers: { reviewers: [erin], timeout: 1h, escalateTo: team-leads }');
    const error = (() => {
      try {
        parsePolicy(cyclic, 'cyclic.yaml');
      } catch (e) {
        return e as PolicyError;
      }
      throw new Error('expected the cyclic policy to be refused');
    })();
    expect(error.problems.map((p) => [p.path, p.message])).toContainEqual([
      'tiers.team-leads.escalateTo',
      'tiers escalate in a cycle (team-leads → release-managers → team-leads): an escalation could bounce forever',
    ]);
    expect(error.problems.map((p) => p.path)).toContain('gates.performance.escalateTo');
  });
});
