import type { DecisionKind } from '../escalation.js';
import type { Policy } from '../policy.js';
import { parseWorkingHours } from '../schedule.js';
import { type Random, sample } from './random.js';
import { awayDays, type DailyValue, HoursClock, type OnCallClock, zoneClock } from './schedule-cache.js';
import { type Distribution, fallbackBehaviour, type Team } from './team.js';

/** One person as the simulator sees them: the policy's schedule, the team file's behaviour. */
interface Responder {
  id: string;
  hours: HoursClock;
  away: DailyValue<boolean>;
  rotations: OnCallClock[];
  response: Distribution;
  acknowledge: Distribution | null;
  ignore: number;
  bystander: number;
  reject: number;
  override: number;
  outOfHours: { answer: number; slowdown: number };
  onCallSlowdown: number;
}

/** What a person does about one request: decide at `at`, maybe press "on it" first; null: never answers. */
export interface Answer {
  at: number;
  decision: DecisionKind;
  acknowledgeAt: number;
}

/**
 * The policy's people with their behaviour. How a request is answered:
 *
 * - Away (the policy's out-of-office days or the team file's `absent` days): no answer. By the time
 *   they are back, any escalation has long moved on.
 * - Ignored, with the person's `ignore` chance, made larger by `bystander` for each other person
 *   awaited at the same moment: no answer. Each request and each reminder is a fresh chance, so
 *   reminders do win some answers back.
 * - Within their working hours (on their own clock): they answer after a `response` draw.
 * - Outside them, on call in one of the policy's rotations: paged, they answer `onCall.slowdown`
 *   times slower.
 * - Outside them and not on call: with the `outOfHours.answer` chance they answer anyway,
 *   `outOfHours.slowdown` times slower; otherwise they see it when their next working day starts.
 *
 * An answer is a rejection with the `reject` chance, else an override vote with the `override` chance
 * where the gate's quorum counts overrides, else an approval. (The change's author is never asked
 * here: run.ts leaves them silent, since the engine would refuse their approval, so their step times
 * out as it would for real.)
 */
export class People {
  private readonly responders = new Map<string, Responder>();

  constructor(policy: Policy, team: Team, rotations: Map<string, OnCallClock>) {
    const defaults = team.defaults;
    for (const [id, person] of Object.entries(policy.people)) {
      const own = Object.hasOwn(team.people, id) ? team.people[id]! : undefined;
      const zone = zoneClock(person.timezone ?? own?.timezone ?? policy.timezone);
      const absences = [...person.outOfOffice, ...(own?.absent ?? [])];
      const pick = <K extends keyof typeof fallbackBehaviour>(key: K) => own?.[key] ?? defaults[key] ?? fallbackBehaviour[key];
      this.responders.set(id, {
        id,
        hours: new HoursClock(parseWorkingHours(person.workingHours ?? own?.workingHours ?? defaults.workingHours), zone),
        away: awayDays(absences, zone),
        rotations: [...rotations.entries()].filter(([name]) => policy.rotations[name]!.members.includes(id) || policy.rotations[name]!.overrides.some((o) => o.person === id)).map(([, clock]) => clock),
        response: pick('response'),
        acknowledge: own?.acknowledge ?? defaults.acknowledge ?? null,
        ignore: pick('ignore'),
        bystander: pick('bystander'),
        reject: pick('reject'),
        override: pick('override'),
        outOfHours: pick('outOfHours'),
        onCallSlowdown: pick('onCall').slowdown,
      });
    }
  }

  /** Whether a request to `id` at `t` reaches them outside their working hours (their own clock). */
  outOfHours(id: string, t: number): boolean {
    const responder = this.responders.get(id);
    return responder ? !responder.hours.isWorking(t) : false;
  }

  /**
   * How `id` answers a request delivered at `t`. `random` is the stream of this one request; its draws
   * are taken in a fixed order whatever the path, so the same request gets the same answer in every model.
   */
  answer(id: string, t: number, random: Random, context: { overrideAllowed: boolean; othersAwaited: number }): Answer | null {
    const responder = this.responders.get(id);
    if (!responder) return null;
    const ignoreDraw = random();
    const decisionDraw = random();
    const offHoursDraw = random();
    const delay = sample(responder.response, random);
    const acknowledgeDelay = responder.acknowledge ? sample(responder.acknowledge, random) : null;
    const ignore = 1 - (1 - responder.ignore) * (1 - responder.bystander) ** context.othersAwaited;
    if (responder.away.at(t) || ignoreDraw < ignore) return null;
    let seenAt = t;
    let slowdown = 1;
    if (!responder.hours.isWorking(t)) {
      if (responder.rotations.some((rotation) => rotation.personAt(t) === id)) slowdown = responder.onCallSlowdown;
      else if (offHoursDraw < responder.outOfHours.answer) slowdown = responder.outOfHours.slowdown;
      else seenAt = responder.hours.nextStart(t);
    }
    if (seenAt !== t && responder.away.at(seenAt)) return null;
    const at = seenAt + delay * slowdown;
    const decision: DecisionKind = decisionDraw < responder.reject ? 'reject' : context.overrideAllowed && decisionDraw < responder.reject + responder.override ? 'override' : 'approve';
    const acknowledgeAt = acknowledgeDelay === null ? at : Math.min(at, seenAt + acknowledgeDelay * slowdown);
    return { at, decision, acknowledgeAt };
  }
}
