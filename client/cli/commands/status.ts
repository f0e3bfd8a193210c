import type { Command } from 'commander';
import { type ConnectionFlags, connectionSettingsFrom, withConnectionOptions, withEscalator } from '../connection.js';
import { printJson, printLine } from '../output.js';
import { positiveInteger } from '../positive-integer.js';
import { renderEscalation } from '../render-escalation.js';

type StatusFlags = ConnectionFlags & { json?: boolean; timeline: number };

/** `escalator status <id>`: what the escalation waits for, from whom, until when, and what happened so far. */
export function registerStatus(program: Command): void {
  const command = program
    .command('status')
    .description("an escalation's state: model, rule, awaited reviewers, deadline, depth, votes, decisions and the latest timeline entries")
    .argument('<escalation-id>', 'e.g. escalation-checkout-7781-integration-tests')
    .option('--timeline <entries>', 'how many of the latest timeline entries to show', positiveInteger, 10)
    .option('--json', 'print the whole state as JSON (the answer of GET /v1/escalations/:id)');
  withConnectionOptions(command);
  command.action(async (escalationId: string, flags: StatusFlags) => {
    const settings = connectionSettingsFrom(process.env, flags);
    const status = await withEscalator(settings, ({ escalator }) => escalator.statusWithRetries(escalationId));
    if (flags.json) return printJson(status);
    printLine(renderEscalation(status, { timelineEntries: flags.timeline, now: new Date(), retrying: status.retrying }));
  });
}
