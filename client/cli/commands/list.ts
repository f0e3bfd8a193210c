import type { WorkflowExecutionInfo } from '@temporalio/client';
import { type Command, Option } from 'commander';
import type { EscalationStatus } from '../../../domain/escalation.js';
import { severities } from '../../../domain/gate-failure.js';
import { AwaitedReviewers, EscalationDepth, EscalationModel, EscalationState, Gate, Outcome, Service, Severity } from '../../../workflows/search-attributes.js';
import { type ConnectionFlags, connectionSettingsFrom, withConnectionOptions, withEscalator } from '../connection.js';
import { printJson, printLine, table } from '../output.js';
import { positiveInteger } from '../positive-integer.js';
import { escalationListQuery } from '../visibility-query.js';

type ListFlags = ConnectionFlags & { state?: string; gate?: string; severity?: string; reviewer?: string; service?: string; limit: number; json?: boolean };

// The values the workflow writes to EscalationState (`routing` is never written: it shows as `starting`).
const states: EscalationStatus[] = ['starting', 'waiting', 'rolling-back', 'ended'];

/** One row of `escalator list`, also its JSON form. */
export interface EscalationListEntry {
  escalationId: string;
  gate: string | null;
  service: string | null;
  severity: string | null;
  state: string | null;
  model: string | null;
  awaitedReviewers: string[];
  depth: number | null;
  outcome: string | null;
  startTime: string;
  closeTime: string | null;
}

/** `escalator list`: escalations found through Temporal visibility (eventually consistent: seconds behind). */
export function registerList(program: Command): void {
  const command = program
    .command('list')
    .description("escalations on this task queue, newest first, through Temporal's visibility store (it lags behind by a moment)")
    .addOption(new Option('--state <state>', 'EscalationState').choices(states))
    .option('--gate <name>', 'Gate')
    .addOption(new Option('--severity <level>', 'Severity').choices(severities))
    .option('--reviewer <person>', 'awaited reviewer (AwaitedReviewers contains)')
    .option('--service <name>', 'Service')
    .option('--limit <count>', 'at most this many; when more match, a last line says so (on stderr with --json)', positiveInteger, 20)
    .option('--json', 'print the rows as a JSON array')
    .addHelpText('after', '\nThe same query works in the Temporal UI, e.g. EscalationState = "waiting" AND Severity = "high".');
  withConnectionOptions(command);
  command.action(async (flags: ListFlags) => {
    const settings = connectionSettingsFrom(process.env, flags);
    const query = escalationListQuery({ taskQueue: settings.taskQueue, ...pick(flags, ['state', 'gate', 'severity', 'reviewer', 'service']) });
    // One row past the limit tells whether more match, without counting them all.
    const found = await withEscalator(settings, async ({ client }) => {
      const rows: EscalationListEntry[] = [];
      for await (const execution of client.workflow.list({ query, pageSize: Math.min(flags.limit + 1, 1000) })) {
        rows.push(entryOf(execution));
        if (rows.length > flags.limit) break;
      }
      return rows;
    });
    const entries = found.slice(0, flags.limit);
    const moreMatch = found.length > flags.limit ? `showing the first ${flags.limit}; more match: --limit N for more` : undefined;
    if (flags.json) {
      printJson(entries);
      // stdout stays one JSON array for scripts.
      if (moreMatch) process.stderr.write(`note: ${moreMatch}\n`);
      return;
    }
    if (entries.length === 0) return printLine(`no escalations match: ${query}`);
    printLine(
      table(
        ['id', 'gate', 'severity', 'state', 'model', 'awaited', 'depth', 'started'],
        entries.map((e) => [e.escalationId, e.gate ?? '', e.severity ?? '', e.state === 'ended' && e.outcome ? `ended (${e.outcome})` : (e.state ?? ''), e.model ?? '', e.awaitedReviewers.join(', '), e.depth ?? '', e.startTime]),
      ),
    );
    if (moreMatch) printLine(moreMatch);
  });
}

function entryOf(execution: WorkflowExecutionInfo): EscalationListEntry {
  const attributes = execution.typedSearchAttributes;
  return {
    escalationId: execution.workflowId,
    gate: attributes.get(Gate) ?? null,
    service: attributes.get(Service) ?? null,
    severity: attributes.get(Severity) ?? null,
    state: attributes.get(EscalationState) ?? null,
    model: attributes.get(EscalationModel) ?? null,
    awaitedReviewers: attributes.get(AwaitedReviewers) ?? [],
    depth: attributes.get(EscalationDepth) ?? null,
    outcome: attributes.get(Outcome) ?? null,
    startTime: execution.startTime.toISOString(),
    closeTime: execution.closeTime?.toISOString() ?? null,
  };
}

function pick<T extends object, K extends keyof T>(source: T, keys: K[]): Partial<Pick<T, K>> {
  return Object.fromEntries(keys.filter((key) => source[key] !== undefined).map((key) => [key, source[key]])) as Partial<Pick<T, K>>;
}
