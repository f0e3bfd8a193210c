import type { ModelName } from '../escalation.js';
import type { Policy } from '../policy.js';
import { gateEntryKey } from '../rule-conditions.js';
import type { RunReport } from './metrics.js';
import { simulate, type SimulationSettings, type StopRule } from './run.js';
import { approvalsOf, modelNames, policyAs } from './variants.js';

/** One run of the simulation: the policy as written, or every gate on one model. */
export interface ModelRun extends RunReport {
  model: 'as-written' | ModelName;
  /** Per gate of the team file: the model its own entry runs, and the approvals that entry needs. */
  gateModels: Record<string, { model: ModelName; approvals: number }>;
}

/** What `escalator simulate` reports. */
export interface SimulationReport {
  seed: number;
  start: string;
  stop: StopRule;
  policyVersion: string;
  runs: ModelRun[];
}

/**
 * Runs the policy as written, or with `compare` each of the three models on the same arrivals and the
 * same people (see variants.ts for how each model's gates are built from the same reviewers).
 */
export function runSimulation(settings: SimulationSettings, options: { compare: boolean }): SimulationReport {
  const variants: Array<ModelRun['model']> = options.compare ? [...modelNames] : ['as-written'];
  const runs = variants.map((model, i) => {
    const policy = model === 'as-written' ? settings.policy : policyAs(settings.policy, model);
    const onProgress = settings.onProgress && ((share: number) => settings.onProgress!((i + share) / variants.length));
    const report = simulate({ ...settings, policy, ...(onProgress ? { onProgress } : {}) });
    return { model, gateModels: gateModels(policy, Object.keys(settings.team.failures)), ...report };
  });
  return { seed: settings.seed, start: settings.team.start, stop: settings.stop, policyVersion: settings.policyVersion, runs };
}

function gateModels(policy: Policy, gates: string[]): ModelRun['gateModels'] {
  return Object.fromEntries(
    gates.flatMap((gate) => {
      const key = gateEntryKey(policy, gate);
      if (key === undefined) return [];
      const entry = policy.gates[key]!;
      return [[gate, { model: entry.model, approvals: approvalsOf(entry) }]];
    }),
  );
}
