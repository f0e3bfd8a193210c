import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EscalationOutcome, TimelineEntry } from '../domain/escalation.js';

/** Resolution times from a minute to two days: escalations wait on people, not on machines. */
export const resolutionBuckets = [60, 300, 900, 1800, 3600, 7200, 14_400, 28_800, 86_400, 172_800];
const depthBuckets = [0, 1, 2, 3, 4, 5, 6, 8, 10];

/** How a timeline entry handed an escalation on, as the `kind` label of `escalator_handoffs_total`. */
export type HandOffKind = 'backup' | 'tier' | 'renotify' | 'reassign' | 'fallback';

/**
 * Escalator's own Prometheus metrics, in their own registry (served by the worker's `/metrics`).
 *
 * Counts come from activities, which run at least once: the timeline counters count what the
 * outcome store did not hold before the write (see {@link countNewEntries}), so a retried or
 * replayed write is not counted again; an attempt that wrote but died before counting is lost, and
 * two attempts of one write overlapping in time may both count. Each worker process counts what its
 * activities did: sum over workers.
 */
export interface EscalatorMetrics {
  readonly registry: Registry;
  /** `escalator_escalations_started_total{gate,model}`: policy snapshots taken. */
  readonly escalationsStarted: Counter<'gate' | 'model'>;
  /** `escalator_escalations_ended_total{gate,model,outcome}`; model is `none` when no policy applied. */
  readonly escalationsEnded: Counter<'gate' | 'model' | 'outcome'>;
  /** `escalator_time_to_resolution_seconds{gate}`: from the failure's escalation start to its end. */
  readonly timeToResolution: Histogram<'gate'>;
  /** `escalator_timeouts_total{gate}`: steps or decision windows that ran out. */
  readonly timeouts: Counter<'gate'>;
  /** `escalator_handoffs_total{gate,kind}`: every move that counts towards depth. */
  readonly handOffs: Counter<'gate' | 'kind'>;
  /** `escalator_depth_reached{gate}`: the depth each escalation ended at. */
  readonly depthReached: Histogram<'gate'>;
  /** `escalator_notifications_total{channel,result}`: `sent`, or `failed` once per failed attempt. */
  readonly notifications: Counter<'channel' | 'result'>;
  /** The last retraining's accuracy on its period, of the model in use before it and of the one it fitted. */
  readonly routingAccuracy: Gauge<'model' | 'measure'>;
  /** The share of the last retraining's period's routed escalations someone reassigned. */
  readonly routingReassignRate: Gauge;
}

/** Registers Escalator's metrics in `registry` (a new one by default). */
export function createEscalatorMetrics(registry: Registry = new Registry()): EscalatorMetrics {
  const registers = [registry];
  return {
    registry,
    escalationsStarted: new Counter({ name: 'escalator_escalations_started_total', help: 'Escalations whose policy snapshot was taken, by gate and model.', labelNames: ['gate', 'model'], registers }),
    escalationsEnded: new Counter({ name: 'escalator_escalations_ended_total', help: 'Escalations ended, by gate, model and outcome.', labelNames: ['gate', 'model', 'outcome'], registers }),
    timeToResolution: new Histogram({ name: 'escalator_time_to_resolution_seconds', help: 'Seconds from the start of an escalation to its end, by gate.', labelNames: ['gate'], buckets: resolutionBuckets, registers }),
    timeouts: new Counter({ name: 'escalator_timeouts_total', help: 'Steps or decision windows that timed out, by gate.', labelNames: ['gate'], registers }),
    handOffs: new Counter({ name: 'escalator_handoffs_total', help: 'Hand-offs that count towards the escalation depth, by gate and kind (backup, tier, renotify, reassign, fallback).', labelNames: ['gate', 'kind'], registers }),
    depthReached: new Histogram({ name: 'escalator_depth_reached', help: 'Escalation depth at the end of each escalation, by gate.', labelNames: ['gate'], buckets: depthBuckets, registers }),
    routingAccuracy: new Gauge({
      name: 'escalator_routing_accuracy',
      help: 'Dynamic routing accuracy on the last retraining period: model current (in use before) or candidate (fitted), measure top1, top3 or mrr.',
      labelNames: ['model', 'measure'],
      registers,
    }),
    routingReassignRate: new Gauge({ name: 'escalator_routing_reassign_rate', help: 'Share of the last retraining period’s routed escalations that someone reassigned.', registers }),
    notifications: new Counter({ name: 'escalator_notifications_total', help: 'Notification attempts, by channel and result (sent, failed: one per failed attempt).', labelNames: ['channel', 'result'], registers }),
  };
}

/**
 * Counts the timeline entries a write adds: `offered` is what the write stores, `stored` what the
 * store held before it. Entries are matched by what they count (kind and labels), not by seq, so an
 * outcome whose timeline a replay reordered counts only what is really new.
 */
export function countNewEntries(metrics: EscalatorMetrics, gate: string, offered: readonly TimelineEntry[], stored: readonly { kind: string; detail: unknown }[]): void {
  const before = new Map<string, number>();
  for (const { kind, detail } of stored) {
    const key = countedKey({ event: kind, ...(detail as object) } as TimelineEntry);
    if (key) before.set(key, (before.get(key) ?? 0) + 1);
  }
  for (const entry of offered) {
    const key = countedKey(entry);
    if (!key) continue;
    const left = before.get(key) ?? 0;
    if (left > 0) {
      before.set(key, left - 1);
      continue;
    }
    countEntry(metrics, gate, entry);
  }
}

/** Counts one ended escalation: its outcome, time to resolution and depth. Call once per escalation. */
export function countEnded(metrics: EscalatorMetrics, outcome: EscalationOutcome): void {
  const { gate } = outcome;
  metrics.escalationsEnded.inc({ gate, model: outcome.model ?? 'none', outcome: outcome.outcome });
  const seconds = (Date.parse(outcome.endedAt) - Date.parse(outcome.startedAt)) / 1000;
  if (Number.isFinite(seconds)) metrics.timeToResolution.observe({ gate }, Math.max(0, seconds));
  metrics.depthReached.observe({ gate }, outcome.depth);
}

/** What a timeline entry counts as (kind plus labels), or undefined when it counts nothing. */
function countedKey(entry: TimelineEntry): string | undefined {
  if (entry.event === 'policy-snapshot') return `started:${entry.model}`;
  if (entry.event === 'timed-out') return 'timeout';
  const kind = handOffKind(entry);
  return kind ? `handoff:${kind}` : undefined;
}

function countEntry(metrics: EscalatorMetrics, gate: string, entry: TimelineEntry): void {
  if (entry.event === 'policy-snapshot') metrics.escalationsStarted.inc({ gate, model: entry.model });
  else if (entry.event === 'timed-out') metrics.timeouts.inc({ gate });
  else {
    const kind = handOffKind(entry);
    if (kind) metrics.handOffs.inc({ gate, kind });
  }
}

function handOffKind(entry: TimelineEntry): HandOffKind | undefined {
  switch (entry.event) {
    case 'handed-off':
      return entry.to.kind === 'tier' ? 'tier' : 'backup';
    case 'renotified':
      return 'renotify';
    case 'reassigned':
      return 'reassign';
    case 'fallback':
      return 'fallback';
    default:
      return undefined;
  }
}
