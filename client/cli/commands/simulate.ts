import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { GateReport, PersonReport } from '../../../domain/simulation/metrics.js';
import { type ModelRun, runSimulation, type SimulationReport } from '../../../domain/simulation/report.js';
import type { StopRule } from '../../../domain/simulation/run.js';
import type { Team } from '../../../domain/simulation/team.js';
import { parseTeamFile } from '../../../domain/simulation/team-file.js';
import { TeamFileError } from '../../../domain/simulation/team-file-error.js';
import type { Policy } from '../../../domain/policy.js';
import { InvalidInputError } from '../../errors.js';
import { durationText } from '../duration-text.js';
import { printJson, printLine, table } from '../output.js';
import { loadPolicyFile } from '../policy-file.js';
import { positiveInteger } from '../positive-integer.js';

type SimulateFlags = { policy: string; team: string; failures?: number; days?: number; seed: number; compare?: boolean; json?: boolean };

/** `escalator simulate`: the policy's escalations in virtual time, with the team's behaviour. Offline. */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('run the escalation engine on simulated gate failures and people, in virtual time (offline): time to resolution, timeouts, depth, load and cost of delay per gate and model')
    .requiredOption('--policy <file>', 'the policy YAML')
    .requiredOption('--team <file>', 'the team YAML: how people answer and how often gates fail (see policies/sample-team.yaml)')
    .addOption(new Option('--failures <count>', 'stop after this many gate failures (all gates together)').argParser(positiveInteger).conflicts('days'))
    .addOption(new Option('--days <count>', 'stop taking failures after this many days of virtual time (default 30)').argParser(positiveInteger))
    .option('--seed <number>', 'the seed of every random draw: the same seed gives the same result', seedOf, 1)
    .option('--compare', 'run sequential, parallel and dynamic on the same failures and people, side by side')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', '\nThe policy file says who exists and when they work; the team file only fills in what it leaves out.\nExits 1 for an invalid policy, 2 for an invalid team file or flags.')
    .action(async (flags: SimulateFlags) => {
      const { policy, version } = await loadPolicyFile(flags.policy);
      const team = await loadTeamFile(flags.team, policy);
      const stop: StopRule = flags.failures !== undefined ? { failures: flags.failures } : { days: flags.days ?? 30 };
      const progress = progressBar();
      const report = runSimulation({ policy, policyVersion: version, team, seed: flags.seed, stop, ...(progress ? { onProgress: progress } : {}) }, { compare: !!flags.compare });
      if (progress) process.stderr.write('\r\x1b[K');
      if (flags.json) return printJson(report);
      printLine(renderSimulation(report));
    });
}

/** Reads and validates a team file; its problems become invalid input (exit 2) naming file, path and line. */
export async function loadTeamFile(file: string, policy: Policy): Promise<Team> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError('cannot read the team file', [{ path: file, message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message }]);
  }
  try {
    return parseTeamFile(text, file, policy);
  } catch (error) {
    if (!(error instanceof TeamFileError)) throw error;
    const fields = error.problems.map((p) => ({ path: `${file}${p.line ? `:${p.line}:${p.column}` : ''} ${p.path}`, message: p.message }));
    throw new InvalidInputError(`invalid team file ${file}`, fields);
  }
}

/** The report as tables: resolution and cost, how escalations went, who answered, and the load per person. */
export function renderSimulation(report: SimulationReport): string {
  const { runs } = report;
  const first = runs[0]!;
  const stop = 'failures' in report.stop ? `${report.stop.failures} gate failures` : `${report.stop.days} days of gate failures`;
  const lines = [`Simulated ${stop} from ${report.start}, seed ${report.seed}: ${first.escalations} escalations${runs.length > 1 ? ' per model' : ''}.`, ''];
  const byGate = first.gates.map((gate) => gate.gate);
  const rows = (cells: (run: ModelRun, gate: GateReport) => Array<string | number>) =>
    byGate.flatMap((name) => runs.map((run) => [name, modelLabel(run, name), ...cells(run, run.gates.find((g) => g.gate === name)!)]));
  lines.push(
    'Time to resolution (failure to end of escalation)',
    table(['gate', 'model', 'approvals', 'failures', 'p50', 'p90', 'cost of delay'], rows((run, g) => [run.gateModels[g.gate]?.approvals ?? '-', g.escalations, duration(g.resolution.p50Ms), duration(g.resolution.p90Ms), cost(g)])),
    '',
    'How escalations went (shares of the failures; depth: escalations ending after that many hand-offs)',
    table(['gate', 'model', 'timed out', 'depth', 'exhausted', 'rolled back', 'overridden'], rows((_, g) => [percent(g.timeoutShare), depthText(g.depth), percent(g.exhaustedShare), percent(g.rollbackShare), percent(g.overrideShare)])),
    '',
    'Who decided (top responder\'s share of the decisions; HHI: sum of squared shares, 1 = one person decides everything)',
    table(['gate', 'model', 'decisions', 'top responder', 'HHI'], rows((_, g) => [g.concentration.decisions, top(g.concentration), g.concentration.hhi.toFixed(2)])),
    '',
    `Load per person${runs.length > 1 ? ` (${runs.map((run) => run.model).join(' / ')})` : ''}; out of hours: requests outside their working hours, on their own clock`,
    table(['person', 'requests', 'decisions', 'out of hours'], first.people.map((person) => [person.person, ...(['requests', 'decisions', 'outOfHoursRequests'] as const).map((field) => perModel(runs, person.person, field))])),
    '',
    `Overall: ${runs.map((run) => `${runs.length > 1 ? `${run.model}: ` : ''}top responder ${top(run.concentration)}, HHI ${run.concentration.hhi.toFixed(2)}`).join('; ')}.`,
  );
  return lines.join('\n');
}

function modelLabel(run: ModelRun, gate: string): string {
  const model = run.gateModels[gate]?.model ?? '-';
  return run.model === 'as-written' ? model : run.model;
}

function perModel(runs: ModelRun[], person: string, field: keyof Omit<PersonReport, 'person'>): string {
  return runs.map((run) => run.people.find((p) => p.person === person)?.[field] ?? 0).join(' / ');
}

function duration(ms: number | null): string {
  return ms === null ? '-' : durationText(ms);
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share > 0 && share < 0.1 ? 1 : 0)}%`;
}

function depthText(depth: Record<string, number>): string {
  return Object.entries(depth).map(([d, n]) => `${d}:${n}`).join(' ') || '-';
}

function top(concentration: GateReport['concentration']): string {
  return concentration.topResponder ? `${concentration.topResponder} ${percent(concentration.topShare)}` : '-';
}

function cost(gate: GateReport): string {
  const delay = gate.costOfDelay;
  if (!delay) return '-';
  return `${Math.round(delay.total).toLocaleString('en-US')} (${Math.round(delay.perEscalation).toLocaleString('en-US')} each)`;
}

function seedOf(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value > 0xffffffff) throw new InvalidArgumentError('expected a whole number from 0 to 4294967295');
  return value;
}

/** A bar on stderr while the simulation runs, only where a person watches it (a terminal). */
function progressBar(): ((share: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  const started = performance.now();
  let shown = -1;
  return (share) => {
    const percentDone = Math.floor(share * 100);
    // A run that ends in a moment needs no bar.
    if (percentDone === shown || performance.now() - started < 300) return;
    shown = percentDone;
    const filled = Math.round(share * 30);
    process.stderr.write(`\rsimulating [${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${percentDone}%`);
  };
}
