import type { GateFailure } from '../domain/gate-failure.js';
import type { Stage } from '../domain/sequential-chain.js';

/** One email asking one reviewer for a decision. `messageId` is chosen by the workflow, so retries reuse it. */
export interface ReviewerEmail {
  escalationId: string;
  messageId: string;
  reviewer: { id: string; name: string; email: string };
  step: number;
  stepCount: number;
  stage: Stage;
  deadline: string;
  alsoAsked: string[];
  failure: GateFailure;
}

export interface RollbackRequest {
  escalationId: string;
  endpoint: string;
  /** Sent as the `Idempotency-Key` header: the same for every attempt of this escalation's rollback. */
  idempotencyKey: string;
  reason: string;
  failure: GateFailure;
}
