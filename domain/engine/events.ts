import type { AcknowledgeRequest, BreakGlassRequest, DecisionRequest, EscalationOutcome, EscalationStatus, ModelName, OutcomeKind, ReassignRequest, RoutingScore, WithdrawRequest } from '../escalation.js';
import type { DynamicPlan, PolicySnapshot } from '../escalation-plan.js';
import type { notificationPurposes } from '../escalation-terms.js';
import type { Stage } from '../sequential-chain.js';
import type { TicketOpened, TicketRequest } from './tickets.js';

/** What routing answered: the chosen reviewers, or too little history for routing (cold start). */
export interface RoutingDecision {
  /** Too little history: the cold-start model runs instead of routing. */
  coldStart: boolean;
  reason: string;
  chosen: string[];
  /** Every candidate, best first: the order of the sequential fallback. */
  ranked: string[];
  scores: RoutingScore[];
  /** The version of the weights that scored them (`hand-1`, `fit-3`); absent in decisions made before models had versions. */
  model?: string;
}

/**
 * Everything that can happen to an escalation. Each carries its moment (`at`, epoch ms): the engine
 * has no clock of its own, so the workflow passes workflow time and a simulation virtual time.
 */
export type EngineEvent =
  /** The policy snapshot was taken; `seed` shuffles where the policy randomizes the order. */
  | { kind: 'started'; at: number; snapshot: PolicySnapshot; seed: number }
  /** No policy applies to the gate: the escalation ends blocked. */
  | { kind: 'no-policy'; at: number; reason: string }
  | { kind: 'routing-answered'; at: number; decision: RoutingDecision }
  | { kind: 'routing-failed'; at: number; error: string }
  | { kind: 'decided'; at: number; request: DecisionRequest }
  | { kind: 'acknowledged'; at: number; request: AcknowledgeRequest }
  | { kind: 'reassigned'; at: number; request: ReassignRequest }
  | { kind: 'break-glass'; at: number; request: BreakGlassRequest }
  | { kind: 'withdrawn'; at: number; request: WithdrawRequest }
  | { kind: 'recovered'; at: number; pipelineRunId?: string }
  /** The deadline the engine set is due (a decision window, or the end of quiet hours). */
  | { kind: 'deadline-due'; at: number }
  | { kind: 'notification-sent'; at: number; reviewer: string; channel: 'email' | 'pagerduty'; messageId: string; step: number }
  | { kind: 'notification-failed'; at: number; reviewer: string; channel: 'email' | 'slack' | 'pagerduty'; error: string; step: number }
  | { kind: 'slack-posted'; at: number; reviewer: string; channel: string; ts: string; step: number }
  | { kind: 'rollback-done'; at: number; endpoint: string; status: number }
  | { kind: 'rollback-failed'; at: number; endpoint: string; error: string }
  /** The ticket asked for at the end is open (or an earlier attempt's was found). */
  | ({ kind: 'ticket-opened'; at: number } & TicketOpened)
  | { kind: 'ticket-failed'; at: number; system: TicketOpened['system']; error: string };

/** Why a message goes out, and what it carries beyond the escalation itself. */
export type NotificationPurpose = (typeof notificationPurposes)[number];

/** One message to one person on one channel; the interpreter adds the escalation id and failure summary. */
export interface Notification {
  channel: 'email' | 'slack';
  purpose: NotificationPurpose;
  reviewer: { id: string; name: string; email: string };
  /** Slack: the user to post to. */
  slackUser?: string;
  /** Email: the Message-ID; Slack: the dedupe key. Stable, so retries reuse it. */
  messageId: string;
  model: ModelName;
  step: number;
  stepCount: number;
  stage: Stage;
  deadline: string | null;
  /** The others awaited and asked now. */
  alsoAsked: string[];
  /** The others awaited but held back by quiet hours. */
  heldBack: Array<{ reviewer: string; until: string }>;
  primary: string | null;
  /** "step 2 of 3, backup": how the message names where the escalation stands. */
  stepLabel: string;
  override?: { by: string; justification: string };
  rollback?: { endpoint: string; error: string; reason: string };
  /** The gate is piloted: the message says that only the pilot group is notified. */
  pilot?: true;
}

export interface PagerDutyIncident {
  summary: string;
  step: number;
  awaited: string[];
  depth: number;
  stage: string;
}

/** What the engine asks the world to do; the workflow turns each into an activity, a timer or an upsert. */
export type Effect =
  | { kind: 'notify'; notifications: Notification[] }
  | { kind: 'route'; plan: DynamicPlan }
  | { kind: 'page'; action: 'trigger'; incident: PagerDutyIncident }
  | { kind: 'page'; action: 'acknowledge' | 'resolve' }
  | { kind: 'update-slack'; reviewer: string; channel: string; ts: string; status: string; outcome?: OutcomeKind }
  | { kind: 'roll-back'; endpoint: string; idempotencyKey: string; reason: string }
  /** The escalation ended as the policy's `tickets.when` says: open its one ticket (after the outcome is stored). */
  | { kind: 'open-ticket'; ticket: TicketRequest }
  /** Wake the escalation at `at` (epoch ms), or never (null: nothing to wait for on a clock). */
  | { kind: 'set-deadline'; at: number | null; summary: string }
  /** Timeline entries from `fromSeq` on are new: the outcome store and webhook subscribers get them. */
  | { kind: 'record'; fromSeq: number }
  /** Which policy version chose the model, and why: shown with the run in the Temporal UI. */
  | { kind: 'memo'; policyVersion: string; policySource: string; selectedBy: string }
  /** The values the Temporal UI's search attributes show. */
  | { kind: 'index'; status: EscalationStatus; depth: number; awaited: string[]; model: ModelName | null; outcome: OutcomeKind | null }
  /** Asking anyone to decide is moot now: decision requests still being retried are cancelled. */
  | { kind: 'cancel-decision-requests' }
  | { kind: 'store-outcome'; outcome: EscalationOutcome };
