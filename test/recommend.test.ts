import { describe, expect, it } from 'vitest';
import { type ChecklistAnswers, recommend } from '../domain/simulation/recommend.js';
import { runSimulation, type SimulationReport } from '../domain/simulation/report.js';
import { syntheticGate, syntheticSetup } from '../domain/simulation/synthetic.js';
import { escalator } from './helpers/cli-run.js';

const small: ChecklistAnswers = { teamSize: 8, failuresPerDay: 2 / 7, approvals: 2, regulated: true, onCall: 'business-hours', codeowners: false, historyMonths: 0, costPerHour: 500 };
const platform: ChecklistAnswers = { teamSize: 60, failuresPerDay: 20, approvals: 1, regulated: false, onCall: 'none', codeowners: true, historyMonths: 6, costPerHour: 10_000 };

function simulated(answers: ChecklistAnswers, failures = 300): SimulationReport {
  const { policy, team } = syntheticSetup(answers);
  return runSimulation({ policy, policyVersion: 'synthetic', team, seed: 1, stop: { failures } }, { compare: true });
}

describe('recommend: the decision checklist', () => {
  it('recommends sequential to a small regulated team, quoting the answers that drove it', () => {
    const recommendation = recommend(small);
    expect(recommendation.model).toBe('sequential');
    expect(recommendation.scores).toEqual({ sequential: 7, parallel: 1, dynamic: 0 });
    expect(recommendation.reasons.map((r) => r.answer)).toEqual(['team size 8', 'regulated', '2 approvals needed', '500 an hour of delay']);
    expect(recommendation.reasons[0]!.checklist).toContain('If fewer than 10 engineers, start with sequential');
    expect(recommendation.reasons[1]!.checklist).toContain('If regulated, sequential with full audit trail is often required');
  });

  it('rules dynamic out where several approvals are needed, or where there is no ownership data or history', () => {
    expect(recommend(small).ruledOut.map((out) => [out.model, out.answer])).toEqual([
      ['dynamic', '2 approvals needed'],
      ['dynamic', 'no code-ownership data, 0 month(s) of gate history'],
    ]);
    // Even a large, fast platform team cannot have dynamic collect two approvals.
    expect(recommend({ ...platform, approvals: 2 }).model).toBe('parallel');
    expect(recommend({ ...platform, historyMonths: 1 }).ruledOut[0]!.why).toContain('collect data for 3 months before implementing dynamic');
  });

  it('recommends parallel to a mid-sized team with frequent failures and round-the-clock on-call', () => {
    const recommendation = recommend({ teamSize: 20, failuresPerDay: 5, approvals: 1, regulated: false, onCall: '24x7', codeowners: false, historyMonths: 0, costPerHour: 3000 });
    expect(recommendation.model).toBe('parallel');
    expect(recommendation.reasons.find((r) => r.answer === '5 failures a day')).toMatchObject({ points: { sequential: -2, parallel: 1, dynamic: 1 }, checklist: expect.stringContaining('more than once per day, avoid sequential') });
  });

  it('recommends dynamic to a large team with ownership data, history and an expensive delay', () => {
    const recommendation = recommend(platform);
    expect(recommendation.model).toBe('dynamic');
    expect(recommendation.scores).toEqual({ sequential: -4, parallel: 4, dynamic: 7 });
    expect(recommendation.ruledOut).toEqual([]);
  });

  it('lets the simulation decide between models the checklist leaves level, and says so', () => {
    // A small team (sequential) without on-call (parallel reaches whoever is around): one point each.
    const tied: ChecklistAnswers = { teamSize: 8, failuresPerDay: 0.5, approvals: 1, regulated: false, onCall: 'none', codeowners: false, historyMonths: 0, costPerHour: 2000 };
    expect(recommend(tied)).toMatchObject({ model: 'sequential', scores: { sequential: 1, parallel: 1 } });
    const runs = simulated(tied).runs;
    const recommendation = recommend(tied, runs);
    const cost = (model: string) => runs.find((r) => r.model === model)!.gates[0]!.costOfDelay!.total;
    expect(recommendation.model).toBe(cost('sequential') <= cost('parallel') ? 'sequential' : 'parallel');
    expect(recommendation.notes[0]).toBe(`the checklist leaves sequential and parallel level (1 point each); the simulation's lower cost of delay decides for ${recommendation.model}`);
  });
});

