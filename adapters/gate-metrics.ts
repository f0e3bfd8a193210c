import { metricsReport, type Ratings } from '../domain/metrics/compute.js';
import { type MetricsQuery, windowsOf } from '../domain/metrics/query.js';
import type { MetricsReport } from '../domain/metrics/report.js';
import type { Policy } from '../domain/policy.js';
import type { OutcomeStore } from './outcome-store/store.js';

export interface GateMetricsSources {
  store: Pick<OutcomeStore, 'metricFacts'>;
  /** The policy as it stands now: teams, costs per hour and working hours come from it. */
  policy: () => Policy;
  /** Satisfaction ratings of the escalations in a window; none when left out. */
  ratings?: (range: { from: string; to: string }) => Promise<Ratings>;
  now?: () => Date;
}

/** The metrics report over the outcome store: the query's window and the one before it, two reads each. */
export function createGateMetrics(sources: GateMetricsSources): (query: MetricsQuery) => Promise<MetricsReport> {
  return async (query) => {
    const { current, previous } = windowsOf(query, (sources.now ?? (() => new Date()))());
    const range = (window: { from: Date; to: Date }) => ({ from: window.from.toISOString(), to: window.to.toISOString() });
    const [currentFacts, previousFacts, ratings] = await Promise.all([
      sources.store.metricFacts(range(current)),
      sources.store.metricFacts(range(previous)),
      sources.ratings?.({ from: previous.from.toISOString(), to: current.to.toISOString() }),
    ]);
    return metricsReport({ query, window: current, previousWindow: previous, current: currentFacts, previous: previousFacts, policy: sources.policy(), ...(ratings ? { ratings } : {}) });
  };
}
