import type { PolicySnapshot } from '../escalation-plan.js';
import type { Effect, EngineEvent } from './events.js';
import { acknowledge, awaitedBy, decide, type ModelMove, reassign, startParallel, startRouted, startSequential, stageOf, wake, nextWakeAt } from './models.js';
import { modeOf, screenNotifications } from './gate-mode.js';
import { buildNotifications } from './notifications.js';
import { refusalOf } from './refusals.js';
import { ticketAnswered } from './tickets.js';
import { fallbackSteps, Run, shuffled, withoutAuthor } from './run.js';
import type { EscalationState, FailureSummary } from './state.js';
import { nextDeadline, stepText } from './view.js';

/**
 * The escalation engine: `step(state, event)` returns the next state and the effects to carry out.
 * Pure: no Temporal, no I/O, no clock (time comes with the event). The workflow interprets the
 * effects as activities, timers and upserts; `policy explain` and `escalator simulate` run it on a
 * virtual clock.
 */
export function newEscalation(init: { escalationId: string; failure: FailureSummary; at: number }): EscalationState {
  const at = new Date(init.at).toISOString();
  const { failure } = init;
  return {
    escalationId: init.escalationId,
    failure,
    status: 'starting',
    plan: null,
    policyVersion: null,
    reachable: { slack: false, pagerduty: false, webhook: false, tickets: false },
    depth: 0,
    model: null,
    exhaustedReason: null,
    routing: null,
    ranked: [],
    outcome: null,
    held: {},
    standIns: [],
    decisions: [],
    timeline: [{ at, event: 'raised', gate: failure.gate.name, service: failure.service, severity: failure.severity }],
    notificationCount: 0,
    slackMessages: [],
    paged: false,
    rollbackHandedOff: false,
    ticket: null,
    startedAt: at,
    version: 0,
  };
}

export function step(state: EscalationState, event: EngineEvent): { state: EscalationState; effects: Effect[] } {
  // An event the escalation must refuse (checked before it reaches history) changes nothing here either.
  if (refusalOf(state, event)) return { state, effects: [] };
  const run = new Run(state, event.at);
  const before = { deadline: nextDeadline(state), seq: state.timeline.length, version: state.version };
  handle(run, event);
  settle(run, before);
  return { state: run.s, effects: run.effects };
}

