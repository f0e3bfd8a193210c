import { z } from 'zod';

// What GET /v1/metrics/gates answers, `escalator metrics` prints, the dashboard draws and the weekly
// digest sends: one report, defined once. Durations are milliseconds; shares are fractions 0..1.

const millis = z.number().min(0);
const share = z.number().min(0).max(1);
const count = z.number().int().min(0);

export const gateModes = ['live', 'shadow', 'pilot'] as const;

const durationStats = z
  .object({ count, p50: millis.nullable(), p90: millis.nullable(), mean: millis.nullable() })
  .strict()
  .describe('Over the escalations with a value; null when none has one');

const personLoadSchema = z
  .object({
    person: z.string(),
    asked: count.describe('Times asked (notified or assigned) in the window'),
    decided: count,
    outsideWorkingHours: count.describe("Asks that came outside the person's working hours, in their own time zone"),
  })
  .strict();

/** The figures of one group of escalations (a gate, a service, a team or a model) over one window. */
export const gateFiguresSchema = z
  .object({
    raised: count,
    ended: count,
    open: count,
    timeToResolution: durationStats.describe('Raised → ended, ended escalations only'),
    timeToFirstResponse: durationStats.describe('Raised → the first decision or acknowledgement'),
    timeoutShare: share.nullable().describe('Escalations with at least one hand-off for silence (a step timed out)'),
    exhaustedShare: share.nullable(),
    rollbackShare: share.nullable().describe('Ended rolled back'),
    overrideShare: share.nullable().describe('Ended overridden (an override quorum or break-glass)'),
    overrideAlert: z.boolean().describe('Overrides above 20 % of the ended: thresholds are likely too strict'),
    falsePositiveShare: share.nullable().describe("Ended as a false positive: a decision with reason false-positive or flaky, or the gate re-ran green (recovered)"),
    outcomes: z.record(z.string(), count).describe('Ended escalations by outcome'),
    resolutionHistogram: z
      .array(z.object({ upToMs: millis.nullable().describe('Upper bound (inclusive); null: longer than the bucket before'), count }).strict())
      .describe('Ended escalations by time to resolution: 5m, 15m, 30m, 1h, 2h, 4h, 8h, 1d, 2d and longer'),
    outcomesByWeek: z
      .array(z.object({ weekStart: z.iso.date().describe('The Monday (UTC) the week starts on'), outcomes: z.record(z.string(), count) }).strict())
      .describe('Ended escalations per week (by when they ended) and outcome, oldest first'),
    topResponderShare: share.nullable().describe("The busiest decider's share of the decisions"),
    concentration: z.number().min(0).max(1).nullable().describe('Herfindahl–Hirschman index of the decisions per person (1: one person decides all)'),
    load: z.array(personLoadSchema),
    costOfDelay: z.number().min(0).nullable().describe("costPerHour × hours waiting, summed; null when the gate has no costPerHour"),
    routingAccuracy: share.nullable().describe('Dynamic: escalations whose first routed reviewer decided, of those routed and decided'),
    satisfaction: z
      .object({ average: z.number().min(1).max(5).nullable(), responses: count, asked: count, responseRate: share.nullable() })
      .strict()
      .describe('1–5 ratings by the change author and deciders after the end'),
    shadow: z
      .object({
        decidedElsewhere: count.describe("Ended withdrawn or recovered: the team's own way decided, and reported it"),
        teamResolution: durationStats.describe('Raised → decided elsewhere'),
        escalatorExhausted: count.describe("Shadow runs whose timers ran out of people before the team's way decided"),
        wouldHaveAsked: z.number().min(0).nullable().describe('People the shadow run would have notified, on average per run'),
      })
      .strict()
      .nullable()
      .describe("Shadow rows: the team's own way of deciding beside what Escalator would have done; null for live and pilot"),
  })
  .strict();

export const gateReportSchema = z
  .object({
    key: z.string().describe('The gate, service, team or model this row is for'),
    mode: z.enum(gateModes).describe('live, or shadow / pilot while the gate is piloted: their figures stay apart'),
    current: gateFiguresSchema,
    previous: gateFiguresSchema.describe('The same figures for the window just before'),
    slowest: z.array(z.object({ escalationId: z.string(), startedAt: z.string(), endedAt: z.string().nullable(), waitedMs: millis, outcome: z.string().nullable() }).strict()).describe('The five longest waits, open or ended'),
  })
  .strict();

export const metricsReportSchema = z
  .object({
    groupBy: z.enum(['gate', 'service', 'team', 'model']),
    window: z.object({ from: z.iso.datetime(), to: z.iso.datetime() }).strict(),
    previousWindow: z.object({ from: z.iso.datetime(), to: z.iso.datetime() }).strict(),
    rows: z.array(gateReportSchema),
  })
  .strict();

export type GateFigures = z.output<typeof gateFiguresSchema>;
export type GateReport = z.output<typeof gateReportSchema>;
export type MetricsReport = z.output<typeof metricsReportSchema>;
export type GateMode = (typeof gateModes)[number];
