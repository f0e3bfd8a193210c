import type { ModelName } from '../escalation.js';
import type { Policy, PolicyGate, ReviewerSource } from '../policy.js';

export const modelNames = ['sequential', 'parallel', 'dynamic'] as const satisfies readonly ModelName[];

type GateOf<M extends ModelName> = Extract<PolicyGate, { model: M }>;

/** The factors a dynamic gate routes by when the policy gives none: those a rule switching to dynamic uses. */
const defaultRouteBy: GateOf<'dynamic'>['routeBy'] = ['codeowners', 'oncall', 'workingHours', 'responseHistory', 'load'];

/**
 * The policy with every gate run by `model`, for `simulate --compare`: the same people, the same
 * tiers, depth, exhausted action and comments, and the same number of approvals where the model can
 * ask for it. A gate already on `model` is kept as written. Otherwise, from the gate's reviewers (a
 * sequential chain's people in chain order, a parallel group, dynamic candidates), the approvals it
 * needs (chain steps, approval quorum, 1 for dynamic) and its decision window (the longest step, or
 * decideWithin):
 *
 * - sequential: one step per approval, held in turn by the reviewers in the policy's order (each
 *   person's own backup behind them), or by the whole pool or rotation each time; a dynamic gate's
 *   own fallback chain where it has one;
 * - parallel: everyone at once, with a quorum of the same approvals (at most the group's size);
 * - dynamic: the reviewers as candidates, routed on the default factors, decided by one of them
 *   (the engine's routed pick ends at the first decision, so a gate needing more approvals gets fewer;
 *   `approvalsOf` says so), falling back to the gate's own chain where it is sequential.
 *
 * Rules that choose a model choose `model` instead, keeping their other settings, so no failure of
 * the gate escapes to another model.
 */
export function policyAs(policy: Policy, model: ModelName): Policy {
  return {
    ...policy,
    gates: Object.fromEntries(Object.entries(policy.gates).map(([key, gate]) => [key, gateAs(policy, gate, model)])),
    rules: policy.rules.map((rule) => (rule.use.model && rule.use.model !== model ? { ...rule, use: { ...rule.use, model } } : rule)),
  };
}

/** How many distinct approvals the gate's own entry asks for before it passes. */
export function approvalsOf(gate: PolicyGate): number {
  if (gate.model === 'sequential') return gate.chain.length;
  if (gate.model === 'parallel') return gate.quorum.approve;
  return 1;
}

function gateAs(policy: Policy, gate: PolicyGate, model: ModelName): PolicyGate {
  if (gate.model === model) return gate;
  const { escalateTo, maxDepth, onExhausted, requireComment, randomizeOrder, oneDecisionPerPerson, costPerHour, mode, pilot } = gate;
  const common = { escalateTo, maxDepth, onExhausted, requireComment, randomizeOrder, oneDecisionPerPerson, costPerHour, mode, pilot };
  const reviewers = reviewersOf(gate);
  const window = gate.model === 'sequential' ? Math.max(...gate.chain.map((step) => step.timeout)) : gate.decideWithin;
  const approvals = Math.min(approvalsOf(gate), groupSize(policy, reviewers));
  if (model === 'sequential') {
    const chain =
      gate.model === 'dynamic' && gate.chain
        ? gate.chain
        : Array.from({ length: approvals }, (_, i) => ({ reviewers: Array.isArray(reviewers) ? [reviewers[i]!] : reviewers, timeout: window }));
    return { model, chain, ...common };
  }
  if (model === 'parallel') {
    return { model, reviewers, quorum: { approve: approvals, reject: 1 }, renotify: 0, decideWithin: window, ...common };
  }
  return {
    model,
    candidates: reviewers,
    routeBy: defaultRouteBy,
    pick: 1,
    decideWithin: window,
    coldStart: { model: 'parallel', minHistory: 5 },
    fallback: 'sequential',
    ...(gate.model === 'sequential' ? { chain: gate.chain } : {}),
    ...common,
  };
}

/** A chain's people in order (a chain of pools or rotations keeps its first source), a group, or candidates. */
function reviewersOf(gate: PolicyGate): ReviewerSource {
  if (gate.model === 'parallel') return gate.reviewers;
  if (gate.model === 'dynamic') return gate.candidates;
  const ids = gate.chain.flatMap((step) => (Array.isArray(step.reviewers) ? step.reviewers : []));
  return ids.length ? [...new Set(ids)] : gate.chain[0]!.reviewers;
}

/** How many people a source names: a list's length, a pool's serving size, one on call. */
function groupSize(policy: Policy, source: ReviewerSource): number {
  if (Array.isArray(source)) return source.length;
  const [kind, name] = source.split(':') as ['pool' | 'oncall', string];
  if (kind === 'oncall') return 1;
  const pool = policy.pools[name]!;
  return pool.size ?? pool.members.length;
}
