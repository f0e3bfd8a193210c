import { type Command, Option } from 'commander';
import type { DecisionKind } from '../../../domain/escalation.js';
import { decisionBodySchema } from '../../../domain/request-bodies.js';
import { InvalidInputError } from '../../errors.js';
import { type ConnectionFlags, connectionSettingsFrom, withConnectionOptions, withEscalator } from '../connection.js';
import { actOnEscalation } from '../escalation-id.js';
import { parseFlags, personIdSchema, withOperatorIdentity } from '../operator-identity.js';
import { printJson, printLine } from '../output.js';
import { renderEscalation } from '../render-escalation.js';

type DecideFlags = ConnectionFlags & { as: string; approve?: boolean; reject?: boolean; override?: boolean; comment?: string; reason?: string; json?: boolean };

const decideSchema = decisionBodySchema.extend({ reviewer: personIdSchema });

/** `escalator decide <id> --as <person> --approve|--reject|--override`: records a decision on someone's behalf. */
export function registerDecide(program: Command): void {
  const command = program
    .command('decide')
    .description('record a decision for an awaited reviewer; refused decisions change nothing and exit 4 with the refusal code')
    .argument('<escalation-id>', 'the escalation, exactly (escalation-…): when only escalation-<id> exists, the error names it')
    .addOption(new Option('--approve', 'approve the gate').conflicts(['reject', 'override']))
    .addOption(new Option('--reject', 'reject: block the gate').conflicts(['approve', 'override']))
    .addOption(new Option('--override', 'vote to override (parallel gates with an override quorum)').conflicts(['approve', 'reject']))
    .option('--comment <text>', 'why; the policy may require one (requireComment)')
    .option('--reason <reason>', 'why the gate failed, as you see it: false-positive, flaky, real-issue or accepted-risk (counted by the gate metrics)')
    .option('--json', 'print the escalation state after the decision as JSON');
  withOperatorIdentity(command, 'the reviewer deciding (a person id from the policy)');
  withConnectionOptions(command);
  command.action(async (escalationId: string, flags: DecideFlags) => {
    const decision: DecisionKind | undefined = flags.approve ? 'approve' : flags.reject ? 'reject' : flags.override ? 'override' : undefined;
    if (!decision) throw new InvalidInputError('no decision given', [{ path: '--approve | --reject | --override', message: 'give exactly one' }]);
    const request = parseFlags(decideSchema, { decision, reviewer: flags.as, ...(flags.comment !== undefined ? { comment: flags.comment } : {}), ...(flags.reason !== undefined ? { reason: flags.reason } : {}) }, { reviewer: '--as', comment: '--comment', reason: '--reason' });
    const settings = connectionSettingsFrom(process.env, flags);
    const view = await withEscalator(settings, ({ escalator }) =>
      actOnEscalation(escalator, escalationId, async () => {
        await escalator.decide(escalationId, { reviewer: request.reviewer, decision: request.decision, channel: 'cli', ...(request.comment ? { comment: request.comment } : {}), ...(request.reason ? { reason: request.reason } : {}) });
        // The update answers with a receipt; the whole view printed below is the query's.
        return escalator.status(escalationId);
      }),
    );
    if (flags.json) return printJson(view);
    printLine(`recorded: ${request.reviewer} ${request.decision}s ${escalationId}`);
    printLine(renderEscalation(view, { timelineEntries: 5, now: new Date() }));
  });
}
