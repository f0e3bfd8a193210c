import { owningTeams, type OwningTeams, parseCodeowners, parseCodeownersFile } from './codeowners.js';
import type { GateFailure } from './gate-failure.js';
import type { Policy, PolicyGate, PolicyRule } from './policy.js';
import { isWorking, parseWorkingHours } from './schedule.js';

/** A condition a rule's `when` can name. */
export type RuleCondition = keyof PolicyRule['when'];

/** One condition of a rule, judged against one failure. */
export interface ConditionVerdict {
  condition: RuleCondition;
  holds: boolean;
  /** Why it holds or not, in words, naming the failure's value and what the rule wants. */
  text: string;
}

/** Whether one rule matches a failure, and the conditions that decided it. */
export interface RuleVerdict {
  index: number;
  /** The rule's `name`, or `#n` (1-based) for a rule without one. */
  name: string;
  matched: boolean;
  /** The conditions that held (a match) or those that failed, joined with `; `. */
  why: string;
  /** Every condition the rule names, in a fixed order (not the order written). */
  conditions: ConditionVerdict[];
}

/**
 * Judges the policy's rules against `failure` at `at`, in order, up to and including the first
 * that matches (first match wins; later rules are not evaluated). A rule matches when every
 * condition it names holds; a rule without conditions matches every failure.
 */
export function ruleVerdicts(policy: Policy, failure: GateFailure, at: Date): RuleVerdict[] {
  const facts = factsOf(policy, failure, at);
  const verdicts: RuleVerdict[] = [];
  for (const [index, rule] of policy.rules.entries()) {
    const conditions = conditionsOf(rule, facts);
    const misses = conditions.filter((c) => !c.holds);
    const matched = misses.length === 0;
    const why = (matched ? conditions : misses).map((c) => c.text).join('; ') || 'no conditions: matches every failure';
    verdicts.push({ index, name: rule.name ?? `#${index + 1}`, matched, why, conditions });
    if (matched) break;
  }
  return verdicts;
}

/** The first rule that matches `failure` at `at`, with its verdict; `undefined` when none does. */
export function firstMatchingRule(policy: Policy, failure: GateFailure, at: Date): { rule: PolicyRule; verdict: RuleVerdict } | undefined {
  const verdict = ruleVerdicts(policy, failure, at).at(-1);
  return verdict?.matched ? { rule: policy.rules[verdict.index]!, verdict } : undefined;
}

/** The rule's conditions as written, e.g. `hotfix: true, severity: critical|high`. */
export function describeWhen(rule: PolicyRule): string {
  return Object.entries(rule.when)
    .map(([key, value]) => `${key}: ${Array.isArray(value) ? value.join('|') : String(value)}`)
    .join(', ');
}

/** The `gates` key that applies to a gate: its own entry, else `*`, else none. */
export function gateEntryKey(policy: Pick<Policy, 'gates'>, gateName: string): string | undefined {
  // Own keys only: a gate named `constructor` must not resolve through Object.prototype.
  return Object.hasOwn(policy.gates, gateName) ? gateName : Object.hasOwn(policy.gates, '*') ? '*' : undefined;
}

/**
 * Reports what the schema cannot see in rule conditions: a `crossTeam` rule with no CODEOWNERS to
 * read teams from, an `authorRole` nobody holds (a typo would make the rule silently dead), and
 * lines of the policy's CODEOWNERS that GitHub would skip.
 */
export function checkRuleConditions(policy: Policy, problem: (path: PropertyKey[], message: string) => void): void {
  if (policy.codeowners !== undefined) {
    for (const { line, message } of parseCodeownersFile(policy.codeowners).problems) problem(['codeowners'], `line ${line} of the CODEOWNERS text: ${message} (GitHub skips this line)`);
  }
  const roles = new Set(Object.values(policy.people).flatMap((person) => person.roles));
  policy.rules.forEach((rule, i) => {
    rule.when.authorRole?.forEach((role, j) => {
      if (!roles.has(role)) problem(['rules', i, 'when', 'authorRole', j], `nobody under people holds the role "${role}"`);
    });
    if (rule.when.crossTeam === undefined || policy.codeowners !== undefined) return;
    const entries = rule.when.gate ? rule.when.gate.map((gate) => gateEntryKey(policy, gate)).filter((key) => key !== undefined) : Object.keys(policy.gates);
    const without = [...new Set(entries)].filter((key) => ownCodeowners(policy.gates[key]!) === undefined);
    if (without.length) {
      problem(['rules', i, 'when', 'crossTeam'], `crossTeam needs CODEOWNERS to find the owning teams: add a top-level "codeowners" with the repository's CODEOWNERS text (gates without their own: ${without.map((key) => `"${key}"`).join(', ')})`);
    }
  });
}

function ownCodeowners(gate: PolicyGate): string | undefined {
  return gate.model === 'dynamic' ? gate.codeowners : undefined;
}

type FailureFacts = ReturnType<typeof factsOf>;

