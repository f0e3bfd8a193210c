import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolvePlan } from '../../domain/escalation-plan.js';
import type { Policy } from '../../domain/policy.js';
import { gateFailure } from '../helpers/gate-failure.js';
import { gateFailureSchema } from '../../domain/gate-failure.js';
import { PolicyError } from '../../domain/policy-error.js';
import { parsePolicy } from '../../domain/policy-parser.js';
import { sequentialPolicy } from '../helpers/policies.js';

const monday = new Date('2026-11-23T10:00:00Z');

function planFor(policy: Policy, gate: string) {
  return resolvePlan(policy, gateFailureSchema.parse(gateFailure({ gate: { name: gate, kind: 'custom' }, severity: 'low' })), { at: monday, ordinal: 0 });
}

function problemsOf(yaml: string): PolicyError['problems'] {
  try {
    parsePolicy(yaml, 'team-policy.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyError);
    return (error as PolicyError).problems;
  }
  throw new Error('expected the policy to be refused');
}

const minimal = (gates: string, extra = '') => `version: 1
people:
  alice: { email: alice@example.com }
${extra}gates:
${gates}`;

describe('policy parser', () => {
  it('loads the example policy the stack ships with', () => {
    const { policy, version } = parsePolicy(readFileSync('policies/example.yaml', 'utf8'), 'policies/example.yaml');
    expect(version).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Object.keys(policy.gates)).toEqual(['security-scan', 'performance', 'unit-tests', 'integration-tests', '*']);
    expect(planFor(policy, 'security-scan')).toMatchObject({ requireComment: 'always', steps: [{ reviewers: ['alice'], backup: ['bob'], timeoutMs: 3_600_000 }, { reviewers: ['dana'], backup: [] }] });
  });

  it('converts readable durations to milliseconds and resolves backups from people', () => {
    const { policy } = parsePolicy(sequentialPolicy({ chainTimeout: '90s', fastTimeout: '2h' }), 'p.yaml');
    const plan = planFor(policy, 'integration-tests')!;
    if (plan.model !== 'sequential') throw new Error('expected a sequential plan');
    expect(plan.steps[0]).toEqual({ reviewers: ['alice'], backup: ['bob'], timeoutMs: 90_000 });
    expect(plan.tiers).toEqual([
      { name: 'team-leads', reviewers: ['lead'], timeoutMs: 7_200_000, lead: null },
      { name: 'seniors', reviewers: ['senior'], timeoutMs: 7_200_000, lead: null },
    ]);
    expect(plan.people.alice!.aliases).toEqual(['alice', 'alice@example.com', 'alice-gh']);
  });

  it('falls back to the "*" gate and returns nothing when there is none', () => {
    const { policy } = parsePolicy(sequentialPolicy(), 'p.yaml');
    expect(planFor(policy, 'lint')?.gateKey).toBe('*');
    const { policy: strict } = parsePolicy(minimal('  build: { model: sequential, chain: [{ reviewers: [alice], timeout: 1h }] }\n'), 'p.yaml');
    expect(planFor(strict, 'lint')).toBeUndefined();
  });

  it('names the file, path, line and column of a bad duration', () => {
    const yaml = minimal('  build:\n    model: sequential\n    chain:\n      - { reviewers: [alice], timeout: soon }\n');
    expect(problemsOf(yaml)).toEqual([{ path: 'gates.build.chain[0].timeout', message: '"soon" is not a positive duration such as 30s, 15m, 2h or 1d', line: 8, column: 40 }]);
    expect(() => parsePolicy(yaml, 'team-policy.yaml')).toThrow(/team-policy\.yaml:8:40 at gates\.build\.chain\[0\]\.timeout/);
  });

  it('refuses references to people, tiers and pools that do not exist', () => {
    const yaml = minimal('  build: { model: sequential, chain: [{ reviewers: [alice, zed], timeout: 1h }], escalateTo: [nope] }\n');
    expect(problemsOf(yaml).map((p) => [p.path, p.message])).toEqual([
      ['gates.build.escalateTo[0]', 'refers to tier "nope", which is not under tiers'],
      ['gates.build.chain[0].reviewers[1]', 'refers to "zed", who is not under people'],
    ]);
  });

  it('refuses a tier listed twice, since the escalation would return to it', () => {
    const yaml = minimal('  build: { model: sequential, chain: [{ reviewers: [alice], timeout: 1h }], escalateTo: [leads, leads] }\n', 'tiers:\n  leads: { reviewers: [alice], timeout: 1h }\n');
    expect(problemsOf(yaml)).toEqual([expect.objectContaining({ path: 'gates.build.escalateTo[1]', message: 'tier "leads" is listed twice: an escalation must not return to a tier' })]);
  });

  it('refuses a person who is their own backup', () => {
    const yaml = `version: 1\npeople:\n  alice: { email: alice@example.com, backup: alice }\ngates: {}\n`;
    expect(problemsOf(yaml)).toEqual([expect.objectContaining({ path: 'people.alice.backup', message: 'a person cannot be their own backup' })]);
  });

  it('refuses a quorum larger than the group that must reach it', () => {
    const yaml = minimal('  perf:\n    model: parallel\n    reviewers: [alice]\n    quorum: { approve: 2 }\n    decideWithin: 1h\n');
    expect(problemsOf(yaml)).toEqual([expect.objectContaining({ path: 'gates.perf.quorum.approve', message: 'a quorum of 2 cannot be reached by a group of 1' })]);
  });

  describe('rule conditions on teams and authors', () => {
    const build = '  build: { model: sequential, chain: [{ reviewers: [alice], timeout: 1h }] }\n';
    const withRules = (rules: string, extra = '', gates = build) => `version: 1
${extra}people:
  alice: { email: alice@example.com, roles: [lead], seniority: senior, team: checkout }
gates:
${gates}rules:
${rules}`;
    const routed = '  unit-tests: { model: dynamic, candidates: [alice], routeBy: [codeowners], decideWithin: 1h, codeowners: "* @acme/qa" }\n';

    it('refuses crossTeam when no CODEOWNERS is configured, naming the gates without their own', () => {
      const yaml = withRules('  - name: cross\n    when: { crossTeam: true }\n    use: { model: parallel, reviewers: [alice], decideWithin: 1h }\n');
      const message = 'crossTeam needs CODEOWNERS to find the owning teams: add a top-level "codeowners" with the repository\'s CODEOWNERS text (gates without their own: "build")';
      expect(problemsOf(yaml)).toEqual([{ path: 'rules[0].when.crossTeam', message, line: 8, column: 24 }]);
      expect(() => parsePolicy(yaml, 'team-policy.yaml')).toThrow(`team-policy.yaml:8:24 at rules[0].when.crossTeam: ${message}`);
      expect(problemsOf(withRules('  - when: { crossTeam: false }\n    use: {}\n', '', `${build}${routed}  "*": { model: sequential, chain: [{ reviewers: [alice], timeout: 1h }] }\n`))).toEqual([
        expect.objectContaining({ path: 'rules[0].when.crossTeam', message: expect.stringContaining('(gates without their own: "build", "*")') }),
      ]);
    });

    it("accepts crossTeam with the policy's CODEOWNERS, or on gates that all have their own", () => {
      expect(() => parsePolicy(withRules('  - when: { crossTeam: true }\n    use: {}\n', 'codeowners: "* @acme/checkout"\n'), 'p.yaml')).not.toThrow();
      expect(() => parsePolicy(withRules('  - when: { crossTeam: true, gate: [unit-tests] }\n    use: {}\n', '', `${build}${routed}`), 'p.yaml')).not.toThrow();
    });

    it('refuses CODEOWNERS lines GitHub would skip, an authorRole nobody holds, an unknown seniority and a team written as an owner', () => {
      expect(problemsOf(withRules('  - when: { crossTeam: true }\n    use: {}\n', 'codeowners: |\n  src/ @acme/checkout\n  !docs/ @bob\n  lib/ bob\n')).map((p) => [p.path, p.message])).toEqual([
        ['codeowners', 'line 2 of the CODEOWNERS text: "!docs/": negation with "!" is not supported in CODEOWNERS (GitHub skips this line)'],
        ['codeowners', 'line 3 of the CODEOWNERS text: "bob" is not an owner: use @user, @org/team or an e-mail address (GitHub skips this line)'],
      ]);
      expect(problemsOf(withRules('  - when: { authorRole: [lead, leed] }\n    use: {}\n'))).toEqual([{ path: 'rules[0].when.authorRole[1]', message: 'nobody under people holds the role "leed"', line: 7, column: 32 }]);
      expect(problemsOf(withRules('  - when: { authorSeniority: [senior, principal] }\n    use: {}\n'))).toEqual([
        { path: 'rules[0].when.authorSeniority[1]', message: 'Invalid option: expected one of "junior"|"mid"|"senior"|"staff"', line: 7, column: 39 },
      ]);
      expect(problemsOf(withRules('  []\n').replace('team: checkout', 'team: "@acme/checkout"')).map((p) => [p.path, p.message])).toEqual([
        ['people.alice.team', 'a GitHub team slug such as checkout (for @acme/checkout): lower-case letters, digits and . _ - only'],
      ]);
    });
  });

  it('refuses unknown keys, wrong types and YAML syntax errors with positions', () => {
    expect(problemsOf(minimal('  build: { model: sequential, chain: [{ reviewers: [alice], timeout: 1h }], maxDepht: 2 }\n'))).toEqual([
      expect.objectContaining({ path: 'gates.build', message: expect.stringContaining('maxDepht'), line: 5 }),
    ]);
    expect(problemsOf('version: 2\npeople: {}\ngates: {}\n').map((p) => p.path)).toEqual(['version', 'people']);
    expect(problemsOf('version: 1\npeople: [alice\n')).toEqual([expect.objectContaining({ path: '(syntax)', line: expect.any(Number) })]);
  });
});

