import * as wf from '@temporalio/workflow';
import type { EmailPurpose, ReviewerEmail } from '../../activities/types.js';
import {
  type AcknowledgeRequest,
  type BreakGlassRequest,
  breakGlassRefusal,
  type Decision,
  isAuthor,
  type DecisionRequest,
  type EscalationOutcome,
  type EscalationStatus,
  type EscalationView,
  type OutcomeKind,
  type ReassignRequest,
  reassignRefusal,
  type Refusal,
  refusalOf,
  type RoutingScore,
  type TimelineEntry,
  type WithdrawRequest,
} from '../../domain/escalation.js';
import type { ChainStep, DynamicPlan, EscalationPlan, PolicySnapshot } from '../../domain/escalation-plan.js';
import type { GateFailure } from '../../domain/gate-failure.js';
import type { Stage } from '../../domain/sequential-chain.js';
import {
  emailBatchOptions,
  emailOptions,
  emailReviewer,
  emailReviewers,
  failureMessage,
  page,
  postSlack,
  recordEvents,
  recordOutcome,
  requestRollback,
  rollbackOptions,
  routeReviewers,
  sendWebhook,
  slackOptions,
  snapshotPolicy,
  updateSlack,
} from '../activity-options.js';
import type { EscalationInput } from '../input.js';
import { acknowledgeUpdate, breakGlassUpdate, decideUpdate, gateRecoveredSignal, reassignUpdate, stateQuery, withdrawUpdate } from '../messages.js';
import { type Mode, type ModeHost, type ModeMove, ParallelMode, RoutedMode, SequentialMode } from './modes.js';
import { AwaitedReviewers, EscalationDepth, EscalationModel, EscalationState, Outcome } from '../search-attributes.js';

/**
 * The escalation as it ran before the engine (domain/engine/), kept unchanged so that escalations
 * started before the upgrade finish on the code that started them: their histories replay here
 * (test/fixtures/histories/). Nothing new goes through it. Delete it, and the `escalation-engine-1`
 * patch check in workflows/escalation.ts, once no run started before that patch is open (the
 * longest an escalation stays open is its policy's timeouts times its maximum depth, plus a day
 * of webhook retries).
 */
export async function escalateBeforeEngine(input: EscalationInput): Promise<EscalationOutcome> {
  const run = new EscalationRun(wf.workflowInfo().workflowId, input.failure, workflowVersions());
  wf.setHandler(stateQuery, () => run.view());
  wf.setHandler(decideUpdate, (request) => run.decide(request), { validator: (request) => throwRefusal(run.decisionRefusal(request)) });
  wf.setHandler(acknowledgeUpdate, (request) => run.acknowledge(request), { validator: (request) => throwRefusal(run.acknowledgeRefusal(request)) });
  wf.setHandler(reassignUpdate, (request) => run.reassign(request), { validator: (request) => throwRefusal(run.reassignRefusal(request)) });
  wf.setHandler(breakGlassUpdate, (request) => run.breakGlass(request), { validator: (request) => throwRefusal(run.breakGlassRefusal(request)) });
  wf.setHandler(withdrawUpdate, (request) => run.withdraw(request), { validator: (_request) => throwRefusal(run.withdrawRefusal()) });
  wf.setHandler(gateRecoveredSignal, ({ pipelineRunId }) => run.recover(pipelineRunId));

  const snapshot = await takeSnapshot(run);
  // A withdrawal or recovery may arrive while the snapshot is being taken.
  if (snapshot && run.isStarting()) {
    run.start(snapshot);
    await startModel(run, snapshot.plan);
    while (run.isWaiting()) {
      const generation = run.generation;
      const sending = run.sendNotifications();
      run.pageIfDue();
      run.refreshSlack();
      // Patched runs wait for the emails' first attempt too (the retries it leaves are scheduled by then).
      await (run.versions.quietHoursDuties ? Promise.all([sending, run.flushEvents()]) : run.flushEvents());
      if (run.generation !== generation) continue;
      run.describe();
      const quietEnd = run.heldUntil();
      const wakeAt = quietEnd === null ? run.mode!.nextWakeAt() : Math.min(run.mode!.nextWakeAt(), quietEnd);
      const summary = quietEnd !== null && quietEnd < run.mode!.nextWakeAt() ? 'end of quiet hours' : run.timerSummary();
      const moved = await wf.condition(() => run.generation !== generation, Math.max(1, wakeAt - Date.now()), { summary });
      if (!moved && Date.now() >= run.mode!.nextWakeAt()) run.wake();
      else if (!moved) run.releaseHeld();
      if (run.isFallingBack()) await fallBack(run);
      if (run.isRollingBack()) await rollBack(run);
    }
  }
  if (run.versions.quietHoursDuties) return end(run);
  // Notifications queued by the end (the security review of a break-glass) are sent before completing.
  await run.sendNotifications();
  run.describe();
  // A rollback left to people leaves the incident open for them.
  if (!run.rollbackHandedOff) run.pageUpdate('resolve');
  run.refreshSlack();
  const outcome = run.outcome!;
  // The outcome, recorded below with the whole timeline, stores what is left: one local activity, not two.
  await run.flushEvents({ store: !run.versions.batchedLocalEmails });
  await run.settleBackground();
  // Slack posts that finished only now get their final word too.
  run.refreshSlack();
  await run.settleBackground();
  await recordOutcome(run.versions.batchedLocalEmails ? { ...outcome, timeline: run.view().timeline } : outcome);
  await wf.condition(wf.allHandlersFinished);
  return outcome;
}

/**
 * The end of a run started with the quiet-hours-duties patch. Decision requests still being sent are
 * cancelled (nobody is asked to decide any more) and the outcome is stored at once, so load and
 * metrics never wait on a side effect; then what must still go out (a security review, a rollback
 * left to people, Slack's final word, PagerDuty, webhooks) is awaited and the timeline it added stored.
 */
