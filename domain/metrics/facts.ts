import type { OutcomeKind, TimelineEntry } from '../escalation.js';

/** The timeline events metrics read; the store loads only these. */
export const metricEventKinds = ['policy-snapshot', 'assigned', 'notified', 'would-notify', 'decided', 'acknowledged', 'timed-out', 'exhausted', 'routed', 'reassigned', 'fallback', 'break-glass', 'recovered', 'ended'] as const;

/** One stored escalation as metrics see it: its record and the timeline entries of `metricEventKinds`, in order. */
export interface EscalationFacts {
  escalationId: string;
  gate: string;
  service: string;
  model: string | null;
  startedAt: string;
  endedAt: string | null;
  outcome: OutcomeKind | null;
  timeline: TimelineEntry[];
}