function handle(run: Run, event: EngineEvent): void {
  const s = run.s;
  switch (event.kind) {
    case 'started':
      if (s.status === 'starting') start(run, event.snapshot, event.seed);
      return;
    case 'no-policy':
      if (s.status === 'starting') run.finish('blocked', event.reason, true);
      return;
    case 'routing-answered': {
      if (s.status !== 'routing' || s.plan?.model !== 'dynamic') return; // withdrawn, recovered or overridden while routing
      const { decision } = event;
      const plan = s.plan;
      s.routing = decision.scores;
      s.ranked = decision.ranked;
      run.log({ event: 'routed', chosen: decision.chosen, scores: decision.scores, coldStart: decision.coldStart, reason: decision.reason, ...(decision.model ? { model: decision.model } : {}) });
      s.status = 'waiting';
      const author = s.failure.change.author;
      if (decision.coldStart && plan.coldStart.model === 'parallel') {
        const group = withoutAuthor(plan.people, author, plan.candidates, 1);
        const primary = decision.ranked.find((id) => group.includes(id)) ?? group[0]!;
        s.model = startParallel(run, { group, primary, quorum: { approve: 1, override: null, reject: 1 }, acknowledgeWithinMs: null, renotify: 0, decideWithinMs: plan.decideWithinMs, tiers: plan.tiers }, run.at);
      } else if (decision.coldStart) {
        s.model = startSequential(run, { steps: fallbackSteps(plan, author, decision.ranked), tiers: plan.tiers, maxDepth: plan.maxDepth }, run.at);
      } else {
        s.model = startRouted(run, decision.chosen, plan.decideWithinMs, run.at);
      }
      run.changed();
      return;
    }
    case 'routing-failed':
      if (s.status === 'routing') fallBack(run, `routing failed: ${event.error}`, [], `routing failed and the maximum escalation depth ${run.maxDepth} is reached`);
      return;
    case 'decided': {
      const model = s.model!;
      const step = model.kind === 'sequential' ? model.assignment.step : 0;
      s.decisions.push({ ...event.request, at: run.iso, step, stage: stageOf(model) });
      run.log({ event: 'decided', reviewer: event.request.reviewer, decision: event.request.decision, channel: event.request.channel, step, ...(event.request.reason ? { reason: event.request.reason } : {}) });
      apply(run, decide(run, model, event.request, run.at));
      return;
    }
    case 'acknowledged':
      run.log({ event: 'acknowledged', reviewer: event.request.reviewer, channel: event.request.channel });
      acknowledge(s.model!, event.request.reviewer);
      if (s.paged && modeOf(s.plan) === 'live') run.effects.push({ kind: 'page', action: 'acknowledge' });
      run.changed();
      return;
    case 'reassigned': {
      const { by, to, reason } = event.request;
      const awaited = run.awaited();
      const from = awaited.includes(by) ? [by] : [];
      if (!run.handOff()) return run.exhaust(`maximum escalation depth ${run.maxDepth} reached by a reassignment`);
      run.log({ event: 'reassigned', by, from: from.length ? from : awaited, to, reason, depth: s.depth });
      reassign(run, s.model!, from, to, run.at);
      run.changed();
      return;
    }
    case 'break-glass': {
      const { by, justification, channel } = event.request;
      run.log({ event: 'break-glass', by, justification, channel });
      const model = s.model;
      const step = model?.kind === 'sequential' ? model.assignment.step : 0;
      s.decisions.push({ reviewer: by, decision: 'override', comment: justification, channel, at: run.iso, step, stage: model ? stageOf(model) : { kind: 'primary' } });
      run.finish('overridden', `break-glass by ${by}: ${justification}`, true);
      // The security reviewers look at every break-glass afterwards.
      const reviewers = s.plan!.breakGlass.notify.filter((id) => id !== by);
      if (reviewers.length) run.pending.push({ reviewers, purpose: 'review-override', override: { by, justification } });
      return;
    }
    case 'withdrawn':
      run.log({ event: 'withdrawn', by: event.request.by, reason: event.request.reason });
      run.finish('withdrawn', `withdrawn by ${event.request.by}: ${event.request.reason}`, false);
      return;
    case 'recovered':
      if (s.status === 'ended' || s.status === 'rolling-back') return;
      run.log({ event: 'recovered', ...(event.pipelineRunId ? { pipelineRunId: event.pipelineRunId } : {}) });
      run.finish('recovered', event.pipelineRunId ? `the gate re-ran green in pipeline run ${event.pipelineRunId}` : 'the gate re-ran green', false);
      return;
    case 'deadline-due':
      if (s.status !== 'waiting' || !s.model) return;
      // The model first: a step that times out as quiet hours end hands off rather than ask the old holders.
      if (event.at >= nextWakeAt(s.model)) apply(run, wake(run, s.model, run.at));
      if (s.status === 'waiting') run.releaseHeld();
      return;
    case 'notification-sent':
      run.log({ event: 'notified', reviewer: event.reviewer, channel: event.channel, messageId: event.messageId, step: event.step });
      return;
    case 'notification-failed':
      run.log({ event: 'notification-failed', reviewer: event.reviewer, channel: event.channel, error: event.error, step: event.step });
      return;
    case 'slack-posted':
      s.slackMessages.push({ reviewer: event.reviewer, channel: event.channel, ts: event.ts, settled: false });
      run.log({ event: 'notified', reviewer: event.reviewer, channel: 'slack', messageId: `${event.channel}/${event.ts}`, step: event.step });
      return;
    case 'rollback-done':
      if (s.status !== 'rolling-back') return;
      run.log({ event: 'rollback-requested', endpoint: event.endpoint, status: event.status });
      run.finish('rolled-back', `rolled back after the escalation was exhausted: ${s.exhaustedReason}`, true);
      return;
    case 'rollback-failed': {
      if (s.status !== 'rolling-back') return;
      run.log({ event: 'rollback-failed', endpoint: event.endpoint, error: event.error });
      const owners = handRollbackToPeople(run, event.endpoint, event.error);
      const asked = owners.length ? `; ${owners.join(', ')} ${owners.length === 1 ? 'is' : 'are'} asked to roll back by hand` : '';
      run.finish('blocked', `rollback failed (${event.error}); the gate stays blocked${asked}`, true);
      return;
    }
    case 'ticket-opened':
    case 'ticket-failed':
      return ticketAnswered(run, event);
  }
}

