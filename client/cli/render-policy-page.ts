import { type ChainStep, type EscalationPlan, resolvePlan } from '../../domain/escalation-plan.js';
import type { GateFailure } from '../../domain/gate-failure.js';
import type { Policy, PolicyGate, PolicyPerson, PolicyRule, PolicyStep, ReviewerSource } from '../../domain/policy.js';
import { InvalidInputError } from '../errors.js';
import { durationText } from './duration-text.js';
import { type DocumentedGate, type EscalationPath, exhaustedText, policyFlowchart, reviewerName } from './render-mermaid.js';

/**
 * The gate entries to document, each with every path its failures can take: all entries, or the
 * one `gate` falls under (its own entry, else `*`). Throws `InvalidInputError` when none applies.
 */
export function documentedGates(policy: Policy, gate?: string): DocumentedGate[] {
  const key = gate === undefined || Object.hasOwn(policy.gates, gate) ? gate : Object.hasOwn(policy.gates, '*') ? '*' : null;
  if (key === null) throw new InvalidInputError('no gate entry to document', [{ path: '--gate', message: `the policy has no entry for ${gate} and no "*"` }]);
  return (key === undefined ? Object.keys(policy.gates) : [key]).map((k) => ({ key: k, paths: escalationPaths(policy, k) }));
}

/**
 * The policy as a Markdown page for a team's docs: defaults, rules, quiet hours and on-call,
 * break-glass holders, then a section per gate with a table per path (steps or group, tiers and
 * timeouts), its exhausted action, and the gate's Mermaid flowchart in a ```mermaid fence.
 */
export function policyPage(policy: Policy, gates: DocumentedGate[], title: string): string {
  const { defaults } = policy;
  return [
    `# Escalation policy ${md(title)}`,
    md(`Times are in ${policy.timezone}; business hours are ${policy.businessHours}. Unless a gate or rule says otherwise: at most ${defaults.maxDepth} hand-offs, then ${exhaustedText(defaults.onExhausted)}; comments required: ${defaults.requireComment}.`),
    ...rulesSection(policy),
    ...onCallSection(policy),
    ...breakGlassSection(policy),
    ...gates.flatMap((gate) => gateSection(policy, gate)),
  ].join('\n\n').concat('\n');
}

