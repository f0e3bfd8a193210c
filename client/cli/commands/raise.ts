import type { Command } from 'commander';
import { type ConnectionFlags, connectionSettingsFrom, withConnectionOptions, withEscalator } from '../connection.js';
import { type GateFailureFlags, gateFailureFrom, withGateFailureOptions } from '../gate-failure-input.js';
import { printJson, printLine } from '../output.js';

type RaiseFlags = GateFailureFlags & ConnectionFlags & { file?: string; json?: boolean };

/** `escalator raise`: starts the escalation of a gate failure, or attaches to the one its key already started. */
export function registerRaise(program: Command): void {
  const command = program
    .command('raise')
    .description('raise a gate failure: starts its escalation, or attaches to the one its idempotency key already started')
    .option('--json', 'print { escalationId, started } as JSON');
  withGateFailureOptions(command, '--file <failure.json>');
  withConnectionOptions(command);
  command.action(async (flags: RaiseFlags) => {
    // Both are checked before anything is sent: bad input never reaches Temporal.
    const failure = await gateFailureFrom(flags, { ...(flags.file ? { file: flags.file } : {}), now: new Date() });
    const settings = connectionSettingsFrom(process.env, flags);
    const result = await withEscalator(settings, ({ escalator }) => escalator.raise(failure));
    if (flags.json) return printJson(result);
    printLine(`${result.escalationId} ${result.started ? 'started' : 'attached (this idempotency key already has an escalation; nothing new was started)'}`);
  });
}
