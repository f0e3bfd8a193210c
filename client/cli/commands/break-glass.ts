import type { Command } from 'commander';
import { breakGlassBodySchema } from '../../../domain/request-bodies.js';
import { type ConnectionFlags, connectionSettingsFrom, withConnectionOptions, withEscalator } from '../connection.js';
import { actOnEscalation } from '../escalation-id.js';
import { parseFlags, personIdSchema, withOperatorIdentity } from '../operator-identity.js';
import { printJson, printLine } from '../output.js';
import { renderEscalation } from '../render-escalation.js';

type BreakGlassFlags = ConnectionFlags & { as: string; justification?: string; json?: boolean };

const breakGlassSchema = breakGlassBodySchema.extend({ by: personIdSchema });

/** `escalator break-glass <id> --as <person> --justification ..`: an immediate, flagged override. */
export function registerBreakGlass(program: Command): void {
  const command = program
    .command('break-glass')
    .description("override the gate at once for a holder of the policy's break-glass role; flagged for postmortem and reviewed by breakGlass.notify")
    .argument('<escalation-id>', 'the escalation, exactly (escalation-…): when only escalation-<id> exists, the error names it')
    .requiredOption('--justification <text>', 'why the gate must be overridden now')
    .option('--json', 'print the escalation state after the override as JSON');
  withOperatorIdentity(command, 'the holder of the break-glass role (a person id from the policy)');
  withConnectionOptions(command);
  command.action(async (escalationId: string, flags: BreakGlassFlags) => {
    const request = parseFlags(breakGlassSchema, { by: flags.as, justification: flags.justification }, { by: '--as', justification: '--justification' });
    const settings = connectionSettingsFrom(process.env, flags);
    const view = await withEscalator(settings, ({ escalator }) =>
      actOnEscalation(escalator, escalationId, async () => {
        await escalator.breakGlass(escalationId, { by: request.by, justification: request.justification, channel: 'cli' });
        // The update answers with a receipt; the whole view printed below is the query's.
        return escalator.status(escalationId);
      }),
    );
    if (flags.json) return printJson(view);
    printLine(`overridden by ${request.by} (break-glass): ${escalationId}`);
    printLine(renderEscalation(view, { timelineEntries: 5, now: new Date() }));
  });
}
