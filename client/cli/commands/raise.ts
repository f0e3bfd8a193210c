import { type Command, InvalidArgumentError, Option } from 'commander';
import ms from 'ms';
import type { EscalationView } from '../../../domain/escalation.js';
import { InvalidInputError } from '../../errors.js';
import type { EscalatorClient } from '../../escalator-client.js';
import type { OutcomeWait } from '../../outcome-wait.js';
import { type ConnectionFlags, connectionSettingsFrom, withConnectionOptions, withEscalator } from '../connection.js';
import { exitCodeOfOutcome, exitCodes } from '../exit-codes.js';
import { type GateFailureFlags, gateFailureFrom, withGateFailureOptions } from '../gate-failure-input.js';
import { printJson, printLine } from '../output.js';

type RaiseFlags = GateFailureFlags & ConnectionFlags & { file?: string; json?: boolean; wait?: boolean; timeout?: number; uiUrl: string };

/** `escalator raise`: starts the escalation of a gate failure, or attaches to the one its key already started. */
export function registerRaise(program: Command): void {
  const command = program
    .command('raise')
    .description('raise a gate failure: starts its escalation, or attaches to the one its idempotency key already started')
    .option('--json', 'print { escalationId, started } as JSON (with --wait, also the outcome)')
    .option('--wait', 'wait for the outcome and exit by it: 0 passed, overridden or recovered; 7 blocked; 8 rolled back; 9 withdrawn')
    .option('--timeout <duration>', 'with --wait: stop waiting after this long, e.g. 6h, and exit 10 (the escalation goes on; a re-run attaches to it)', positiveDuration)
    .addOption(new Option('--ui-url <url>', 'the Temporal UI the printed link points at').env('ESCALATOR_UI_URL').default('http://127.0.0.1:8233'))
    .addHelpText(
      'after',
      '\nWith --wait, a CI job that is cancelled and re-run raises the same idempotency key and attaches to\nthe escalation it started, rather than raising a second one.',
    );
  withGateFailureOptions(command, '--file <failure.json>');
  withConnectionOptions(command);
  command.action(async (flags: RaiseFlags) => {
    if (flags.timeout !== undefined && !flags.wait) throw new InvalidInputError('invalid flags', [{ path: '--timeout', message: 'only with --wait' }]);
    // Both are checked before anything is sent: bad input never reaches Temporal.
    const failure = await gateFailureFrom(flags, { ...(flags.file ? { file: flags.file } : {}), now: new Date() });
    const settings = connectionSettingsFrom(process.env, flags);
    await withEscalator(settings, async ({ escalator }) => {
      const result = await escalator.raise(failure);
      if (!flags.wait) {
        if (flags.json) return printJson(result);
        return printLine(`${result.escalationId} ${result.started ? 'started' : 'attached (this idempotency key already has an escalation; nothing new was started)'}`);
      }
      const link = `${flags.uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(settings.namespace)}/workflows/${encodeURIComponent(result.escalationId)}`;
      const view = await settledView(escalator, result.escalationId);
      if (view.mode === 'shadow') {
        // A shadow gate is being piloted beside the way the team decides today: it decides nothing for the pipeline.
        if (flags.json) return printJson({ ...result, link, wait: { kind: 'shadow' } });
        return printLine(`${result.escalationId} ${result.started ? 'started' : 'attached'} in shadow mode: it decides nothing for the pipeline, so nothing is waited for\n  follow it: ${link}`);
      }
      if (!flags.json) {
        printLine(`${result.escalationId} ${result.started ? 'started' : 'attached (this idempotency key already has an escalation)'}`);
        printLine(`  follow it: ${link}`);
        printLine(`  ${whoIsAsked(view)}`);
        printLine('  waiting for the outcome…');
      }
      const started = Date.now();
      const waited = await escalator.waitForOutcome(result.escalationId, {
        until: flags.timeout === undefined ? Number.MAX_SAFE_INTEGER : started + flags.timeout,
        onInterruption: (error) => process.stderr.write(`note: lost Temporal (${error.message.split('\n')[0]}); still waiting\n`),
      });
      process.exitCode = exitCodeOf(waited);
      if (flags.json) return printJson({ ...result, link, wait: waited });
      printLine(describe(waited, flags.timeout));
    });
  });
}

function positiveDuration(text: string): number {
  const millis = ms(text as ms.StringValue);
  if (typeof millis !== 'number' || !Number.isFinite(millis) || millis <= 0) throw new InvalidArgumentError(`"${text}" is not a positive duration such as 30m or 6h`);
  return millis;
}

/**
 * The escalation once it has asked someone: a new run resolves its policy (and, for Dynamic gates,
 * routes) first, so the view is read again for a few seconds while it says `starting`.
 */
async function settledView(escalator: EscalatorClient, escalationId: string): Promise<EscalationView> {
  let view = await escalator.status(escalationId);
  for (let tries = 0; view.status === 'starting' && tries < 40; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    view = await escalator.status(escalationId);
  }
  return view;
}

function whoIsAsked(view: EscalationView): string {
  if (view.status === 'ended') return `already ended: ${view.outcome?.outcome} (${view.outcome?.reason})`;
  if (view.status === 'starting') return 'resolving its policy; nobody asked yet';
  const until = view.deadline ? ` until ${view.deadline}` : '';
  const step = view.step !== null && view.stepCount ? `, step ${view.step + 1} of ${view.stepCount}` : '';
  return `asked: ${view.awaitedReviewers.join(', ') || 'nobody yet'}${step}${until}`;
}

function exitCodeOf(waited: OutcomeWait): number {
  if (waited.kind === 'ended') return exitCodeOfOutcome(waited.outcome.outcome);
  return waited.kind === 'still-running' ? exitCodes.waitTimedOut : exitCodes.closedWithoutOutcome;
}

function describe(waited: OutcomeWait, timeout: number | undefined): string {
  if (waited.kind === 'ended') return `outcome: ${waited.outcome.outcome} — ${waited.outcome.reason}`;
  if (waited.kind === 'still-running') return `still waiting after ${timeout === undefined ? 'the timeout' : ms(timeout, { long: true })}; the escalation goes on, and raising the same key again attaches to it`;
  return `the run closed without an outcome (${waited.how}): ${waited.message}`;
}
