import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulationReport } from '../domain/simulation/report.js';
import { escalator, json } from './helpers/cli-run.js';

const example = ['--policy', 'policies/example.yaml', '--team', 'policies/sample-team.yaml'];

describe('escalator simulate', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-simulate-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('prints tables of resolution, timeouts, responders and load for the policy as written', async () => {
    const run = await escalator(['simulate', ...example, '--days', '7']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Simulated 7 days of gate failures from 2026-03-02T00:00:00Z, seed 1: \d+ escalations\./);
    for (const heading of ['Time to resolution', 'How escalations went', 'Who decided', 'Load per person']) expect(run.stdout).toContain(heading);
    expect(run.stdout).toMatch(/│ unit-tests\s+│ dynamic\s+│/);
    expect(run.stdout).toMatch(/│ performance\s+│ parallel\s+│/);
    // Not a terminal: no progress bar.
    expect(run.stderr).toBe('');
  });

  it('compares the three models on the same failures, and the same seed gives the same JSON', async () => {
    const args = ['simulate', ...example, '--failures', '200', '--seed', '11', '--compare', '--json'];
    const [first, second] = await Promise.all([escalator(args), escalator(args)]);
    expect(first.code, first.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const report = json<SimulationReport>(first);
    expect(report).toMatchObject({ seed: 11, stop: { failures: 200 }, start: '2026-03-02T00:00:00Z', policyVersion: expect.stringMatching(/^sha256:/) });
    expect(report.runs.map((r) => [r.model, r.escalations])).toEqual([
      ['sequential', 200],
      ['parallel', 200],
      ['dynamic', 200],
    ]);
    const gate = report.runs[0]!.gates[0]!;
    expect(Object.keys(gate)).toEqual(['gate', 'escalations', 'resolution', 'timeoutShare', 'exhaustedShare', 'rollbackShare', 'overrideShare', 'outcomes', 'depth', 'concentration', 'costOfDelay']);
    const other = json<SimulationReport>(await escalator(['simulate', ...example, '--failures', '200', '--seed', '12', '--compare', '--json']));
    expect(other.runs).not.toEqual(report.runs);
  });

  it('prices delay where the policy gives a gate its cost per hour', async () => {
    const policy = join(dir, 'costly.yaml');
    await writeFile(
      policy,
      `version: 1
people:
  alice: { email: alice@example.com, workingHours: "Mon-Sun 00:00-24:00" }
gates:
  build: { model: sequential, chain: [{ reviewers: [alice], timeout: 1h }], costPerHour: 1200 }
`,
    );
    const team = join(dir, 'steady.yaml');
    await writeFile(team, 'version: 1\ndefaults: { response: 10m, ignore: 0, reject: 0 }\nfailures:\n  build: { rate: 5/day }\n');
    const run = await escalator(['simulate', '--policy', policy, '--team', team, '--failures', '10']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/│ build\s+│ sequential\s+│ 1\s+│ 10\s+│ 10m\s+│ 10m\s+│ 2,000 \(200 each\)\s+│/);
  });

  it('refuses a bad team file with exit 2, naming the file, line, path and problem', async () => {
    const team = join(dir, 'bad-team.yaml');
    await writeFile(team, 'version: 1\ndefaults:\n  ignore: 1.5\nfailures:\n  unit-tests: { rate: 3 per day }\n');
    const run = await escalator(['simulate', '--policy', 'policies/example.yaml', '--team', team]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: invalid team file ${team}`);
    expect(run.stderr).toContain(`${team}:3:11 defaults.ignore: a probability from 0 to 1`);
    expect(run.stderr).toContain(`${team}:5:23 failures.unit-tests.rate: "3 per day" is not a rate such as 3/day, 10/week or 0.5/hour`);

    const unknown = join(dir, 'unknown-person.yaml');
    await writeFile(unknown, 'version: 1\npeople:\n  zed: { ignore: 0.1 }\nfailures:\n  unit-tests: { rate: 3/day }\n');
    const jsonRun = await escalator(['simulate', '--policy', 'policies/example.yaml', '--team', unknown, '--json']);
    expect(jsonRun.code).toBe(2);
    expect(JSON.parse(jsonRun.stderr)).toMatchObject({ error: { code: 'InvalidInput', details: [{ path: `${unknown}:3:8 people.zed`, message: expect.stringContaining('"zed" is not under the policy\'s people') }] } });
  });

  it('exits 2 for a missing team file or conflicting flags, and 1 for an invalid policy', async () => {
    const missing = await escalator(['simulate', '--policy', 'policies/example.yaml', '--team', join(dir, 'none.yaml')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no such file');
    const both = await escalator(['simulate', ...example, '--days', '3', '--failures', '10']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("option '--failures <count>' cannot be used with option '--days <count>'");
    const policy = join(dir, 'invalid-policy.yaml');
    await writeFile(policy, 'version: 1\npeople: {}\ngates: {}\n');
    const invalid = await escalator(['simulate', '--policy', policy, '--team', 'policies/sample-team.yaml']);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain(`error: invalid policy ${policy}`);
  });
});
