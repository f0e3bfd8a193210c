import { Command } from 'commander';
import { registerBreakGlass } from './commands/break-glass.js';
import { registerDashboard } from './commands/dashboard.js';
import { registerDecide } from './commands/decide.js';
import { registerList } from './commands/list.js';
import { registerMetrics } from './commands/metrics.js';
import { registerPolicy } from './commands/policy.js';
import { registerRaise } from './commands/raise.js';
import { registerRecommend } from './commands/recommend.js';
import { registerRouting } from './commands/routing.js';
import { registerSimulate } from './commands/simulate.js';
import { registerStatus } from './commands/status.js';
import { registerWithdraw } from './commands/withdraw.js';
import { exitCodesHelp } from './exit-codes.js';

/**
 * The `escalator` command tree. Commander errors are thrown (`exitOverride`), not exited on, so the
 * entry point gives every failure its documented exit status.
 */
export function buildProgram(options: { jsonErrors: boolean }): Command {
  const program = new Command('escalator')
    .description('Operate Escalator: raise gate failures, inspect and act on escalations, check and explain policies.')
    .exitOverride()
    // With --json the entry point reports usage errors as one JSON document instead.
    .configureOutput(options.jsonErrors ? { outputError: () => {}, writeErr: () => {} } : {})
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Connection: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and ESCALATOR_TASK_QUEUE (as for the worker),
overridden by --address, --namespace and --task-queue. policy validate and policy explain work
offline and never contact Temporal.

Every command takes --json for scripts: the result is one JSON document on stdout; a failure is
one JSON document on stderr, {"error":{"code","message","details"}}, as the HTTP shim answers.

decide, withdraw and break-glass act as whoever --as names: CLI access is equivalent to access to
the Temporal namespace. Reviewers authenticate through the HTTP shim instead.

${exitCodesHelp}`,
    );
  // Subcommands created with `.command()` inherit exitOverride and the output settings.
  registerRaise(program);
  registerStatus(program);
  registerList(program);
  registerDecide(program);
  registerWithdraw(program);
  registerBreakGlass(program);
  registerPolicy(program);
  registerSimulate(program);
  registerRecommend(program);
  registerRouting(program);
  registerDashboard(program);
  registerMetrics(program);
  return program;
}
