/**
 * `escalator`, the operator CLI: `node --import tsx client/cli/main.ts <command> ...`
 *
 *   raise          start (or attach to) the escalation of a gate failure, from --file or flags
 *   status <id>    model, rule, awaited reviewers, deadline, depth, votes, decisions, timeline
 *   list           escalations by state, gate, severity, awaited reviewer, service (visibility query)
 *   decide <id>    approve / reject / override --as a reviewer
 *   withdraw <id>  end a running escalation as withdrawn
 *   break-glass <id>  immediate override by a holder of the break-glass role
 *   policy validate <file>  schema errors and lint
 *   policy explain <file>   offline dry run of a gate failure against a policy
 *
 * The acting identity comes from --as: the CLI is an operator tool, and running it against a
 * namespace is equivalent to access to that Temporal namespace. Reviewers use the HTTP shim, which
 * authenticates them with bearer tokens.
 *
 * Exit status: 0 ok · 1 invalid policy / validation errors · 2 usage error or invalid input (the
 * flag or field is named; nothing was changed) · 3 escalation not found · 4 refused (the refusal
 * code is printed) · 5 cannot reach Temporal · 70 internal error.
 */
import { CommanderError } from 'commander';
import { exitCodes } from './exit-codes.js';
import { failureReportOf } from './failure-report.js';
import { buildProgram } from './program.js';

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  try {
    await buildProgram({ jsonErrors: json }).parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : exitCodes.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed the help, or (without --json) the problem and the usage hint, already.
      if (error.exitCode === 0) return exitCodes.ok;
      if (json) process.stderr.write(`${JSON.stringify({ error: { code: 'Usage', message: error.message.replace(/^error: /, ''), details: null } })}\n`);
      return exitCodes.usage;
    }
    const report = failureReportOf(error);
    process.stderr.write(json ? `${JSON.stringify({ error: { code: report.code, message: report.message, details: report.details } })}\n` : `${report.text}\n`);
    return report.exitCode;
  }
}

// Exit explicitly: the Temporal client's native runtime can hold the event loop open after the
// connection is closed, and a CLI must end when its command has.
process.exit(await main(process.argv));
