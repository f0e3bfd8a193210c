import { metricsQuerySchema } from '../../domain/metrics/query.js';
import { metricsReportSchema } from '../../domain/metrics/report.js';
import { HttpError } from './http-error.js';
import { defineRoute, type ShimRoute } from './routes.js';

/** Per-gate figures from the outcome store, for people and for Grafana-less dashboards. */
export const metricsRoutes: readonly ShimRoute[] = [
  defineRoute({
    method: 'GET',
    url: '/v1/metrics/gates',
    operationId: 'gateMetrics',
    tag: 'Escalations',
    summary: 'Per-gate metrics over a window',
    description:
      'Time to resolution and to first response, timeout, exhausted, rollback, override and false-positive shares (with the override alert above 20 %), outcomes, responder concentration and load per person, cost of delay, routing accuracy and satisfaction — per gate (or service, team, model) and mode, beside the same figures for the window before. README "Metrics" defines every figure.',
    access: 'read',
    query: metricsQuerySchema,
    answers: { 200: { description: 'The report.', schema: metricsReportSchema } },
    refusals: { 404: ['NotFound'] },
    reasons: { NotFound: 'metrics are not configured on this shim (no outcome store)' },
    handler: async ({ query }, { options }) => {
      if (!options.gateMetrics) throw new HttpError(404, 'NotFound', 'metrics are not configured on this shim');
      return options.gateMetrics(query);
    },
  }),
];
