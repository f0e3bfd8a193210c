import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AcknowledgeRequest, BreakGlassRequest, DecisionRequest, EscalationView, ReassignRequest, WithdrawRequest } from '../domain/escalation.js';

/**
 * Every update below is refused by its validator (nothing reaches history) with a `Refusal` code as
 * the failure type; the acting person always comes from the caller's credential.
 */

/** A reviewer approves, rejects or (where a parallel gate has an override quorum) votes to override. */
export const decideUpdate = defineUpdate<EscalationView, [DecisionRequest]>('decide');

/** An awaited reviewer says "on it": the re-notification rounds stop. */
export const acknowledgeUpdate = defineUpdate<EscalationView, [AcknowledgeRequest]>('acknowledge');

/** An awaited reviewer or a tier lead hands the escalation to someone else; counts towards depth. */
export const reassignUpdate = defineUpdate<EscalationView, [ReassignRequest]>('reassign');

/** A holder of the break-glass role overrides the gate at once, with a justification. */
export const breakGlassUpdate = defineUpdate<EscalationView, [BreakGlassRequest]>('breakGlass');

/** The change's owner or the raising service withdraws the escalation; refused once it has ended. */
export const withdrawUpdate = defineUpdate<EscalationView, [WithdrawRequest]>('withdraw');

/** The gate re-ran green: the escalation ends as `recovered`. */
export const gateRecoveredSignal = defineSignal<[{ pipelineRunId?: string }]>('gateRecovered');

/** The whole state: model, step, awaited reviewers and deadline, depth, votes, routing, decisions and timeline. */
export const stateQuery = defineQuery<EscalationView>('state');
