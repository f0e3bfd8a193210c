import type { Command } from 'commander';
import { withdrawBodySchema } from '../../../domain/request-bodies.js';
import { type ConnectionFlags, connectionSettingsFrom, withConnectionOptions, withEscalator } from '../connection.js';
import { actOnEscalation } from '../escalation-id.js';
import { parseFlags, personIdSchema, withOperatorIdentity } from '../operator-identity.js';
import { printJson, printLine } from '../output.js';
import { renderEscalation } from '../render-escalation.js';

type WithdrawFlags = ConnectionFlags & { as: string; reason?: string; json?: boolean };

const withdrawSchema = withdrawBodySchema.extend({ by: personIdSchema });

/** `escalator withdraw <id> --as <who> --reason ..`: ends a running escalation as withdrawn. */
export function registerWithdraw(program: Command): void {
  const command = program
    .command('withdraw')
    .description('end a running escalation as withdrawn (refused once it has ended: exit 4, EscalationEnded)')
    .argument('<escalation-id>', 'the escalation, exactly (escalation-…): when only escalation-<id> exists, the error names it')
    .requiredOption('--reason <text>', 'why it is withdrawn; kept in the timeline')
    .option('--json', 'print the escalation state after the withdrawal as JSON');
  withOperatorIdentity(command, 'who withdraws it (a person, or the service that raised it)');
  withConnectionOptions(command);
  command.action(async (escalationId: string, flags: WithdrawFlags) => {
    const request = parseFlags(withdrawSchema, { by: flags.as, reason: flags.reason }, { by: '--as', reason: '--reason' });
    const settings = connectionSettingsFrom(process.env, flags);
    const view = await withEscalator(settings, ({ escalator }) =>
      actOnEscalation(escalator, escalationId, async () => {
        await escalator.withdraw(escalationId, { by: request.by, reason: request.reason });
        // The update answers with a receipt; the whole view printed below is the query's.
        return escalator.status(escalationId);
      }),
    );
    if (flags.json) return printJson(view);
    printLine(`withdrawn by ${request.by}: ${escalationId}`);
    printLine(renderEscalation(view, { timelineEntries: 5, now: new Date() }));
  });
}
