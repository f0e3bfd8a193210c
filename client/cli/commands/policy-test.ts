import { access } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { PolicyError } from '../../../domain/policy-error.js';
import { parseYamlFile } from '../../../domain/policy-parser.js';
import { runScenario } from '../../../domain/policy-scenarios/run-scenario.js';
import { scenarioFileSchema } from '../../../domain/policy-scenarios/scenario-file.js';
import { type Mismatch, mismatchesOf, unknownPeople } from '../../../domain/policy-scenarios/verdict.js';
import { exitCodes } from '../exit-codes.js';
import { printJson, printLine } from '../output.js';
import { loadPolicyFile, readPolicyText } from '../policy-file.js';

interface ScenarioResult {
  name: string;
  passed: boolean;
  mismatches: Mismatch[];
}

/**
 * `escalator policy test FILE`: runs a policy's scenarios through the escalation engine on a virtual
 * clock (no Temporal) and fails with what differs. FILE is a scenario file, or a policy whose
 * scenarios sit beside it as `<name>.scenarios.yaml`.
 */
export function registerPolicyTest(policy: Command): void {
  policy
    .command('test')
    .description('run scenario files through the escalation engine (offline) and fail on any difference from what they expect')
    .argument('<file>', 'a scenario file (policy: and scenarios:), or a policy with <name>.scenarios.yaml beside it')
    .option('--json', 'print { file, policy, passed, scenarios: [{ name, passed, mismatches }] } as JSON')
    .addHelpText('after', '\nExits 0 when every scenario passes, 6 when one does not, 1 for an invalid policy or scenario file (file, line and problem named).')
    .action(async (file: string, flags: { json?: boolean }) => {
      const scenarioFile = await scenarioFileFor(file);
      const parsed = parseYamlFile(scenarioFileSchema, await readPolicyText(scenarioFile), scenarioFile);
      const policyFile = resolve(dirname(scenarioFile), parsed.policy);
      const { policy: loaded } = await loadPolicyFile(policyFile);
      const unknown = parsed.scenarios.flatMap((scenario, i) => unknownPeople(loaded, scenario).map((id) => ({ path: `scenarios[${i}]`, message: `${id} is not a person in ${basename(policyFile)}` })));
      if (unknown.length) throw new PolicyError(scenarioFile, unknown);
      const results: ScenarioResult[] = parsed.scenarios.map((scenario) => {
        const mismatches = mismatchesOf(scenario, runScenario(loaded, scenario));
        return { name: scenario.name, passed: mismatches.length === 0, mismatches };
      });
      const passed = results.every((r) => r.passed);
      if (!passed) process.exitCode = exitCodes.scenarioFailed;
      if (flags.json) return printJson({ file: scenarioFile, policy: policyFile, passed, scenarios: results });
      for (const result of results) {
        printLine(`${result.passed ? 'ok  ' : 'FAIL'} ${result.name}`);
        for (const m of result.mismatches) {
          printLine(`     ${m.what}:`);
          printLine(`       - expected ${m.expected}`);
          printLine(`       + actual   ${m.actual.replace(/\n/g, '\n                  ')}`);
        }
      }
      const failed = results.filter((r) => !r.passed).length;
      printLine(`${scenarioFile}: ${results.length - failed} of ${results.length} scenario(s) passed`);
    });
}

/** The scenario file itself, or the `<name>.scenarios.yaml` beside a policy. */
async function scenarioFileFor(file: string): Promise<string> {
  if (/\.scenarios\.ya?ml$/.test(file)) return file;
  const beside = join(dirname(file), `${basename(file).replace(/\.ya?ml$/, '')}.scenarios.yaml`);
  try {
    await access(beside);
    return beside;
  } catch {
    return file; // not a policy with scenarios beside it: read it as a scenario file, whose errors say what is missing
  }
}
