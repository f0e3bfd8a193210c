/**
 * `npm run bench:simulator`: how many escalations `escalator simulate` runs per second of CPU on one
 * core, for the policy as written and for each model of `--compare`. The example policy and the
 * sample team by default (`--policy`, `--team`), `--failures` per run (20,000 by default; at the
 * sample team's ~6 failures a day that is about nine years of virtual time, so the per-day costs of
 * quiet hours, rotations and absences are in the figure too).
 *
 * The first run is also timed on its own: it pays for the process-wide caches (zone offsets per day)
 * the later runs find filled. Also measured, for scale: the engine alone on the same plans, driven only
 * by their deadlines with nobody answering, a floor no simulator built on the engine can go below.
 * CPU time is the process's user + system time, so other load on the machine does not count.
 * Each figure is the best of `--repeat` runs (3). Writes bench/results/simulator-<timestamp>.json and
 * prints a table.
 */
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { newEscalation, step } from '../domain/engine/engine.js';
import { summarize } from '../domain/engine/state.js';
import { nextDeadline } from '../domain/engine/view.js';
import { parsePolicy } from '../domain/policy-parser.js';
import { Arrivals } from '../domain/simulation/arrivals.js';
import { PlanCache, rotationClocks } from '../domain/simulation/plan-cache.js';
import { simulate } from '../domain/simulation/run.js';
import { parseTeamFile } from '../domain/simulation/team-file.js';
import { modelNames, policyAs } from '../domain/simulation/variants.js';

const GOAL_PER_SECOND = 10_000;
const { values: args } = parseArgs({
  options: {
    policy: { type: 'string', default: 'policies/example.yaml' },
    team: { type: 'string', default: 'policies/sample-team.yaml' },
    failures: { type: 'string', default: '20000' },
    seed: { type: 'string', default: '1' },
    repeat: { type: 'string', default: '3' },
  },
});
const repeat = Number(args.repeat);
const failures = Number(args.failures);
const seed = Number(args.seed);

const { policy, version } = parsePolicy(readFileSync(args.policy, 'utf8'), args.policy);
const team = parseTeamFile(readFileSync(args.team, 'utf8'), args.team, policy);

/** CPU and wall milliseconds of `task`, the best of `times` runs: other load on a shared machine only ever adds. */
function measure<T>(task: () => T, times = repeat): { result: T; cpuMs: number; wallMs: number } {
  let best: { result: T; cpuMs: number; wallMs: number } | undefined;
  for (let i = 0; i < times; i++) {
    const cpu = process.cpuUsage();
    const wall = performance.now();
    const result = task();
    const used = process.cpuUsage(cpu);
    const run = { result, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - wall };
    if (!best || run.cpuMs < best.cpuMs) best = run;
  }
  return best!;
}

const rows: Array<{ run: string; escalations: number; cpuMs: number; wallMs: number; perCpuSecond: number }> = [];
const cold = measure(() => simulate({ policy, policyVersion: version, team, seed, stop: { failures } }), 1);
rows.push({ run: 'simulate, as-written, first run', escalations: cold.result.escalations, cpuMs: cold.cpuMs, wallMs: cold.wallMs, perCpuSecond: (cold.result.escalations / cold.cpuMs) * 1000 });
for (const model of ['as-written', ...modelNames] as const) {
  const variant = model === 'as-written' ? policy : policyAs(policy, model);
  const { result, cpuMs, wallMs } = measure(() => simulate({ policy: variant, policyVersion: version, team, seed, stop: { failures } }));
  rows.push({ run: `simulate, ${model}`, escalations: result.escalations, cpuMs, wallMs, perCpuSecond: (result.escalations / cpuMs) * 1000 });
}

// The engine alone on the same plans: started, then every deadline until the end.
const arrivals = new Arrivals(team, policy.timezone, seed);
const plans = new PlanCache(policy, rotationClocks(policy), Date.parse(team.start));
let at = Date.parse(team.start);
const inputs = Array.from({ length: Math.min(failures, 20_000) }, (_, n) => {
  const gate = n % arrivals.gateCount;
  at = arrivals.next(gate, at);
  const failure = arrivals.failure(gate, n, at);
  return { failure: summarize(failure), at, plan: plans.planFor(failure, at, n)! };
});
const engine = measure(() =>
  inputs.map(({ plan, failure, at: start }, n) => {
    let state = step(newEscalation({ escalationId: `bench-${n}`, failure, at: start }), { kind: 'started', at: start, snapshot: { policyVersion: version, policySource: 'bench', plan }, seed: n }).state;
    if (plan.model === 'dynamic') state = step(state, { kind: 'routing-answered', at: start, decision: { coldStart: false, reason: 'bench', chosen: [plan.candidates[0]!], ranked: plan.candidates, scores: [] } }).state;
    for (let deadline = nextDeadline(state); deadline; deadline = nextDeadline(state)) state = step(state, { kind: 'deadline-due', at: deadline.at }).state;
    return state.status;
  }),
);
rows.push({ run: 'engine alone (nobody answers)', escalations: inputs.length, cpuMs: engine.cpuMs, wallMs: engine.wallMs, perCpuSecond: (inputs.length / engine.cpuMs) * 1000 });

const simulated = rows.filter((row) => row.run.startsWith('simulate') && !row.run.endsWith('first run'));
const overall = (simulated.reduce((sum, row) => sum + row.escalations, 0) / simulated.reduce((sum, row) => sum + row.cpuMs, 0)) * 1000;
const table = new Table({ head: ['run', 'escalations', 'CPU s', 'wall s', 'escalations / CPU s'], style: { head: [], border: [] } });
for (const row of rows) table.push([row.run, row.escalations, (row.cpuMs / 1000).toFixed(2), (row.wallMs / 1000).toFixed(2), Math.round(row.perCpuSecond).toLocaleString('en-US')]);
console.log(`escalator simulate: ${args.policy} + ${args.team}, ${failures.toLocaleString('en-US')} failures per run, seed ${seed}, Node ${process.version}`);
console.log(table.toString());
console.log(`simulate overall: ${Math.round(overall).toLocaleString('en-US')} escalations per CPU second (goal ${GOAL_PER_SECOND.toLocaleString('en-US')}: ${overall >= GOAL_PER_SECOND ? 'met' : 'not met'})`);

const results = { at: new Date().toISOString(), policy: args.policy, team: args.team, failures, seed, node: process.version, rows, overallPerCpuSecond: overall, goalPerSecond: GOAL_PER_SECOND };
const file = join(dirname(fileURLToPath(import.meta.url)), 'results', `simulator-${results.at.replace(/[:.]/g, '-')}.json`);
await mkdir(dirname(file), { recursive: true });
await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`written to ${file}`);