describe('recommend: the synthetic team', () => {
  it('builds a policy and team from the answers, and the three models run on it with the same failures', () => {
    const { policy, team } = syntheticSetup(platform);
    expect(Object.keys(policy.people)).toHaveLength(60);
    expect(policy.gates[syntheticGate]).toMatchObject({ model: 'parallel', reviewers: ['p01', 'p02', 'p03', 'p04', 'p05', 'p06'], quorum: { approve: 1 }, costPerHour: 10_000 });
    expect(policy.codeowners).toContain('/p01-area/ @p01');
    expect(team.failures[syntheticGate]!.rate).toBeCloseTo(20 / 86_400_000, 15);
    const report = simulated(platform, 200);
    expect(report.runs.map((r) => [r.model, r.escalations])).toEqual([
      ['sequential', 200],
      ['parallel', 200],
      ['dynamic', 200],
    ]);
  });

  it('gives a quiet-hours rotation to a team on call around the clock', () => {
    const { policy } = syntheticSetup({ ...small, onCall: '24x7' });
    expect(policy.quietHours).toMatchObject({ notify: 'primary-oncall-only', oncall: 'primary' });
    expect(policy.rotations.primary!.members).toEqual(['p01', 'p02', 'p03', 'p04', 'p05', 'p06']);
  });
});

const flags = ['--team-size', '8', '--failure-rate', '2/week', '--approvals', '2', '--regulated', 'yes', '--on-call', 'business-hours', '--codeowners', 'no', '--history-months', '0', '--cost-per-hour', '500', '--failures', '200'];

describe('escalator recommend', () => {
  it('prints the model, the checklist lines behind it and the simulation that backs it', async () => {
    const run = await escalator(['recommend', ...flags]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^Recommended model: sequential\n/);
    expect(run.stdout).toContain('  team size 8: sequential +2\n      "Team size: If fewer than 10 engineers, start with sequential; 10–30, try parallel; 30+, consider dynamic."');
    expect(run.stdout).toContain('Scores: sequential 7, parallel 1, dynamic 0 (ruled out)');
    expect(run.stdout).toContain('Simulation of the three models on a team built from the answers (8 people, 2 approval(s), 200 failures each, seed 1)');
    expect(run.stdout).toMatch(/│ sequential │ 2\s+│/);
    expect(run.stdout).toMatch(/│ dynamic\s+│ 1\s+│/);
  });

  it('answers in JSON, the same for the same seed', async () => {
    const [first, second] = await Promise.all([escalator(['recommend', ...flags, '--json']), escalator(['recommend', ...flags, '--json'])]);
    expect(first.code, first.stderr).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    const result = JSON.parse(first.stdout) as { answers: ChecklistAnswers; recommendation: { model: string }; simulation: SimulationReport };
    expect(result.answers).toEqual({ ...small, failuresPerDay: 2 / 7 });
    expect(result.recommendation.model).toBe('sequential');
    expect(result.simulation.runs).toHaveLength(3);
  });

  it('without a terminal, exits 2 naming every checklist flag left out', async () => {
    const run = await escalator(['recommend', '--team-size', '8']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: the checklist is not fully answered');
    for (const flag of ['--failure-rate', '--approvals', '--regulated', '--on-call', '--codeowners', '--history-months', '--cost-per-hour']) expect(run.stderr).toContain(`  ${flag}: `);
    const bad = await escalator(['recommend', ...flags.slice(0, 2), '--failure-rate', 'often']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("option '--failure-rate <rate>' argument 'often' is invalid. a rate such as 3/day, 2/week or 1/month");
  });
});
