import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolvePlan } from '../../domain/escalation-plan.js';
import { type GateFailureInput, gateFailureSchema } from '../../domain/gate-failure.js';
import { type PolicyError } from '../../domain/policy-error.js';
import { parsePolicy } from '../../domain/policy-parser.js';
import { ruleVerdicts } from '../../domain/rule-conditions.js';
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

describe('rules on ownership and authorship', () => {
  // The guide's example: "business hours and a senior engineer's code: dynamic; a 2 AM hotfix:
  // parallel with a short timeout"; and its growth pattern: teams keep their own chain, cross-team
  // changes go to a central one.
  const { policy } = parsePolicy(
    `version: 1
timezone: Europe/Berlin
businessHours: Mon-Fri 09:00-18:00
codeowners: |
  src/basket/    @acme/checkout
  src/payments/  @acme/payments
  docs/          @carol-gh
people:
  alice: { email: alice@example.com, team: checkout, seniority: senior }
  bob:   { email: bob@example.com, team: payments, seniority: junior }
  carol: { email: carol@example.com, handles: [carol-gh], team: checkout, seniority: staff }
  erin:  { email: erin@example.com, team: platform, seniority: staff }
  frank: { email: frank@example.com, team: platform, seniority: senior }
rotations:
  primary: { members: [carol, erin], handoff: weekly, start: 2026-01-05 }
gates:
  deploy:
    model: sequential
    chain:
      - { reviewers: [alice], timeout: 30m }
      - { reviewers: [carol], timeout: 1h }
rules:
  - name: cross-team-to-platform
    when: { crossTeam: true }
    use: { model: sequential, chain: [{ reviewers: [erin], timeout: 30m }, { reviewers: [frank], timeout: 1h }] }
  - name: night-hotfix
    when: { hotfix: true, outsideBusinessHours: true }
    use: { model: parallel, reviewers: oncall:primary, decideWithin: 10m }
  - name: senior-code-in-hours
    when: { outsideBusinessHours: false, authorSeniority: [senior, staff] }
    use: { model: dynamic, reviewers: [alice, carol, erin] }
`,
    'guide.yaml',
  );
  // Friday 27 November 2026 in Berlin: 10:00 is 09:00Z, 02:00 is 01:00Z.
  const tenAm = '2026-11-27T09:00:00Z';
  const twoAm = '2026-11-27T01:00:00Z';
  const plan = (at: string, author: string, changedFiles: string[], hotfix = false) =>
    resolvePlan(policy, gateFailureSchema.parse(gateFailure({ gate: { name: 'deploy', kind: 'tests' }, hotfix, change: { ...gateFailure().change, author, changedFiles } })), { at: new Date(at), ordinal: 0 })!;

  it.each([
    { case: "a senior's code in business hours", at: tenAm, author: 'alice', hotfix: false, model: 'dynamic', rule: 'senior-code-in-hours' },
    { case: "a staff engineer's code by e-mail in business hours", at: tenAm, author: 'Carol@Example.com', hotfix: false, model: 'dynamic', rule: 'senior-code-in-hours' },
    { case: 'a 2 AM hotfix, whoever wrote it', at: twoAm, author: 'alice', hotfix: true, model: 'parallel', rule: 'night-hotfix' },
    { case: "a junior's code in business hours", at: tenAm, author: 'bob', hotfix: false, model: 'sequential', rule: null },
    { case: 'code by someone not under people', at: tenAm, author: 'zed', hotfix: false, model: 'sequential', rule: null },
    { case: "a senior's code at 2 AM, not a hotfix", at: twoAm, author: 'alice', hotfix: false, model: 'sequential', rule: null },
  ])('$case: $model ($rule)', ({ at, author, hotfix, model, rule }) => {
    expect(plan(at, author, ['src/basket/totals.ts'], hotfix)).toMatchObject({ model, rule });
  });

  it('gives the night hotfix a 10-minute window with the on-call, and routes senior code with the policy’s CODEOWNERS', () => {
    expect(plan(twoAm, 'bob', ['src/payments/card.ts'], true)).toMatchObject({ model: 'parallel', group: ['carol'], decideWithinMs: 600_000, selectedBy: 'rule night-hotfix (hotfix: true, outsideBusinessHours: true)' });
    const routed = plan(tenAm, 'alice', ['src/basket/totals.ts']);
    if (routed.model !== 'dynamic') throw new Error('expected a dynamic plan');
    expect(routed).toMatchObject({ candidates: ['alice', 'carol', 'erin'], selectedBy: 'rule senior-code-in-hours (outsideBusinessHours: false, authorSeniority: senior|staff)' });
    // The gate has no CODEOWNERS of its own: routing reads the policy's.
    expect(routed.codeowners).toBe(policy.codeowners);
  });

  it('sends a change across teams to the platform chain, day or night, and keeps single-team changes with the gate’s own chain', () => {
    for (const at of [tenAm, twoAm]) {
      const crossing = plan(at, 'bob', ['src/basket/totals.ts', 'src/payments/card.ts'], true);
      if (crossing.model !== 'sequential') throw new Error('expected a sequential plan');
      expect(crossing.rule).toBe('cross-team-to-platform');
      expect(crossing.steps.map((step) => step.reviewers)).toEqual([['erin'], ['frank']]);
    }
    // docs/ is carol's, and carol is in checkout: still one team.
    const oneTeam = plan(tenAm, 'bob', ['src/basket/totals.ts', 'docs/basket.md']);
    if (oneTeam.model !== 'sequential') throw new Error('expected a sequential plan');
    expect(oneTeam.rule).toBeNull();
    expect(oneTeam.steps.map((step) => step.reviewers)).toEqual([['alice'], ['carol']]);
  });

  it('picks the rule policy explain reports as matching, for any failure and moment', () => {
    const people = [...Object.keys(policy.people), 'zed'];
    const files = ['src/basket/a.ts', 'src/payments/b.ts', 'docs/c.md', 'README.md'];
    fc.assert(
      fc.property(
        fc.constantFrom(...people),
        fc.subarray(files),
        fc.boolean(),
        fc.integer({ min: Date.parse('2026-11-23T00:00:00Z'), max: Date.parse('2026-11-30T00:00:00Z') }),
        (author, changedFiles, hotfix, atMs) => {
          const failure = gateFailureSchema.parse(gateFailure({ gate: { name: 'deploy', kind: 'tests' }, hotfix, change: { ...gateFailure().change, author, changedFiles } }));
          const at = new Date(atMs);
          const verdicts = ruleVerdicts(policy, failure, at);
          const matched = verdicts.at(-1)?.matched ? verdicts.at(-1)!.name : null;
          expect(resolvePlan(policy, failure, { at, ordinal: 0 })!.rule).toBe(matched);
        },
      ),
    );
  });
});
