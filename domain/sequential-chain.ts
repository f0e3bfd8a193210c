import type { SequentialPlan } from './escalation-plan.js';

/** Who holds a chain step right now, and how they came to hold it. */
export type Stage = { kind: 'primary' } | { kind: 'backup' } | { kind: 'tier'; tier: string; tierIndex: number };

export interface Assignment {
  step: number;
  stage: Stage;
  reviewers: string[];
  timeoutMs: number;
}

/** What chain stepping needs of a plan; the dynamic model's fallback builds one from its ranking. */
export type ChainPlan = Pick<SequentialPlan, 'steps' | 'tiers' | 'maxDepth'>;

export type ChainMove =
  | { kind: 'assign'; assignment: Assignment; handOff: boolean }
  | { kind: 'passed' }
  | { kind: 'exhausted'; reason: string };

export function firstAssignment(plan: ChainPlan): Assignment {
  return primaryOf(plan, 0);
}

/** The awaited reviewer approved: the chain moves to the next step, or the gate passes after the last. */
export function afterApproval(plan: ChainPlan, current: Assignment): ChainMove {
  const next = current.step + 1;
  if (next >= plan.steps.length) return { kind: 'passed' };
  return { kind: 'assign', assignment: primaryOf(plan, next), handOff: false };
}

/**
 * Nobody decided in time: the step goes to its backup, then up the gate's tiers. Each of these is a
 * hand-off and counts towards depth; a hand-off beyond `maxDepth`, or with nobody left to hand to,
 * exhausts the escalation instead.
 */
export function afterTimeout(plan: ChainPlan, current: Assignment, depth: number): ChainMove {
  const next = nextHolder(plan, current);
  if (next === undefined) return { kind: 'exhausted', reason: 'no backup or tier is left to hand the step to' };
  if (depth + 1 > plan.maxDepth) return { kind: 'exhausted', reason: `maximum escalation depth ${plan.maxDepth} reached` };
  return { kind: 'assign', assignment: next, handOff: true };
}

function nextHolder(plan: ChainPlan, current: Assignment): Assignment | undefined {
  const step = plan.steps[current.step]!;
  if (current.stage.kind === 'primary' && step.backup.length > 0) {
    return { step: current.step, stage: { kind: 'backup' }, reviewers: step.backup, timeoutMs: step.timeoutMs };
  }
  const tierIndex = current.stage.kind === 'tier' ? current.stage.tierIndex + 1 : 0;
  const tier = plan.tiers[tierIndex];
  if (tier === undefined) return undefined;
  return { step: current.step, stage: { kind: 'tier', tier: tier.name, tierIndex }, reviewers: tier.reviewers, timeoutMs: tier.timeoutMs };
}

function primaryOf(plan: ChainPlan, stepIndex: number): Assignment {
  const step = plan.steps[stepIndex]!;
  return { step: stepIndex, stage: { kind: 'primary' }, reviewers: step.reviewers, timeoutMs: step.timeoutMs };
}
