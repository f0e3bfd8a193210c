import { z } from 'zod';

const windows = { '7d': 7, '30d': 30, '90d': 90 } as const;

/**
 * Which escalations a metrics report covers: those raised in the window (a named one ending now,
 * or `from`..`to`), grouped by gate, service, team or model, optionally one gate only. Read from a
 * query string (GET /v1/metrics/gates, the dashboard) or CLI flags.
 */
export const metricsQuerySchema = z
  .object({
    window: z.enum(Object.keys(windows) as [keyof typeof windows, ...(keyof typeof windows)[]]).optional().describe('7d, 30d (default) or 90d, ending now; or give from and to'),
    from: z.iso.datetime({ offset: true }).optional().describe('Start of a custom window (ISO 8601), with to'),
    to: z.iso.datetime({ offset: true }).optional().describe('End of a custom window (ISO 8601), with from'),
    gate: z.string().min(1).max(200).optional().describe('Only this gate'),
    groupBy: z.enum(['gate', 'service', 'team', 'model']).default('gate').describe('One row per gate (default), service, team (from the policy) or model'),
  })
  .strict()
  .superRefine((query, ctx) => {
    if ((query.from === undefined) !== (query.to === undefined)) ctx.addIssue({ code: 'custom', path: [query.from === undefined ? 'from' : 'to'], message: 'from and to go together' });
    if (query.from !== undefined && query.window !== undefined) ctx.addIssue({ code: 'custom', path: ['window'], message: 'either window or from and to' });
    if (query.from && query.to && Date.parse(query.to) <= Date.parse(query.from)) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must be after from' });
  });

export type MetricsQuery = z.output<typeof metricsQuerySchema>;

/** The window a query covers, and the one just before it of the same length. */
export function windowsOf(query: MetricsQuery, now: Date): { current: { from: Date; to: Date }; previous: { from: Date; to: Date } } {
  const to = query.to ? new Date(query.to) : now;
  const from = query.from ? new Date(query.from) : new Date(to.getTime() - windows[query.window ?? '30d'] * 86_400_000);
  const length = to.getTime() - from.getTime();
  return { current: { from, to }, previous: { from: new Date(from.getTime() - length), to: from } };
}
