import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { expertiseRanker } from '../../../domain/routing-replay/expertise-ranker.js';
import { frequencyRanker } from '../../../domain/routing-replay/frequency-ranker.js';
import { topCutoffs } from '../../../domain/routing-replay/metrics.js';
import { type ReplayReport, replayReviews } from '../../../domain/routing-replay/replay.js';
import { parseReviewHistory, type ReviewedChange } from '../../../domain/routing-replay/review-history.js';
import { ReviewHistoryError } from '../../../domain/routing-replay/review-history-error.js';
import { revfinderRanker } from '../../../domain/routing-replay/revfinder-ranker.js';
import { InvalidInputError } from '../../errors.js';
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
    .option('--json', 'print the report as JSON')
    .addHelpText(
      'after',
      '\nEach change is ranked from the approvals granted before it was submitted; the truth is who approved it. Changes submitted before any approval are left out.',
    )
    .action(async (flags: { dataset: string; from?: number; json?: boolean }) => {
      const history = await loadReviewHistory(flags.dataset);
      const started = performance.now();
      const report = replayReviews(history, [frequencyRanker(), revfinderRanker(), expertiseRanker()], { ...(flags.from === undefined ? {} : { from: flags.from }), now: () => performance.now() });
      const elapsedMs = Math.round(performance.now() - started);
      if (flags.json) return printJson({ dataset: flags.dataset, from: flags.from === undefined ? null : new Date(flags.from).toISOString(), elapsedMs, ...report });
      printLine(renderReplay(report, elapsedMs));
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

function dateOption(text: string): number {
  const at = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text);
  if (Number.isNaN(at)) throw new InvalidArgumentError('a date such as 2010-10-01 or 2010-10-01T12:00:00Z');
  return at;
}
