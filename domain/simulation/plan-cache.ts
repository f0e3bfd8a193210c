import type { EscalationPlan } from '../escalation-plan.js';
import { resolvePlan } from '../escalation-plan.js';
import type { GateFailure } from '../gate-failure.js';
import type { Policy } from '../policy.js';
import { type Interval, quietIntervals } from '../quiet-hours.js';
import { gateEntryKey } from '../rule-conditions.js';
import { parseWorkingHours, poolMembersAt } from '../schedule.js';
import { awayDays, DailyValue, HoursClock, OnCallClock, type ZoneClock, zoneClock } from './schedule-cache.js';

const DAY_MS = 86_400_000;

/** Each rotation of the policy, read fast; shared by plan resolution and by people's availability. */
export function rotationClocks(policy: Policy): Map<string, OnCallClock> {
  return new Map(Object.entries(policy.rotations).map(([name, rotation]) => [name, new OnCallClock({ ...rotation, timeZone: rotation.timezone ?? policy.timezone })]));
}

/**
 * `resolvePlan` for the simulator, which needs one plan per failure and cannot afford ~1 ms each
 * (luxon's time-zone arithmetic). Plans are remembered under a key made of everything a plan depends on:
 *
 * - of the failure, only what resolvePlan reads: the gate, the severity (channels), and the fields the
 *   policy's rules test (kind, service, hotfix, rollback; the author for authorSeniority/authorRole;
 *   the files for crossTeam);
 * - of the moment, only what resolvePlan asks the schedule: whether the business hours are on, who is
 *   out of office, each pool's members and each rotation's on-call, and for gates that may route
 *   dynamically (their entry, or a rule, says dynamic) whether each person's working hours are on.
 *   These repeat week after week, so a few hundred plans serve years of virtual time.
 *
 * Two parts of a plan depend on more and are set per escalation instead: the parallel primary
 * (`ordinal`, as resolvePlan rotates it) and the quiet-hours instants. resolvePlan lists the quiet
 * hours of the 14 days after the moment; this cache lists the same intervals from the whole
 * simulation, cut to those around the moment, which gives the engine the same answer for every instant
 * it can reach (its `find` only asks which interval holds an instant).
 */
export class PlanCache {
  private readonly resolvable: Policy;
  private readonly plans = new Map<string, EscalationPlan | undefined>();
  private readonly moment: Array<(t: number) => string>;
  /** Whether people are at work, which only dynamic plans record (their candidates' facts). */
  private readonly working: Array<(t: number) => string>;
  private readonly routes: (gate: string) => boolean;
  private readonly ruleFields: Set<string>;
  private readonly quiet: QuietHours | null;

  constructor(
    policy: Policy,
    private readonly rotations: Map<string, OnCallClock>,
    start: number,
  ) {
    // Quiet hours are the slow part of resolvePlan; they are filled in below from one long list.
    this.resolvable = { ...policy, quietHours: undefined };
    this.ruleFields = new Set(policy.rules.flatMap((rule) => Object.keys(rule.when)));
    this.moment = momentFacts(policy, this.ruleFields, rotations);
    this.working = workingFacts(policy);
    const anyRuleRoutes = policy.rules.some((rule) => rule.use.model === 'dynamic');
    const routing = new Map<string, boolean>();
    this.routes = (gate) => {
      let routes = routing.get(gate);
      if (routes === undefined) routing.set(gate, (routes = anyRuleRoutes || policy.gates[gateEntryKey(policy, gate) ?? '']?.model === 'dynamic'));
      return routes;
    };
    const quiet = policy.quietHours;
    this.quiet = quiet?.notify === 'primary-oncall-only' && quiet.oncall ? new QuietHours(quiet, policy.timezone, quiet.oncall, start) : null;
  }

  /** The plan resolvePlan would give `failure` at `at` (epoch ms); undefined when no gate entry applies. */
  planFor(failure: GateFailure, at: number, ordinal: number): EscalationPlan | undefined {
    let key = this.failureKey(failure);
    for (const fact of this.moment) key += `\u0001${fact(at)}`;
    if (this.routes(failure.gate.name)) for (const fact of this.working) key += `\u0001${fact(at)}`;
    let plan = this.plans.get(key);
    if (plan === undefined && !this.plans.has(key)) {
      // A bound on memory for very long runs with very varied failures; the cache refills as it goes.
      if (this.plans.size >= 100_000) this.plans.clear();
      plan = resolvePlan(this.resolvable, failure, { at: new Date(at), ordinal: 0 });
      this.plans.set(key, plan);
    }
    if (!plan) return undefined;
    const quietHours = this.quiet ? { intervals: this.quiet.around(at), onCall: this.rotations.get(this.quiet.rotation)!.personAt(at) } : null;
    if (plan.model === 'parallel') return { ...plan, quietHours, primary: plan.group[ordinal % plan.group.length]! };
    return { ...plan, quietHours };
  }