function start(run: Run, snapshot: PolicySnapshot, seed: number): void {
  const s = run.s;
  const { plan } = snapshot;
  s.plan = plan;
  s.policyVersion = snapshot.policyVersion;
  s.reachable = { ...s.reachable, ...snapshot.reachable };
  const mode = modeOf(plan);
  run.log({ event: 'policy-snapshot', policyVersion: snapshot.policyVersion, gateKey: plan.gateKey, model: plan.model, selectedBy: plan.selectedBy, notes: plan.notes, ...(mode !== 'live' ? { mode } : {}) });
  run.effects.push({ kind: 'memo', policyVersion: snapshot.policyVersion, policySource: snapshot.policySource, selectedBy: plan.selectedBy });
  s.status = 'waiting';
  const author = s.failure.change.author;
  if (plan.model === 'sequential') {
    const steps = plan.randomizeOrder ? shuffled(plan.steps, seed) : plan.steps;
    s.model = startSequential(run, { steps, tiers: plan.tiers, maxDepth: plan.maxDepth }, run.at);
  } else if (plan.model === 'parallel') {
    const group = withoutAuthor(plan.people, author, plan.randomizeOrder ? shuffled(plan.group, seed) : plan.group, plan.quorum.approve);
    s.model = startParallel(run, { ...plan, group, primary: group.includes(plan.primary) ? plan.primary : group[0]! }, run.at);
  } else {
    s.status = 'routing';
    run.effects.push({ kind: 'route', plan });
  }
  run.changed();
}

function apply(run: Run, move: ModelMove): void {
  if (move.kind === 'end') run.finish(move.outcome, move.reason, false);
  else if (move.kind === 'exhausted') run.exhaust(move.reason);
  else if (move.kind === 'fallback') fallBack(run, move.reason, awaitedBy(run.s.model!), `maximum escalation depth ${run.maxDepth} reached`);
  else run.changed();
}

/** Dynamic routing gave up (failed, or its pick did not decide in time): the sequential chain takes over, as one hand-off. */
function fallBack(run: Run, reason: string, alreadyAsked: string[], exhaustedReason: string): void {
  const s = run.s;
  const plan = s.plan;
  if (plan?.model !== 'dynamic') return;
  if (!run.handOff()) return run.exhaust(exhaustedReason);
  run.log({ event: 'fallback', from: 'dynamic', to: 'sequential', reason, depth: s.depth });
  s.status = 'waiting';
  // The routed pick is over: the chain's quiet-hours stand-in must not count them as still awaited.
  s.model = null;
  const ranked = s.ranked.length ? s.ranked : plan.candidates;
  s.model = startSequential(run, { steps: fallbackSteps(plan, s.failure.change.author, ranked, alreadyAsked), tiers: plan.tiers, maxDepth: plan.maxDepth }, run.at, 'dynamic');
  run.changed();
}