async function end(run: EscalationRun): Promise<EscalationOutcome> {
  run.cancelDecisionRequests();
  await run.sendNotifications();
  run.describe();
  // A rollback left to people leaves the incident open for them.
  if (!run.rollbackHandedOff) run.pageUpdate('resolve');
  run.refreshSlack();
  const outcome = run.outcome!;
  const recorded = run.view().timeline;
  await recordOutcome({ ...outcome, timeline: recorded });
  // Webhooks for the entries since the last wait; the store has them already.
  await run.flushEvents({ store: false });
  await run.settleBackground();
  // Slack posts that finished only now get their final word too.
  run.refreshSlack();
  await run.settleBackground();
  const timeline = run.view().timeline;
  if (timeline.length > recorded.length) await recordOutcome({ ...outcome, timeline });
  await wf.condition(wf.allHandlersFinished);
  return outcome;
}

/**
 * Changes to the workflow's commands since the first recorded histories, behind one patch (each
 * patch costs a marker and an upsert of TemporalChangeVersion in every new history). Asked once,
 * first thing: a patch asked after a local activity can land in a later workflow task than the one
 * that asks for it on replay (the activity's marker resolves earlier there), and then replays as
 * unpatched.
 */
function workflowVersions() {
  const faultHandling = wf.patched('fault-handling-1');
  const quietHoursDuties = wf.patched('quiet-hours-duties-1');
  return {
    /** A rollback that keeps failing is handed to the rollback owners by email. */
    rollbackToPeople: faultHandling,
    /**
     * The first attempt of a step's emails runs as one local activity, and the end records the
     * outcome without a separate write of the last timeline entries.
     */
    batchedLocalEmails: faultHandling,
    /**
     * One decision per person across the escalation (stand-ins included); quiet hours applied when
     * reviewers are assigned, so the update's answer, the query and the emails agree on who is
     * awaited, and their end logged; emails started by the loop awaited before completion.
     */
    quietHoursDuties,
  };
}

function throwRefusal(refusal: Refusal | undefined): void {
  if (refusal) throw wf.ApplicationFailure.nonRetryable(refusal.message, refusal.code);
}

async function takeSnapshot(run: EscalationRun): Promise<PolicySnapshot | undefined> {
  try {
    return await snapshotPolicy({ failure: run.failure, at: new Date().toISOString() });
  } catch (error) {
    if (run.status === 'ended') return undefined;
    const cause = error instanceof wf.ActivityFailure ? error.cause : error;
    if (cause instanceof wf.ApplicationFailure && cause.type === 'NoPolicyForGate') {
      run.finish('blocked', cause.message, true);
      return undefined;
    }
    throw error;
  }
}

async function startModel(run: EscalationRun, plan: EscalationPlan): Promise<void> {
  if (plan.model === 'sequential') {
    const steps = plan.randomizeOrder ? shuffled(plan.steps) : plan.steps;
    run.runMode(new SequentialMode(run, { steps, tiers: plan.tiers, maxDepth: plan.maxDepth }, Date.now));
  } else if (plan.model === 'parallel') {
    const group = withoutAuthor(run, plan.randomizeOrder ? shuffled(plan.group) : plan.group, plan.quorum.approve);
    run.runMode(new ParallelMode(run, { ...plan, group, primary: group.includes(plan.primary) ? plan.primary : group[0]! }, Date.now));
  } else {
    await route(run, plan);
  }
}

/** Dynamic: ask the routing activity, then run the chosen reviewers, or the cold-start model. */
async function route(run: EscalationRun, plan: DynamicPlan): Promise<void> {
  run.status = 'routing';
  let decision;
  try {
    decision = await routeReviewers({ escalationId: run.escalationId, failure: run.failure, plan, at: new Date().toISOString() });
  } catch (error) {
    if (!run.isRouting()) return;
    if (!run.handOff()) {
      run.exhaust(`routing failed and the maximum escalation depth ${plan.maxDepth} is reached`);
      return;
    }
    run.log({ event: 'fallback', from: 'dynamic', to: 'sequential', reason: `routing failed: ${failureMessage(error)}`, depth: run.depth });
    run.status = 'waiting';
    run.runMode(new SequentialMode(run, { steps: fallbackSteps(run, plan, plan.candidates), tiers: plan.tiers, maxDepth: plan.maxDepth }, Date.now, 'dynamic'));
    return;
  }
  if (!run.isRouting()) return; // withdrawn, recovered or overridden while routing
  run.routing = decision.scores;
  run.ranked = decision.ranked;
  run.log({ event: 'routed', chosen: decision.chosen, scores: decision.scores, coldStart: decision.coldStart, reason: decision.reason });
  run.status = 'waiting';
  if (decision.coldStart && plan.coldStart.model === 'parallel') {
    const group = withoutAuthor(run, plan.candidates, 1);
    run.runMode(new ParallelMode(run, { group, primary: decision.ranked.find((id) => group.includes(id)) ?? group[0]!, quorum: { approve: 1, override: null, reject: 1 }, acknowledgeWithinMs: null, renotify: 0, decideWithinMs: plan.decideWithinMs, tiers: plan.tiers }, Date.now));
  } else if (decision.coldStart) {
    run.runMode(new SequentialMode(run, { steps: fallbackSteps(run, plan, decision.ranked), tiers: plan.tiers, maxDepth: plan.maxDepth }, Date.now));
  } else {
    run.runMode(new RoutedMode(run, decision.chosen, plan.decideWithinMs, Date.now));
  }
}

/** The routed reviewers did not decide in time: the sequential chain takes over, as one hand-off. */
async function fallBack(run: EscalationRun): Promise<void> {
  const plan = run.plan as DynamicPlan;
  if (!run.handOff()) {
    run.fallbackReason = undefined;
    run.exhaust(`maximum escalation depth ${plan.maxDepth} reached`);
    return;
  }
  run.log({ event: 'fallback', from: 'dynamic', to: 'sequential', reason: run.fallbackReason ?? 'no decision in time', depth: run.depth });
  run.fallbackReason = undefined;
  run.status = 'waiting';
  run.runMode(new SequentialMode(run, { steps: fallbackSteps(run, plan, run.ranked, run.mode?.awaited() ?? []), tiers: plan.tiers, maxDepth: plan.maxDepth }, Date.now, 'dynamic'));
}

/**
 * The gate's own chain, or one step held by the best-ranked candidate not yet asked, with the next
 * one as backup: the fallback needs one decision, escalated, not everyone's approval in turn. The
 * change's author and people out of office are left out while anyone else remains.
 */
