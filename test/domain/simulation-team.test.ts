import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../domain/policy-parser.js';
import { EventQueue } from '../../domain/simulation/event-queue.js';
import { concentrationOf, percentile } from '../../domain/simulation/metrics.js';
import { medianOf, randomStream, sample, streamSeed } from '../../domain/simulation/random.js';
import { parseTeamFile } from '../../domain/simulation/team-file.js';
import { TeamFileError } from '../../domain/simulation/team-file-error.js';

const { policy } = parsePolicy(readFileSync('policies/example.yaml', 'utf8'), 'policies/example.yaml');

function problemsOf(yaml: string): TeamFileError['problems'] {
  try {
    parseTeamFile(yaml, 'team.yaml', policy);
  } catch (error) {
    expect(error).toBeInstanceOf(TeamFileError);
    expect((error as Error).message).toContain('invalid team file team.yaml');
    return (error as TeamFileError).problems;
  }
  throw new Error('expected the team file to be refused');
}

describe('team file', () => {
  it('reads the sample team, with durations in milliseconds and rates per millisecond', () => {
    const team = parseTeamFile(readFileSync('policies/sample-team.yaml', 'utf8'), 'policies/sample-team.yaml', policy);
    expect(team.people.alice!.response).toEqual({ lognormal: { median: 600_000, spread: 0.7 } });
    expect(team.failures['unit-tests']!.rate).toBeCloseTo(4 / 86_400_000, 15);
    expect(team.failures['security-scan']!.rate).toBeCloseTo(2 / 604_800_000, 15);
    expect(team.defaults.workingHours).toBe('Mon-Fri 09:00-17:00');
  });

  it('takes a plain duration as a fixed delay, and fills in defaults', () => {
    const team = parseTeamFile('version: 1\ndefaults: { response: 10m }\nfailures:\n  unit-tests: { rate: 3/day }\n', 'team.yaml', policy);
    expect(team.defaults.response).toEqual({ fixed: 600_000 });
    expect(team.start).toBe('2026-03-02T00:00:00Z');
    expect(team.failures['unit-tests']).toMatchObject({ kind: 'custom', services: ['app'], severity: { medium: 1 }, hotfix: 0, authors: ['developer'] });
  });

  it('names the file, path, line and problem of each mistake', () => {
    const problems = problemsOf(`version: 1
defaults:
  ignore: 1.5
  response: { lognormal: { median: 20m, spread: 1 }, fixed: 5m }
failures:
  unit-tests: { rate: 3 per day }
`);
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'defaults.ignore', message: 'a probability from 0 to 1', line: 3, column: 11 },
        expect.objectContaining({ path: 'defaults.response', message: expect.stringContaining('give exactly one of fixed, lognormal, exponential, uniform'), line: 4 }),
        expect.objectContaining({ path: 'failures.unit-tests.rate', message: '"3 per day" is not a rate such as 3/day, 10/week or 0.5/hour', line: 6 }),
      ]),
    );
  });

  it('refuses people the policy does not have, and schedules the policy already gives', () => {
    const problems = problemsOf(`version: 1
people:
  zed: { ignore: 0.1 }
  alice: { timezone: America/New_York, workingHours: "Mon-Fri 10:00-18:00" }
  dave: { workingHours: "Mon-Fri 10:00-18:00" }
failures:
  unit-tests: { rate: 3/day }
`);
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ['people.zed', 3],
      ['people.alice.timezone', 4],
      ['people.alice.workingHours', 4],
    ]);
    expect(problems[0]!.message).toMatch(/"zed" is not under the policy's people, so the engine never asks them/);
    expect(problems[1]!.message).toMatch(/the policy already gives alice the time zone Europe\/Berlin/);
  });

  it('refuses gates the policy has no entry for, unknown keys, bad hours and YAML that does not parse', () => {
    const noWildcard = { ...policy, gates: Object.fromEntries(Object.entries(policy.gates).filter(([key]) => key !== '*')) };
    expect(() => parseTeamFile('version: 1\nfailures:\n  deploy: { rate: 1/day }\n', 'team.yaml', noWildcard)).toThrow(/at failures\.deploy: the policy has no gates entry for "deploy" and no "\*" entry/);
    expect(problemsOf('version: 1\nfailures:\n  unit-tests: { rate: 1/day, during: "weekdays" }\n')[0]).toMatchObject({ path: 'failures.unit-tests.during', message: expect.stringContaining('working hours "weekdays"') });
    expect(problemsOf('version: 1\nfailures:\n  unit-tests: { rate: 1/day, colour: red }\n')[0]!.message).toMatch(/colour/);
    expect(problemsOf('version: 1\nfailures: [\n')[0]).toMatchObject({ path: '(syntax)', line: expect.any(Number) });
    expect(problemsOf('version: 1\nfailures: {}\n')[0]).toMatchObject({ path: 'failures', message: 'at least one gate' });
  });
});

describe('simulation building blocks', () => {
  it('draws the same numbers from the same seed and keys, and different ones otherwise', () => {
    const draws = (seed: number) => Array.from({ length: 5 }, randomStream(seed));
    expect(draws(streamSeed(1, 2, 3))).toEqual(draws(streamSeed(1, 2, 3)));
    expect(draws(streamSeed(1, 2, 3))).not.toEqual(draws(streamSeed(1, 2, 4)));
    expect(draws(streamSeed(1, 2, 3))).not.toEqual(draws(streamSeed(2, 2, 3)));
  });

  it('samples delays around their median', () => {
    const random = randomStream(42);
    for (const distribution of [{ lognormal: { median: 1_200_000, spread: 1 } }, { exponential: { mean: 600_000 } }, { uniform: { min: 0, max: 1_000_000 } }]) {
      const values = Array.from({ length: 20_000 }, () => sample(distribution, random)).sort((a, b) => a - b);
      expect(values[0]).toBeGreaterThanOrEqual(0);
      expect(percentile(values, 50)! / medianOf(distribution)).toBeCloseTo(1, 1);
    }
    expect(sample({ fixed: 600_000 }, random)).toBe(600_000);
  });

  it('hands out events in time order, and in push order at the same instant', () => {
    const queue = new EventQueue<string>();
    [[30, 'c'], [10, 'a1'], [20, 'b'], [10, 'a2'], [10, 'a3']].forEach(([at, item]) => queue.push(at as number, item as string));
    const out: string[] = [];
    for (let next = queue.pop(); next; next = queue.pop()) out.push(next.item);
    expect(out).toEqual(['a1', 'a2', 'a3', 'b', 'c']);
  });

  it('takes nearest-rank percentiles and the HHI of decisions', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
    expect(percentile([], 50)).toBeNull();
    expect(concentrationOf(new Map([['alice', 3], ['bob', 1]]))).toEqual({ decisions: 4, topResponder: 'alice', topShare: 0.75, hhi: 0.625 });
    expect(concentrationOf(new Map())).toEqual({ decisions: 0, topResponder: null, topShare: 0, hhi: 0 });
  });
});
