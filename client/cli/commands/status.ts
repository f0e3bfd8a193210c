import type { Command } from 'commander';
import { type ConnectionFlags, connectionSettingsFrom, withConnectionOptions, withEscalator } from '../connection.js';
import { readEscalation } from '../escalation-id.js';
import { printJson, printLine } from '../output.js';
import { positiveInteger } from '../positive-integer.js';
import { renderEscalation } from '../render-escalation.js';

type StatusFlags = ConnectionFlags & { json?: boolean; timeline: number };

/** `escalator status <id>`: what the escalation waits for, from whom, until when, and what happened so far. */
export function registerStatus(program: Command): void {
  const command = program
    .command('status')
    .description("an escalation's state: model, rule, awaited reviewers, deadline, depth, votes, decisions and the latest timeline entries")
    .argument('<escalation-id>', 'e.g. escalation-checkout-7781-integration-tests, or its key checkout-7781-integration-tests')
    .option('--timeline <entries>', 'how many of the latest timeline entries to show', positiveInteger, 10)
    .option('--json', 'print the whole state as JSON (the answer of GET /v1/escalations/:id)')
    .addHelpText(
      'after',
      '\nAn id without the escalation- prefix that no escalation has is looked up as escalation-<id>;\na note on stderr says which escalation is shown.',
    );
  withConnectionOptions(command);
  command.action(async (escalationId: string, flags: StatusFlags) => {
    const settings = connectionSettingsFrom(process.env, flags);
    const { escalationId: shown, found: status } = await withEscalator(settings, ({ escalator }) => readEscalation(escalationId, (id) => escalator.statusWithRetries(id)));
    if (shown !== escalationId) process.stderr.write(`note: no escalation ${escalationId}; showing ${shown}\n`);
    if (flags.json) return printJson(status);
    printLine(renderEscalation(status, { timelineEntries: flags.timeline, now: new Date(), retrying: status.retrying }));
  });
}
