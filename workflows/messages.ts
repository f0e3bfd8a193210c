import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { DecisionRequest, EscalationView, WithdrawRequest } from '../domain/escalation.js';

/** A reviewer decides. Refused by its validator (nothing reaches history) with a `Refusal` code as failure type. */
export const decideUpdate = defineUpdate<EscalationView, [DecisionRequest]>('decide');

/** The change's owner or the raising service withdraws the escalation; refused once it has ended. */
export const withdrawUpdate = defineUpdate<EscalationView, [WithdrawRequest]>('withdraw');

/** The gate re-ran green: the escalation ends as `recovered`. */
export const gateRecoveredSignal = defineSignal<[{ pipelineRunId?: string }]>('gateRecovered');

/** The whole state: model, step, awaited reviewers and deadline, depth, decisions and timeline. */
export const stateQuery = defineQuery<EscalationView>('state');
