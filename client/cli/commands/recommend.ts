import { createInterface } from 'node:readline/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { ModelName } from '../../../domain/escalation.js';
import { type ChecklistAnswers, type Recommendation, recommend } from '../../../domain/simulation/recommend.js';
import { runSimulation, type SimulationReport } from '../../../domain/simulation/report.js';
import { syntheticSetup } from '../../../domain/simulation/synthetic.js';
import { modelNames } from '../../../domain/simulation/variants.js';
import { InvalidInputError } from '../../errors.js';
import { durationText } from '../duration-text.js';
import { printJson, printLine, table } from '../output.js';
import { positiveInteger } from '../positive-integer.js';

/** The checklist flags by commander's names for them (`--failure-rate` is `failureRate`), and the rest. */
type RecommendFlags = Record<string, unknown> & { failures: number; seed: number; json?: boolean };

/** Each checklist question: its flag, how it is asked, and how an answer is read (throws when it cannot be). */
const questions: Array<{ key: keyof ChecklistAnswers; flag: string; ask: string; parse: (text: string) => ChecklistAnswers[keyof ChecklistAnswers] }> = [
  { key: 'teamSize', flag: '--team-size <engineers>', ask: 'How many engineers are on the team?', parse: positiveInteger },
  { key: 'failuresPerDay', flag: '--failure-rate <rate>', ask: 'How often does a gate fail and need a person (e.g. 3/day, 2/week)?', parse: ratePerDay },
  { key: 'approvals', flag: '--approvals <count>', ask: 'How many different people must approve a failed gate (2 or more: separation of duties)?', parse: positiveInteger },
  { key: 'regulated', flag: '--regulated <yes|no>', ask: 'Is the release process regulated (an auditor wants ordered sign-off)? (yes/no)', parse: yesNo },
  { key: 'onCall', flag: '--on-call <coverage>', ask: 'Who answers outside working hours? (none, business-hours, 24x7)', parse: onCallOf },
  { key: 'codeowners', flag: '--codeowners <yes|no>', ask: 'Do you have code-ownership data such as CODEOWNERS? (yes/no)', parse: yesNo },
  { key: 'historyMonths', flag: '--history-months <months>', ask: 'How many months of gate outcomes have you recorded?', parse: wholeNumber },
  { key: 'costPerHour', flag: '--cost-per-hour <amount>', ask: 'What does an hour of a blocked gate cost (any currency)?', parse: amount },
];

/** `escalator recommend`: the guide's decision checklist, answered by flags or questions, backed by a simulation. */
export function registerRecommend(program: Command): void {
  const command = program
    .command('recommend')
    .description("recommend an escalation model from the guide's decision checklist, with the reasons and a simulation of the three models on a team built from the answers (offline)");
  for (const question of questions) {
    const option = new Option(question.flag, question.ask).argParser((text: string) => commanderParsed(question.parse, text));
    if (question.key === 'onCall') option.choices(['none', 'business-hours', '24x7']);
    command.addOption(option);
  }
  command
    .option('--failures <count>', 'simulated gate failures per model', positiveInteger, 500)
    .option('--seed <number>', 'the seed of the simulation', (text: string) => commanderParsed(wholeNumber, text), 1)
    .option('--json', 'print { answers, recommendation, simulation } as JSON')
    .addHelpText('after', '\nMissing answers are asked for when stdin is a terminal; otherwise every checklist flag is needed (exit 2 names the missing ones).')
    .action(async (flags: RecommendFlags) => {
      const answers = await completeAnswers(flags);
      const { policy, team } = syntheticSetup(answers);
      const simulation = runSimulation({ policy, policyVersion: 'synthetic', team, seed: flags.seed, stop: { failures: flags.failures } }, { compare: true });
      const recommendation = recommend(answers, simulation.runs);
      if (flags.json) return printJson({ answers, recommendation, simulation });
      printLine(renderRecommendation(answers, recommendation, simulation));
    });
}

/** The flags given, with the missing answers asked for at a terminal; elsewhere a missing answer is a usage error. */
async function completeAnswers(flags: RecommendFlags): Promise<ChecklistAnswers> {
  const given = (question: (typeof questions)[number]) => flags[new Option(question.flag).attributeName()] as ChecklistAnswers[keyof ChecklistAnswers] | undefined;
  const missing = questions.filter((question) => given(question) === undefined);
  if (missing.length && !process.stdin.isTTY) {
    throw new InvalidInputError('the checklist is not fully answered', missing.map((question) => ({ path: question.flag.split(' ')[0]!, message: question.ask })));
  }
  const answers: Partial<ChecklistAnswers> = Object.fromEntries(questions.flatMap((question) => (given(question) === undefined ? [] : [[question.key, given(question)]])));
  if (!missing.length) return answers as ChecklistAnswers;
  // Questions go to stderr, so stdout stays the answer alone (JSON with --json).
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    for (const question of missing) {
      for (;;) {
        // Ctrl+D or Ctrl+C rejects here, which ends the command: only an answer that cannot be read is asked again.
        const text = await prompt.question(`${question.ask} `).catch(() => {
          throw new InvalidInputError('the checklist was not answered', [{ path: question.flag.split(' ')[0]!, message: question.ask }]);
        });
        try {
          Object.assign(answers, { [question.key]: question.parse(text.trim()) });
          break;
        } catch (error) {
          process.stderr.write(`  ${(error as Error).message}\n`);
        }
      }
    }
  } finally {
    prompt.close();
  }
  return answers as ChecklistAnswers;
}