  private failureKey(failure: GateFailure): string {
    const used = this.ruleFields;
    return [
      failure.gate.name,
      failure.severity,
      used.has('kind') ? failure.gate.kind : '',
      used.has('service') ? failure.service : '',
      used.has('hotfix') ? String(failure.hotfix) : '',
      used.has('rollback') ? String(failure.rollback) : '',
      used.has('authorSeniority') || used.has('authorRole') ? failure.change.author : '',
      used.has('crossTeam') ? failure.change.changedFiles.join('\n') : '',
    ].join('\u0000');
  }
}

/** Everything resolvePlan asks the schedule about a moment, each as a function of the instant. */
function momentFacts(policy: Policy, ruleFields: Set<string>, rotations: Map<string, OnCallClock>): Array<(t: number) => string> {
  const facts: Array<(t: number) => string> = [];
  const flag = (value: boolean) => (value ? '1' : '0');
  if (ruleFields.has('outsideBusinessHours')) {
    const business = new HoursClock(parseWorkingHours(policy.businessHours), zoneClock(policy.timezone));
    facts.push((t) => flag(business.isWorking(t)));
  }
  for (const person of Object.values(policy.people)) {
    const zone = zoneClock(person.timezone ?? policy.timezone);
    if (person.outOfOffice.length) {
      const away = awayDays(person.outOfOffice, zone);
      facts.push((t) => flag(away.at(t)));
    }
  }
  for (const pool of Object.values(policy.pools)) {
    if (pool.rotate === 'none') continue;
    const members = new DailyValue(zoneClock(policy.timezone), (at) => poolMembersAt({ ...pool, timeZone: policy.timezone }, at).join(','));
    facts.push((t) => members.at(t));
  }
  for (const rotation of rotations.values()) facts.push((t) => rotation.personAt(t));
  return facts;
}

function workingFacts(policy: Policy): Array<(t: number) => string> {
  return Object.values(policy.people).flatMap((person) => {
    if (!person.workingHours) return [];
    const hours = new HoursClock(parseWorkingHours(person.workingHours), zoneClock(person.timezone ?? policy.timezone));
    return [(t: number) => (hours.isWorking(t) ? '1' : '0')];
  });
}

/**
 * The policy's quiet hours as one list of instants, grown a month at a time as virtual time moves on.
 * Each local day's window is its two wall-clock bounds turned into instants on the zone clock, as
 * quietIntervals does with luxon; a month where some bound falls in a DST gap or in an hour the clocks
 * repeat is left to quietIntervals itself, whose rules for such times then apply.
 */
class QuietHours {
  private intervals: Interval[] = [];
  private coveredUntil: number;
  private readonly byDay = new Map<number, Interval[]>();
  private readonly clock: ZoneClock;
  private readonly fromMinute: number;
  private readonly toMinute: number;

  constructor(
    private readonly window: { from: string; to: string },
    private readonly timeZone: string,
    readonly rotation: string,
    start: number,
  ) {
    this.coveredUntil = start - DAY_MS;
    this.clock = zoneClock(timeZone);
    const minutes = (text: string) => Number(text.slice(0, 2)) * 60 + Number(text.slice(3, 5));
    this.fromMinute = minutes(window.from);
    this.toMinute = minutes(window.to);
  }

  /** The intervals that can hold any instant from the start of `at`'s UTC day to 16 days later. */
  around(at: number): Interval[] {
    const day = Math.floor(at / DAY_MS);
    let cut = this.byDay.get(day);
    if (cut) return cut;
    const from = day * DAY_MS;
    const until = from + 16 * DAY_MS;
    while (this.coveredUntil < until) {
      // Everything starting in the next 29 days is in a 30-day list; what the last list had already is dropped.
      const known = new Set(this.intervals.map((i) => i.fromMs));
      const more = (this.month(this.coveredUntil) ?? quietIntervals(this.window, this.timeZone, new Date(this.coveredUntil), 30)).filter((i) => !known.has(i.fromMs));
      this.intervals = [...this.intervals, ...more].sort((a, b) => a.fromMs - b.fromMs);
      this.coveredUntil += 29 * DAY_MS;
    }
    cut = this.intervals.filter((i) => i.toMs > from && i.fromMs < until);
    this.byDay.set(day, cut);
    return cut;
  }

  /** The windows of the local days around the 30 days from `from`; null when a bound is not one plain instant. */
  private month(from: number): Interval[] | null {
    // A window ending at or before it starts runs overnight, as quietIntervals reads it.
    const overnight = this.toMinute <= this.fromMinute;
    const intervals: Interval[] = [];
    const last = this.clock.wall(from + 30 * DAY_MS).day;
    for (let day = this.clock.wall(from).day - 1; day <= last; day++) {
      const start = this.clock.instantsOf(day * DAY_MS + this.fromMinute * 60_000);
      const end = this.clock.instantsOf((overnight ? day + 1 : day) * DAY_MS + this.toMinute * 60_000);
      if (start.length !== 1 || end.length !== 1) return null;
      if (end[0]! > from) intervals.push({ fromMs: start[0]!, toMs: end[0]! });
    }
    return intervals;
  }
}
