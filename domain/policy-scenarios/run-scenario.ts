import { newEscalation, step } from '../engine/engine.js';
import type { Effect, EngineEvent, RoutingDecision } from '../engine/events.js';
import { refusalOf } from '../engine/refusals.js';
import { type EscalationState, summarize } from '../engine/state.js';
import { nextDeadline } from '../engine/view.js';
import type { ModelName, OutcomeKind, TimelineEntry } from '../escalation.js';
import { type DynamicPlan, type EscalationPlan, resolvePlan } from '../escalation-plan.js';
import type { GateFailure } from '../gate-failure.js';
import type { Policy } from '../policy.js';
import { routingDecision } from '../routing.js';
import type { Scenario, ScenarioEvent } from './scenario-file.js';

/** What the engine did with a scenario, in the terms its expectations use. */
export interface ScenarioObservation {
  model: ModelName | null;
  rule: string | null;
  firstAsked: string[];
  firstHeld: string[];
  outcome: OutcomeKind | null;
  depth: number;
  /** Milliseconds from the failure to the end; null when it never ended. */
  endedAfter: number | null;
  /** Messages the escalation refused: which event, and why. */
  refused: Array<{ event: number; code: string; message: string }>;
  timeline: ObservedEntry[];
}

export interface ObservedEntry {
  after: number;
  event: TimelineEntry['event'];
  reviewers?: string[];
  depth?: number;
}

const dayMs = 24 * 60 * 60 * 1000;

/**
 * Runs one scenario through the escalation engine on a virtual clock: the failure is raised at the
 * scenario's moment, its events arrive at their offsets, every deadline in between comes due as the
 * workflow's timer would, and a rollback answers as the scenario says. No Temporal, no I/O.
 */
export function runScenario(policy: Policy, scenario: Scenario): ScenarioObservation {
  const failure = failureOf(scenario);
  const plan = resolvePlan(withOutOfOffice(policy, scenario), failure, { at: new Date(scenario.at), ordinal: 0 });
  const run = new VirtualRun(scenario, failure);
  if (!plan) run.feed({ kind: 'no-policy', at: scenario.at, reason: `no gates entry for "${scenario.failure.gate}" and no "*" entry` });
  else run.feed({ kind: 'started', at: scenario.at, snapshot: { policyVersion: 'scenario', policySource: 'scenario', plan }, seed: 0 });
  if (plan?.model === 'dynamic' && run.state.status === 'routing') run.feed({ kind: 'routing-answered', at: scenario.at, decision: routingOf(plan, failure, scenario.history) });
  const events = scenario.events.map((event, index) => ({ event, index })).sort((a, b) => a.event.after - b.event.after);
  for (const { event, index } of events) {
    const at = scenario.at + event.after;
    run.until(at);
    if (run.state.status !== 'ended') run.message(index, messageOf(event, at));
  }
  run.until(Number.POSITIVE_INFINITY);
  return run.observe(plan);
}

/** The engine's state and the effects it asked for, driven on the scenario's clock. */
class VirtualRun {
  state: EscalationState;
  readonly effects: Effect[][] = [];
  readonly refused: ScenarioObservation['refused'] = [];

  constructor(
    private readonly scenario: Scenario,
    failure: GateFailure,
  ) {
    this.state = newEscalation({ escalationId: 'scenario', failure: summarize(failure), at: scenario.at });
  }

  feed(event: EngineEvent): void {
    const { state, effects } = step(this.state, event);
    this.state = state;
    this.effects.push(effects);
    const rollback = effects.find((effect): effect is Extract<Effect, { kind: 'roll-back' }> => effect.kind === 'roll-back');
    if (rollback) {
      const answer: EngineEvent =
        this.scenario.rollback === 'succeeds'
          ? { kind: 'rollback-done', at: event.at, endpoint: rollback.endpoint, status: 200 }
          : { kind: 'rollback-failed', at: event.at, endpoint: rollback.endpoint, error: 'the scenario says the rollback fails' };
      this.feed(answer);
    }
  }

  message(index: number, event: EngineEvent): void {
    const refusal = refusalOf(this.state, event);
    if (refusal) this.refused.push({ event: index, ...refusal });
    else this.feed(event);
  }

