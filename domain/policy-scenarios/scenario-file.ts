import { z } from 'zod';
import { durationSchema } from '../duration.js';
import { decisionKinds } from '../escalation.js';
import { modelNameSchema, outcomeKindSchema } from '../escalation-schemas.js';
import { gateKinds, severities } from '../gate-failure.js';

const person = z.string().min(1);
const instant = z.iso.datetime({ offset: true, message: 'an instant with its offset, such as 2026-11-28T03:00:00+01:00' }).transform((text) => Date.parse(text));
/** Time since the failure was raised: 0 or a duration such as 45s, 20m, 2h. */
const offset = z.union([z.literal(0), z.string()]).transform((value, ctx) => {
  if (value === 0) return 0;
  const parsed = durationSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  ctx.addIssue({ code: 'custom', message: parsed.error.issues[0]?.message ?? 'not a duration' });
  return z.NEVER;
});

/** What happens at `after` (since the failure was raised): one message to the escalation. */
const eventSchema = z
  .object({
    after: offset.default(0).describe('since the failure was raised, e.g. 20m'),
    decide: z.object({ reviewer: person, decision: z.enum(decisionKinds).default('approve'), comment: z.string().optional() }).strict().optional(),
    acknowledge: person.optional(),
    reassign: z.object({ by: person, to: person, reason: z.string().default('scenario') }).strict().optional(),
    breakGlass: z.object({ by: person, justification: z.string().default('scenario') }).strict().optional(),
    withdraw: z.object({ by: person, reason: z.string().default('scenario') }).strict().optional(),
    recover: z.literal(true).optional(),
  })
  .strict()
  .refine((event) => ['decide', 'acknowledge', 'reassign', 'breakGlass', 'withdraw', 'recover'].filter((k) => event[k as keyof typeof event] !== undefined).length === 1, {
    message: 'each event does exactly one of decide, acknowledge, reassign, breakGlass, withdraw, recover',
  });

/** One expected moment of the timeline, matched in order against what the engine recorded. */
const expectedEntrySchema = z
  .object({
    after: offset.optional(),
    event: z.string().min(1),
    reviewers: z.array(person).optional(),
    depth: z.number().int().min(0).optional(),
  })
  .strict();

const expectationSchema = z
  .object({
    model: modelNameSchema.optional(),
    rule: z.string().nullable().optional().describe('the rule that chose the model; null for the gate’s own'),
    firstAsked: z.array(person).optional().describe('who is asked first (messaged), in order'),
    firstHeld: z.array(person).optional().describe('who quiet hours hold back at the start'),
    outcome: outcomeKindSchema.optional(),
    depth: z.number().int().min(0).optional(),
    endedAfter: offset.optional(),
    timeline: z.array(expectedEntrySchema).optional(),
  })
  .strict();

export const scenarioSchema = z
  .object({
    name: z.string().min(1),
    at: instant.describe('when the failure is raised, with its offset: 2026-11-28T03:00:00+01:00'),
    failure: z
      .object({
        gate: z.string().min(1),
        kind: z.enum(gateKinds).default('tests'),
        service: z.string().min(1).default('service'),
        severity: z.enum(severities).default('medium'),
        author: z.string().min(1).default('someone-else'),
        changedFiles: z.array(z.string().min(1)).default([]),
        hotfix: z.boolean().default(false),
        rollback: z.boolean().default(false),
      })
      .strict(),
    /** People out of office on the day, besides the policy's own dates. */
    outOfOffice: z.array(person).default([]),
    /** Dynamic gates: ended escalations the outcome store holds (below the cold-start minimum, cold start runs). */
    history: z.number().int().min(0).default(0),
    /** The rollback endpoint's answer, when the escalation is exhausted into a rollback. */
    rollback: z.enum(['succeeds', 'fails']).default('succeeds'),
    events: z.array(eventSchema).default([]),
    expect: expectationSchema,
  })
  .strict();

export const scenarioFileSchema = z
  .object({
    /** The policy under test, relative to the scenario file. */
    policy: z.string().min(1),
    scenarios: z.array(scenarioSchema).min(1),
  })
  .strict();

export type Scenario = z.output<typeof scenarioSchema>;
export type ScenarioEvent = Scenario['events'][number];
export type ScenarioExpectation = Scenario['expect'];
export type ScenarioFile = z.output<typeof scenarioFileSchema>;

