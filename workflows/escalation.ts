import * as wf from '@temporalio/workflow';
import { newEscalation } from '../domain/engine/engine.js';
import type { EngineEvent } from '../domain/engine/events.js';
import { refusalOf } from '../domain/engine/refusals.js';
import { summarize } from '../domain/engine/state.js';
import { escalationView, receipt } from '../domain/engine/view.js';
import type { AcknowledgeRequest, BreakGlassRequest, DecisionRequest, EscalationOutcome, ReassignRequest, WithdrawRequest } from '../domain/escalation.js';
import { recordOutcome, snapshotPolicy } from './activity-options.js';
import { EffectCarrier } from './effects.js';
import type { EscalationInput } from './input.js';
import { escalateBeforeEngine } from './legacy/escalation-before-engine.js';
import { acknowledgeUpdate, breakGlassUpdate, decideUpdate, gateRecoveredSignal, reassignUpdate, stateQuery, withdrawUpdate } from './messages.js';

/**
 * Marks runs started on the engine. Asked first thing, before any other command: runs started
 * before it replay on the code that started them (workflows/legacy/).
 */
export const enginePatch = 'escalation-engine-1';

/**
 * One escalation of one gate failure, as an interpreter of the escalation engine (domain/engine/):
 * messages and timers become events, the engine's effects become activities, timers and search
 * attributes. The policy snapshot chooses the model; it runs until a decision, a quorum, a
 * break-glass override, a withdrawal or a green re-run ends it, or the depth bound runs the
 * exhausted action.
 */
export async function escalateGateFailure(input: EscalationInput): Promise<EscalationOutcome> {
  if (!wf.patched(enginePatch)) return escalateBeforeEngine(input);
  const escalationId = wf.workflowInfo().workflowId;
  const run = new EffectCarrier(input, newEscalation({ escalationId, failure: summarize(input.failure), at: Date.now() }));
  listen(run);

  await takeSnapshot(run);
  while (run.state.status !== 'ended') {
    const generation = run.generation;
    await run.carryOut();
    if (run.generation !== generation) continue; // something happened meanwhile: carry that out first
    const deadline = run.deadline;
    const moved = () => run.generation !== generation;
    if (deadline === null) await wf.condition(moved);
    else if (!(await wf.condition(moved, Math.max(1, deadline.at - Date.now()), { summary: deadline.summary }))) run.dispatch({ kind: 'deadline-due', at: Date.now() });
  }
  return end(run);
}

/**
 * Each message is checked by its validator (a refusal never reaches history), becomes one engine
 * event, and is answered with a small receipt; the whole view is the `state` query's.
 */
function listen(run: EffectCarrier): void {
  const handle = <R>(toEvent: (request: R, at: number) => EngineEvent) => ({
    handler: (request: R) => {
      const event = toEvent(request, Date.now());
      // Validators run before each handler; a second message in the same activation is checked again here.
      refuseIfRefused(run, event);
      run.dispatch(event);
      return receipt(run.state);
    },
    validator: (request: R) => refuseIfRefused(run, toEvent(request, Date.now())),
  });
  const decide = handle((request: DecisionRequest, at) => ({ kind: 'decided', at, request }));
  wf.setHandler(decideUpdate, decide.handler, { validator: decide.validator });
  const acknowledge = handle((request: AcknowledgeRequest, at) => ({ kind: 'acknowledged', at, request }));
  wf.setHandler(acknowledgeUpdate, acknowledge.handler, { validator: acknowledge.validator });
  const reassign = handle((request: ReassignRequest, at) => ({ kind: 'reassigned', at, request }));
  wf.setHandler(reassignUpdate, reassign.handler, { validator: reassign.validator });
  const breakGlass = handle((request: BreakGlassRequest, at) => ({ kind: 'break-glass', at, request }));
  wf.setHandler(breakGlassUpdate, breakGlass.handler, { validator: breakGlass.validator });
  const withdraw = handle((request: WithdrawRequest, at) => ({ kind: 'withdrawn', at, request }));
  wf.setHandler(withdrawUpdate, withdraw.handler, { validator: withdraw.validator });
  wf.setHandler(gateRecoveredSignal, ({ pipelineRunId }) => run.dispatch({ kind: 'recovered', at: Date.now(), ...(pipelineRunId ? { pipelineRunId } : {}) }));
  wf.setHandler(stateQuery, () => escalationView(run.state, run.input.failure));
}

function refuseIfRefused(run: EffectCarrier, event: EngineEvent): void {
  const refusal = refusalOf(run.state, event);
  if (refusal) throw wf.ApplicationFailure.nonRetryable(refusal.message, refusal.code);
}

/** The policy resolved for this failure now; a withdrawal or recovery may end the run meanwhile. */
async function takeSnapshot(run: EffectCarrier): Promise<void> {
  try {
    const snapshot = await snapshotPolicy({ failure: run.input.failure, at: new Date().toISOString() });
    // The seed comes from the workflow's deterministic random: replays shuffle the same way.
    run.dispatch({ kind: 'started', at: Date.now(), snapshot, seed: Math.floor(Math.random() * 2 ** 32) });
  } catch (error) {
    const cause = error instanceof wf.ActivityFailure ? error.cause : error;
    if (run.state.status !== 'ended' && cause instanceof wf.ApplicationFailure && cause.type === 'NoPolicyForGate') {
      run.dispatch({ kind: 'no-policy', at: Date.now(), reason: cause.message });
    } else if (run.state.status !== 'ended') throw error;
  }
}

/**
 * The end. Decision requests still being retried were cancelled by the engine; what must still go
 * out (a security review, a rollback left to people) gets its first attempt, and the outcome is
 * stored at once, so load and metrics never wait on a side effect. Then Slack's final word,
 * PagerDuty and webhooks are awaited, and the timeline they added stored.
 */
async function end(run: EffectCarrier): Promise<EscalationOutcome> {
  await run.carryOut({ store: false });
  const outcome = run.state.outcome!;
  const recorded = run.state.timeline.length;
  await recordOutcome({ ...outcome, timeline: run.state.timeline });
  await run.settle();
  await run.carryOut({ store: false });
  await run.settle();
  if (run.state.timeline.length > recorded) await recordOutcome({ ...outcome, timeline: run.state.timeline });
  await wf.condition(wf.allHandlersFinished);
  return outcome;
}
