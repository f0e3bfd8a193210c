import { z } from 'zod';
import { channels, decisionKinds, decisionReasons, notificationPurposes } from './escalation-terms.js';
import { modelNameSchema, outcomeKindSchema, routingScoreSchema, stageSchema } from './escalation-schemas.js';
import { gateModes } from './metrics/report.js';
import { notificationChannels, ticketSystems } from './policy.js';

// The escalation's timeline, one schema per event. `TimelineEntry` (domain/escalation.ts) is derived
// from it, so the workflow cannot log an event this schema, and so /openapi.json, does not describe.

const timestamp = z.iso.datetime();
const at = timestamp.describe('Workflow time (ISO 8601)');
const count = z.number().int().min(0);
const notificationChannel = z.enum(notificationChannels);

/** One event: `at`, the `event` name, and what that event records. */
function event<const Name extends string, const Shape extends z.ZodRawShape>(name: Name, shape: Shape) {
  return z.object({ at, event: z.literal(name), ...shape }).strict();
}

export const timelineEntrySchema = z.discriminatedUnion('event', [
  event('raised', { gate: z.string(), service: z.string(), severity: z.string() }),
  event('policy-snapshot', {
    policyVersion: z.string(),
    gateKey: z.string(),
    model: z.string(),
    selectedBy: z.string(),
    notes: z.array(z.string()),
    mode: z.enum(gateModes).optional().describe("The gate's mode; absent: live"),
  }),
  event('assigned', { step: count, stage: stageSchema, reviewers: z.array(z.string()), deadline: timestamp, depth: count }),
  event('notified', { reviewer: z.string(), channel: notificationChannel, messageId: z.string(), step: count }),
  event('notification-failed', { reviewer: z.string(), channel: notificationChannel, error: z.string(), step: count }),
  /** Shadow or pilot: the message (or page) that would have gone to `reviewer` and was withheld. */
  event('would-notify', { reviewer: z.string(), channel: notificationChannel, purpose: z.enum(notificationPurposes), step: count }),
  /**
   * Quiet hours held reviewers back: only `notified` were asked, `held` are asked at `until` if still
   * awaited, and `standIn` (the on-call, when they may decide) is awaited with them till then. The
   * last two are absent from entries written before they existed.
   */
  event('quiet-hours', {
    notified: z.array(z.string()),
    held: z.array(z.string()),
    until: timestamp.optional().describe('When the held reviewers are asked, if still awaited'),
    standIn: z.string().nullable().optional().describe('The on-call, awaited with the held reviewers until then; null when none may decide'),
  }),
  /** Quiet hours ended: `asked` are the held reviewers still awaited, `released` the stand-ins no longer awaited. */
  event('quiet-hours-ended', { asked: z.array(z.string()), released: z.array(z.string()) }),
  event('decided', { reviewer: z.string(), decision: z.enum(decisionKinds), channel: z.enum(channels), step: count, reason: z.enum(decisionReasons).optional() }),
  event('acknowledged', { reviewer: z.string(), channel: z.enum(channels) }),
  event('renotified', { round: count, reviewers: z.array(z.string()), depth: count }),
  event('routed', {
    chosen: z.array(z.string()),
    scores: z.array(routingScoreSchema),
    coldStart: z.boolean(),
    reason: z.string(),
    model: z.string().optional().describe('The routing model version whose weights scored the candidates; absent before models had versions'),
  }),
  event('fallback', { from: modelNameSchema, to: modelNameSchema, reason: z.string(), depth: count }),
  event('reassigned', { by: z.string(), from: z.array(z.string()), to: z.string(), reason: z.string(), depth: count }),
  event('break-glass', { by: z.string(), justification: z.string(), channel: z.enum(channels) }),
  event('timed-out', { step: count, stage: stageSchema, reviewers: z.array(z.string()) }),
  event('handed-off', { step: count, from: stageSchema, to: stageSchema, depth: count }),
  // The policy's `exhausted.action`, which policy.ts types as ExhaustedAction['action'].
  event('exhausted', { reason: z.string(), action: z.enum(['block', 'rollback']), depth: count }),
  event('rollback-requested', { endpoint: z.string(), status: z.number().int().describe("The rollback endpoint's HTTP status") }),
  event('rollback-failed', { endpoint: z.string(), error: z.string() }),
  event('rollback-handed-off', { to: z.array(z.string()), endpoint: z.string(), error: z.string() }),
  /** Shadow: the exhausted action would have rolled back through `endpoint`; nothing was called. */
  event('would-roll-back', { endpoint: z.string() }),
  event('recovered', { pipelineRunId: z.string().optional() }),
  event('withdrawn', { by: z.string(), reason: z.string() }),
  event('ended', { outcome: outcomeKindSchema, reason: z.string() }),
  /** After the end: the ticket the policy asked for is open (or was found open from an earlier attempt). */
  event('ticket-opened', {
    system: z.enum(ticketSystems),
    key: z.string().describe('The Jira issue key (OPS-123) or ServiceNow incident number (INC0010001)'),
    url: z.string(),
    transition: z.string().nullable().describe('The Jira transition applied because the outcome left nothing to do; null when none was'),
  }),
  event('ticket-failed', { system: z.enum(ticketSystems), error: z.string() }),
]);
