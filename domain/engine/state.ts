import type { Decision, EscalationOutcome, EscalationStatus, ModelName, RoutingScore, TimelineEntry } from '../escalation.js';
import type { EscalationPlan, ParallelPlan } from '../escalation-plan.js';
import type { GateFailure } from '../gate-failure.js';
import type { Vote } from '../parallel-quorum.js';
import type { TicketSystem } from '../policy.js';
import type { Assignment, ChainPlan } from '../sequential-chain.js';

/**
 * What the escalation keeps of its gate failure: everything but the changed-file list, which may run
 * to 10,000 paths. The workflow's input has the list once; nothing the engine sends out repeats it.
 */
export type FailureSummary = Omit<GateFailure, 'change'> & {
  /** `changedFileCount` is absent where a workflow from before the engine sent the whole failure. */
  change: Omit<GateFailure['change'], 'changedFiles'> & { changedFileCount?: number };
};

export function summarize(failure: GateFailure): FailureSummary {
  const { changedFiles, ...change } = failure.change;
  return { ...failure, change: { ...change, changedFileCount: changedFiles.length } };
}

/** A chain of steps, each held by its reviewers, then their backup, then the tiers. */
export interface SequentialState {
  kind: 'sequential';
  /** How the timeline names it: `dynamic` when it is dynamic routing's fallback. */
  label: ModelName;
  plan: ChainPlan;
  assignment: Assignment;
  deadline: number;
}

export type ParallelSettings = Pick<ParallelPlan, 'group' | 'primary' | 'quorum' | 'acknowledgeWithinMs' | 'renotify' | 'decideWithinMs' | 'tiers'>;

/** Everyone at once, counted to a quorum; reminders without an acknowledgement, tiers without a quorum. */
export interface ParallelState {
  kind: 'parallel';
  settings: ParallelSettings;
  group: string[];
  votes: Record<string, Vote>;
  acknowledged: string[];
  round: number;
  tierIndex: number;
  decideBy: number;
  acknowledgeBy: number | null;
}

/** Dynamic routing's pick: the chosen reviewers decide within the window, or the fallback runs. */
export interface RoutedState {
  kind: 'routed';
  chosen: string[];
  decideWithinMs: number;
  deadline: number;
}

export type ModelState = SequentialState | ParallelState | RoutedState;

/** A Slack message posted to a reviewer; `settled` once updated to its final word. */
export interface SlackMessage {
  reviewer: string;
  channel: string;
  ts: string;
  settled: boolean;
}

/**
 * One escalation's whole state: plain data, so the workflow, the dry run and the simulator hold the
 * same thing, and a test can build or compare it.
 */
export interface EscalationState {
  escalationId: string;
  failure: FailureSummary;
  status: EscalationStatus;
  plan: EscalationPlan | null;
  policyVersion: string | null;
  /** Which optional channels the snapshot's worker reaches. */
  reachable: { slack: boolean; pagerduty: boolean; webhook: boolean; tickets: boolean };
  depth: number;
  model: ModelState | null;
  exhaustedReason: string | null;
  routing: RoutingScore[] | null;
  /** Every routing candidate, best first: the order of the sequential fallback. */
  ranked: string[];
  outcome: EscalationOutcome | null;
  /** Reviewers held back by quiet hours, and when those end (epoch ms). */
  held: Record<string, number>;
  /** The on-call standing in, in quiet hours, for reviewers it does not include: awaited with them. */
  standIns: string[];
  decisions: Decision[];
  timeline: TimelineEntry[];
  /** Numbers Message-IDs and Slack dedupe keys. */
  notificationCount: number;
  slackMessages: SlackMessage[];
  paged: boolean;
  /** The rollback failed and people were asked to do it by hand. */
  rollbackHandedOff: boolean;
  /** The ticket opened after the end, where the policy asks for one. */
  ticket: { system: TicketSystem; key: string; url: string } | null;
  startedAt: string;
  /** Bumped on every change that moves the escalation (an assignment, a vote, the end). */
  version: number;
}
