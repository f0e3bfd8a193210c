import type { TimelineEntry } from '../escalation.js';
import type { EscalationPlan } from '../escalation-plan.js';
import type { Stage } from '../sequential-chain.js';
import { newEscalation, step } from './engine.js';
import type { Effect, EngineEvent, RoutingDecision } from './events.js';
import type { EscalationState, FailureSummary, ModelState } from './state.js';
import { nextDeadline, stageLabel } from './view.js';

/** One moment of a dry run: what the escalation would do then if nobody decided. */
export interface DryRunEvent {
  at: string;
  /** Milliseconds since the escalation started. */
  afterMs: number;
  event: 'assigned' | 'renotified' | 'quiet-hours-ended' | 'timed-out' | 'handed-off' | 'fallback' | 'exhausted' | 'ended';
  /** 1-based chain step, where there is one. */
  step?: number;
  stage?: string;
  /** Who is awaited (assigned), reminded (renotified) or did not answer (timed-out). */
  reviewers: string[];
  /** Who is asked at this moment; in quiet hours only the on-call. */
  emailed?: string[];
  /** Awaited but not asked because of quiet hours. */
  held?: string[];
  deadline?: string;
  depth: number;
  description: string;
}

/**
 * Runs the engine itself on a virtual clock for a plan nobody answers: every deadline comes due in
 * turn, as the workflow's timer would, until the escalation is exhausted or ends. A dynamic plan is
 * answered with `routing`. The chain runs in the policy's order (a shuffled order differs per run).
 */
export function dryRun(plan: EscalationPlan, failure: FailureSummary, at: number, routing?: RoutingDecision): DryRunEvent[] {
  const fixedOrder = { ...plan, randomizeOrder: false } as EscalationPlan;
  let state = newEscalation({ escalationId: 'dry-run', failure, at });
  const events: DryRunEvent[] = [];
  const feed = (event: EngineEvent) => {
    const before = state;
    const result = step(state, event);
    state = result.state;
    describe(events, before, state, result.effects, at, plan.maxDepth);
  };
  feed({ kind: 'started', at, snapshot: { policyVersion: 'dry-run', policySource: 'dry-run', plan: fixedOrder }, seed: 0 });
  if (state.status === 'routing' && routing) feed({ kind: 'routing-answered', at, decision: routing });
  // Bounded: every deadline either hands off (depth is bounded), releases held reviewers, or ends.
  for (let wakes = 0; wakes < 200 && state.status === 'waiting'; wakes++) {
    const deadline = nextDeadline(state);
    if (!deadline) break;
    feed({ kind: 'deadline-due', at: deadline.at });
  }
  for (const event of events) {
    if (event.event === 'assigned' && !event.emailed) {
      event.emailed = [];
      event.description += '; nobody new to email (all were asked already)';
    }
  }
  return events;
}

/** Turns the timeline entries one event added into dry-run moments, with who was asked then. */
function describe(events: DryRunEvent[], before: EscalationState, after: EscalationState, effects: Effect[], startMs: number, maxDepth: number): void {
  const added = after.timeline.slice(before.timeline.length);
  const quiet = added.find((e): e is Extract<TimelineEntry, { event: 'quiet-hours' }> => e.event === 'quiet-hours');
  let askedAt: DryRunEvent | undefined;
  for (const entry of added) {
    const moment = (event: DryRunEvent['event'], reviewers: string[], depth: number, description: string): DryRunEvent => {
      const ms = Date.parse(entry.at);
      const recorded: DryRunEvent = { at: entry.at, afterMs: ms - startMs, event, reviewers, depth, description };
      events.push(recorded);
      return recorded;
    };
    switch (entry.event) {
      case 'assigned': {
        const label = stepLabel(after.model, entry.step, entry.stage);
        askedAt = moment('assigned', entry.reviewers, entry.depth, `${label}: awaits ${entry.reviewers.join(', ')} until ${entry.deadline}`);
        Object.assign(askedAt, { step: entry.step + 1, stage: stageLabel(entry.stage), deadline: entry.deadline });
        break;
      }
      case 'renotified':
        askedAt = moment('renotified', entry.reviewers, entry.depth, `nobody acknowledged: reminder round ${entry.round} (depth ${entry.depth} of ${maxDepth})`);
        break;
      case 'quiet-hours-ended':
        if (entry.asked.length) askedAt = moment('quiet-hours-ended', entry.asked, after.depth, `quiet hours are over: ${entry.asked.join(', ')} still awaited`);
        break;
      case 'timed-out': {
        const label = stepLabel(before.model, entry.step, entry.stage);
        Object.assign(moment('timed-out', entry.reviewers, before.depth, `${label}: no decision from ${entry.reviewers.join(', ') || 'anyone'}`), { step: entry.step + 1, stage: stageLabel(entry.stage) });
        break;
      }
      case 'handed-off': {
        const label = stepLabel(before.model, entry.step, entry.from);
        Object.assign(moment('handed-off', [], entry.depth, `${label} → ${stageLabel(entry.to)} (depth ${entry.depth} of ${maxDepth})`), { step: entry.step + 1, stage: stageLabel(entry.to) });
        break;
      }
      case 'fallback':
        moment('fallback', [], entry.depth, `${entry.reason}: falls back to the sequential chain (depth ${entry.depth})`);
        break;
      case 'exhausted': {
        const action = after.plan!.onExhausted;
        const what = action.action === 'rollback' ? `rollback: POST ${action.endpoint}` : 'block: the gate stays blocked';
        moment('exhausted', [], entry.depth, `${entry.reason}: ${what}, flagged for postmortem`);
        break;
      }
      case 'ended':
        // An exhausted escalation was described by its exhausted action already.
        if (!added.some((e) => e.event === 'exhausted')) moment('ended', [], after.depth, `${entry.outcome}: ${entry.reason}`);
        break;
    }
  }
  const notify = effects.find((e): e is Extract<Effect, { kind: 'notify' }> => e.kind === 'notify');
  if (!askedAt || !notify) return;
  const asked = [...new Set(notify.notifications.filter((n) => n.purpose === 'decide' || n.purpose === 'reminder').map((n) => n.reviewer.id))];
  askedAt.emailed = asked;
  if (quiet) {
    if (quiet.held.length) askedAt.held = quiet.held;
    askedAt.description += `; quiet hours: only the on-call ${quiet.notified.join(', ') || after.plan!.quietHours?.onCall} is emailed${quiet.held.length ? `, ${quiet.held.join(', ')} at ${quiet.until} if still awaited` : ''}`;
  } else {
    askedAt.description += `; emails ${asked.join(', ')}`;
  }
}

/** How a moment names where it is: a chain step, the parallel group, or routing's pick. */
function stepLabel(model: ModelState | null, step: number, stage: Stage): string {
  if (!model || model.kind === 'sequential') return `step ${step + 1} ${stageLabel(stage)}`;
  if (stage.kind !== 'primary') return stageLabel(stage);
  return model.kind === 'parallel' ? 'group' : 'routed';
}
