import { newEscalation, step } from '../../domain/engine/engine.js';
import type { Effect, EngineEvent, Notification, RoutingDecision } from '../../domain/engine/events.js';
import { type EscalationState, summarize } from '../../domain/engine/state.js';
import { nextDeadline } from '../../domain/engine/view.js';
import type { Channel, DecisionKind } from '../../domain/escalation.js';
import { type PolicySnapshot, resolvePlan } from '../../domain/escalation-plan.js';
import { type GateFailure, type GateFailureInput, gateFailureSchema } from '../../domain/gate-failure.js';
import { parsePolicy } from '../../domain/policy-parser.js';
import { gateFailure } from './gate-failure.js';

/** Friday 27 November 2026, 09:00 UTC: the moment every engine test starts at, unless it says otherwise. */
export const T0 = Date.parse('2026-11-27T09:00:00Z');
export const MINUTE = 60_000;

export type Reachable = EscalationState['reachable'];

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event before it is given its moment. */
export type TimelessEvent = DistributiveOmit<EngineEvent, 'at'>;

/** One event fed to `step`: the state it met, the state it left and the effects it asked for. */
export interface StepRecord {
  event: EngineEvent;
  before: EscalationState;
  after: EscalationState;
  effects: Effect[];
}

/**
 * Freezes a value and everything it reaches, so a `step` that writes to its input throws (modules
 * run in strict mode). Objects already frozen are skipped: this freezes only what is new.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  return value;
}

export function effectsOf<K extends Effect['kind']>(effects: readonly Effect[], kind: K): Array<Extract<Effect, { kind: K }>> {
  return effects.filter((effect): effect is Extract<Effect, { kind: K }> => effect.kind === kind);
}

export function notificationsOf(effects: readonly Effect[]): Notification[] {
  return effectsOf(effects, 'notify').flatMap((effect) => effect.notifications);
}

/** The snapshot the workflow would take: the policy parsed, and resolved for `failure` at `at`. */
export function snapshotOf(policyYaml: string, failure: GateFailure, options: { at?: number; ordinal?: number; reachable?: Partial<Reachable> } = {}): PolicySnapshot {
  const { policy, version } = parsePolicy(policyYaml, 'engine-test.yaml');
  const plan = resolvePlan(policy, failure, { at: new Date(options.at ?? T0), ordinal: options.ordinal ?? 0 });
  if (!plan) throw new Error(`the policy has no entry for gate ${failure.gate.name}`);
  return { policyVersion: version, policySource: 'engine-test.yaml', plan, reachable: { slack: false, pagerduty: false, webhook: false, ...options.reachable } };
}

/**
 * Holds one escalation's state and feeds it events in time order, keeping every step. Each state is
 * deep-frozen before it is stepped, so every test also checks that `step` leaves its input alone.
 */
export class EngineDriver {
  state: EscalationState;
  readonly steps: StepRecord[] = [];
  /** The time of the last event: the sugar methods below send at this moment unless told otherwise. */
  now: number;

  constructor(
    readonly failure: GateFailure,
    readonly escalationId = 'escalation-engine-test',
    at = T0,
  ) {
    this.state = newEscalation({ escalationId, failure: summarize(failure), at });
    this.now = at;
  }

  send(event: EngineEvent): Effect[] {
    if (event.at < this.now) throw new Error(`events go forward in time: ${event.kind} at ${event.at} after ${this.now}`);
    this.now = event.at;
    const before = deepFreeze(this.state);
    const { state, effects } = step(before, deepFreeze(event));
    this.steps.push({ event, before, after: state, effects });
    this.state = state;
    return effects;
  }

  /** Sends `event` at the driver's current moment. */
  sendNow(event: TimelessEvent): Effect[] {
    return this.send({ ...event, at: this.now } as EngineEvent);
  }

  /** Every effect so far, in order. */
  get effects(): Effect[] {
    return this.steps.flatMap((record) => record.effects);
  }