function fallbackSteps(run: EscalationRun, plan: DynamicPlan, ranked: string[], alreadyAsked: string[] = []): ChainStep[] {
  if (plan.fallbackSteps) return plan.fallbackSteps;
  const eligible = ranked.filter((id) => !isAuthor(plan.people[id], id, run.failure.change.author) && !plan.facts[id]?.outOfOffice);
  const pool = eligible.length ? eligible : ranked;
  const remaining = pool.filter((id) => !alreadyAsked.includes(id));
  const holder = remaining[0] ?? pool[0] ?? plan.candidates[0]!;
  return [{ reviewers: [holder], backup: remaining.filter((id) => id !== holder).slice(0, 1), timeoutMs: plan.decideWithinMs }];
}

/** The group without the change's author (who can only reject), unless that leaves it short of the quorum. */
function withoutAuthor(run: EscalationRun, group: string[], quorum: number): string[] {
  const others = group.filter((id) => !isAuthor(run.plan?.people[id], id, run.failure.change.author));
  return others.length >= quorum ? others : group;
}

async function rollBack(run: EscalationRun): Promise<void> {
  const action = run.plan!.onExhausted;
  if (action.action !== 'rollback') return;
  try {
    run.describe();
    const { status } = await requestRollback.executeWithOptions({ ...rollbackOptions, summary: `roll back ${run.failure.service} at ${action.endpoint}` }, [
      {
        escalationId: run.escalationId,
        endpoint: action.endpoint,
        idempotencyKey: `${run.escalationId}:rollback`,
        reason: run.exhaustedReason ?? 'escalation exhausted',
        failure: run.failure,
      },
    ]);
    run.log({ event: 'rollback-requested', endpoint: action.endpoint, status });
    run.finish('rolled-back', `rolled back after the escalation was exhausted: ${run.exhaustedReason}`, true);
  } catch (error) {
    const message = failureMessage(error);
    run.log({ event: 'rollback-failed', endpoint: action.endpoint, error: message });
    // Handing a failed rollback to people came after the first recorded histories; the patch keeps
    // those replaying.
    const owners = run.versions.rollbackToPeople ? run.handRollbackToPeople(action.endpoint, message) : [];
    const asked = owners.length ? `; ${owners.join(', ')} ${owners.length === 1 ? 'is' : 'are'} asked to roll back by hand` : '';
    run.finish('blocked', `rollback failed (${message}); the gate stays blocked${asked}`, true);
  }
}


