import { newEscalation, step } from '../engine/engine.js';
import type { Effect, EngineEvent } from '../engine/events.js';
import { overrideAllowed } from '../engine/models.js';
import { type EscalationState, summarize } from '../engine/state.js';
import { awaitedReviewers } from '../engine/view.js';
import { type DecisionKind, isAuthor } from '../escalation.js';
import type { EscalationPlan } from '../escalation-plan.js';
import type { GateFailure } from '../gate-failure.js';
import type { Policy } from '../policy.js';
import { gateEntryKey } from '../rule-conditions.js';
import { Arrivals } from './arrivals.js';
import { EventQueue } from './event-queue.js';
import { type EndedEscalation, Metrics, type RunReport } from './metrics.js';
import { People } from './people.js';
import { PlanCache, rotationClocks } from './plan-cache.js';
import { hashText, randomStream, streamSeed } from './random.js';
import { SimulatedRouter } from './routing.js';
import type { Team } from './team.js';

const DAY_MS = 86_400_000;

/** When a run stops taking new failures; escalations under way then still run to their end. */
export type StopRule = { failures: number } | { days: number };

export interface SimulationSettings {
  policy: Policy;
  /** Recorded in each escalation's snapshot, as the worker records the policy's sha256. */
  policyVersion: string;
  team: Team;
  seed: number;
  stop: StopRule;
  /** Called now and then with the share of the run done (0..1). */
  onProgress?: (share: number) => void;
}

/** One escalation under way, with what the simulator keeps beside the engine's state. */
interface Live {
  index: number;
  failure: GateFailure;
  raisedAt: number;
  state: EscalationState;
  deadlineAt: number | null;
  reviewers: Map<string, Asked>;
}

/** One reviewer of one escalation. */
interface Asked {
  /** When first asked: the response time counts from there, as the outcome store's does. */
  firstAt: number;
  /** Requests so far (decisions and reminders): each is a fresh draw of the person's behaviour. */
  asks: number;
  /** An answer is on its way: a reminder does not make them answer twice. */
  answering: boolean;
}

type Agenda =
  | { kind: 'arrival'; gate: number }
  | { kind: 'deadline'; live: Live }
  | { kind: 'answer'; live: Live; reviewer: string; decision: DecisionKind }
  | { kind: 'acknowledge'; live: Live; reviewer: string };

/** The simulator's worker has no Slack, PagerDuty or webhooks: every request is one email. */
const unreachable = { slack: false, pagerduty: false, webhook: false };

/**
 * Runs the escalation engine itself (domain/engine) on a virtual clock: gate failures arrive, the
 * engine asks people, people answer or not as the team file says, deadlines come due; no Temporal,
 * no network, no wall clock. The same settings give the same report.
 */
export function simulate(settings: SimulationSettings): RunReport {
  return new Simulation(settings).run();
}

class Simulation {
  private readonly queue = new EventQueue<Agenda>();
  private readonly router = new SimulatedRouter();
  private readonly arrivals: Arrivals;
  private readonly plans: PlanCache;
  private readonly people: People;
  private readonly metrics: Metrics;
  private readonly start: number;
  private readonly arrivedPerGate: number[];
  private arrived = 0;
  /** Escalations under way: routing's `load` counts who they await. */
  private readonly live = new Set<Live>();

  constructor(private readonly settings: SimulationSettings) {
    const { policy, team, seed } = settings;
    this.start = Date.parse(team.start);
    const rotations = rotationClocks(policy);
    this.arrivals = new Arrivals(team, policy.timezone, seed);
    this.plans = new PlanCache(policy, rotations, this.start);
    this.people = new People(policy, team, rotations);
    this.metrics = new Metrics(Object.keys(team.failures), Object.keys(policy.people));
    this.arrivedPerGate = Object.keys(team.failures).map(() => 0);
  }

  run(): RunReport {
    for (let gate = 0; gate < this.arrivals.gateCount; gate++) this.queue.push(this.arrivals.next(gate, this.start), { kind: 'arrival', gate });
    for (let next = this.queue.pop(); next; next = this.queue.pop()) this.handle(next.at, next.item);
    this.settings.onProgress?.(1);
    const { policy } = this.settings;
    return this.metrics.report((gate) => {
      const key = gateEntryKey(policy, gate);
      return key === undefined ? null : (policy.gates[key]!.costPerHour ?? null);
    });
  }

  private handle(at: number, item: Agenda): void {
    if (item.kind === 'arrival') return this.arrive(item.gate, at);
    const { live } = item;
    if (live.state.status === 'ended') return;
    if (item.kind === 'deadline') {
      if (live.deadlineAt === at) this.dispatch(live, { kind: 'deadline-due', at });
    } else if (item.kind === 'acknowledge') {
      // Only a parallel vote waiting for an acknowledgement has anything to stop; elsewhere it would only add to the timeline.
      const model = live.state.model;
      if (model?.kind === 'parallel' && model.acknowledgeBy !== null) this.dispatch(live, { kind: 'acknowledged', at, request: { reviewer: item.reviewer, channel: 'email' } });
    } else {
      const asked = live.reviewers.get(item.reviewer)!;
      asked.answering = false;
      const request = { reviewer: item.reviewer, decision: item.decision, comment: 'simulated decision', channel: 'email' as const };
      if (this.dispatch(live, { kind: 'decided', at, request })) {
        this.metrics.decision(live.failure.gate.name, item.reviewer);
        this.router.recordResponse(item.reviewer, at - asked.firstAt);
      }
    }
  }