describe('load spreading in a dynamic gate', () => {
  const gate = (spread: string) => `  deploy:
    model: dynamic
    candidates: [alice]
    routeBy: [expertise, approvals, recency, load]
    decideWithin: 30m
${spread}`;

  it('carries spreadLoad into the plan, and leaves it out when the gate has none', () => {
    const { policy } = parsePolicy(minimal(gate('    spreadLoad: { within: 0.25 }\n')), 'p.yaml');
    expect(planFor(policy, 'deploy')).toMatchObject({ model: 'dynamic', spreadLoad: { within: 0.25 }, routeBy: ['expertise', 'approvals', 'recency', 'load'] });
    expect(planFor(parsePolicy(minimal(gate('')), 'p.yaml').policy, 'deploy')).not.toHaveProperty('spreadLoad');
  });

  it('refuses a margin outside (0, 1) and an unknown setting, naming the path', () => {
    expect(problemsOf(minimal(gate('    spreadLoad: { within: 1.5 }\n')))).toEqual([expect.objectContaining({ path: 'gates.deploy.spreadLoad.within' })]);
    expect(problemsOf(minimal(gate('    spreadLoad: { within: 0.2, by: load }\n')))).toEqual([expect.objectContaining({ path: expect.stringMatching(/^gates\.deploy\.spreadLoad/) })]);
  });
});