/** Fisher–Yates with the workflow's seeded `Math.random`, so replays shuffle the same way. */
function shuffled<T>(items: readonly T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

/** The escalation's state and the moves its messages make; the workflow function only wires it to time. */
class EscalationRun implements ModeHost {
  status: EscalationStatus = 'starting';
  plan: EscalationPlan | undefined;
  mode: Mode | undefined;
  policyVersion: string | null = null;
  depth = 0;
  /** Bumped on every change the main loop must see (a new assignment, a vote, the end). */
  generation = 0;
  exhaustedReason: string | undefined;
  fallbackReason: string | undefined;
  routing: RoutingScore[] | null = null;
  ranked: string[] = [];
  outcome: EscalationOutcome | undefined;
  private notificationCount = 0;
  /** Which optional channels the snapshot's worker reaches. */
  private reachable = { slack: false, pagerduty: false, webhook: false };
  /** Slack messages posted, so they can be kept current; `settled` once updated to a final word. */
  private readonly slackMessages: Array<{ reviewer: string; channel: string; ts: string; settled: boolean }> = [];
  private paged = false;
  /** Side effects that must not hold the escalation but should finish before it completes. */
  private readonly background: Promise<unknown>[] = [];
  /** Decision requests and reminders being retried after their first attempt: cancelled when the escalation ends. */
  private readonly decisionRequests = new wf.CancellationScope();
  /** Reviewers held back by quiet hours, and when those end. */
  private readonly held = new Map<string, number>();
  /** The on-call paged in quiet hours for reviewers it does not include: awaited with them. */
  private readonly quietDelegates = new Set<string>();
  private pending: Array<{ reviewers: string[] } & EmailExtras> = [];
  /** The rollback failed and people were asked to do it by hand. */
  rollbackHandedOff = false;
  private readonly decisions: Decision[] = [];
  private readonly timeline: TimelineEntry[] = [];
  private storedEvents = 0;
  private readonly startedAt = new Date().toISOString();

  constructor(
    readonly escalationId: string,
    readonly failure: GateFailure,
    readonly versions: ReturnType<typeof workflowVersions>,
  ) {
    this.log({ event: 'raised', gate: failure.gate.name, service: failure.service, severity: failure.severity });
  }

  get maxDepth(): number {
    return this.plan?.maxDepth ?? 0;
  }

  isStarting(): boolean {
    return this.status === 'starting';
  }

  isRouting(): boolean {
    return this.status === 'routing';
  }

  isWaiting(): boolean {
    return this.status === 'waiting' || this.status === 'routing';
  }

  isRollingBack(): boolean {
    return this.status === 'rolling-back';
  }

  isFallingBack(): boolean {
    return this.fallbackReason !== undefined && this.status === 'routing';
  }

  start(snapshot: PolicySnapshot): void {
    this.plan = snapshot.plan;
    this.policyVersion = snapshot.policyVersion;
    this.reachable = snapshot.reachable ?? this.reachable;
    const { plan } = snapshot;
    this.log({ event: 'policy-snapshot', policyVersion: snapshot.policyVersion, gateKey: plan.gateKey, model: plan.model, selectedBy: plan.selectedBy, notes: plan.notes });
    wf.upsertSearchAttributes([{ key: EscalationModel, value: plan.model }]);
    wf.upsertMemo({ policyVersion: snapshot.policyVersion, policySource: snapshot.policySource, selectedBy: plan.selectedBy });
    this.status = 'waiting';
  }

  /**
   * The run's current details in the Temporal UI (markdown): what it waits for, from whom, until
   * when, and why it went to them. Set before every wait and at the end.
   */
  describe(): void {
    const view = this.view();
    const lines: string[] = [];
    if (view.outcome) {
      lines.push(`**${view.outcome.outcome}**: ${view.outcome.reason}`, `Depth ${view.depth}${view.outcome.postmortem ? ', flagged for postmortem' : ''}.`);
    } else if (this.status === 'rolling-back') {
      lines.push(`**Rolling back**: ${this.exhaustedReason ?? 'escalation exhausted'}`);
    } else {
      const who = view.awaitedReviewers.join(', ') || 'nobody';
      const where = view.model === 'parallel' && view.votes
        ? `votes ${view.votes.approve}/${view.votes.quorum.approve} to pass, ${view.votes.reject}/${view.votes.quorum.reject} to block; primary ${view.primary}`
        : `step ${(view.step ?? 0) + 1} of ${view.stepCount ?? 1}, ${stageLabel(view.stage)}`;
      lines.push(`**Waiting for** ${who} until ${view.deadline ?? 'no deadline'} (${where}).`, `Depth ${view.depth} of ${view.maxDepth ?? '?'}.`);
      if (view.heldReviewers.length) lines.push(`Held back by quiet hours: ${view.heldReviewers.map((h) => `${h.reviewer} (asked at ${h.until} if still awaited)`).join(', ')}.`);
    }
    lines.push(`Model **${view.model ?? 'not chosen yet'}**: ${view.selectedBy ?? ''}.`);
    if (this.routing) {
      const best = [...this.routing].sort((a, b) => b.score - a.score)[0];
      if (best) lines.push(`Routed: ${best.person} scored ${best.score} (${Object.values(best.factors).map((f) => f.why).join('; ')}).`);
    }
    wf.setCurrentDetails(lines.join('\n\n'));
  }

  timerSummary(): string {
    const view = this.view();
    if (view.model === 'parallel') return `decision window, ${stageLabel(view.stage)}`;
    return `decision deadline, step ${(view.step ?? 0) + 1} ${stageLabel(view.stage)}`;
  }

  runMode(mode: Mode): void {
    this.mode = mode;
    this.changed();
  }

  // ---- ModeHost: what modes may do ----

  handOff(): boolean {
    if (this.depth + 1 > this.maxDepth) return false;
    this.depth++;
    return true;
  }

  notify(reviewers: string[], purpose: 'decide' | 'reminder'): void {
    if (!this.versions.quietHoursDuties) {
      if (reviewers.length) this.pending.push({ reviewers, purpose });
      return;
    }
    const decided = this.decidedEarlier().map((d) => d.reviewer);
    const asked = this.holdForQuietHours(reviewers.filter((id) => !decided.includes(id)));
    if (asked.length) this.pending.push({ reviewers: asked, purpose });
  }

  /**
   * Who of `reviewers` is asked now. In quiet hours only the on-call is; the others are held until
   * the quiet hours end, and the on-call stands in for them (is awaited with them) unless they
   * already decided a step, voted, or wrote the change: nobody decides twice by standing in.
   */
  private holdForQuietHours(reviewers: string[]): string[] {
    const quiet = this.plan?.quietHours;
    const interval = quiet?.intervals.find((i) => i.fromMs <= Date.now() && Date.now() < i.toMs);
    const held = quiet ? reviewers.filter((id) => id !== quiet.onCall) : [];
    if (!quiet || !interval || held.length === 0) return reviewers;
    const onCall = quiet.onCall;
    const standIn = !reviewers.includes(onCall) && this.mayStandIn(onCall) ? onCall : null;
    const notified = reviewers.includes(onCall) || standIn ? [onCall] : [];
    held.forEach((id) => this.held.set(id, interval.toMs));
    this.log({ event: 'quiet-hours', notified, held, until: new Date(interval.toMs).toISOString(), standIn });
    if (standIn && !this.awaited().includes(standIn)) {
      this.quietDelegates.add(standIn);
      this.changed();
    }
    return notified;
  }

  private mayStandIn(id: string): boolean {
    if (this.decidedEarlier().some((d) => d.reviewer === id) || this.mode?.voted().includes(id)) return false;
    return !isAuthor(this.plan?.people[id], id, this.failure.change.author);
  }

  /** Who decided a step so far, where one person decides at most one step (the policy's default). */
  decidedEarlier(): Array<{ reviewer: string; step: number }> {
    if (!this.versions.quietHoursDuties || this.plan?.oneDecisionPerPerson === false) return [];
    return this.decisions.map(({ reviewer, step }) => ({ reviewer, step }));
  }

  logAssigned(assignment: { step: number; stage: Stage; reviewers: string[]; deadline: number }): void {
    // A new assignment is paged afresh; an earlier quiet-hours delegation does not carry over.
    this.quietDelegates.clear();
    // Who already decided a step is not awaited again, so the entry (and the store's load) leaves them out.
    const decided = this.decidedEarlier().map((d) => d.reviewer);
    const reviewers = assignment.reviewers.filter((id) => !decided.includes(id));
    this.log({ event: 'assigned', step: assignment.step, stage: assignment.stage, reviewers, deadline: new Date(assignment.deadline).toISOString(), depth: this.depth });
    this.changed();
  }

  logHandOff(from: Stage, to: Stage, step: number): void {
    this.log({ event: 'handed-off', step, from, to, depth: this.depth });
  }

  logTimedOut(step: number, stage: Stage, reviewers: string[]): void {
    this.log({ event: 'timed-out', step, stage, reviewers });
  }

  logRenotified(round: number, reviewers: string[]): void {
    this.log({ event: 'renotified', round, reviewers, depth: this.depth });
  }

  // ---- messages ----

  decisionRefusal(request: DecisionRequest): Refusal | undefined {
    return refusalOf(
      {
        status: this.status,
        awaitedReviewers: this.awaited(),
        author: this.failure.change.author,
        people: this.plan?.people ?? {},
        requireComment: this.plan?.requireComment ?? null,
        voted: this.mode?.voted() ?? [],
        overrideAllowed: this.mode?.overrideAllowed() ?? false,
        decidedEarlier: this.decidedEarlier(),
      },
      request,
    );
  }

  decide(request: DecisionRequest): EscalationView {
    // Validators run before each handler; a second vote in the same activation is checked again here.
    throwRefusal(this.decisionRefusal(request));
    const view = this.mode!.view();
    this.decisions.push({ ...request, at: now(), step: view.step ?? 0, stage: view.stage ?? { kind: 'primary' } });
    this.log({ event: 'decided', reviewer: request.reviewer, decision: request.decision, channel: request.channel, step: view.step ?? 0 });
    this.apply(this.mode!.decide(request));
    return this.view();
  }

  acknowledgeRefusal(request: AcknowledgeRequest): Refusal | undefined {
    if (this.status === 'ended') return { code: 'EscalationEnded', message: 'the escalation has ended' };
    if (!this.awaited().includes(request.reviewer)) return { code: 'NotAwaitedReviewer', message: `${request.reviewer} is not a reviewer this escalation is waiting on` };
    return undefined;
  }

  acknowledge(request: AcknowledgeRequest): EscalationView {
    // Checked again, as decide and reassign do: the handler never counts what its refusal rules forbid now.
    throwRefusal(this.acknowledgeRefusal(request));
    this.log({ event: 'acknowledged', reviewer: request.reviewer, channel: request.channel });
    this.mode!.acknowledge(request.reviewer);
    this.pageUpdate('acknowledge');
    this.changed();
    return this.view();
  }

  reassignRefusal(request: ReassignRequest): Refusal | undefined {
    return reassignRefusal(
      {
        status: this.status === 'routing' ? 'routing' : this.status,
        awaitedReviewers: this.awaited(),
        leads: this.plan?.tiers.flatMap((tier) => (tier.lead ? [tier.lead] : [])) ?? [],
        author: this.failure.change.author,
        people: this.plan?.people ?? {},
        decidedEarlier: this.decidedEarlier(),
      },
      request,
    );
  }

  reassign(request: ReassignRequest): EscalationView {
    throwRefusal(this.reassignRefusal(request));
    const from = this.awaited().includes(request.by) ? [request.by] : [];
    if (!this.handOff()) {
      this.exhaust(`maximum escalation depth ${this.maxDepth} reached by a reassignment`);
      return this.view();
    }
    this.log({ event: 'reassigned', by: request.by, from: from.length ? from : this.awaited(), to: request.to, reason: request.reason, depth: this.depth });
    this.mode!.reassign(from, request.to);
    this.changed();
    return this.view();
  }

  breakGlassRefusal(request: BreakGlassRequest): Refusal | undefined {
    return breakGlassRefusal({ status: this.status, holders: this.plan?.breakGlass.holders ?? [], author: this.failure.change.author, people: this.plan?.people ?? {} }, request);
  }

  breakGlass(request: BreakGlassRequest): EscalationView {
    throwRefusal(this.breakGlassRefusal(request));
    this.log({ event: 'break-glass', by: request.by, justification: request.justification, channel: request.channel });
    this.decisions.push({ reviewer: request.by, decision: 'override', comment: request.justification, channel: request.channel, at: now(), step: this.mode?.view().step ?? 0, stage: this.mode?.view().stage ?? { kind: 'primary' } });
    this.finish('overridden', `break-glass by ${request.by}: ${request.justification}`, true);
    // The security reviewers look at every break-glass afterwards.
    const reviewers = this.plan!.breakGlass.notify.filter((id) => id !== request.by);
    if (reviewers.length) this.pending.push({ reviewers, purpose: 'review-override', override: { by: request.by, justification: request.justification } });
    return this.view();
  }

  /** The rollback endpoint kept failing: the policy's rollback owners are emailed to do it by hand. */
  handRollbackToPeople(endpoint: string, error: string): string[] {
    const owners = (this.plan?.rollbackOwners ?? []).filter((id) => this.plan!.people[id]);
    if (!owners.length) return [];
    this.rollbackHandedOff = true;
    this.log({ event: 'rollback-handed-off', to: owners, endpoint, error });
    this.pending.push({ reviewers: owners, purpose: 'rollback-failed', rollback: { endpoint, error, reason: this.exhaustedReason ?? 'escalation exhausted' } });
    return owners;
  }

  withdrawRefusal(): Refusal | undefined {
    if (this.status === 'ended') return { code: 'EscalationEnded', message: 'the escalation has ended; it can no longer be withdrawn' };
    if (this.status === 'rolling-back') return { code: 'EscalationEnded', message: 'a rollback is under way; the escalation can no longer be withdrawn' };
    return undefined;
  }

  withdraw(request: WithdrawRequest): EscalationView {
    throwRefusal(this.withdrawRefusal());
    this.log({ event: 'withdrawn', by: request.by, reason: request.reason });
    this.finish('withdrawn', `withdrawn by ${request.by}: ${request.reason}`, false);
    return this.view();
  }

  recover(pipelineRunId: string | undefined): void {
    if (this.status === 'ended' || this.status === 'rolling-back') return;
    this.log({ event: 'recovered', ...(pipelineRunId ? { pipelineRunId } : {}) });
    this.finish('recovered', pipelineRunId ? `the gate re-ran green in pipeline run ${pipelineRunId}` : 'the gate re-ran green', false);
  }

  /** The mode's timer fired. */
  wake(): void {
    this.apply(this.mode!.wake(Date.now()));
  }

  exhaust(reason: string): void {
    const action = this.plan!.onExhausted.action;
    this.exhaustedReason = reason;
    this.log({ event: 'exhausted', reason, action, depth: this.depth });
    if (action === 'rollback') {
      this.status = 'rolling-back';
      this.changed();
      wf.upsertSearchAttributes([{ key: EscalationState, value: 'rolling-back' }, { key: AwaitedReviewers, value: [] }]);
    } else {
      this.finish('blocked', `blocked after the escalation was exhausted: ${reason}`, true);
    }
  }

  finish(outcome: OutcomeKind, reason: string, postmortem: boolean): void {
    if (this.status === 'ended') return;
    this.status = 'ended';
    this.changed();
    this.log({ event: 'ended', outcome, reason });
    this.outcome = {
      escalationId: this.escalationId,
      outcome,
      reason,
      postmortem,
      gate: this.failure.gate.name,
      service: this.failure.service,
      severity: this.failure.severity,
      model: this.plan?.model ?? null,
      depth: this.depth,
      policyVersion: this.policyVersion,
      startedAt: this.startedAt,
      endedAt: now(),
      decisions: [...this.decisions],
      timeline: [...this.timeline],
    };
    wf.upsertSearchAttributes([
      { key: EscalationState, value: 'ended' },
      { key: Outcome, value: outcome },
      { key: AwaitedReviewers, value: [] },
      { key: EscalationDepth, value: this.depth },
    ]);
  }

  // ---- side effects, started by the main loop ----

  /** When the quiet hours that held back some reviewers end, or null when nobody is held. */
  heldUntil(): number | null {
    return this.held.size ? Math.min(...this.held.values()) : null;
  }

  /** Quiet hours are over: the reviewers held back and still awaited get their email now. */
  releaseHeld(): void {
    const now = Date.now();
    const due = [...this.held].filter(([, until]) => until <= now).map(([id]) => id);
    due.forEach((id) => this.held.delete(id));
    const released = this.held.size === 0 ? [...this.quietDelegates].filter((id) => this.awaited().includes(id)) : [];
    if (this.held.size === 0) this.quietDelegates.clear();
    const stillAwaited = due.filter((id) => this.awaited().includes(id));
    if (this.versions.quietHoursDuties && (stillAwaited.length || released.length)) {
      this.log({ event: 'quiet-hours-ended', asked: stillAwaited, released });
      if (released.length) this.changed();
    }
    if (stillAwaited.length) this.pending.push({ reviewers: stillAwaited, purpose: 'decide' });
  }

  /** Emails everyone queued since the last call; in quiet hours only the primary on-call is paged. */
  sendNotifications(): Promise<unknown> {
    const emails: Array<{ email: ReviewerEmail; summary: string }> = [];
    const batches = this.pending;
    this.pending = [];
    for (const batch of batches) {
      let reviewers = batch.reviewers;
      const quiet = this.plan?.quietHours;
      const interval = quiet?.intervals.find((i) => i.fromMs <= Date.now() && Date.now() < i.toMs);
      // Runs started before quiet hours were applied at assignment hold reviewers here, as they did.
      if (!this.versions.quietHoursDuties && quiet && interval && asksForDecision(batch.purpose)) {
        const held = reviewers.filter((id) => id !== quiet.onCall);
        reviewers = [quiet.onCall];
        this.log({ event: 'quiet-hours', notified: reviewers, held });
        held.forEach((id) => this.held.set(id, interval.toMs));
        // The on-call is the one paged, so they may decide for the held reviewers until then.
        if (!this.awaited().includes(quiet.onCall)) this.quietDelegates.add(quiet.onCall);
      }
      for (const reviewerId of reviewers) {
        const email = this.email(reviewerId, batch);
        if (email) emails.push(email);
      }
    }
    if (!emails.length) return Promise.resolve();
    // Asking someone to decide is moot once the escalation ended: those emails can be cancelled then.
    const cancellable = this.versions.quietHoursDuties && emails.every(({ email }) => asksForDecision(email.purpose));
    const scoped = <T>(send: () => Promise<T>): Promise<T> => (cancellable ? this.decisionRequests.run(send) : send());
    const retried = ({ email, summary }: (typeof emails)[number]) => this.logged(email, scoped(() => emailReviewer.executeWithOptions({ ...emailOptions, summary }, [email])));
    // Emails went out as ordinary activities only before the local first attempt; old histories replay that way.
    if (!this.versions.batchedLocalEmails) return Promise.all(emails.map(retried));
    const summary = emails.length === 1 ? emails[0]!.summary : `email ${emails.map(({ email }) => email.reviewer.id).join(', ')}`;
    if (this.versions.quietHoursDuties) return this.firstAttempt(emails, summary, retried);
    const sending = emailReviewers.executeWithOptions({ ...emailBatchOptions, summary }, [emails.map(({ email }) => email)]).then(
      (results) =>
        Promise.all(
          emails.map((entry, i) => {
            const result = results[i];
            if (result?.sent) return this.logged(entry.email, Promise.resolve());
            if (result && result.final) return this.logged(entry.email, Promise.reject(new Error(result.error)));
            return retried(entry);
          }),
        ),
      // The batch as a whole failed (timed out on a hanging relay): every email goes on to the retried activity.
      () => Promise.all(emails.map(retried)),
    );
    return sending;
  }

  /**
   * The first attempt of a batch, then the retried activity for each email it did not send. The
   * retries are scheduled before this resolves and the loop awaits it before it arms its timer, so
   * replay issues the same commands in the same order however long the attempt took (scheduled from
   * the attempt's callback instead, a slow refusal put the retry after the timer, and replay, which
   * resolves a local activity at once, put it before). The retries run on in the background, where the
   * end finds them: nothing is abandoned, and the timeline says whether each went out, failed or was
   * cancelled. The first attempt stays out of the cancellable scope: it is over within its 3 s, and
   * with a local activity in a cancelled scope, 100 updates arriving at once made the SDK's core hand
   * out a second workflow task for the run.
   */
  private async firstAttempt(emails: Array<{ email: ReviewerEmail; summary: string }>, summary: string, retried: (entry: { email: ReviewerEmail; summary: string }) => Promise<void>): Promise<void> {
    let results: Awaited<ReturnType<typeof emailReviewers>> | undefined;
    try {
      results = await emailReviewers.executeWithOptions({ ...emailBatchOptions, summary }, [emails.map(({ email }) => email)]);
    } catch {
      results = undefined; // the batch as a whole failed (timed out on a hanging relay): every email is retried
    }
    emails.forEach((entry, i) => {
      const result = results?.[i];
      if (result?.sent) void this.logged(entry.email, Promise.resolve());
      else if (result?.final) void this.logged(entry.email, Promise.reject(new Error(result.error)));
      else this.background.push(retried(entry));
    });
  }

  /** Logs how an email ended up: notified, or the failure that stopped it. */
  private logged(email: ReviewerEmail, sending: Promise<unknown>): Promise<void> {
    return sending.then(
      () => this.log({ event: 'notified', reviewer: email.reviewer.id, channel: 'email', messageId: email.messageId, step: email.step }),
      (error: unknown) => {
        const reason = wf.isCancellation(error) ? 'cancelled: the escalation ended before the email was confirmed sent' : failureMessage(error);
        this.log({ event: 'notification-failed', reviewer: email.reviewer.id, channel: 'email', error: reason, step: email.step });
      },
    );
  }

  /** The escalation ended: decision requests and reminders still being sent are cancelled. */
  cancelDecisionRequests(): void {
    this.decisionRequests.cancel();
  }

  /** Writes the timeline entries not yet in the outcome store; the store skips what a retry repeats. */
  async flushEvents({ store }: { store: boolean } = { store: true }): Promise<void> {
    if (this.storedEvents >= this.timeline.length) return;
    const fromSeq = this.storedEvents;
    const entries = this.timeline.slice(fromSeq);
    this.storedEvents = this.timeline.length;
    this.webhook(fromSeq, entries);
    if (!store) return;
    try {
      await recordEvents({
        escalationId: this.escalationId,
        gate: this.failure.gate.name,
        service: this.failure.service,
        repository: this.failure.repository,
        severity: this.failure.severity,
        model: this.plan?.model ?? 'unknown',
        startedAt: this.startedAt,
        policyVersion: this.policyVersion,
        fromSeq,
        entries,
        decisions: [...this.decisions],
      });
    } catch {
      // Not retried here: the outcome, recorded at the end, carries the whole timeline and the store
      // adds whatever is missing then; nothing is lost.
    }
  }

  log(entry: DistributiveOmit<TimelineEntry, 'at'>): void {
    this.timeline.push({ at: now(), ...entry } as TimelineEntry);
  }

  awaited(): string[] {
    if (this.status !== 'waiting' || !this.mode) return [];
    const decided = this.decidedEarlier().map((d) => d.reviewer);
    const awaited = this.mode.awaited().filter((id) => !decided.includes(id));
    const delegates = [...this.quietDelegates].filter((id) => !awaited.includes(id) && !this.mode!.voted().includes(id) && !decided.includes(id));
    return [...awaited, ...delegates];
  }

  view(): EscalationView {
    const modeView = this.mode?.view();
    const waiting = this.status === 'waiting' && modeView !== undefined;
    return {
      escalationId: this.escalationId,
      failure: this.failure,
      model: this.plan?.model ?? null,
      selectedBy: this.plan?.selectedBy ?? null,
      // Runs from before modes existed were all live.
      mode: 'live',
      policyVersion: this.policyVersion,
      status: this.status,
      step: modeView?.step ?? null,
      stepCount: modeView?.stepCount ?? null,
      stage: modeView?.stage ?? null,
      awaitedReviewers: this.awaited(),
      heldReviewers: this.heldReviewers(),
      primary: modeView?.primary ?? null,
      votes: modeView?.votes ?? null,
      acknowledgedBy: modeView?.acknowledgedBy ?? [],
      routing: this.routing,
      deadline: waiting && modeView.deadline !== null ? new Date(modeView.deadline).toISOString() : null,
      depth: this.depth,
      maxDepth: this.plan?.maxDepth ?? null,
      decisions: [...this.decisions],
      timeline: [...this.timeline],
      outcome: this.outcome ?? null,
      ticket: null,
    };
  }

  /** Who else is awaited besides `reviewerId`: asked now, and held back by quiet hours (told apart in runs that hold at assignment). */
  private othersAsked(view: EscalationView, reviewerId: string): { alsoAsked: string[]; heldBack?: Array<{ reviewer: string; until: string }> } {
    const others = view.awaitedReviewers.filter((id) => id !== reviewerId);
    if (!this.versions.quietHoursDuties) return { alsoAsked: others };
    const heldBack = view.heldReviewers.filter((h) => h.reviewer !== reviewerId);
    return { alsoAsked: others.filter((id) => !heldBack.some((h) => h.reviewer === id)), heldBack };
  }

  /** Awaited reviewers that quiet hours hold back, and when they are asked. */
  heldReviewers(): Array<{ reviewer: string; until: string }> {
    const awaited = this.awaited();
    return [...this.held].filter(([id]) => awaited.includes(id)).map(([reviewer, until]) => ({ reviewer, until: new Date(until).toISOString() }));
  }

  private apply(move: ModeMove): void {
    if (move.kind === 'end') this.finish(move.outcome, move.reason, false);
    else if (move.kind === 'exhausted') this.exhaust(move.reason);
    else if (move.kind === 'fallback') {
      this.fallbackReason = move.reason;
      this.status = 'routing';
      this.changed();
    } else this.changed();
  }

  private changed(): void {
    this.generation++;
    if (this.status === 'waiting' && this.mode) {
      wf.upsertSearchAttributes([
        { key: EscalationState, value: 'waiting' },
        { key: EscalationDepth, value: this.depth },
        { key: AwaitedReviewers, value: this.versions.quietHoursDuties ? this.awaited() : this.mode.awaited() },
      ]);
    }
  }

  private slack(reviewerId: string, slackUser: string, purpose: EmailPurpose, view: EscalationView): void {
    const plan = this.plan!;
    const reviewer = plan.people[reviewerId]!;
    const dedupeKey = `${this.escalationId}.step${(view.step ?? 0) + 1}.slack.${reviewerId}.${this.notificationCount}`;
    const posted = postSlack
      .executeWithOptions({ ...slackOptions, summary: `slack ${reviewerId} (${stepText(view)})` }, [
        {
          dedupeKey,
          channel: slackUser,
          escalationId: this.escalationId,
          purpose,
          model: plan.model,
          reviewer: { id: reviewer.id, name: reviewer.name, email: reviewer.email },
          failure: this.failure,
          deadline: view.deadline,
          alsoAsked: this.othersAsked(view, reviewerId).alsoAsked,
          primary: view.primary,
          stepLabel: stepText(view),
          decisionUrl: `escalation ${this.escalationId}`,
        },
      ])
      .then(
        ({ channel, ts }) => {
          this.slackMessages.push({ reviewer: reviewerId, channel, ts, settled: false });
          this.log({ event: 'notified', reviewer: reviewerId, channel: 'slack', messageId: `${channel}/${ts}`, step: view.step ?? 0 });
        },
        (error: unknown) => this.log({ event: 'notification-failed', reviewer: reviewerId, channel: 'slack', error: failureMessage(error), step: view.step ?? 0 }),
      );
    this.background.push(posted);
  }

  /**
   * Keeps Slack current: a message to someone no longer awaited, or every message once the
   * escalation ended, loses its buttons and says where things stand.
   */
  refreshSlack(): void {
    const view = this.view();
    for (const message of this.slackMessages) {
      if (message.settled) continue;
      const ended = view.outcome !== null;
      if (!ended && view.awaitedReviewers.includes(message.reviewer)) continue;
      message.settled = true;
      const status = ended
        ? `Ended: ${view.outcome!.outcome} — ${view.outcome!.reason}`
        : `No longer waiting on you: now waiting for ${view.awaitedReviewers.join(', ') || 'nobody'} (${stepText(view)})`;
      this.background.push(
        updateSlack
          .executeWithOptions({ ...slackOptions, summary: `update slack for ${message.reviewer}` }, [
            { channel: message.channel, ts: message.ts, escalationId: this.escalationId, status, ...(ended ? { outcome: view.outcome!.outcome } : {}), failure: this.failure },
          ])
          .catch(() => undefined),
      );
    }
  }

  /** Pages once the escalation reaches a paging tier (or at once, where the severity's channels include PagerDuty). */
  pageIfDue(): void {
    const plan = this.plan;
    if (!plan || this.paged || !this.reachable.pagerduty || this.status !== 'waiting') return;
    const stage = this.mode?.view().stage;
    const pagingTier = stage?.kind === 'tier' && plan.channels?.pageTiers.includes(stage.tier);
    if (!pagingTier && !plan.channels?.use.includes('pagerduty')) return;
    this.paged = true;
    const view = this.view();
    this.background.push(
      page
        .executeWithOptions({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 8, nonRetryableErrorTypes: ['PagerDutyRefused'] }, summary: 'page on-call (PagerDuty trigger)' }, [
          {
            action: 'trigger',
            incident: {
              escalationId: this.escalationId,
              summary: `${this.failure.severity}: ${this.failure.gate.name} failed on ${this.failure.service}; waiting for ${view.awaitedReviewers.join(', ')}`,
              severity: this.failure.severity,
              source: this.failure.service,
              component: this.failure.gate.name,
              group: this.failure.repository,
              class: this.failure.gate.kind,
              links: [{ href: this.failure.pipelineRun.url, text: `pipeline run ${this.failure.pipelineRun.id}` }, { href: this.failure.change.url, text: this.failure.change.title }],
              customDetails: { escalationId: this.escalationId, awaited: view.awaitedReviewers, depth: this.depth, stage: stepText(view) },
            },
          },
        ])
        .then(
          () => this.log({ event: 'notified', reviewer: view.awaitedReviewers.join(','), channel: 'pagerduty', messageId: this.escalationId, step: view.step ?? 0 }),
          (error: unknown) => this.log({ event: 'notification-failed', reviewer: view.awaitedReviewers.join(','), channel: 'pagerduty', error: failureMessage(error), step: view.step ?? 0 }),
        ),
    );
  }

  /** Acknowledge or resolve the incident, when one was opened. */
  pageUpdate(action: 'acknowledge' | 'resolve'): void {
    if (!this.paged) return;
    this.background.push(page.executeWithOptions({ startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 8, nonRetryableErrorTypes: ['PagerDutyRefused'] }, summary: `PagerDuty ${action}` }, [{ action, escalationId: this.escalationId }]).catch(() => undefined));
  }

  /** One signed webhook event per batch of state changes; the id is the batch's first seq. */
  webhook(fromSeq: number, entries: TimelineEntry[]): void {
    if (!this.reachable.webhook || entries.length === 0) return;
    const ended = entries.some((e) => e.event === 'ended');
    this.background.push(
      sendWebhook({
        id: `${this.escalationId}:${fromSeq}`,
        type: ended ? 'escalation.ended' : 'escalation.updated',
        escalationId: this.escalationId,
        occurredAt: entries.at(-1)!.at,
        data: { status: this.status, awaitedReviewers: this.awaited(), depth: this.depth, outcome: this.outcome ?? null, entries },
      }).catch(() => undefined),
    );
  }

  /** Waits for Slack, PagerDuty and webhook calls still under way, so completion does not abandon them. */
  async settleBackground(): Promise<void> {
    await Promise.all(this.background);
  }

  /** The email for one reviewer, or none where their channels leave email out; posts to Slack on the way. */
  private email(reviewerId: string, { purpose, override, rollback }: EmailExtras): { email: ReviewerEmail; summary: string } | undefined {
    const plan = this.plan!;
    const reviewer = plan.people[reviewerId];
    if (!reviewer) return undefined;
    const view = this.view();
    // The severity's channels, narrowed to the person's (or their roles') own.
    const allowed = (plan.channels?.use ?? ['email']).filter((channel) => !reviewer.channels || reviewer.channels.includes(channel));
    // Nobody goes unreached: where the two leave nothing, email.
    const channels = allowed.length ? allowed : ['email'];
    // What is not a decision request (an override to review, a rollback to do by hand) goes by email, always.
    if (channels.includes('slack') && this.reachable.slack && reviewer.slack && asksForDecision(purpose)) this.slack(reviewerId, reviewer.slack, purpose, view);
    if (!channels.includes('email') && asksForDecision(purpose)) return undefined;
    const step = view.step ?? 0;
    const messageId = `<${this.escalationId}.step${step + 1}.n${++this.notificationCount}@escalator>`;
    const summary = `email ${reviewerId} (${purpose === 'decide' ? `step ${step + 1}` : purpose})`;
    const email: ReviewerEmail = {
      escalationId: this.escalationId,
      messageId,
      purpose,
      reviewer: { id: reviewer.id, name: reviewer.name, email: reviewer.email },
      model: plan.model,
      step,
      stepCount: view.stepCount ?? 1,
      stage: view.stage ?? { kind: 'primary' },
      deadline: view.deadline,
      ...this.othersAsked(view, reviewerId),
      primary: view.primary,
      ...(override ? { override } : {}),
      ...(rollback ? { rollback } : {}),
      failure: this.failure,
    };
    return { email, summary };
  }
}

/** Why an email goes out, and what it carries beyond the escalation itself. */
interface EmailExtras {
  purpose: EmailPurpose;
  override?: { by: string; justification: string };
  rollback?: { endpoint: string; error: string; reason: string };
}

/** Decision requests and reminders; quiet hours and the reviewer's channels apply to these only. */
function asksForDecision(purpose: EmailPurpose): boolean {
  return purpose === 'decide' || purpose === 'reminder';
}

function stepText(view: EscalationView): string {
  if (view.model === 'parallel') return `vote, ${stageLabel(view.stage)}`;
  return `step ${(view.step ?? 0) + 1} of ${view.stepCount ?? 1}, ${stageLabel(view.stage)}`;
}

function stageLabel(stage: Stage | null): string {
  if (!stage || stage.kind === 'primary') return 'primary';
  return stage.kind === 'backup' ? 'backup' : `tier ${stage.tier}`;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function now(): string {
  return new Date().toISOString();
}
