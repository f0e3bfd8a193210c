import { isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import { formatPath } from '../../domain/field-errors.js';
import type { Policy, PolicyStep, ReviewerSource } from '../../domain/policy.js';
import type { PolicyFinding } from './policy-problems.js';

/**
 * Checks a valid policy for what the schema accepts but cannot work as written: tiers nothing
 * escalates to and rules that can never match (errors), people nobody refers to (warnings).
 * `text` is the file the policy was parsed from; findings carry its line and column.
 */
export function lintPolicy(policy: Policy, text: string): PolicyFinding[] {
  const locate = locator(text);
  const findings: PolicyFinding[] = [];
  const add = (severity: PolicyFinding['severity'], path: PropertyKey[], message: string) => findings.push({ severity, path: formatPath(path), message, ...locate(path) });

  const reachable = reachableTiers(policy);
  for (const tierName of Object.keys(policy.tiers)) {
    if (!reachable.has(tierName)) {
      add('error', ['tiers', tierName], `tier "${tierName}" is unreachable: no gate or rule escalates to it, breakGlass does not notify it, and no reachable tier hands to it`);
    }
  }

  policy.rules.forEach((rule, index) => {
    const label = rule.name ? `rule "${rule.name}"` : `rule #${index + 1}`;
    for (const [key, value] of Object.entries(rule.when)) {
      if (Array.isArray(value) && value.length === 0) add('error', ['rules', index, 'when', key], `${label} can never match: when.${key} is an empty list`);
    }
    const gates = rule.when.gate;
    if (!gates?.length || '*' in policy.gates) return;
    const unknown = gates.filter((gate) => !(gate in policy.gates));
    if (unknown.length === gates.length) {
      add('error', ['rules', index, 'when', 'gate'], `${label} can never match: ${quoteList(unknown)} ${unknown.length === 1 ? 'is' : 'are'} not under gates and there is no "*" gate`);
    } else {
      for (const gate of unknown) {
        add('warning', ['rules', index, 'when', 'gate', gates.indexOf(gate)], `gate "${gate}" is not under gates and there is no "*" gate: this part of ${label} never matches`);
      }
    }
  });

  const referenced = referencedPeople(policy);
  for (const id of Object.keys(policy.people)) {
    if (!referenced.has(id)) add('warning', ['people', id], `${id} is never referenced: no gate, rule, tier, pool, rotation, backup or break-glass role names them`);
  }
  return findings;
}

/** Tiers some escalation can reach: those gates, rules and break-glass name, and every tier they hand to. */
function reachableTiers(policy: Policy): Set<string> {
  const pending = [
    ...Object.values(policy.gates).flatMap((gate) => gate.escalateTo),
    ...policy.rules.flatMap((rule) => rule.use.escalateTo ?? []),
    ...(policy.breakGlass?.notify ? [policy.breakGlass.notify] : []),
  ];
  const reachable = new Set<string>();
  for (let tier = pending.pop(); tier !== undefined; tier = pending.pop()) {
    if (reachable.has(tier)) continue;
    reachable.add(tier);
    const next = policy.tiers[tier]?.escalateTo;
    if (next) pending.push(next);
  }
  return reachable;
}

function referencedPeople(policy: Policy): Set<string> {
  const ids = new Set<string>();
  const source = (value: ReviewerSource | undefined) => {
    if (Array.isArray(value)) value.forEach((id) => ids.add(id));
  };
  const steps = (chain: PolicyStep[] | undefined) =>
    chain?.forEach((step) => {
      source(step.reviewers);
      step.backup?.forEach((id) => ids.add(id));
    });
  for (const who of Object.values(policy.people)) if (who.backup) ids.add(who.backup);
  for (const pool of Object.values(policy.pools)) pool.members.forEach((id) => ids.add(id));
  for (const rotation of Object.values(policy.rotations)) {
    rotation.members.forEach((id) => ids.add(id));
    rotation.overrides.forEach((override) => ids.add(override.person));
  }
  for (const tier of Object.values(policy.tiers)) {
    source(tier.reviewers);
    if (tier.lead) ids.add(tier.lead);
  }
  for (const gate of Object.values(policy.gates)) {
    if (gate.model === 'sequential') steps(gate.chain);
    if (gate.model === 'parallel') source(gate.reviewers);
    if (gate.model === 'dynamic') {
      source(gate.candidates);
      steps(gate.chain);
    }
  }
  for (const rule of policy.rules) {
    source(rule.use.reviewers);
    steps(rule.use.chain);
  }
  const roles = policy.breakGlass?.roles ?? [];
  for (const [id, who] of Object.entries(policy.people)) if (who.roles.some((role) => roles.includes(role))) ids.add(id);
  return ids;
}

/** Line and column of a path in the YAML text; a map entry is located at its key. */
function locator(text: string): (path: PropertyKey[]) => { line?: number; column?: number } {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  return (path) => {
    const parent = path.length > 1 ? document.getIn(path.slice(0, -1) as unknown[], true) : document.contents;
    const last = path.at(-1);
    let range: [number, number, number] | null | undefined;
    if (isMap(parent)) {
      const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === last);
      if (pair && isScalar(pair.key)) range = pair.key.range;
    }
    if (!range) range = (document.getIn(path as unknown[], true) as { range?: [number, number, number] | null } | undefined)?.range;
    if (!range) return {};
    const { line, col } = lineCounter.linePos(range[0]);
    return { line, column: col };
  };
}

function quoteList(items: string[]): string {
  return items.map((item) => `"${item}"`).join(', ');
}