/** The rollback endpoint kept failing: the policy's rollback owners are emailed to do it by hand. */
function handRollbackToPeople(run: Run, endpoint: string, error: string): string[] {
  const plan = run.s.plan!;
  const owners = (plan.rollbackOwners ?? []).filter((id) => plan.people[id]);
  if (!owners.length) return [];
  run.s.rollbackHandedOff = true;
  run.log({ event: 'rollback-handed-off', to: owners, endpoint, error });
  run.pending.push({ reviewers: owners, purpose: 'rollback-failed', rollback: { endpoint, error, reason: run.s.exhaustedReason ?? 'escalation exhausted' } });
  return owners;
}

/**
 * What every event ends with: the messages it asked for, PagerDuty once a paging tier is reached,
 * Slack messages brought up to date, and the search attributes, deadline and store when they changed.
 */
function settle(run: Run, before: { deadline: ReturnType<typeof nextDeadline>; seq: number; version: number }): void {
  const s = run.s;
  const { sent, withheld } = screenNotifications(s.plan, buildNotifications(s, run.pending));
  for (const n of withheld) run.log({ event: 'would-notify', reviewer: n.reviewer.id, channel: n.channel, purpose: n.purpose, step: n.step });
  if (sent.length) run.effects.push({ kind: 'notify', notifications: sent });
  pageIfDue(run);
  refreshSlack(run);
  if (s.version !== before.version) {
    run.effects.push({ kind: 'index', status: s.status, depth: s.depth, awaited: run.awaited(), model: s.plan?.model ?? null, outcome: s.outcome?.outcome ?? null });
  }
  const deadline = nextDeadline(s);
  if (deadline?.at !== before.deadline?.at || deadline?.summary !== before.deadline?.summary) {
    run.effects.push({ kind: 'set-deadline', at: deadline?.at ?? null, summary: deadline?.summary ?? '' });
  }
  if (s.timeline.length > before.seq) run.effects.push({ kind: 'record', fromSeq: before.seq });
}

/** Pages once the escalation reaches a paging tier (or at once, where the severity's channels include PagerDuty). */
function pageIfDue(run: Run): void {
  const s = run.s;
  const plan = s.plan;
  if (!plan || s.paged || !s.reachable.pagerduty || s.status !== 'waiting' || !s.model) return;
  const stage = stageOf(s.model);
  const pagingTier = stage.kind === 'tier' && plan.channels?.pageTiers.includes(stage.tier);
  if (!pagingTier && !plan.channels?.use.includes('pagerduty')) return;
  s.paged = true;
  const awaited = run.awaited();
  const { failure } = s;
  const step = s.model.kind === 'sequential' ? s.model.assignment.step : 0;
  // PagerDuty reaches whoever its service has on call, pilot group or not: only a live gate pages.
  if (modeOf(plan) !== 'live') {
    for (const reviewer of awaited) run.log({ event: 'would-notify', reviewer, channel: 'pagerduty', purpose: 'decide', step });
    return;
  }
  run.effects.push({
    kind: 'page',
    action: 'trigger',
    incident: { summary: `${failure.severity}: ${failure.gate.name} failed on ${failure.service}; waiting for ${awaited.join(', ')}`, step, awaited, depth: s.depth, stage: stepText(s) },
  });
}

/** A message to someone no longer awaited, or every message once the escalation ended, loses its buttons and says where things stand. */
function refreshSlack(run: Run): void {
  const s = run.s;
  const awaited = run.awaited();
  for (const message of s.slackMessages) {
    if (message.settled) continue;
    const ended = s.outcome !== null;
    if (!ended && awaited.includes(message.reviewer)) continue;
    message.settled = true;
    const status = ended ? `Ended: ${s.outcome!.outcome} — ${s.outcome!.reason}` : `No longer waiting on you: now waiting for ${awaited.join(', ') || 'nobody'} (${stepText(s)})`;
    run.effects.push({ kind: 'update-slack', reviewer: message.reviewer, channel: message.channel, ts: message.ts, status, ...(ended ? { outcome: s.outcome!.outcome } : {}) });
  }
}
