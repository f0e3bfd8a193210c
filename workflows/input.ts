import type { GateFailure } from '../domain/gate-failure.js';
import type { PipelineLink } from '../domain/pipeline-link.js';

/** What a service passes to start an escalation; the policy is resolved inside, from the worker's file. */
export interface EscalationInput {
  failure: GateFailure;
  /** The GitHub or GitLab pipeline it answers to, when their webhook raised it; absent for runs started before. */
  pipeline?: PipelineLink;
}

export const escalationWorkflowType = 'escalateGateFailure';

/** The workflow type the weekly digest's Schedule starts. */
export const weeklyDigestWorkflowType = 'weeklyDigest';

/** The workflow type the routing retraining Schedule starts. */
export const routingRetrainingWorkflowType = 'routingRetraining';
