import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../domain/policy-parser.js';
import { runSimulation } from '../../domain/simulation/report.js';
import { simulate, type StopRule } from '../../domain/simulation/run.js';
import { parseTeamFile } from '../../domain/simulation/team-file.js';

const MINUTE = 60_000;

/** Three people who work around the clock in UTC; alice holds the one step, bob backs her up, erin is the tier. */
const policyYaml = (gate: string, extra = '') => `version: 1
timezone: UTC
people:
  alice: { email: alice@example.com, timezone: UTC, workingHours: "Mon-Sun 00:00-24:00", backup: bob }
  bob:   { email: bob@example.com, timezone: UTC, workingHours: "Mon-Sun 00:00-24:00" }
  erin:  { email: erin@example.com, timezone: UTC, workingHours: "Mon-Sun 00:00-24:00" }
tiers:
  leads: { reviewers: [erin], timeout: 30m }
${extra}gates:
  build:
${gate}`;

const chainGate = `    model: sequential
    chain: [{ reviewers: [alice], timeout: 1h }]
    escalateTo: leads
    costPerHour: 600
`;

function run(policyText: string, teamText: string, options: { seed?: number; stop?: StopRule; compare?: boolean } = {}) {
  const { policy, version } = parsePolicy(policyText, 'policy.yaml');
  const team = parseTeamFile(teamText, 'team.yaml', policy);
  return runSimulation({ policy, policyVersion: version, team, seed: options.seed ?? 1, stop: options.stop ?? { failures: 40 } }, { compare: options.compare ?? false });
}

const build = (report: ReturnType<typeof run>, model = 0) => report.runs[model]!.gates.find((g) => g.gate === 'build')!;
const person = (report: ReturnType<typeof run>, id: string) => report.runs[0]!.people.find((p) => p.person === id)!;

describe('simulate on scenarios small enough to check by hand', () => {
  it('a reviewer who always answers in exactly 10 minutes resolves every failure in 10 minutes', () => {
    const report = run(policyYaml(chainGate), 'version: 1\ndefaults: { response: 10m, ignore: 0, reject: 0 }\nfailures:\n  build: { rate: 10/day }\n');
    const gate = build(report);
    expect(gate.escalations).toBe(40);
    expect(gate.resolution).toEqual({ p50Ms: 10 * MINUTE, p90Ms: 10 * MINUTE, meanMs: 10 * MINUTE });
    expect(gate).toMatchObject({ timeoutShare: 0, exhaustedShare: 0, depth: { '0': 40 }, outcomes: { passed: 40 } });
    expect(gate.concentration).toEqual({ decisions: 40, topResponder: 'alice', topShare: 1, hhi: 1 });
    // 600 an hour for 10 minutes is 100 a failure.
    expect(gate.costOfDelay).toEqual({ perHour: 600, total: 4000, perEscalation: 100 });
    expect(person(report, 'alice')).toEqual({ person: 'alice', requests: 40, decisions: 40, outOfHoursRequests: 0 });
    expect(person(report, 'bob').requests).toBe(0);
  });

  it('reviewers who always ignore requests time out through the backup and the tier to the exhausted action', () => {
    const report = run(policyYaml(chainGate), 'version: 1\ndefaults: { ignore: 1 }\nfailures:\n  build: { rate: 10/day }\n');
    const gate = build(report);
    // alice 1h, her backup bob 1h, the tier's erin 30m: two hand-offs, then nobody is left.
    expect(gate.resolution.p50Ms).toBe(150 * MINUTE);
    expect(gate.resolution.p90Ms).toBe(150 * MINUTE);
    expect(gate).toMatchObject({ timeoutShare: 1, exhaustedShare: 1, rollbackShare: 0, depth: { '2': 40 }, outcomes: { blocked: 40 } });
    expect(gate.concentration.decisions).toBe(0);
    for (const id of ['alice', 'bob', 'erin']) expect(person(report, id)).toMatchObject({ requests: 40, decisions: 0 });
  });

  it('rolls back when the policy says so, and counts it', () => {
    const report = run(policyYaml(`${chainGate}    onExhausted: { action: rollback, endpoint: "https://deploy.example.com/rollback" }\n`), 'version: 1\ndefaults: { ignore: 1 }\nfailures:\n  build: { rate: 10/day }\n');
    expect(build(report)).toMatchObject({ exhaustedShare: 1, rollbackShare: 1, outcomes: { 'rolled-back': 40 } });
  });

  it('the change’s author never approves: their step times out and the backup decides', () => {
    const report = run(policyYaml(chainGate), 'version: 1\ndefaults: { response: 10m, ignore: 0, reject: 0 }\nfailures:\n  build: { rate: 10/day, authors: [alice] }\n');
    expect(build(report).resolution.p50Ms).toBe(70 * MINUTE);
    expect(build(report)).toMatchObject({ timeoutShare: 1, depth: { '1': 40 } });
    expect(person(report, 'bob').decisions).toBe(40);
  });

  it('counts parallel override votes as overrides', () => {
    const gate = `    model: parallel\n    reviewers: [alice, bob, erin]\n    quorum: { approve: 2, override: 2 }\n    decideWithin: 1h\n`;
    const report = run(policyYaml(gate), 'version: 1\ndefaults: { response: 10m, ignore: 0, reject: 0, override: 1 }\nfailures:\n  build: { rate: 10/day }\n');
    expect(build(report)).toMatchObject({ overrideShare: 1, outcomes: { overridden: 40 }, resolution: { p50Ms: 10 * MINUTE } });
  });

  it('the fastest of a parallel group decides everything: one responder, HHI 1', () => {
    const gate = `    model: parallel\n    reviewers: [alice, bob]\n    decideWithin: 1h\n`;
    const team = 'version: 1\ndefaults: { response: 20m, ignore: 0, reject: 0 }\npeople:\n  alice: { response: 5m }\nfailures:\n  build: { rate: 10/day }\n';
    const report = run(policyYaml(gate), team);
    expect(build(report).concentration).toEqual({ decisions: 40, topResponder: 'alice', topShare: 1, hhi: 1 });
    expect(person(report, 'bob')).toMatchObject({ requests: 40, decisions: 0 });
  });

  it('makes people asked together ignore more often than people asked alone (bystander effect)', () => {
    const team = 'version: 1\ndefaults: { response: 10m, ignore: 0, reject: 0, bystander: 1 }\nfailures:\n  build: { rate: 10/day }\n';
    // Asked alone, alice always answers; asked with two others, everyone leaves it to someone else.
    expect(build(run(policyYaml(chainGate), team)).resolution.p50Ms).toBe(10 * MINUTE);
    const group = build(run(policyYaml(`    model: parallel\n    reviewers: [alice, bob, erin]\n    decideWithin: 1h\n`), team));
    expect(group).toMatchObject({ timeoutShare: 1, exhaustedShare: 1, concentration: { decisions: 0 } });
  });

  it('requests outside working hours wait for the next working day and count as out-of-hours interruptions', () => {
    const policy = policyYaml(`    model: sequential\n    chain: [{ reviewers: [alice], timeout: 20h }]\n`).replace('alice: { email: alice@example.com, timezone: UTC, workingHours: "Mon-Sun 00:00-24:00"', 'alice: { email: alice@example.com, timezone: UTC, workingHours: "Mon-Fri 09:00-17:00"');
    const team = 'version: 1\ndefaults: { response: 10m, ignore: 0, reject: 0, outOfHours: { answer: 0, slowdown: 1 } }\nfailures:\n  build: { rate: 10/day, during: "Mon-Thu 18:00-20:00" }\n';
    const report = run(policy, team);
    const gate = build(report);
    // Raised between 18:00 and 20:00, decided at 09:10 the next morning.
    expect(gate.resolution.p50Ms).toBeGreaterThanOrEqual(13 * 60 * MINUTE + 10 * MINUTE);
    expect(gate.resolution.p90Ms).toBeLessThanOrEqual(15 * 60 * MINUTE + 10 * MINUTE);
    expect(person(report, 'alice')).toEqual({ person: 'alice', requests: 40, decisions: 40, outOfHoursRequests: 40 });
  });

  it('stops taking failures after the days given and lets the last escalations finish', () => {
    const report = run(policyYaml(chainGate), 'version: 1\ndefaults: { response: 10m, ignore: 0 }\nfailures:\n  build: { rate: 24/day }\n', { stop: { days: 2 } });
    expect(build(report).escalations).toBeGreaterThan(30);
    expect(build(report).escalations).toBeLessThan(70);
    expect(Object.values(build(report).outcomes).reduce((a, b) => a + b, 0)).toBe(build(report).escalations);
  });
});

