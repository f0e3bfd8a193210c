import type { CommentRule, ExhaustedAction, Policy } from './policy.js';

/** What the workflow needs to know about a person: how to reach them and how to recognise them as an author. */
export interface Reviewer {
  id: string;
  name: string;
  email: string;
  /** Lower-cased id, email and version-control handles: any of them naming the change's author makes this person the author. */
  aliases: string[];
}

export interface ChainStep {
  reviewers: string[];
  backup: string[];
  timeoutMs: number;
}

export interface EscalationTier {
  name: string;
  reviewers: string[];
  timeoutMs: number;
}

/**
 * A policy resolved for one gate failure. It is the workflow's only view of the policy and is
 * recorded in history as an activity result, so later policy edits never change a running escalation.
 */
export interface SequentialPlan {
  model: 'sequential';
  /** The `gates` key that matched: the gate's own name, or `*`. */
  gateKey: string;
  steps: ChainStep[];
  tiers: EscalationTier[];
  maxDepth: number;
  onExhausted: ExhaustedAction;
  requireComment: CommentRule;
  people: Record<string, Reviewer>;
}

export type EscalationPlan = SequentialPlan;

export interface PolicySnapshot {
  /** sha256 of the policy file's bytes, so an auditor can find the exact version that ran. */
  policyVersion: string;
  policySource: string;
  plan: EscalationPlan;
}

/** Resolves the policy for a gate, or `undefined` when neither the gate nor `*` has an entry. */
export function planFor(policy: Policy, gateName: string): EscalationPlan | undefined {
  const gateKey = gateName in policy.gates ? gateName : '*' in policy.gates ? '*' : undefined;
  if (gateKey === undefined) return undefined;
  const gate = policy.gates[gateKey]!;
  if (gate.model !== 'sequential') {
    throw new Error(`gate "${gateKey}" uses model "${gate.model}", which this version cannot run`);
  }
  const involved = new Set<string>();
  const steps = gate.chain.map((step) => {
    const backup = step.backup ?? unique(step.reviewers.map((id) => policy.people[id]?.backup).filter(isDefined)).filter((id) => !step.reviewers.includes(id));
    [...step.reviewers, ...backup].forEach((id) => involved.add(id));
    return { reviewers: step.reviewers, backup, timeoutMs: step.timeout };
  });
  const tiers = gate.escalateTo.map((tierName) => {
    const tier = policy.tiers[tierName]!;
    tier.reviewers.forEach((id) => involved.add(id));
    return { name: tierName, reviewers: tier.reviewers, timeoutMs: tier.timeout };
  });
  const people: Record<string, Reviewer> = {};
  for (const id of involved) {
    const person = policy.people[id]!;
    people[id] = {
      id,
      name: person.name ?? id,
      email: person.email,
      aliases: unique([id, person.email, ...person.handles].map((alias) => alias.toLowerCase())),
    };
  }
  return {
    model: 'sequential',
    gateKey,
    steps,
    tiers,
    maxDepth: gate.maxDepth ?? policy.defaults.maxDepth,
    onExhausted: gate.onExhausted ?? policy.defaults.onExhausted,
    requireComment: gate.requireComment ?? policy.defaults.requireComment,
    people,
  };
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}

function isDefined<T>(item: T | undefined): item is T {
  return item !== undefined;
}