  /** Lets every deadline up to `at` come due, in order. Bounded: each one hands off, releases or ends. */
  until(at: number): void {
    for (let wakes = 0; wakes < 1000 && this.state.status === 'waiting'; wakes++) {
      const deadline = nextDeadline(this.state);
      if (!deadline || deadline.at > at) return;
      this.feed({ kind: 'deadline-due', at: deadline.at });
    }
  }

  observe(plan: EscalationPlan | undefined): ScenarioObservation {
    const s = this.state;
    const start = this.scenario.at;
    const notify = this.effects.flat().find((effect): effect is Extract<Effect, { kind: 'notify' }> => effect.kind === 'notify');
    const firstQuiet = s.timeline.find((entry) => entry.event === 'quiet-hours' && Date.parse(entry.at) === start);
    return {
      model: plan?.model ?? null,
      rule: plan?.rule ?? null,
      firstAsked: [...new Set(notify?.notifications.map((n) => n.reviewer.id) ?? [])],
      firstHeld: firstQuiet?.event === 'quiet-hours' ? firstQuiet.held : [],
      outcome: s.outcome?.outcome ?? null,
      depth: s.depth,
      endedAfter: s.outcome ? Date.parse(s.outcome.endedAt) - start : null,
      refused: this.refused,
      timeline: s.timeline.map((entry) => observed(entry, start)),
    };
  }
}

function observed(entry: TimelineEntry, start: number): ObservedEntry {
  const base = { after: Date.parse(entry.at) - start, event: entry.event };
  const reviewers = 'reviewers' in entry ? entry.reviewers : entry.event === 'routed' ? entry.chosen : entry.event === 'quiet-hours-ended' ? entry.asked : entry.event === 'decided' ? [entry.reviewer] : undefined;
  return { ...base, ...(reviewers ? { reviewers } : {}), ...('depth' in entry ? { depth: entry.depth } : {}) };
}

function messageOf(event: ScenarioEvent, at: number): EngineEvent {
  const channel = 'cli' as const;
  if (event.decide) return { kind: 'decided', at, request: { reviewer: event.decide.reviewer, decision: event.decide.decision, channel, ...(event.decide.comment ? { comment: event.decide.comment } : {}) } };
  if (event.acknowledge) return { kind: 'acknowledged', at, request: { reviewer: event.acknowledge, channel } };
  if (event.reassign) return { kind: 'reassigned', at, request: { ...event.reassign, channel } };
  if (event.breakGlass) return { kind: 'break-glass', at, request: { ...event.breakGlass, channel } };
  if (event.withdraw) return { kind: 'withdrawn', at, request: event.withdraw };
  return { kind: 'recovered', at };
}

/** The gate failure a scenario describes; what cannot change the plan gets a placeholder. */
function failureOf(scenario: Scenario): GateFailure {
  const { failure } = scenario;
  return {
    gate: { name: failure.gate, kind: failure.kind },
    service: failure.service,
    repository: 'scenario',
    severity: failure.severity,
    change: { sha: '0000000', author: failure.author, title: scenario.name, url: 'https://scenario.invalid/change', changedFiles: failure.changedFiles },
    pipelineRun: { id: 'scenario', url: 'https://scenario.invalid/run' },
    occurredAt: new Date(scenario.at).toISOString(),
    hotfix: failure.hotfix,
    rollback: failure.rollback,
    idempotencyKey: 'scenario',
  };
}

/**
 * The policy with the scenario's absent people out of office from the day before to the day after
 * (whole days in every time zone), so they stay away however long the scenario runs.
 */
function withOutOfOffice(policy: Policy, scenario: Scenario): Policy {
  if (!scenario.outOfOffice.length) return policy;
  const day = (offset: number) => new Date(scenario.at + offset * dayMs).toISOString().slice(0, 10);
  const people = { ...policy.people };
  for (const id of scenario.outOfOffice) {
    const person = people[id];
    if (person) people[id] = { ...person, outOfOffice: [...person.outOfOffice, { from: day(-1), to: day(2) }] };
  }
  return { ...policy, people };
}

/** Routing as the worker's would answer with `history` ended escalations and nobody loaded. */
function routingOf(plan: DynamicPlan, failure: GateFailure, history: number): RoutingDecision {
  return routingDecision({ plan, failure, history: { gate: history, service: history }, medianResponseMs: {}, load: {} });
}
