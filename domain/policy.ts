import { z } from 'zod';
import { durationSchema } from './duration.js';
import { severities } from './gate-failure.js';

/** A key that names a person, pool or tier inside the policy. */
const name = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits and . _ - only');

const timeZone = z.string().refine(isKnownTimeZone, { message: 'not an IANA time zone such as Europe/Berlin' });

const personSchema = z
  .object({
    name: z.string().min(1).optional(),
    email: z.email(),
    /** Other names the person has in version control, so the author check recognises them. */
    handles: z.array(z.string().min(1)).default([]),
    slack: z.string().optional(),
    timezone: timeZone.optional(),
    backup: name.optional(),
    roles: z.array(name).default([]),
    workingHours: z.string().optional(),
  })
  .strict();

const stepSchema = z
  .object({
    reviewers: z.array(name).min(1),
    timeout: durationSchema,
    /** Overrides the reviewers' own backups for this step. */
    backup: z.array(name).min(1).optional(),
    role: name.optional(),
  })
  .strict();

const tierSchema = z.object({ reviewers: z.array(name).min(1), timeout: durationSchema }).strict();

const exhaustedSchema = z.union([
  z.literal('block').transform(() => ({ action: 'block' as const })),
  z.object({ action: z.literal('block') }).strict(),
  z.object({ action: z.literal('rollback'), endpoint: z.url({ protocol: /^https?$/ }) }).strict(),
]);

const commentRule = z.enum(['never', 'on-reject', 'always']);

/** Settings shared by every model. */
const gateCommon = {
  escalateTo: z.array(name).default([]),
  maxDepth: z.number().int().min(1).max(20).optional(),
  onExhausted: exhaustedSchema.optional(),
  requireComment: commentRule.optional(),
};

const sequentialGate = z.object({ model: z.literal('sequential'), chain: z.array(stepSchema).min(1), ...gateCommon }).strict();

const reviewerSource = z.union([z.array(name).min(1), z.string().regex(/^pool:[a-z0-9][a-z0-9._-]*$/)]);

const parallelGate = z
  .object({
    model: z.literal('parallel'),
    reviewers: reviewerSource,
    quorum: z
      .object({
        approve: z.number().int().min(1),
        override: z.number().int().min(1).optional(),
        reject: z.number().int().min(1).default(1),
      })
      .strict(),
    acknowledgeWithin: durationSchema.optional(),
    renotify: z.number().int().min(0).max(10).default(0),
    decideWithin: durationSchema,
    ...gateCommon,
  })
  .strict();

const routingFactors = z.enum(['codeowners', 'severity', 'oncall', 'workingHours', 'responseHistory', 'load']);

const dynamicGate = z
  .object({
    model: z.literal('dynamic'),
    candidates: reviewerSource,
    routeBy: z.array(routingFactors).min(1),
    decideWithin: durationSchema,
    coldStart: z.enum(['sequential', 'parallel']).default('parallel'),
    fallback: z.literal('sequential').default('sequential'),
    chain: z.array(stepSchema).min(1).optional(),
    ...gateCommon,
  })
  .strict();

const gateSchema = z.discriminatedUnion('model', [sequentialGate, parallelGate, dynamicGate]);

const ruleSchema = z
  .object({
    when: z
      .object({
        gate: z.array(z.string()).optional(),
        severity: z.array(z.enum(severities)).optional(),
        hotfix: z.boolean().optional(),
        rollback: z.boolean().optional(),
        outsideBusinessHours: z.boolean().optional(),
      })
      .strict(),
    use: z.record(z.string(), z.unknown()),
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
    defaults: z
      .object({
        maxDepth: z.number().int().min(1).max(20).default(3),
        onExhausted: exhaustedSchema.default({ action: 'block' }),
        requireComment: commentRule.default('on-reject'),
      })
      .strict()
      .prefault({}),
    people: z.record(name, personSchema).refine((people) => Object.keys(people).length > 0, 'at least one person'),
    pools: z
      .record(name, z.object({ members: z.array(name).min(1), rotate: z.enum(['none', 'weekly', 'sprint']).default('none') }).strict())
      .default({}),
    tiers: z.record(name, tierSchema).default({}),
    gates: z.record(z.string().min(1), gateSchema),
    rules: z.array(ruleSchema).default([]),
    quietHours: z
      .object({
        from: z.string().regex(/^\d{2}:\d{2}$/),
        to: z.string().regex(/^\d{2}:\d{2}$/),
        notify: z.enum(['primary-oncall-only', 'all']),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine(checkReferences);

export type Policy = z.output<typeof policySchema>;
export type PolicyPerson = Policy['people'][string];
export type PolicyGate = Policy['gates'][string];
export type ExhaustedAction = z.output<typeof exhaustedSchema>;
export type CommentRule = z.output<typeof commentRule>;

/** Models this version runs; the schema already describes the others so policies can be written ahead. */
export const runnableModels: ReadonlySet<PolicyGate['model']> = new Set(['sequential']);

// Typed loosely because it runs inside the schema that defines `Policy`.
function checkReferences(policy: object, ctx: z.RefinementCtx): void {
  const p = policy as Policy;
  const person = (id: string, path: PropertyKey[]) => {
    if (!(id in p.people)) ctx.addIssue({ code: 'custom', path, message: `refers to "${id}", who is not under people` });
  };
  for (const [id, who] of Object.entries(p.people)) {
    if (who.backup !== undefined) {
      person(who.backup, ['people', id, 'backup']);
      if (who.backup === id) ctx.addIssue({ code: 'custom', path: ['people', id, 'backup'], message: 'a person cannot be their own backup' });
    }
  }
  for (const [poolName, pool] of Object.entries(p.pools)) pool.members.forEach((m, i) => person(m, ['pools', poolName, 'members', i]));
  for (const [tierName, tier] of Object.entries(p.tiers)) tier.reviewers.forEach((r, i) => person(r, ['tiers', tierName, 'reviewers', i]));
  for (const [gateName, gate] of Object.entries(p.gates)) {
    const at = (...rest: PropertyKey[]) => ['gates', gateName, ...rest];
    if (!runnableModels.has(gate.model)) {
      ctx.addIssue({ code: 'custom', path: at('model'), message: `model "${gate.model}" is not available in this version of Escalator (only: ${[...runnableModels].join(', ')})` });
    }
    const seen = new Set<string>();
    gate.escalateTo.forEach((tierName, i) => {
      if (!(tierName in p.tiers)) ctx.addIssue({ code: 'custom', path: at('escalateTo', i), message: `refers to tier "${tierName}", which is not under tiers` });
      if (seen.has(tierName)) ctx.addIssue({ code: 'custom', path: at('escalateTo', i), message: `tier "${tierName}" is listed twice: an escalation must not return to a tier` });
      seen.add(tierName);
    });
    if ('chain' in gate && gate.chain) {
      gate.chain.forEach((step, i) => {
        step.reviewers.forEach((r, j) => person(r, at('chain', i, 'reviewers', j)));
        step.backup?.forEach((b, j) => person(b, at('chain', i, 'backup', j)));
      });
    }
    for (const key of ['reviewers', 'candidates'] as const) {
      const source = (gate as Record<string, unknown>)[key];
      if (typeof source === 'string') {
        const poolName = source.slice('pool:'.length);
        if (!(poolName in p.pools)) ctx.addIssue({ code: 'custom', path: at(key), message: `refers to pool "${poolName}", which is not under pools` });
      } else if (Array.isArray(source)) {
        source.forEach((r: string, i: number) => person(r, at(key, i)));
      }
    }
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