/** The recommendation, the checklist lines behind it, and the simulated models side by side. */
export function renderRecommendation(answers: ChecklistAnswers, recommendation: Recommendation, simulation: SimulationReport): string {
  const lines = [`Recommended model: ${recommendation.model}`, '', 'Why: each answer, the checklist line it was judged by, and the points it gave'];
  for (const reason of recommendation.reasons) {
    lines.push(`  ${reason.answer}: ${pointsText(reason.points)}`, `      "${reason.checklist}"`);
  }
  const scores = modelNames.map((model) => `${model} ${recommendation.scores[model]}${recommendation.ruledOut.some((out) => out.model === model) ? ' (ruled out)' : ''}`);
  lines.push(`Scores: ${scores.join(', ')}`);
  for (const out of recommendation.ruledOut) lines.push(`Ruled out: ${out.model}, because of ${out.answer}: ${out.why}`);
  for (const note of recommendation.notes) lines.push(`Note: ${note}`);
  const reviewers = simulation.runs[0]?.people.length ?? 0;
  lines.push(
    '',
    `Simulation of the three models on a team built from the answers (${reviewers} people, ${answers.approvals} approval(s), ${simulation.runs[0]?.escalations ?? 0} failures each, seed ${simulation.seed}):`,
    table(
      ['model', 'approvals', 'p50', 'p90', 'timed out', 'exhausted', 'cost of delay', 'top responder', 'HHI'],
      simulation.runs.map((run) => {
        const gate = run.gates[0]!;
        return [
          run.model,
          Object.values(run.gateModels)[0]?.approvals ?? '-',
          gate.resolution.p50Ms === null ? '-' : durationText(gate.resolution.p50Ms),
          gate.resolution.p90Ms === null ? '-' : durationText(gate.resolution.p90Ms),
          percent(gate.timeoutShare),
          percent(gate.exhaustedShare),
          gate.costOfDelay ? Math.round(gate.costOfDelay.total).toLocaleString('en-US') : '-',
          gate.concentration.topResponder ? `${gate.concentration.topResponder} ${percent(gate.concentration.topShare)}` : '-',
          gate.concentration.hhi.toFixed(2),
        ];
      }),
    ),
  );
  return lines.join('\n');
}

/** A parse whose error commander reports as a usage error naming the flag. */
function commanderParsed<T>(parse: (text: string) => T, text: string): T {
  try {
    return parse(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function pointsText(points: Partial<Record<ModelName, number>>): string {
  return modelNames.flatMap((model) => (points[model] ? [`${model} ${points[model]! > 0 ? '+' : ''}${points[model]}`] : [])).join(', ');
}

function percent(share: number): string {
  return `${(share * 100).toFixed(share > 0 && share < 0.1 ? 1 : 0)}%`;
}

function ratePerDay(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(hour|day|week|month)\s*$/.exec(text);
  const perDay = match ? Number(match[1]) * { hour: 24, day: 1, week: 1 / 7, month: 12 / 365 }[match[2] as 'hour' | 'day' | 'week' | 'month'] : Number.NaN;
  if (!(perDay >= 0.001 && perDay <= 10_000)) throw new Error('a rate such as 3/day, 2/week or 1/month (at least one failure in about three years)');
  return perDay;
}

function yesNo(text: string): boolean {
  const answer = text.trim().toLowerCase();
  if (['yes', 'y', 'true'].includes(answer)) return true;
  if (['no', 'n', 'false'].includes(answer)) return false;
  throw new Error('yes or no');
}

function onCallOf(text: string): ChecklistAnswers['onCall'] {
  const answer = text.trim().toLowerCase();
  if (answer === 'none' || answer === 'business-hours' || answer === '24x7') return answer;
  throw new Error('none, business-hours or 24x7');
}

function wholeNumber(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value)) throw new Error('a whole number, 0 or more');
  return value;
}

function amount(text: string): number {
  const value = Number(text.trim().replace(/[,_]/g, ''));
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) throw new Error('an amount, 0 or more, such as 2500');
  return value;
}
