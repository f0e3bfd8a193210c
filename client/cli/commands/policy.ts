import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { openOutcomeStore } from '../../../adapters/outcome-store/store.js';
import { handWeightedModel, type RoutingModel } from '../../../domain/routing-model/model.js';
import { type Command, Option } from 'commander';
import { PolicyError } from '../../../domain/policy-error.js';
import { parsePolicy } from '../../../domain/policy-parser.js';
import { InvalidInputError } from '../../errors.js';
import { exitCodes } from '../exit-codes.js';
import { type GateFailureFlags, gateFailureFrom, withGateFailureOptions } from '../gate-failure-input.js';
import { printJson, printLine } from '../output.js';
import { explainPlan } from '../plan-explanation.js';
import { lintPolicy } from '../policy-lint.js';
import { loadPolicyFile, readPolicyText } from '../policy-file.js';
import { formatPolicyProblem, type PolicyFinding } from '../policy-problems.js';
import { renderExplanation } from '../render-explanation.js';
import { policyFlowchart } from '../render-mermaid.js';
import { documentedGates, policyPage } from '../render-policy-page.js';
import { registerPolicyTest } from './policy-test.js';

type ExplainFlags = GateFailureFlags & { failure?: string; at?: string; json?: boolean; outcomes?: string; format: 'text' | 'mermaid' | 'markdown' };

/** `escalator policy validate|explain`: works on policy files alone and never contacts Temporal. */
export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('check a policy file, or explain what it would do with a gate failure (offline)');

  policy
    .command('validate')
    .description('schema errors with file:line:column, plus lint: unreachable tiers, rules that can never match (errors) and unreferenced people (warnings)')
    .argument('<file>', 'the policy YAML')
    .option('--json', 'print { file, valid, errors, warnings, problems } as JSON')
    .addHelpText('after', '\nExits 1 when there is any error; warnings alone exit 0.')
    .action(async (file: string, flags: { json?: boolean }) => {
      const text = await readPolicyText(file);
      const findings = validate(text, file);
      const errors = findings.filter((f) => f.severity === 'error').length;
      const warnings = findings.length - errors;
      if (errors) process.exitCode = exitCodes.invalidPolicy;
      if (flags.json) return printJson({ file, valid: errors === 0, errors, warnings, problems: findings });
      for (const finding of findings) printLine(formatPolicyProblem(file, finding));
      printLine(errors ? `${file}: ${count(errors, 'error')}, ${count(warnings, 'warning')}` : `${file} is valid${warnings ? `, with ${count(warnings, 'warning')}` : ''}`);
    });

  const explain = policy
    .command('explain')
    .description('dry run: which gate entry and rule apply and why, the model, who is asked first and when, and every timeout in order. Starts nothing.')
    .argument('<file>', 'the policy YAML')
    .option('--at <iso>', "the moment to explain (default: now, as the worker would decide a failure raised now, whatever the failure's occurredAt)")
    .option('--json', 'print the explanation as JSON (its `at` is the moment explained)')
    .option('--outcomes <store>', "score dynamic routing with this outcome store's current routing model (a SQLite file or a postgres:// URL); default: the hand-set weights")
    .addOption(
      new Option('--format <format>', "text explains one failure; mermaid (a flowchart) and markdown (a page with the flowcharts) document every gate's escalation paths from the policy alone, or only the entry --gate falls under (no other failure flag applies)")
        .choices(['text', 'mermaid', 'markdown'])
        .default('text')
        .conflicts('json'),
    );
  withGateFailureOptions(explain, '--failure <failure.json>');
  explain.addHelpText('after', '\nFields that cannot change the plan (sha, title, links, run, key) may be left out of a dry run.');
  explain.action(async (file: string, flags: ExplainFlags) => {
    if (flags.format !== 'text') {
      const { policy: parsed } = await loadPolicyFile(file);
      const gates = documentedGates(parsed, flags.gate);
      return printLine(flags.format === 'mermaid' ? policyFlowchart(parsed, gates) : policyPage(parsed, gates, basename(file)));
    }
    // The worker resolves the plan when the escalation starts, not at the failure's occurredAt, so
    // explaining "now" is what a run started now would do.
    const at = flags.at === undefined ? new Date() : instantOf(flags.at);
    const failure = await gateFailureFrom(flags, { ...(flags.failure ? { file: flags.failure } : {}), placeholders: true, now: at });
    const { policy: parsed } = await loadPolicyFile(file);
    const explanation = explainPlan(parsed, failure, at, flags.outcomes ? await currentRoutingModel(flags.outcomes) : undefined);
    if (flags.json) return printJson(explanation);
    printLine(renderExplanation(explanation, { chosenBy: flags.at === undefined ? 'now' : '--at', occurredAt: failure.occurredAt }));
  });

  registerPolicyTest(policy);
}

function validate(text: string, file: string): PolicyFinding[] {
  try {
    const { policy } = parsePolicy(text, file);
    return lintPolicy(policy, text);
  } catch (error) {
    if (error instanceof PolicyError) return error.problems.map((problem) => ({ severity: 'error', ...problem }));
    throw error;
  }
}

/** The routing model an outcome store routes with now; a SQLite file that does not exist is a usage error, not a new store. */
async function currentRoutingModel(location: string): Promise<RoutingModel> {
  const url = /^postgres(ql)?:\/\//i.test(location);
  if (!url && !existsSync(location)) throw new InvalidInputError('cannot open the outcome store', [{ path: '--outcomes', message: `no such file: ${location}` }]);
  const store = await openOutcomeStore(url ? { databaseUrl: location, sqliteFile: '' } : { sqliteFile: location });
  try {
    await store.migrate();
    return (await store.currentRoutingModel()) ?? handWeightedModel;
  } finally {
    await store.close();
  }
}

function instantOf(text: string): Date {
  const at = new Date(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(at.getTime())) {
    throw new InvalidInputError('invalid --at', [{ path: '--at', message: 'an ISO 8601 instant such as 2026-11-27T09:00:00Z' }]);
  }
  return at;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
