import { z } from 'zod';
import { durationSchema } from './duration.js';
import { gateKinds, severities } from './gate-failure.js';
import { checkIntegrationGates, integrationsSchema } from './integrations.js';
import { gateModes } from './metrics/report.js';
import { checkRuleConditions } from './rule-conditions.js';
import { parseWorkingHours, weekdays } from './schedule.js';

/** A key that names a person, pool or tier inside the policy. */
const name = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits and . _ - only');

const timeZone = z.string().refine(isKnownTimeZone, { message: 'not an IANA time zone such as Europe/Berlin' });

export const notificationChannels = ['email', 'slack', 'pagerduty'] as const;
export type NotificationChannel = (typeof notificationChannels)[number];

/** A person's seniority, matched by a rule's `authorSeniority`. */
export const seniorities = ['junior', 'mid', 'senior', 'staff'] as const;

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'a time of day such as 07:30');
const isoDate = z.iso.date();

const workingHours = z.string().superRefine((text, ctx) => {
  try {
    parseWorkingHours(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

const personSchema = z
  .object({
    name: z.string().min(1).optional(),
    email: z.email(),
    /** Other names the person has in version control (and CODEOWNERS), so the author check recognises them. */
    handles: z.array(z.string().min(1)).default([]),
    slack: z.string().optional(),
    timezone: timeZone.optional(),
    backup: name.optional(),
    roles: z.array(name).default([]),
    /** The GitHub team slug the person belongs to (`checkout` for `@acme/checkout`), for a rule's `crossTeam`. */
    team: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a GitHub team slug such as checkout (for @acme/checkout): lower-case letters, digits and . _ - only').optional(),
    seniority: z.enum(seniorities).optional(),
    workingHours: workingHours.optional(),
    outOfOffice: z.array(z.object({ from: isoDate, to: isoDate }).strict()).default([]),
    /** The channels this person is reached through, whatever the severity allows; default: all. */
    channels: z.array(z.enum(notificationChannels)).min(1).optional(),
  })
  .strict();

/** People named directly, a rotating approver pool (`pool:name`) or whoever is on call (`oncall:name`). */
const reviewerSource = z.union([z.array(name).min(1), z.string().regex(/^(pool|oncall):[a-z0-9][a-z0-9._-]*$/, 'a list of people, pool:<name> or oncall:<name>')]);

const stepSchema = z
  .object({
    reviewers: reviewerSource,
    timeout: durationSchema,
    /** Overrides the reviewers' own backups for this step. */
    backup: z.array(name).min(1).optional(),
    role: name.optional(),
  })
  .strict();

const tierSchema = z
  .object({
    reviewers: reviewerSource,
    timeout: durationSchema,
    /** The tier this one hands to when it times out too. */
    escalateTo: name.optional(),
    /** May reassign escalations waiting in this tier. */
    lead: name.optional(),
  })
  .strict();

const exhaustedSchema = z.union([
  z.literal('block').transform(() => ({ action: 'block' as const })),
  z.literal('rollback').transform(() => ({ action: 'rollback' as const, endpoint: '' })),
  z.object({ action: z.literal('block') }).strict(),
  z
    .object({
      action: z.literal('rollback'),
      endpoint: z.url({ protocol: /^https?$/ }),
      /** Who rolls back by hand when the endpoint keeps failing; by default the tiers' leads. */
      notify: reviewerSource.optional(),
    })
    .strict(),
]);

const commentRule = z.enum(['never', 'on-reject', 'always']);

const tierList = z.union([name.transform((tier) => [tier]), z.array(name)]);

/** Settings shared by every model. */
const gateCommon = {
  escalateTo: tierList.default([]),
  maxDepth: z.number().int().min(1).max(20).optional(),
  onExhausted: exhaustedSchema.optional(),
  requireComment: commentRule.optional(),
  /** Shuffle the order of reviewers (and of sequential steps) with the workflow's own seeded randomness. */
  randomizeOrder: z.boolean().default(false),
  /**
   * Separation of duties: one person decides at most one step and casts at most one vote in an
   * escalation, whoever they stand in for. `false` lets the same person decide several steps.
   */
  oneDecisionPerPerson: z.boolean().optional(),
  /** What an hour of this gate blocked costs (any currency); `escalator simulate` prices delay with it. */
  costPerHour: z.number().min(0).optional(),
  /**
   * `live` acts on the pipeline; `shadow` runs the escalation on real timers but notifies nobody and
   * decides nothing for the pipeline; `pilot` notifies only the `pilot` group, with a banner.
   */
  mode: z.enum(gateModes).default('live'),
  /** The people a `pilot` gate notifies; required with `mode: pilot`, refused otherwise. */
  pilot: z.array(name).min(1).optional(),
};

const quorumSchema = z
  .object({
    approve: z.number().int().min(1),
    override: z.number().int().min(1).optional(),
    reject: z.number().int().min(1).default(1),
  })
  .strict();

const sequentialGate = z.object({ model: z.literal('sequential'), chain: z.array(stepSchema).min(1), ...gateCommon }).strict();

const parallelGate = z
  .object({
    model: z.literal('parallel'),
    reviewers: reviewerSource,
    quorum: quorumSchema.prefault({ approve: 1 }),
    acknowledgeWithin: durationSchema.optional(),
    renotify: z.number().int().min(0).max(10).default(0),
    decideWithin: durationSchema,
    ...gateCommon,
  })
  .strict();

/**
 * `expertise`: who reviewed changes to the same paths before; `approvals`: how many decisions each
 * gave in this gate and service lately; `recency`: how recently they decided anything. All three are
 * learned from the outcome store.
 */
export const routingFactors = ['expertise', 'codeowners', 'severity', 'oncall', 'workingHours', 'responseHistory', 'load', 'approvals', 'recency'] as const;

const coldStartSchema = z.union([
  z.enum(['sequential', 'parallel']).transform((model) => ({ model, minHistory: 5 })),
  z.object({ model: z.enum(['sequential', 'parallel']), minHistory: z.number().int().min(0).default(5) }).strict(),
]);

/**
 * Trades accuracy for spread: among the candidates the model rates at least (1 - within) as likely
 * to decide as the best, ask the least loaded. 0.2 asks anyone within 20 % of the best.
 */
const spreadLoadSchema = z.object({ within: z.number().gt(0).lt(1) }).strict();

const dynamicGate = z
  .object({
    model: z.literal('dynamic'),
    candidates: reviewerSource,
    routeBy: z.array(z.enum(routingFactors)).min(1),
    /** How many reviewers routing picks; any one of them decides. */
    pick: z.number().int().min(1).default(1),
    decideWithin: durationSchema,
    coldStart: coldStartSchema.prefault('parallel'),
    fallback: z.literal('sequential').default('sequential'),
    /** The chain the fallback runs; default: the candidates in routing order, each for `decideWithin`. */
    chain: z.array(stepSchema).min(1).optional(),
    /** CODEOWNERS text (GitHub semantics); owners are @handles or emails of people. */
    codeowners: z.string().optional(),
    spreadLoad: spreadLoadSchema.optional(),
    ...gateCommon,
  })
  .strict();

const gateSchema = z.discriminatedUnion('model', [sequentialGate, parallelGate, dynamicGate]);

/** What a matching rule changes for this failure: the model and any of its settings. */
const ruleUseSchema = z
  .object({
    model: z.enum(['sequential', 'parallel', 'dynamic']).optional(),
    reviewers: reviewerSource.optional(),
    quorum: quorumSchema.optional(),
    decideWithin: durationSchema.optional(),
    acknowledgeWithin: durationSchema.optional(),
    renotify: z.number().int().min(0).max(10).optional(),
    chain: z.array(stepSchema).min(1).optional(),
    escalateTo: tierList.optional(),
    maxDepth: z.number().int().min(1).max(20).optional(),
    onExhausted: exhaustedSchema.optional(),
    requireComment: commentRule.optional(),
    // Named so the refusal says why, rather than "unrecognized key".
    mode: z.never({ error: "a rule cannot change a gate's mode: set mode (and pilot) on the gate itself" }).optional(),
    pilot: z.never({ error: "a rule cannot change a gate's pilot group: set pilot on the gate itself" }).optional(),
  })
  .strict();

const ruleSchema = z
  .object({
    name: z.string().min(1).optional(),
    when: z
      .object({
        gate: z.array(z.string()).optional(),
        kind: z.array(z.enum(gateKinds)).optional(),
        service: z.array(z.string()).optional(),
        severity: z.array(z.enum(severities)).optional(),
        hotfix: z.boolean().optional(),
        rollback: z.boolean().optional(),
        outsideBusinessHours: z.boolean().optional(),
        /** The changed files have owners in more than one team, by CODEOWNERS. */
        crossTeam: z.boolean().optional(),
        /** The change's author (a person under `people`) has one of these seniorities. */
        authorSeniority: z.array(z.enum(seniorities)).optional(),
        /** The change's author holds one of these roles. */
        authorRole: z.array(name).optional(),
      })
      .strict(),
    use: ruleUseSchema,
  })
  .strict();

const rotationSchema = z
  .object({
    members: z.array(name).min(1),
    handoff: z.enum(['daily', 'weekly']),
    handoffTime: clock.default('09:00'),
    handoffDay: z.enum(weekdays).optional(),
    start: isoDate,
    timezone: timeZone.optional(),
    overrides: z.array(z.object({ from: z.string(), to: z.string(), person: name }).strict()).default([]),
  })
  .strict();

const poolSchema = z
  .object({
    members: z.array(name).min(1),
    rotate: z.enum(['none', 'weekly', 'sprint']).default('none'),
    size: z.number().int().min(1).optional(),
    sprintLength: z.number().int().min(1).max(8).default(2),
    start: isoDate.default('2026-01-05'),
  })
  .strict();

/** Which ends of an escalation open a ticket: exhausted (whatever its action did), rolled back, flagged for postmortem. */
export const ticketTriggers = ['exhausted', 'rolled-back', 'postmortem'] as const;
export const ticketSystems = ['jira', 'servicenow'] as const;

const jiraTicketSchema = z
  .object({
    project: z.string().regex(/^[A-Z][A-Z0-9_]+$/, 'a Jira project key such as OPS: an upper-case letter, then upper-case letters, digits or _'),
    issueType: z.string().min(1).default('Task'),
    labels: z.array(z.string().regex(/^\S{1,255}$/, 'a Jira label: no spaces, at most 255 characters')).default([]),
    /** Applied right after the issue is opened when the outcome leaves nothing for people to do (a rollback that went through). */
    doneTransition: z.string().min(1).optional(),
  })
  .strict();

const serviceNowTicketSchema = z
  .object({
    /** The group's sys_id, or its name (looked up in sys_user_group). */
    assignmentGroup: z.string().min(1).optional(),
    category: z.string().min(1).optional(),
    /** 1 high, 2 medium, 3 low; by default from the failure's severity. */
    urgency: z.literal([1, 2, 3], { error: 'urgency is 1 (high), 2 (medium) or 3 (low)' }).optional(),
  })
  .strict();

const ticketsSchema = z
  .object({
    when: z.array(z.enum(ticketTriggers, { error: `a trigger is one of ${ticketTriggers.join(', ')}` })).min(1).default([...ticketTriggers]),
    system: z.enum(ticketSystems, { error: `system is one of ${ticketSystems.join(', ')}` }),
    jira: jiraTicketSchema.optional(),
    servicenow: serviceNowTicketSchema.optional(),
  })
  .strict()
  .superRefine((tickets, ctx) => {
    if (tickets.system === 'jira' && !tickets.jira) ctx.addIssue({ code: 'custom', path: ['jira'], message: 'system jira needs jira: { project: <KEY> }' });
    if (tickets.system === 'servicenow' && !tickets.servicenow) ctx.addIssue({ code: 'custom', path: ['servicenow'], message: 'system servicenow needs servicenow: { … } (it may be empty: {})' });
  });

const digestSchema = z
  .object({
    day: z.enum(weekdays).default('Mon'),
    hour: z.number().int().min(0).max(23).default(9),
    /** Where day and hour are read; the policy's time zone by default. */
    timezone: timeZone.optional(),
    /** The lead of each team (a team as in people's `team`): who gets that team's gates. */
    leads: z.record(z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'a team slug as in people\'s team'), name).refine((leads) => Object.keys(leads).length > 0, 'at least one team lead'),
    /** Alert thresholds besides overrides above 20 %: timeouts, and one person deciding most. */
    alerts: z.object({ timeoutShare: z.number().min(0).max(1).default(0.25), topResponderShare: z.number().min(0).max(1).default(0.5) }).strict().prefault({}),
  })
  .strict();

/**
 * The policy file (YAML) as a team writes it. Durations arrive as text and leave as milliseconds.
 * Gates are keyed by gate name; the key `"*"` applies to gates without their own entry.
 */
export const policySchema = z
  .object({
    version: z.literal(1),
    timezone: timeZone.default('UTC'),
    businessHours: workingHours.default('Mon-Fri 09:00-17:00'),
    /** CODEOWNERS text (GitHub semantics) for rules' `crossTeam` and for dynamic gates without their own. */
    codeowners: z.string().optional(),
    defaults: z
      .object({
        maxDepth: z.number().int().min(1).max(20).default(3),
        onExhausted: exhaustedSchema.default({ action: 'block' }),
        requireComment: commentRule.default('on-reject'),
        oneDecisionPerPerson: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    people: z.record(name, personSchema).refine((people) => Object.keys(people).length > 0, 'at least one person'),
    pools: z.record(name, poolSchema).default({}),
    rotations: z.record(name, rotationSchema).default({}),
    tiers: z.record(name, tierSchema).default({}),
    breakGlass: z
      .object({ roles: z.array(name).min(1), notify: name.optional() })
      .strict()
      .optional(),
    gates: z.record(z.string().min(1), gateSchema),
    rules: z.array(ruleSchema).default([]),
    quietHours: z
      .object({ from: clock, to: clock, notify: z.enum(['primary-oncall-only', 'all']), oncall: name.optional() })
      .strict()
      .optional(),
    /** Open a Jira issue or ServiceNow incident when an escalation ends in one of `when`; credentials come from the worker's environment. */
    tickets: ticketsSchema.optional(),
    /** The weekly digest: each team lead gets their gates' figures, alerts and slowest escalations by email. */
    digest: digestSchema.optional(),
    /** GitHub and GitLab events that are gate failures, and their gates. */
    integrations: integrationsSchema.prefault({}),
    /** Which channels reach reviewers, by severity; PagerDuty pages only the tiers named here. */
    channels: z
      .object({
        bySeverity: z
          .object({
            critical: z.array(z.enum(notificationChannels)).min(1),
            high: z.array(z.enum(notificationChannels)).min(1),
            medium: z.array(z.enum(notificationChannels)).min(1),
            low: z.array(z.enum(notificationChannels)).min(1),
          })
          .strict()
          .prefault({ critical: ['email', 'slack', 'pagerduty'], high: ['email', 'slack'], medium: ['email', 'slack'], low: ['email'] }),
        pageTiers: z.array(name).default([]),
        /** Channels by role, for people without their own `channels` (a person with several roles gets them all). */
        byRole: z.record(name, z.array(z.enum(notificationChannels)).min(1)).default({}),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .superRefine(checkReferences)
  .superRefine(checkIntegrationGates);


export type Policy = z.output<typeof policySchema>;
export type PolicyPerson = Policy['people'][string];
export type PolicyGate = Policy['gates'][string];
export type PolicyStep = z.output<typeof stepSchema>;
export type PolicyRule = Policy['rules'][number];
export type ReviewerSource = z.output<typeof reviewerSource>;
export type ExhaustedAction = z.output<typeof exhaustedSchema>;
export type CommentRule = z.output<typeof commentRule>;
export type RoutingFactor = (typeof routingFactors)[number];
export type TicketSettings = z.output<typeof ticketsSchema>;
export type DigestSettings = z.output<typeof digestSchema>;
export type TicketTrigger = (typeof ticketTriggers)[number];
export type TicketSystem = (typeof ticketSystems)[number];

// Typed loosely because it runs inside the schema that defines `Policy`.
function checkReferences(policy: object, ctx: z.RefinementCtx): void {
  const p = policy as Policy;
  const problem = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
  // Own keys only: with `in`, a name such as `constructor` would resolve through Object.prototype.
  const person = (id: string, path: PropertyKey[]) => {
    if (!Object.hasOwn(p.people, id)) problem(path, `refers to "${id}", who is not under people`);
  };
  const tier = (tierName: string, path: PropertyKey[]) => {
    if (!Object.hasOwn(p.tiers, tierName)) problem(path, `refers to tier "${tierName}", which is not under tiers`);
  };
  const source = (value: ReviewerSource, path: PropertyKey[]) => {
    if (Array.isArray(value)) return value.forEach((id, i) => person(id, [...path, i]));
    const [kind, target] = value.split(':') as ['pool' | 'oncall', string];
    if (kind === 'pool' && !Object.hasOwn(p.pools, target)) problem(path, `refers to pool "${target}", which is not under pools`);
    if (kind === 'oncall' && !Object.hasOwn(p.rotations, target)) problem(path, `refers to rotation "${target}", which is not under rotations`);
  };
  const steps = (chain: PolicyStep[] | undefined, path: PropertyKey[]) =>
    chain?.forEach((step, i) => {
      source(step.reviewers, [...path, i, 'reviewers']);
      step.backup?.forEach((b, j) => person(b, [...path, i, 'backup', j]));
    });
  const exhausted = (action: ExhaustedAction | undefined, path: PropertyKey[]) => {
    if (action?.action === 'rollback' && !action.endpoint) problem(path, 'a rollback needs an endpoint: { action: rollback, endpoint: https://… }');
    if (action?.action === 'rollback' && 'notify' in action && action.notify) source(action.notify, [...path, 'notify']);
  };

  exhausted(p.defaults.onExhausted, ['defaults', 'onExhausted']);
  for (const [team, lead] of Object.entries(p.digest?.leads ?? {})) person(lead, ['digest', 'leads', team]);
  for (const [id, who] of Object.entries(p.people)) {
    if (who.backup !== undefined) {
      person(who.backup, ['people', id, 'backup']);
      if (who.backup === id) problem(['people', id, 'backup'], 'a person cannot be their own backup');
    }
  }
  for (const [poolName, pool] of Object.entries(p.pools)) {
    pool.members.forEach((m, i) => person(m, ['pools', poolName, 'members', i]));
    if (pool.size !== undefined && pool.size > pool.members.length) problem(['pools', poolName, 'size'], `size ${pool.size} is larger than the pool's ${pool.members.length} members`);
  }
  for (const [rotationName, rotation] of Object.entries(p.rotations)) {
    rotation.members.forEach((m, i) => person(m, ['rotations', rotationName, 'members', i]));
    rotation.overrides.forEach((o, i) => person(o.person, ['rotations', rotationName, 'overrides', i, 'person']));
  }
  for (const [tierName, t] of Object.entries(p.tiers)) {
    source(t.reviewers, ['tiers', tierName, 'reviewers']);
    if (t.lead) person(t.lead, ['tiers', tierName, 'lead']);
    if (t.escalateTo) tier(t.escalateTo, ['tiers', tierName, 'escalateTo']);
  }
  for (const [tierName] of Object.entries(p.tiers)) {
    const cycle = tierCycleFrom(p, [tierName]);
    if (cycle) problem(['tiers', tierName, 'escalateTo'], `tiers escalate in a cycle (${cycle.join(' → ')}): an escalation could bounce forever`);
  }
  if (p.breakGlass) {
    if (p.breakGlass.notify) tier(p.breakGlass.notify, ['breakGlass', 'notify']);
    if (!Object.values(p.people).some((who) => who.roles.some((role) => p.breakGlass!.roles.includes(role)))) {
      problem(['breakGlass', 'roles'], `nobody holds any of the roles ${p.breakGlass.roles.join(', ')}`);
    }
  }
  p.channels.pageTiers.forEach((tierName, i) => tier(tierName, ['channels', 'pageTiers', i]));
  if (p.quietHours?.notify === 'primary-oncall-only') {
    if (!p.quietHours.oncall) problem(['quietHours', 'oncall'], 'name the rotation whose primary is notified in quiet hours');
    else if (!Object.hasOwn(p.rotations, p.quietHours.oncall)) problem(['quietHours', 'oncall'], `refers to rotation "${p.quietHours.oncall}", which is not under rotations`);
  }
  const escalation = (tiers: string[], path: PropertyKey[]) => {
    const seen = new Set<string>();
    tiers.forEach((tierName, i) => {
      tier(tierName, [...path, i]);
      if (seen.has(tierName)) problem([...path, i], `tier "${tierName}" is listed twice: an escalation must not return to a tier`);
      seen.add(tierName);
    });
    const cycle = tierCycleFrom(p, tiers);
    if (cycle && new Set(tiers).size === tiers.length) problem(path, `this escalation path cycles (${cycle.join(' → ')}): an escalation could bounce forever`);
  };
  for (const [gateName, gate] of Object.entries(p.gates)) {
    const at = (...rest: PropertyKey[]) => ['gates', gateName, ...rest];
    if (gate.mode === 'pilot' && !gate.pilot) problem(at('pilot'), 'a pilot gate names the people it notifies: pilot: [person, …]');
    if (gate.mode !== 'pilot' && gate.pilot) problem(at('pilot'), `only a gate in mode pilot has a pilot group (this one is ${gate.mode}): set mode: pilot, or remove pilot`);
    gate.pilot?.forEach((id, i) => person(id, at('pilot', i)));
    escalation(gate.escalateTo, at('escalateTo'));
    exhausted(gate.onExhausted, at('onExhausted'));
    if (gate.model === 'sequential') steps(gate.chain, at('chain'));
    if (gate.model === 'parallel') {
      source(gate.reviewers, at('reviewers'));
      checkQuorum(gate.quorum, gate.reviewers, p, at('quorum'), problem);
    }
    if (gate.model === 'dynamic') {
      source(gate.candidates, at('candidates'));
      steps(gate.chain, at('chain'));
    }
  }
  checkRuleConditions(p, problem);
  p.rules.forEach((rule, i) => {
    const at = (...rest: PropertyKey[]) => ['rules', i, 'use', ...rest];
    if (rule.use.reviewers) source(rule.use.reviewers, at('reviewers'));
    steps(rule.use.chain, at('chain'));
    if (rule.use.escalateTo) escalation(rule.use.escalateTo, at('escalateTo'));
    exhausted(rule.use.onExhausted, at('onExhausted'));
    if (rule.use.quorum && rule.use.reviewers) checkQuorum(rule.use.quorum, rule.use.reviewers, p, at('quorum'), problem);
  });
}

/** The tier path from the given tiers onwards through `escalateTo` links, if it returns to a tier. */
export function tierCycleFrom(policy: Pick<Policy, 'tiers'>, start: string[]): string[] | undefined {
  const path = [...start];
  const seen = new Set(start);
  let current = policy.tiers[start.at(-1) ?? '']?.escalateTo;
  while (current !== undefined) {
    path.push(current);
    if (seen.has(current)) return path;
    seen.add(current);
    current = policy.tiers[current]?.escalateTo;
  }
  return undefined;
}

function checkQuorum(
  quorum: z.output<typeof quorumSchema>,
  reviewers: ReviewerSource,
  policy: Policy,
  path: PropertyKey[],
  problem: (path: PropertyKey[], message: string) => void,
): void {
  const pool = typeof reviewers === 'string' && reviewers.startsWith('pool:') ? reviewers.slice(5) : undefined;
  // An unknown pool is reported as a reference problem; Object.hasOwn keeps `pool:constructor` from reading Object.prototype.
  const size = Array.isArray(reviewers) ? reviewers.length : pool !== undefined && Object.hasOwn(policy.pools, pool) ? (policy.pools[pool]!.size ?? policy.pools[pool]!.members.length) : undefined;
  if (size === undefined) return;
  for (const key of ['approve', 'override', 'reject'] as const) {
    const k = quorum[key];
    if (k !== undefined && k > size) problem([...path, key], `a quorum of ${k} cannot be reached by a group of ${size}`);
  }
}

function isKnownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