/** Markdown text that stays text: control characters become spaces, Markdown and HTML syntax is escaped. */
export function md(text: string): string {
  return text.replace(/\p{Cc}+/gu, ' ').replace(/[\\`*_[\]<>|#~&]/g, '\\$&');
}

/**
 * Each rule that can match a failure under `gateKey`, in order (first match wins), then the entry as
 * written, unless a rule before matches every such failure. Each is resolved by the worker's own
 * `resolvePlan` (one rule at a time, its conditions dropped) on the standing policy: pools and
 * rotations stay named, since who holds them changes weekly, and nobody is out of office, since
 * absences are today's news rather than the policy.
 */
function escalationPaths(policy: Policy, gateKey: string): EscalationPath[] {
  const standing = standingPolicy(policy);
  const resolve = (rule?: PolicyRule) => resolvePlan({ ...standing, rules: rule ? [standingRule(rule)] : [] }, documentationFailure(gateKey), { at: new Date(0), ordinal: 0 })!;
  const paths: EscalationPath[] = [];
  for (const [index, rule] of policy.rules.entries()) {
    if (rule.when.gate && !rule.when.gate.some((gate) => (Object.hasOwn(policy.gates, gate) ? gate : '*') === gateKey)) continue;
    paths.push({ rule: { name: rule.name ?? `#${index + 1}`, when: whenText(rule) }, plan: resolve(rule) });
    // `*` stands for several gates, so a `gate` condition alone does not cover all its failures.
    const onlyGate = Object.keys(rule.when).every((condition) => condition === 'gate');
    if (onlyGate && (gateKey !== '*' || !rule.when.gate)) return paths;
  }
  return [...paths, { rule: null, plan: resolve() }];
}

function whenText(rule: PolicyRule): string {
  return Object.entries(rule.when).map(([condition, value]) => `${condition}: ${Array.isArray(value) ? value.join('|') : String(value)}`).join(', ') || 'always';
}

function rulesSection(policy: Policy): string[] {
  if (!policy.rules.length) return ['## Rules', 'No rules: every gate escalates as its entry says.'];
  const rows = policy.rules.map((rule, i) => [String(i + 1), rule.name ?? `#${i + 1}`, whenText(rule), useText(policy, rule.use)]);
  return ['## Rules', 'The first rule that matches a failure changes how it escalates; later rules are not considered.', table(['#', 'rule', 'when', 'uses'], rows)];
}

function useText(policy: Policy, use: PolicyRule['use']): string {
  const settings = Object.entries(use).map(([setting, value]: [string, unknown]) => {
    if (setting === 'reviewers' && use.reviewers) return `reviewers ${sourceText(policy, use.reviewers)}`;
    if (setting === 'chain' && use.chain) return `chain ${use.chain.map((step) => `${sourceText(policy, step.reviewers)} for ${durationText(step.timeout)}`).join(', then ')}`;
    if (setting === 'onExhausted' && use.onExhausted) return `when exhausted ${exhaustedText(use.onExhausted)}`;
    if (typeof value === 'number' && setting.endsWith('Within')) return `${setting} ${durationText(value)}`;
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return `${setting} ${Object.entries(value).map(([key, v]) => `${key} ${String(v)}`).join(', ')}`;
    return `${setting} ${Array.isArray(value) ? value.join(', ') : String(value)}`;
  });
  return settings.join('; ');
}

function onCallSection(policy: Policy): string[] {
  const quiet = policy.quietHours;
  const window = quiet && `Quiet hours ${quiet.from}–${quiet.to} (${policy.timezone})`;
  const hours = !quiet
    ? 'No quiet hours: reviewers are notified at any hour.'
    : quiet.notify === 'all'
      ? `${window} hold nobody back: everyone is notified.`
      : `${window}: only the on-call of ${quiet.oncall} is notified; the others when the quiet hours end, if still awaited.`;
  const rotations = Object.entries(policy.rotations).map(([name, rotation]) => [
    name,
    names(policy, rotation.members),
    `${rotation.handoff}${rotation.handoffDay ? ` on ${rotation.handoffDay}` : ''} at ${rotation.handoffTime}${rotation.overrides.length ? `, ${rotation.overrides.length} override(s)` : ''}`,
    rotation.timezone ?? policy.timezone,
  ]);
  const pools = Object.entries(policy.pools).map(([name, pool]) => [name, names(policy, pool.members), pool.rotate === 'none' ? 'no rotation' : `rotates ${pool.rotate}${pool.size ? `, ${pool.size} at a time` : ''}`]);
  return [
    '## Quiet hours and on-call',
    md(hours),
    ...(rotations.length ? [table(['rotation', 'members, in turn', 'hand-off', 'time zone'], rotations)] : ['No on-call rotations.']),
    ...(pools.length ? [table(['pool', 'members', 'rotation'], pools)] : []),
  ];
}

function breakGlassSection(policy: Policy): string[] {
  const glass = policy.breakGlass;
  if (!glass) return ['## Break-glass', 'No break-glass role: nobody can override an escalation outright.'];
  const holders = Object.entries(policy.people).flatMap(([id, person]) => {
    const roles = person.roles.filter((role) => glass.roles.includes(role));
    return roles.length ? [[person.name ?? id, id, roles.join(', ')]] : [];
  });
  const told = glass.notify ? `tier ${glass.notify} (${sourceText(policy, policy.tiers[glass.notify]!.reviewers)}) is told of every use` : 'no tier is told';
  return ['## Break-glass', md(`Holders of ${glass.roles.join(', ')} may override an escalation at once; ${told}.`), table(['holder', 'id', 'role'], holders)];
}

function gateSection(policy: Policy, gate: DocumentedGate): string[] {
  const sections = [gate.key === '*' ? `## Any other gate (${md('*')})` : `## Gate ${md(gate.key)}`];
  for (const { rule, plan } of gate.paths) {
    const when = rule ? `Rule ${rule.name} (${rule.when})` : gate.paths.length > 1 ? 'No rule matches' : 'Every failure';
    sections.push(
      `### ${md(`${when}: ${plan.model}`)}`,
      table(['stage', 'reviewers', 'timeout', 'notes'], stageRows(policy, plan)),
      md(`At most ${plan.maxDepth} hand-offs; then, or when nobody is left to ask: ${exhaustedText(plan.onExhausted)}. Comments required: ${plan.requireComment}.`),
    );
  }
  sections.push(`\`\`\`mermaid\n${policyFlowchart(policy, [gate])}\n\`\`\``);
  return sections;
}

function stageRows(policy: Policy, plan: EscalationPlan): string[][] {
  const steps = (label: string, chain: ChainStep[]) => chain.map((step, i) => [`${label} ${i + 1}`, names(policy, step.reviewers), durationText(step.timeoutMs), step.backup.length ? `backup: ${names(policy, step.backup)}` : '']);
  const tiers = (joins: string) => plan.tiers.map((tier) => [`tier ${tier.name}${joins}`, names(policy, tier.reviewers), durationText(tier.timeoutMs), tier.lead ? `lead: ${reviewerName(policy, tier.lead)}` : '']);
  if (plan.model === 'sequential') return [...steps('step', plan.steps), ...tiers('')];
  if (plan.model === 'parallel') {
    const { approve, reject, override } = plan.quorum;
    const quorum = `${approve} approval(s) pass, ${reject} rejection(s) block${override === null ? '' : `, ${override} override vote(s) override`}`;
    const reminders = plan.acknowledgeWithinMs === null ? '' : `; not acknowledged in ${durationText(plan.acknowledgeWithinMs)}: reminded up to ${plan.renotify} time(s)`;
    return [['group, all at once', names(policy, plan.group), durationText(plan.decideWithinMs), quorum + reminders], ...tiers(' joins')];
  }
  const within = durationText(plan.decideWithinMs);
  const { model, minHistory } = plan.coldStart;
  const cold = minHistory === 0 ? [] : [[`cold start (fewer than ${minHistory} ended escalations)`, model === 'parallel' ? names(policy, plan.candidates) : 'the fallback chain', within, model === 'parallel' ? 'all at once, 1 approval passes' : 'candidates in routing order']];
  const fallback = plan.fallbackSteps ? steps('fallback step', plan.fallbackSteps) : [['fallback', 'the best-ranked candidate not yet asked', within, 'the next-ranked as backup']];
  return [['routing', names(policy, plan.candidates), within, `picks ${plan.pick} by ${plan.routeBy.join(', ')}; any one decides`], ...cold, ...fallback, ...tiers('')];
}

function names(policy: Policy, ids: string[]): string {
  return ids.map((id) => reviewerName(policy, id)).join(', ');
}

function sourceText(policy: Policy, source: ReviewerSource): string {
  return Array.isArray(source) ? names(policy, source) : reviewerName(policy, source);
}

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(md).join(' | ')} |`;
  return [line(head), `|${' --- |'.repeat(head.length)}`, ...rows.map(line)].join('\n');
}

/** Pools and rotations as placeholder people (`pool:…`, `oncall:…`), and nobody out of office. */
function standingPolicy(policy: Policy): Policy {
  const placeholder: PolicyPerson = { email: 'placeholder@documentation.invalid', handles: [], roles: [], outOfOffice: [] };
  const placeholders = [...Object.keys(policy.pools).map((pool) => `pool:${pool}`), ...Object.keys(policy.rotations).map((rotation) => `oncall:${rotation}`)];
  const people = { ...mapValues(policy.people, (person) => ({ ...person, outOfOffice: [] })), ...Object.fromEntries(placeholders.map((id) => [id, placeholder])) };
  const tiers = mapValues(policy.tiers, (tier) => ({ ...tier, reviewers: named(tier.reviewers) }));
  // Quiet hours are documented from the policy itself; resolving them would only tie the plan to a date.
  return { ...policy, people, gates: mapValues(policy.gates, standingGate), tiers, quietHours: undefined };
}

function standingGate(gate: PolicyGate): PolicyGate {
  if (gate.model === 'sequential') return { ...gate, chain: namedSteps(gate.chain) };
  if (gate.model === 'parallel') return { ...gate, reviewers: named(gate.reviewers) };
  return { ...gate, candidates: named(gate.candidates), chain: gate.chain && namedSteps(gate.chain) };
}

/** The rule without conditions, so the plan resolved for it is the one it selects. */
function standingRule(rule: PolicyRule): PolicyRule {
  const { use } = rule;
  return { ...rule, when: {}, use: { ...use, reviewers: use.reviewers && named(use.reviewers), chain: use.chain && namedSteps(use.chain) } };
}

function named(source: ReviewerSource): string[] {
  return Array.isArray(source) ? source : [source];
}

function namedSteps(chain: PolicyStep[]): PolicyStep[] {
  return chain.map((step) => ({ ...step, reviewers: named(step.reviewers) }));
}

/** A failure of the gate, as resolution needs one; nothing in it but the gate name shapes the plan. */
function documentationFailure(gateName: string): GateFailure {
  const url = 'https://documentation.invalid/';
  const change = { sha: '0000000', author: '(documentation)', title: 'documentation', url, changedFiles: [] };
  return { gate: { name: gateName, kind: 'custom' }, service: 'documentation', repository: 'documentation', severity: 'medium', change, pipelineRun: { id: 'documentation', url }, occurredAt: new Date(0).toISOString(), hotfix: false, rollback: false, idempotencyKey: 'documentation' };
}

function mapValues<T, U>(record: Record<string, T>, map: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([key, value]) => [key, map(value)]));
}
