import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePolicy, parseYamlFile } from '../domain/policy-parser.js';
import { runScenario } from '../domain/policy-scenarios/run-scenario.js';
import { scenarioFileSchema } from '../domain/policy-scenarios/scenario-file.js';
import { mismatchesOf } from '../domain/policy-scenarios/verdict.js';
import { escalator, json } from './helpers/cli-run.js';
import { sequentialPolicy } from './helpers/policies.js';

const policyYaml = sequentialPolicy({ rollbackUrl: 'http://127.0.0.1:9/never-called', chainTimeout: '20m', fastTimeout: '10m', maxDepth: 3 });
const { policy } = parsePolicy(policyYaml, 'policy.yaml');

function scenarios(yaml: string) {
  return parseYamlFile(scenarioFileSchema, `policy: policy.yaml\nscenarios:\n${yaml}`, 'policy.scenarios.yaml').scenarios;
}

describe('policy scenarios, run through the engine on a virtual clock', () => {
  it('follows a silent chain step by step to the rollback, at the times the policy gives', () => {
    const [scenario] = scenarios(`
  - name: flaky tests, nobody answers
    at: 2030-01-07T10:00:00+01:00
    failure: { gate: flaky-tests, author: mallory }
    expect: {}
`);
    const observed = runScenario(policy, scenario!);
    // alice's step (1s in this policy's fast chain is 10m), her backup bob, then the team-leads and seniors tiers.
    expect(observed).toMatchObject({ model: 'sequential', rule: null, firstAsked: ['alice'], outcome: 'rolled-back', depth: 3 });
    expect(observed.timeline.filter((e) => e.event === 'assigned').map((e) => [e.after / 60_000, e.reviewers, e.depth])).toEqual([
      [0, ['alice'], 0],
      [10, ['bob'], 1],
      [20, ['lead'], 2],
      [30, ['senior'], 3],
    ]);
    expect(observed.endedAfter).toBe(40 * 60_000);
  });

  it('takes decisions at their offsets, and reports a refused one instead of ignoring it', () => {
    const [scenario] = scenarios(`
  - name: the author tries, then alice, carol and erin approve
    at: 2030-01-07T10:00:00+01:00
    failure: { gate: integration-tests, author: mallory }
    events:
      - { after: 1m, decide: { reviewer: mallory } }
      - { after: 5m, decide: { reviewer: alice } }
      - { after: 6m, decide: { reviewer: carol } }
      - { after: 7m, decide: { reviewer: erin } }
    expect: { outcome: passed, endedAfter: 7m }
`);
    const observed = runScenario(policy, scenario!);
    expect(observed).toMatchObject({ outcome: 'passed', depth: 0, endedAfter: 7 * 60_000 });
    expect(observed.refused).toEqual([{ event: 0, code: 'NotAwaitedReviewer', message: expect.stringContaining('mallory is not a reviewer') }]);
    expect(mismatchesOf(scenario!, observed)).toEqual([{ what: 'events[0]', expected: 'taken', actual: expect.stringContaining('refused (NotAwaitedReviewer)') }]);
  });

  it('names every expectation that differs, and where the timeline stops matching', () => {
    const [scenario] = scenarios(`
  - name: wrong on purpose
    at: 2030-01-07T10:00:00+01:00
    failure: { gate: flaky-tests, author: mallory }
    expect:
      firstAsked: [bob]
      outcome: passed
      depth: 3
      timeline:
        - { after: 0, event: assigned, reviewers: [alice] }
        - { after: 10m, event: assigned, reviewers: [carol] }
`);
    const mismatches = mismatchesOf(scenario!, runScenario(policy, scenario!));
    expect(mismatches.map((m) => [m.what, m.expected, m.actual.split('\n')[0]])).toEqual([
      ['first asked', '[bob]', '[alice]'],
      ['outcome', 'passed', 'rolled-back'],
      ['timeline[1]', '+10m assigned [carol]', 'no such entry in order; from there on the timeline is:'],
    ]);
    expect(mismatches[2]!.actual).toContain('+10m assigned [bob] depth 1');
  });

  it('keeps people the scenario names out of office away for its whole run', () => {
    const [scenario] = scenarios(`
  - name: alice away
    at: 2030-01-07T10:00:00+01:00
    failure: { gate: flaky-tests, author: mallory }
    outOfOffice: [alice]
    expect: {}
`);
    // The policy gives alice a backup: resolution hands her step to bob from the start.
    expect(runScenario(policy, scenario!).firstAsked).toEqual(['bob']);
  });
});

describe('escalator policy test', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-scenarios-'));
    await writeFile(join(dir, 'policy.yaml'), policyYaml);
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('passes the shipped example policy’s scenarios, found beside it', async () => {
    const run = await escalator(['policy', 'test', 'policies/example.yaml']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/policies\/example\.scenarios\.yaml: (\d+) of \1 scenario\(s\) passed/);
  });

  it('fails with exit 6 and a diff of what differs, as text and as JSON', async () => {
    await writeFile(
      join(dir, 'policy.scenarios.yaml'),
      `policy: policy.yaml
scenarios:
  - name: expects a pass nobody gives
    at: 2030-01-07T10:00:00+01:00
    failure: { gate: flaky-tests, author: mallory }
    expect: { outcome: passed }
  - name: expects the rollback
    at: 2030-01-07T10:00:00+01:00
    failure: { gate: flaky-tests, author: mallory }
    expect: { outcome: rolled-back, endedAfter: 40m }
`,
    );
    const run = await escalator(['policy', 'test', join(dir, 'policy.yaml')]);
    expect(run.code).toBe(6);
    expect(run.stdout).toContain('FAIL expects a pass nobody gives\n     outcome:\n       - expected passed\n       + actual   rolled-back');
    expect(run.stdout).toContain('ok   expects the rollback');
    expect(run.stdout).toContain('1 of 2 scenario(s) passed');
    const asJson = json<{ passed: boolean; scenarios: Array<{ name: string; passed: boolean }> }>(await escalator(['policy', 'test', join(dir, 'policy.scenarios.yaml'), '--json']));
    expect(asJson.passed).toBe(false);
    expect(asJson.scenarios.map((s) => s.passed)).toEqual([false, true]);
  });

  it('refuses a scenario file with bad values or unknown people, naming the file, line and problem', async () => {
    const bad = join(dir, 'bad.scenarios.yaml');
    await writeFile(bad, `policy: policy.yaml\nscenarios:\n  - name: x\n    at: tomorrow\n    failure: { gate: flaky-tests }\n    events: [{ after: soon, decide: { reviewer: alice } }]\n    expect: {}\n`);
    const run = await escalator(['policy', 'test', bad]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${bad}:4:9: error at scenarios[0].at: an instant with its offset`);
    expect(run.stderr).toContain(`${bad}:6:23: error at scenarios[0].events[0].after: "soon" is not a positive duration`);

    const unknown = join(dir, 'unknown.scenarios.yaml');
    await writeFile(unknown, `policy: policy.yaml\nscenarios:\n  - name: x\n    at: 2030-01-07T10:00:00+01:00\n    failure: { gate: flaky-tests }\n    outOfOffice: [alcie]\n    expect: {}\n`);
    const typo = await escalator(['policy', 'test', unknown]);
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('scenarios[0]: alcie is not a person in policy.yaml');
  });
});
