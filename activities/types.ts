import type { FailureSummary } from '../domain/engine/state.js';
import type { Stage } from '../domain/sequential-chain.js';

/** Why a reviewer gets an email. */
export type EmailPurpose = 'decide' | 'reminder' | 'review-override' | 'rollback-failed';

/** One email to one reviewer. `messageId` is chosen by the workflow, so retries reuse it. */
export interface ReviewerEmail {
  escalationId: string;
  messageId: string;
  purpose: EmailPurpose;
  reviewer: { id: string; name: string; email: string };
  model: 'sequential' | 'parallel' | 'dynamic';
  step: number;
  stepCount: number;
  stage: Stage;
  deadline: string | null;
  /** The others awaited and asked now. */
  alsoAsked: string[];
  /** The others awaited but held back by quiet hours, asked at `until` if still awaited; absent in older workflows' emails. */
  heldBack?: Array<{ reviewer: string; until: string }>;
  /** Parallel: the one named as expected to act first (never "someone else will"). */
  primary: string | null;
  /** review-override: who broke the glass and why. */
  override?: { by: string; justification: string };
  /** rollback-failed: the endpoint that kept failing, its last error and why the rollback ran. */
  rollback?: { endpoint: string; error: string; reason: string };
  /** The gate is piloted: the email opens with the pilot banner. */
  pilot?: true;
  /** Without the changed-file list: the activity never needs it, and its input is in history. */
  failure: FailureSummary;
}

export interface RollbackRequest {
  escalationId: string;
  endpoint: string;
  /** Sent as the `Idempotency-Key` header: the same for every attempt of this escalation's rollback. */
  idempotencyKey: string;
  reason: string;
  /** Without the changed-file list: the activity never needs it, and its input is in history. */
  failure: FailureSummary;
}

export type { RoutingRequest } from '../domain/routing.js';

export type { RoutingDecision } from '../domain/engine/events.js';
