import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Receipt } from '../domain/engine/view.js';
import type { AcknowledgeRequest, BreakGlassRequest, DecisionRequest, EscalationView, ReassignRequest, WithdrawRequest } from '../domain/escalation.js';

/**
 * Every update below is refused by its validator (nothing reaches history) with a `Refusal` code as
 * the failure type; the acting person always comes from the caller's credential. Each answers with
 * a small receipt; runs started before the engine answer with the whole view (`receiptOfView`).
 */
export type UpdateAnswer = Receipt | EscalationView;

/** A reviewer approves, rejects or (where a parallel gate has an override quorum) votes to override. */
export const decideUpdate = defineUpdate<UpdateAnswer, [DecisionRequest]>('decide');

/** An awaited reviewer says "on it": the re-notification rounds stop. */
export const acknowledgeUpdate = defineUpdate<UpdateAnswer, [AcknowledgeRequest]>('acknowledge');

/** An awaited reviewer or a tier lead hands the escalation to someone else; counts towards depth. */
export const reassignUpdate = defineUpdate<UpdateAnswer, [ReassignRequest]>('reassign');

/** A holder of the break-glass role overrides the gate at once, with a justification. */
export const breakGlassUpdate = defineUpdate<UpdateAnswer, [BreakGlassRequest]>('breakGlass');

/** The change's owner or the raising service withdraws the escalation; refused once it has ended. */
export const withdrawUpdate = defineUpdate<UpdateAnswer, [WithdrawRequest]>('withdraw');

/** The gate re-ran green: the escalation ends as `recovered`. */
export const gateRecoveredSignal = defineSignal<[{ pipelineRunId?: string }]>('gateRecovered');

/** The whole state: model, step, awaited reviewers and deadline, depth, votes, routing, decisions and timeline. */
export const stateQuery = defineQuery<EscalationView>('state');
