import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { expertiseRanker } from '../../../domain/routing-replay/expertise-ranker.js';
import { frequencyRanker } from '../../../domain/routing-replay/frequency-ranker.js';
import { topCutoffs } from '../../../domain/routing-replay/metrics.js';
import { type ReplayReport, replayReviews } from '../../../domain/routing-replay/replay.js';
import { parseReviewHistory, type ReviewedChange } from '../../../domain/routing-replay/review-history.js';
import { ReviewHistoryError } from '../../../domain/routing-replay/review-history-error.js';
import { revfinderRanker } from '../../../domain/routing-replay/revfinder-ranker.js';
import type { RoutingFactor } from '../../../domain/policy.js';
import { InvalidInputError } from '../../errors.js';
import { replayThroughStore, type StoreReplayResult } from '../routing-store-replay.js';
import { printJson, printLine, table } from '../output.js';

/** `escalator routing replay`: how well reviewer rankings would have done on a recorded review history (offline). */
export function registerRouting(program: Command): void {
  const routing = program.command('routing').description('measure dynamic routing offline');
  routing
    .command('replay')
    .description(
      'replay a review history (JSON Lines, as RevFinder\'s Gerrit datasets) leak-free and print top-1/3/5/10, MRR and the Gini of the first choices of the frequency baseline, RevFinder and Escalator\'s expertise ranking',
    )
    .requiredOption('--dataset <file>', 'the review history: one change per line with changeId, project, files, submit_date, close_date, approve_history')
    .option('--from <date>', 'score only changes submitted on or after this date (UTC); earlier ones only teach the rankings', dateOption)
    .option('--spread <fraction>', "also replay with load spreading (the policy's spreadLoad.within, 0 < fraction < 1)", fractionOption, 0.2)
    .option('--no-spread', 'skip the load-spreading replay')
    .option('--route-by <factors>', 'the factors the store replay routes by, comma-separated (of expertise, approvals, recency, load)', factorsOption, ['expertise', 'recency'])
    .option('--retrain-every <days>', 'days between retrainings in the store replay, as the Schedule runs them', daysOption, 7)
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nEach change is ranked from the approvals granted before it was submitted; the truth is who approved it. Changes submitted before any approval are left out.',
    )
    .action(async (flags: { dataset: string; from?: number; json?: boolean; spread: number | false; retrainEvery: number; routeBy: RoutingFactor[] }) => {
      const history = await loadReviewHistory(flags.dataset);
      const started = performance.now();
      const from = flags.from === undefined ? {} : { from: flags.from };
      const report = replayReviews(history, [frequencyRanker(), revfinderRanker(), expertiseRanker()], { ...from, now: () => performance.now() });
      const settings = { ...from, retrainEveryDays: flags.retrainEvery, routeBy: flags.routeBy };
      const throughStore: StoreReplayResult[] = [await replayThroughStore(history, settings)];
      if (flags.spread !== false) throughStore.push(await replayThroughStore(history, { ...settings, spreadWithin: flags.spread }));
      const full: ReplayReport = { ...report, results: [...report.results, ...throughStore.map(({ retrainings: _, ...result }) => result)] };
      const elapsedMs = Math.round(performance.now() - started);
      const models = throughStore.map((result) => ({ ranker: result.ranker, ...modelSummary(result) }));
      if (flags.json) return printJson({ dataset: flags.dataset, from: flags.from === undefined ? null : new Date(flags.from).toISOString(), elapsedMs, ...full, models });
      printLine(renderReplay(full, elapsedMs));
      for (const model of models) printLine(renderModels(model));
    });
}

/** Reads a review history; an unreadable file or a bad line is invalid input (exit 2) naming file and line. */
async function loadReviewHistory(file: string): Promise<ReviewedChange[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new InvalidInputError('cannot read the dataset', [{ path: file, message: (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message }]);
  }
  try {
    return parseReviewHistory(text);
  } catch (error) {
    if (!(error instanceof ReviewHistoryError)) throw error;
    throw new InvalidInputError(`invalid dataset ${file}`, [{ path: `${file}:${error.line}`, message: error.problem }]);
  }
}

/** The three rankings side by side, with what was scored and how long each took. */
export function renderReplay(report: ReplayReport, elapsedMs: number): string {
  const { changes } = report;
  const percent = (share: number) => `${(share * 100).toFixed(1)}%`;
  return [
    `${changes.scored} of ${changes.total} changes scored, ${report.reviewers} reviewers; ${changes.withoutHistory} left out (no approval known yet), ${changes.approverUnseen} approved only by newcomers (a miss for every ranking).`,
    table(
      ['ranking', ...topCutoffs.map((k) => `top-${k}`), 'MRR', 'Gini of first choices', 'time'],
      report.results.map((result) => [
        result.ranker,
        ...topCutoffs.map((k) => percent(result.accuracy.top[k])),
        result.accuracy.mrr.toFixed(3),
        result.accuracy.firstChoiceGini.toFixed(2),
        `${(result.elapsedMs / 1000).toFixed(1)} s`,
      ]),
    ),
    `Replayed in ${(elapsedMs / 1000).toFixed(1)} s.`,
  ].join('\n');
}

/** What the store replay's retrainings chose: how many kept a new model, and the weights routing ended with. */
function modelSummary(result: StoreReplayResult) {
  const kept = result.retrainings.filter((report) => report.kept === 'candidate');
  const last = kept.at(-1);
  return {
    retrainings: result.retrainings.length,
    kept: kept.length,
    finalModel: last ? { version: last.candidate.version, fittedAt: last.candidate.fittedAt, trainedOn: last.candidate.trainedOn, weights: last.candidate.weights } : null,
  };
}

function renderModels(model: ReturnType<typeof modelSummary> & { ranker: string }): string {
  if (!model.finalModel) return `${model.ranker}: ${model.retrainings} retraining(s), none kept a fitted model (hand-set weights throughout).`;
  const weights = Object.entries(model.finalModel.weights)
    .filter(([, weight]) => weight !== 0)
    .map(([factor, weight]) => `${factor} ${weight.toFixed(2)}`)
    .join(', ');
  return `${model.ranker}: ${model.retrainings} retraining(s), ${model.kept} kept a fitted model; the last, ${model.finalModel.version} (fitted ${model.finalModel.fittedAt?.slice(0, 10)} on ${model.finalModel.trainedOn} escalations): ${weights}.`;
}

/** The replay has no CODEOWNERS, calendars or response times: only the factors its history can feed. */
const replayableFactors: readonly RoutingFactor[] = ['expertise', 'approvals', 'recency', 'load'];

function factorsOption(text: string): RoutingFactor[] {
  const factors = text.split(',').map((factor) => factor.trim());
  const unknown = factors.filter((factor) => !replayableFactors.includes(factor as RoutingFactor));
  if (unknown.length || factors.length === 0) throw new InvalidArgumentError(`a comma-separated list of ${replayableFactors.join(', ')} (not ${unknown.join(', ')})`);
  return [...new Set(factors)] as RoutingFactor[];
}

function fractionOption(text: string): number {
  const value = Number(text);
  if (!(value > 0 && value < 1)) throw new InvalidArgumentError('a fraction between 0 and 1, such as 0.2');
  return value;
}

function daysOption(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) throw new InvalidArgumentError('a whole number of days, at least 1');
  return value;
}

function dateOption(text: string): number {
  const at = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(at)) throw new InvalidArgumentError('a date such as 2010-10-01 or 2010-10-01T12:00:00Z');
  return at;
}
