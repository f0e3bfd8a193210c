import type { GateFailure } from '../domain/gate-failure.js';

/** What a service passes to start an escalation; the policy is resolved inside, from the worker's file. */
export interface EscalationInput {
  failure: GateFailure;
}

export const escalationWorkflowType = 'escalateGateFailure';