  start(snapshot: PolicySnapshot, seed = 1): Effect[] {
    return this.send({ kind: 'started', at: this.now, snapshot, seed });
  }

  /** Moves the clock on by `ms` for the next sugar call. */
  elapse(ms: number): this {
    this.now += ms;
    return this;
  }

  decide(reviewer: string, decision: DecisionKind, options: { comment?: string; channel?: Channel } = {}): Effect[] {
    const request = { reviewer, decision, channel: options.channel ?? 'http', ...(options.comment !== undefined ? { comment: options.comment } : {}) };
    return this.send({ kind: 'decided', at: this.now, request });
  }

  acknowledge(reviewer: string): Effect[] {
    return this.send({ kind: 'acknowledged', at: this.now, request: { reviewer, channel: 'http' } });
  }

  reassign(by: string, to: string, reason = 'on leave'): Effect[] {
    return this.send({ kind: 'reassigned', at: this.now, request: { by, to, reason, channel: 'http' } });
  }

  breakGlass(by: string, justification = 'checkout is down; the fix must ship'): Effect[] {
    return this.send({ kind: 'break-glass', at: this.now, request: { by, justification, channel: 'http' } });
  }

  withdraw(by: string, reason = 'superseded'): Effect[] {
    return this.send({ kind: 'withdrawn', at: this.now, request: { by, reason } });
  }

  recover(pipelineRunId?: string): Effect[] {
    return this.send({ kind: 'recovered', at: this.now, ...(pipelineRunId ? { pipelineRunId } : {}) });
  }

  /** Answers the `route` effect; `ranked` defaults to the chosen reviewers. */
  route(decision: Pick<RoutingDecision, 'chosen'> & Partial<RoutingDecision>): Effect[] {
    const answer: RoutingDecision = { coldStart: false, reason: 'routed by ownership', ranked: decision.chosen, scores: [], ...decision };
    return this.send({ kind: 'routing-answered', at: this.now, decision: answer });
  }

  /** Moves the clock to the engine's next deadline and sends `deadline-due` then. */
  deadlineDue(): Effect[] {
    const deadline = nextDeadline(this.state);
    if (!deadline) throw new Error(`the escalation waits on no deadline (status ${this.state.status})`);
    return this.send({ kind: 'deadline-due', at: Math.max(this.now, deadline.at) });
  }
}

/** A gate failure as the edge parses it; `overrides` say what the test is about. */
export function failureOf(overrides: Partial<GateFailureInput> = {}): GateFailure {
  return gateFailureSchema.parse(gateFailure({ idempotencyKey: 'engine-test', ...overrides }));
}

/**
 * Starts an escalation of `gate` under the policy: the snapshot resolved at `at` (T0), the
 * `started` event sent. Returns the driver, the snapshot and the effects of the start.
 */
export function startEscalation(
  policyYaml: string,
  gate: GateFailureInput['gate'],
  options: { failure?: Partial<GateFailureInput>; at?: number; ordinal?: number; reachable?: Partial<Reachable>; seed?: number } = {},
): { driver: EngineDriver; snapshot: PolicySnapshot; effects: Effect[] } {
  const failure = failureOf({ gate, ...options.failure });
  const at = options.at ?? T0;
  const snapshot = snapshotOf(policyYaml, failure, { at, ...(options.ordinal !== undefined ? { ordinal: options.ordinal } : {}), ...(options.reachable ? { reachable: options.reachable } : {}) });
  const driver = new EngineDriver(failure, 'escalation-engine-test', at);
  const effects = driver.start(snapshot, options.seed);
  return { driver, snapshot, effects };
}

/** Feeds `events` to a fresh escalation of `failure`: the same input, for a determinism check. */
export function replay(failure: GateFailure, events: readonly EngineEvent[], escalationId = 'escalation-engine-test', at = T0): StepRecord[] {
  const driver = new EngineDriver(failure, escalationId, at);
  for (const event of events) driver.send(event);
  return driver.steps;
}