/** What rules are judged on, each worked out once per failure and only when a rule asks for it. */
function factsOf(policy: Policy, failure: GateFailure, at: Date) {
  const personByAlias = once(() => aliasIndex(policy));
  return {
    policy,
    failure,
    outsideBusinessHours: once(() => !isWorking(parseWorkingHours(policy.businessHours), policy.timezone, at)),
    /** The teams owning the changed files, by the gate entry's own CODEOWNERS, else the policy's; null: no CODEOWNERS. */
    owningTeams: once((): (OwningTeams & { source: string }) | null => {
      const key = gateEntryKey(policy, failure.gate.name);
      const own = key === undefined ? undefined : ownCodeowners(policy.gates[key]!);
      const text = own ?? policy.codeowners;
      if (text === undefined) return null;
      const teamOf = (owner: string) => policy.people[personByAlias().get(normalise(owner)) ?? '']?.team;
      return { ...owningTeams(parseCodeowners(text), failure.change.changedFiles, teamOf), source: own ? `gate ${key}'s CODEOWNERS` : "the policy's CODEOWNERS" };
    }),
    /** The person under `people` who wrote the change (by id, email or handle), or null. */
    authorId: once(() => personByAlias().get(normalise(failure.change.author)) ?? null),
  };
}

/**
 * The person under `people` a change author names (by id, email or handle, case and a leading `@`
 * ignored), as rules match `authorSeniority` and `authorRole`; undefined when none does.
 */
export function personOfAuthor(policy: Policy, author: string): string | undefined {
  return aliasIndex(policy).get(normalise(author));
}

function once<T>(compute: () => T): () => T {
  let computed: { value: T } | undefined;
  return () => (computed ??= { value: compute() }).value;
}

/** Person ids by lower-cased id, email and handle, without a leading `@`; the first person listed wins. */
function aliasIndex(policy: Policy): Map<string, string> {
  const index = new Map<string, string>();
  for (const [id, person] of Object.entries(policy.people)) {
    for (const alias of [id, person.email, ...person.handles]) if (!index.has(normalise(alias))) index.set(normalise(alias), id);
  }
  return index;
}

function normalise(alias: string): string {
  return alias.trim().replace(/^@/, '').toLowerCase();
}

function conditionsOf(rule: PolicyRule, facts: FailureFacts): ConditionVerdict[] {
  const { when } = rule;
  const { failure, policy } = facts;
  const conditions: ConditionVerdict[] = [];
  const oneOf = (condition: RuleCondition, actual: string, wanted: readonly string[] | undefined) => {
    if (!wanted) return;
    const holds = wanted.includes(actual);
    conditions.push({ condition, holds, text: `${condition} ${actual} is ${holds ? '' : 'not '}one of ${wanted.join(', ') || '(none)'}` });
  };
  const flag = (condition: RuleCondition, actual: boolean, wanted: boolean | undefined, detail = '') => {
    if (wanted === undefined) return;
    const holds = actual === wanted;
    conditions.push({ condition, holds, text: `${condition} is ${actual}${detail}${holds ? '' : `, the rule wants ${wanted}`}` });
  };
  oneOf('gate', failure.gate.name, when.gate);
  oneOf('kind', failure.gate.kind, when.kind);
  oneOf('service', failure.service, when.service);
  oneOf('severity', failure.severity, when.severity);
  flag('hotfix', failure.hotfix, when.hotfix);
  flag('rollback', failure.rollback, when.rollback);
  if (when.outsideBusinessHours !== undefined) {
    const outside = facts.outsideBusinessHours();
    const holds = when.outsideBusinessHours === outside;
    const where = `${outside ? 'outside' : 'within'} business hours (${policy.businessHours} ${policy.timezone})`;
    conditions.push({ condition: 'outsideBusinessHours', holds, text: holds ? where : `${where}, the rule wants ${outside ? 'within' : 'outside'}` });
  }
  if (when.crossTeam !== undefined) {
    const owned = facts.owningTeams();
    if (owned === null) conditions.push({ condition: 'crossTeam', holds: false, text: 'crossTeam cannot be judged: the policy has no CODEOWNERS' });
    else flag('crossTeam', owned.teams.length > 1, when.crossTeam, ` (${teamsText(owned)}, per ${owned.source})`);
  }
  if (when.authorSeniority || when.authorRole) {
    const id = facts.authorId();
    const person = id === null ? undefined : policy.people[id];
    const author = `author ${failure.change.author}${id !== null && id !== failure.change.author ? ` (${id})` : ''}`;
    const absent = `${author} is not under people, so`;
    if (when.authorSeniority) {
      const wanted = when.authorSeniority.join(', ') || '(none)';
      const seniority = person?.seniority;
      const holds = seniority !== undefined && when.authorSeniority.includes(seniority);
      const text =
        seniority !== undefined
          ? `${author} is ${seniority}, ${holds ? '' : 'not '}one of ${wanted}`
          : `${person ? `${author} has no seniority in the policy` : `${absent} has no seniority`}, the rule wants one of ${wanted}`;
      conditions.push({ condition: 'authorSeniority', holds, text });
    }
    if (when.authorRole) {
      const wanted = when.authorRole.join(', ') || '(none)';
      const held = person?.roles.filter((role) => when.authorRole!.includes(role)) ?? [];
      const text = !person ? `${absent} holds no role, the rule wants one of ${wanted}` : held.length ? `${author} holds ${held.join(', ')}, one of ${wanted}` : `${author} holds ${person.roles.join(', ') || 'no role'}, none of ${wanted}`;
      conditions.push({ condition: 'authorRole', holds: held.length > 0, text });
    }
  }
  return conditions;
}

function teamsText({ teams, unteamed }: OwningTeams): string {
  const owners = teams.length === 0 ? 'no team owns a changed file' : `${teams.length === 1 ? 'only team' : 'teams'} ${teams.join(', ')} own${teams.length === 1 ? 's' : ''} the changed files`;
  if (!unteamed.length) return owners;
  return `${owners}, not counting ${unteamed.join(', ')}, who ${unteamed.length === 1 ? 'has' : 'have'} no team in the policy`;
}
