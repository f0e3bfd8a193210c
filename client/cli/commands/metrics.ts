import { type Command, Option } from 'commander';
import { createGateMetrics } from '../../../adapters/gate-metrics.js';
import { openOutcomeStore } from '../../../adapters/outcome-store/store.js';
import { metricsQuerySchema } from '../../../domain/metrics/query.js';
import type { GateFigures, MetricsReport } from '../../../domain/metrics/report.js';
import { durationText } from '../duration-text.js';
import { parseFlags } from '../operator-identity.js';
import { printJson, printLine, table } from '../output.js';
import { loadPolicyFile } from '../policy-file.js';

type MetricsFlags = { window?: string; from?: string; to?: string; gate?: string; groupBy: string; policy: string; outcomesFile: string; databaseUrl?: string; json?: boolean };

/** `escalator metrics`: the per-gate figures from the outcome store, as GET /v1/metrics/gates answers them. */
export function registerMetrics(program: Command): void {
  program
    .command('metrics')
    .description('per-gate figures from the outcome store over a window, beside the window before: time to resolution, timeouts, overrides (alert above 20 %), false positives, load, cost of delay')
    .option('--window <window>', '7d, 30d (default) or 90d, ending now')
    .option('--from <iso>', 'start of a custom window (ISO 8601), with --to')
    .option('--to <iso>', 'end of a custom window (ISO 8601), with --from')
    .option('--gate <name>', 'only this gate')
    .option('--group-by <what>', 'gate, service, team or model', 'gate')
    .addOption(new Option('--policy <file>', 'the policy (teams, costs per hour, working hours)').env('ESCALATOR_POLICY_FILE').default('policies/example.yaml'))
    .addOption(new Option('--outcomes-file <file>', 'the SQLite outcome store').env('ESCALATOR_OUTCOMES_FILE').default('.data/outcomes.sqlite'))
    .addOption(new Option('--database-url <url>', 'the PostgreSQL outcome store (instead of the file)').env('ESCALATOR_OUTCOMES_DATABASE_URL'))
    .option('--json', 'print the report as JSON (the answer of GET /v1/metrics/gates)')
    .action(async (flags: MetricsFlags) => {
      const query = parseFlags(
        metricsQuerySchema,
        { window: flags.window, from: flags.from, to: flags.to, gate: flags.gate, groupBy: flags.groupBy },
        { window: '--window', from: '--from', to: '--to', gate: '--gate', groupBy: '--group-by' },
      );
      const { policy } = await loadPolicyFile(flags.policy);
      const store = await openOutcomeStore({ sqliteFile: flags.outcomesFile, ...(flags.databaseUrl ? { databaseUrl: flags.databaseUrl } : {}) });
      try {
        await store.migrate();
        const report = await createGateMetrics({ store, policy: () => policy, ratings: (range) => store.ratings(range) })(query);
        if (flags.json) return printJson(report);
        printLine(renderMetrics(report));
      } finally {
        await store.close();
      }
    });
}

/** One row per group and mode; each figure with the previous window's beside it. */
export function renderMetrics(report: MetricsReport): string {
  const head = [report.groupBy, 'mode', 'raised', 'ended', 'resolution p50 / p90', 'first response p50', 'timeout', 'override', 'false positive', 'top responder', 'cost of delay'];
  const rows = report.rows.map(({ key, mode, current, previous }) => [
    key,
    mode,
    trend(current.raised, previous.raised, String),
    current.ended,
    `${duration(current.timeToResolution.p50)} / ${duration(current.timeToResolution.p90)} (was ${duration(previous.timeToResolution.p50)})`,
    duration(current.timeToFirstResponse.p50),
    trend(current.timeoutShare, previous.timeoutShare, percent),
    `${trend(current.overrideShare, previous.overrideShare, percent)}${current.overrideAlert ? ' ALERT >20%' : ''}`,
    trend(current.falsePositiveShare, previous.falsePositiveShare, percent),
    topResponder(current),
    current.costOfDelay === null ? '-' : current.costOfDelay.toFixed(2),
  ]);
  const window = `${report.window.from} .. ${report.window.to} (previous: ${report.previousWindow.from} .. ${report.previousWindow.to})`;
  const shadows = report.rows.flatMap(({ key, current }) =>
    current.shadow
      ? [`${key} (shadow): the team's own way decided ${current.shadow.decidedElsewhere} of ${current.raised} (median ${duration(current.shadow.teamResolution.p50)}); ${current.shadow.escalatorExhausted} shadow run(s) ran out of people first; Escalator would have asked ${current.shadow.wouldHaveAsked === null ? '-' : current.shadow.wouldHaveAsked.toFixed(1)} people per run`]
      : [],
  );
  return rows.length ? [window, table(head, rows), ...shadows].join('\n') : `${window}\nno escalations were raised in this window`;
}

function trend<T>(now: T | null, before: T | null, show: (value: T) => string): string {
  return `${now === null ? '-' : show(now)} (was ${before === null ? '-' : show(before)})`;
}

function percent(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function duration(millis: number | null): string {
  return millis === null ? '-' : durationText(millis);
}

function topResponder(figures: GateFigures): string {
  const top = [...figures.load].sort((a, b) => b.decided - a.decided)[0];
  return top && figures.topResponderShare !== null ? `${top.person} ${percent(figures.topResponderShare)} (HHI ${figures.concentration!.toFixed(2)})` : '-';
}
