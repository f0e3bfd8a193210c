import type { OutcomeKind } from '../../domain/escalation.js';
import type { Severity } from '../../domain/gate-failure.js';
import type { FailureSummary } from '../../domain/engine/state.js';
import type { ReviewerEmail } from '../types.js';

/**
 * One decision request to one reviewer in Slack. `dedupeKey` is chosen by the workflow and stays
 * the same for every attempt of the activity, so a retry finds the message the last attempt posted.
 */
export interface SlackDecisionRequest {
  dedupeKey: string;
  /** A conversation id (`C…`, `G…`, `D…`), or a user id (`U…`, `W…`) to reach that person by DM. */
  channel: string;
  escalationId: string;
  purpose: ReviewerEmail['purpose'];
  model: ReviewerEmail['model'];
  reviewer: ReviewerEmail['reviewer'];
  failure: FailureSummary;
  /** ISO 8601; null when the step has no deadline. */
  deadline: string | null;
  alsoAsked: string[];
  /** Parallel: the reviewer expected to act first; otherwise null. */
  primary: string | null;
  /** Where the reviewer is, said for people: "step 2 of 3, as backup". */
  stepLabel: string;
  /** The escalation's page in the HTTP shim. */
  decisionUrl: string;
  /** The gate is piloted: the message carries the pilot banner. */
  pilot?: true;
}

/** Where a posted message lives: what `chat.update` needs to change it later. */
export interface SlackMessageRef {
  /** The conversation id: for a DM this is the `D…` id, never the user id that was asked for. */
  channel: string;
  ts: string;
}

export interface SlackPosted extends SlackMessageRef {
  /** True when an earlier attempt had already posted the message and it was returned instead. */
  alreadyPosted: boolean;
}

/** Replaces a decision request's buttons with where the escalation stands. */
export interface SlackMessageUpdate extends SlackMessageRef {
  escalationId: string;
  /** Said for people, shown in place of the buttons: "Approved by alice", "Escalated to tier sre". */
  status: string;
  /** Set once the escalation has ended; marks the message as final. */
  outcome?: OutcomeKind;
  failure: FailureSummary;
}

/** A link attached to a PagerDuty alert (Events API v2 `links[]`: `href` required, `text` optional). */
export interface PagerDutyLink {
  href: string;
  text?: string;
}

/** What opens, or re-triggers, the one PagerDuty alert of an escalation. */
export interface PagerDutyTrigger {
  /** Sent as `dedup_key`: every trigger, acknowledge and resolve of an escalation lands on one alert. */
  escalationId: string;
  /** Truncated to PagerDuty's 1024 characters. */
  summary: string;
  severity: Severity;
  /** The affected system, e.g. the service name. */
  source: string;
  component?: string;
  group?: string;
  class?: string;
  links?: PagerDutyLink[];
  customDetails?: Record<string, unknown>;
  /** When the problem was detected (ISO 8601); PagerDuty uses its receive time when absent. */
  timestamp?: string;
}

/** One outbound webhook event. The same state change always has the same `id`. */
export interface WebhookEvent {
  /** Stable per state change, e.g. `${escalationId}:${seq}`: the receiver de-duplicates on it. */
  id: string;
  type: string;
  escalationId: string;
  occurredAt: string;
  data: unknown;
}

/** Request headers as Node (`IncomingHttpHeaders`, lower-case keys) or fetch (`Headers`) gives them. */

export type { HeaderSource, SignatureCheck } from '../../adapters/signed-requests.js';