  private arrive(gate: number, at: number): void {
    const { stop, seed, policyVersion } = this.settings;
    const taken = 'failures' in stop ? this.arrived < stop.failures : at < this.start + stop.days * DAY_MS;
    if (!taken) return;
    const index = this.arrived++;
    const failure = this.arrivals.failure(gate, this.arrivedPerGate[gate]!++, at);
    this.queue.push(this.arrivals.next(gate, at), { kind: 'arrival', gate });
    if ((index & 1023) === 0) this.settings.onProgress?.('failures' in stop ? index / stop.failures : (at - this.start) / (stop.days * DAY_MS));
    const live: Live = {
      index,
      failure,
      raisedAt: at,
      state: newEscalation({ escalationId: failure.idempotencyKey, failure: summarize(failure), at }),
      deadlineAt: null,
      reviewers: new Map(),
    };
    this.live.add(live);
    // The worker's ordinal: how many escalations of this gate ended before this one started.
    const plan = this.plans.planFor(failure, at, this.router.ended(failure.gate.name));
    this.dispatch(
      live,
      plan
        ? { kind: 'started', at, snapshot: { policyVersion, policySource: 'simulation', plan: asLive(plan), reachable: unreachable }, seed: streamSeed(seed, 3, index) }
        : { kind: 'no-policy', at, reason: `no gates entry for ${failure.gate.name}` },
    );
  }

  /** Feeds one event to the engine and carries out its effects; false when the engine refused it. */
  private dispatch(live: Live, event: EngineEvent): boolean {
    const before = live.state;
    const { state, effects } = step(before, event);
    if (state === before) return false;
    live.state = state;
    // Answers the engine waits for (routing, a rollback) come after all of this event's effects are carried out.
    const followUps: EngineEvent[] = [];
    for (const effect of effects) this.carry(live, effect, event.at, followUps);
    for (const followUp of followUps) this.dispatch(live, followUp);
    return true;
  }

  private carry(live: Live, effect: Effect, at: number, followUps: EngineEvent[]): void {
    switch (effect.kind) {
      case 'notify': {
        const asked = new Set(effect.notifications.filter((n) => n.purpose === 'decide' || n.purpose === 'reminder').map((n) => n.reviewer.id));
        if (!asked.size) return;
        const othersAwaited = Math.max(0, awaitedReviewers(live.state).length - 1);
        for (const reviewer of asked) this.ask(live, reviewer, at, othersAwaited);
        return;
      }
      case 'set-deadline':
        live.deadlineAt = effect.at;
        if (effect.at !== null) this.queue.push(effect.at, { kind: 'deadline', live });
        return;
      case 'route':
        followUps.push({ kind: 'routing-answered', at, decision: this.router.route(effect.plan, live.failure, this.load()) });
        return;
      case 'roll-back':
        followUps.push({ kind: 'rollback-done', at, endpoint: effect.endpoint, status: 200 });
        return;
      case 'store-outcome':
        this.end(live, effect.outcome.outcome, at);
        return;
      default:
        return; // search attributes, memo, the store's timeline, Slack and PagerDuty: nothing to simulate
    }
  }

  private ask(live: Live, reviewer: string, at: number, othersAwaited: number): void {
    this.metrics.request(reviewer, this.people.outOfHours(reviewer, at));
    let asked = live.reviewers.get(reviewer);
    if (!asked) live.reviewers.set(reviewer, (asked = { firstAt: at, asks: 0, answering: false }));
    asked.asks++;
    const plan = live.state.plan!;
    if (asked.answering || isAuthor(plan.people[reviewer], reviewer, live.failure.change.author)) return;
    const random = randomStream(streamSeed(this.settings.seed, 4, live.index, hashText(reviewer), asked.asks));
    const answer = this.people.answer(reviewer, at, random, { overrideAllowed: overrideAllowed(live.state.model), othersAwaited });
    if (!answer) return;
    asked.answering = true;
    if (plan.model === 'parallel' || live.state.model?.kind === 'parallel') this.queue.push(answer.acknowledgeAt, { kind: 'acknowledge', live, reviewer });
    this.queue.push(answer.at, { kind: 'answer', live, reviewer, decision: answer.decision });
  }

  private end(live: Live, outcome: EndedEscalation['outcome'], at: number): void {
    const { timeline, depth } = live.state;
    this.metrics.ended({
      gate: live.failure.gate.name,
      outcome,
      raisedAt: live.raisedAt,
      endedAt: at,
      depth,
      timedOut: timeline.some((entry) => entry.event === 'timed-out'),
      exhausted: timeline.some((entry) => entry.event === 'exhausted'),
    });
    this.router.recordEnd(live.failure.gate.name, live.failure.service);
    this.live.delete(live);
  }

  /** How many escalations under way await each person: asked only when routing needs it. */
  private load(): Map<string, number> {
    const load = new Map<string, number>();
    for (const live of this.live) for (const id of awaitedReviewers(live.state)) load.set(id, (load.get(id) ?? 0) + 1);
    return load;
  }
}

/** The gate as it would run live: the simulator asks how the team answers, and a shadow gate asks nobody. */
function asLive(plan: EscalationPlan): EscalationPlan {
  return (plan.mode ?? 'live') === 'live' ? plan : { ...plan, mode: 'live' };
}
