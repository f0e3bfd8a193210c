import { z } from 'zod';
import { durationSchema } from '../duration.js';
import { gateKinds, severities } from '../gate-failure.js';
import { parseWorkingHours } from '../schedule.js';

/**
 * The team file of `escalator simulate` (YAML): how the policy's people behave when asked, and how
 * often each gate fails. Who exists, and their time zone, working hours, declared out-of-office days
 * and rotations, come from the policy, because that is what the engine plans with; the team file only
 * fills in what the policy leaves out (see team-file.ts).
 */

const name = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lower-case letters, digits and . _ - only');
const probability = z.number().min(0, 'a probability from 0 to 1').max(1, 'a probability from 0 to 1');
const isoDate = z.iso.date();

const timeZone = z.string().refine(
  (zone) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'not an IANA time zone such as Europe/Berlin' },
);

const workingHours = z.string().superRefine((text, ctx) => {
  try {
    parseWorkingHours(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
  }
});

const distributionKinds = ['fixed', 'lognormal', 'exponential', 'uniform'] as const;

/**
 * A delay: `10m` (always exactly that), `{ lognormal: { median: 20m, spread: 1.0 } }` (spread is
 * sigma of the log: 0 is fixed, 1 means one in six answers takes 2.7× the median or more),
 * `{ exponential: { mean: 30m } }` or `{ uniform: { min: 5m, max: 1h } }`.
 */
const distributionSchema = z.preprocess(
  (value) => (typeof value === 'string' ? { fixed: value } : value),
  z
    .object({
      fixed: durationSchema,
      lognormal: z.object({ median: durationSchema, spread: z.number().min(0).max(5) }).strict(),
      exponential: z.object({ mean: durationSchema }).strict(),
      uniform: z.object({ min: durationSchema, max: durationSchema }).strict(),
    })
    .partial()
    .strict()
    .superRefine((d, ctx) => {
      const given = distributionKinds.filter((kind) => d[kind] !== undefined);
      if (given.length !== 1) ctx.addIssue({ code: 'custom', message: `give exactly one of ${distributionKinds.join(', ')}, e.g. { lognormal: { median: 20m, spread: 1.0 } } or 10m` });
      if (d.uniform && d.uniform.min > d.uniform.max) ctx.addIssue({ code: 'custom', path: ['uniform'], message: 'min is above max' });
    }),
);

export type Distribution = z.output<typeof distributionSchema>;

/** How a person answers; every field falls back to the team's `defaults`. */
const behaviourShape = {
  /** From the moment they look at a request to their decision. */
  response: distributionSchema.optional(),
  /** Chance a request is never answered (each request and reminder is a fresh chance). */
  ignore: probability.optional(),
  /**
   * Diffusion of responsibility: each other person awaited at the same moment adds this chance of
   * ignoring a request, so a request to six at once is ignored more often than one to a single person.
   */
  bystander: probability.optional(),
  /** Chance an answer is a rejection. */
  reject: probability.optional(),
  /** Chance an answer is an override vote, where a parallel gate has an override quorum. */
  override: probability.optional(),
  /** From looking at a request to pressing "on it" (parallel gates with acknowledgeWithin); default: with the decision. */
  acknowledge: distributionSchema.optional(),
  /** Asked outside working hours and not on call: the chance they answer anyway, and how much slower. */
  outOfHours: z.object({ answer: probability, slowdown: z.number().min(1) }).strict().optional(),
  /** Asked outside working hours while on call in one of the policy's rotations: how much slower. */
  onCall: z.object({ slowdown: z.number().min(1) }).strict().optional(),
};

const personSchema = z
  .object({
    ...behaviourShape,
    /** Only where the policy gives the person none. */
    timezone: timeZone.optional(),
    /** Only where the policy gives the person none. */
    workingHours: workingHours.optional(),
    /** Days away that the policy does not know of: the engine still asks them, and they do not answer. */
    absent: z.array(z.object({ from: isoDate, to: isoDate }).strict()).default([]),
  })
  .strict();

const severityMix = z
  .object(Object.fromEntries(severities.map((severity) => [severity, z.number().min(0).optional()])) as Record<(typeof severities)[number], z.ZodOptional<z.ZodNumber>>)
  .strict()
  .refine((mix) => Object.values(mix).some((weight) => (weight ?? 0) > 0), 'at least one severity with a weight above 0');

const rateUnits = { hour: 3_600_000, day: 86_400_000, week: 604_800_000 } as const;

/** `3/day`, `10/week`, `0.5/hour`: failures per unit of calendar time, converted to per millisecond. */
const rateSchema = z.string().transform((text, ctx) => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(hour|day|week)\s*$/.exec(text);
  const count = match ? Number(match[1]) : Number.NaN;
  if (!match || !(count > 0)) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a rate such as 3/day, 10/week or 0.5/hour` });
    return z.NEVER;
  }
  return count / rateUnits[match[2] as keyof typeof rateUnits];
});

const slug = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/@-]*$/, 'letters, digits and . _ : / @ - only, starting with a letter or digit');

/** How one gate fails: a Poisson process at `rate`, each failure drawn from the mixes below. */
const arrivalSchema = z
  .object({
    rate: rateSchema,
    kind: z.enum(gateKinds).default('custom'),
    services: z.array(slug).min(1).default(['app']),
    severity: severityMix.default({ medium: 1 }),
    /** Share of failures that are hotfixes, and that are rollbacks. */
    hotfix: probability.default(0),
    rollback: probability.default(0),
    /** Who writes the failing changes (an author cannot approve their own change). */
    authors: z.array(z.string().min(1)).min(1).default(['developer']),
    /** Change sets, one drawn per failure by weight; their files drive CODEOWNERS routing and crossTeam rules. */
    changes: z.array(z.object({ files: z.array(z.string().min(1)).min(1), weight: z.number().positive().default(1) }).strict()).default([]),
    /** Failures only arrive in these hours, on the policy's clock (CI runs when people push); the rate stays per calendar day. */
    during: workingHours.optional(),
  })
  .strict();

export const teamSchema = z
  .object({
    version: z.literal(1),
    /** Where virtual time starts; fixed, so a run never depends on when it is made. */
    start: z.iso.datetime({ offset: true }).default('2026-03-02T00:00:00Z'),
    defaults: z
      .object({
        ...behaviourShape,
        /** For people with working hours in neither the policy nor here. */
        workingHours: workingHours.default('Mon-Fri 09:00-17:00'),
      })
      .strict()
      .prefault({}),
    people: z.record(name, personSchema).default({}),
    failures: z.record(z.string().min(1), arrivalSchema).refine((gates) => Object.keys(gates).length > 0, 'at least one gate'),
  })
  .strict();

export type Team = z.output<typeof teamSchema>;
export type TeamPerson = Team['people'][string];
export type GateArrivals = Team['failures'][string];

/** What a person does when nothing says otherwise: answers in about half an hour, mostly approves. */
export const fallbackBehaviour = {
  response: { lognormal: { median: 30 * 60_000, spread: 0.8 } } as Distribution,
  ignore: 0.05,
  bystander: 0,
  reject: 0.05,
  override: 0,
  outOfHours: { answer: 0.1, slowdown: 3 },
  onCall: { slowdown: 1.5 },
};