describe('simulate with the example policy and the sample team', () => {
  const policyText = readFileSync('policies/example.yaml', 'utf8');
  const teamText = readFileSync('policies/sample-team.yaml', 'utf8');

  it('gives the same report for the same seed, and another for another seed', () => {
    const once = run(policyText, teamText, { seed: 7, stop: { days: 14 }, compare: true });
    const again = run(policyText, teamText, { seed: 7, stop: { days: 14 }, compare: true });
    const other = run(policyText, teamText, { seed: 8, stop: { days: 14 }, compare: true });
    expect(again).toEqual(once);
    expect(other.runs).not.toEqual(once.runs);
  });

  it('runs the three models on the same failures', () => {
    const report = run(policyText, teamText, { stop: { days: 14 }, compare: true });
    expect(report.runs.map((r) => r.model)).toEqual(['sequential', 'parallel', 'dynamic']);
    const counts = report.runs.map((r) => r.gates.map((g) => [g.gate, g.escalations]));
    expect(counts[1]).toEqual(counts[0]);
    expect(counts[2]).toEqual(counts[0]);
    // Every gate runs the model of its column, and only dynamic gives fewer approvals than a chain asks for.
    expect(report.runs[2]!.gateModels['security-scan']).toEqual({ model: 'dynamic', approvals: 1 });
    expect(report.runs[1]!.gateModels['security-scan']).toEqual({ model: 'parallel', approvals: 2 });
    expect(report.runs[0]!.gateModels.performance).toEqual({ model: 'sequential', approvals: 2 });
  });

  it('ends every escalation it starts, and every request it counts went to someone in the policy', () => {
    const { policy, version } = parsePolicy(policyText, 'example.yaml');
    const team = parseTeamFile(teamText, 'sample-team.yaml', policy);
    const report = simulate({ policy, policyVersion: version, team, seed: 3, stop: { failures: 300 } });
    expect(report.escalations).toBe(300);
    for (const gate of report.gates) expect(Object.values(gate.outcomes).reduce((a, b) => a + b, 0)).toBe(gate.escalations);
    expect(report.people.map((p) => p.person).sort()).toEqual(Object.keys(policy.people).sort());
    const decisions = report.people.reduce((sum, p) => sum + p.decisions, 0);
    expect(decisions).toBe(report.gates.reduce((sum, g) => sum + g.concentration.decisions, 0));
  });
});
