import { IANAZone } from 'luxon';
import { isOutOfOffice, isWorking, nextWorkingStart, type OnCall, onCallAt, type Rotation, type WorkingHours } from '../schedule.js';

// domain/schedule.ts answered from memory: the simulator asks the same schedule questions millions of
// times, and each answer below is reused only where schedule.ts's own rules make it the same answer.

const MINUTE_MS = 60_000;
const DAY_MS = 24 * 60 * MINUTE_MS;

/** A wall-clock reading: local day (days since 1970-01-01), minute of that day, and the offset in force. */
export interface Wall {
  day: number;
  minute: number;
  offset: number;
}

/**
 * The wall clock of one IANA zone, read fast. Asking luxon for an offset costs microseconds (it
 * formats a date), and the simulator asks millions of times, so each UTC day is asked about once:
 * the offsets at its two ends, and where they differ the instant of the switch, found by bisection.
 * That is exact as long as no zone changes its offset twice within one day, which none does.
 */
export class ZoneClock {
  private readonly zone: IANAZone;
  private readonly days = new Map<number, { switchAt: number; before: number; after: number }>();

  constructor(readonly timeZone: string) {
    this.zone = IANAZone.create(timeZone);
  }

  /** Minutes east of UTC at `t`. */
  offset(t: number): number {
    const day = Math.floor(t / DAY_MS);
    let known = this.days.get(day);
    if (!known) this.days.set(day, (known = this.offsetsOn(day)));
    return t < known.switchAt ? known.before : known.after;
  }

  /** The same reading as domain/schedule.ts takes: `t` plus the offset, split into day and minute. */
  wall(t: number): Wall {
    const offset = this.offset(t);
    const wall = t + offset * MINUTE_MS;
    const day = Math.floor(wall / DAY_MS);
    return { day, minute: (wall - day * DAY_MS) / MINUTE_MS, offset };
  }

  /**
   * The first instant whose wall clock reads `wall` (local ms as if UTC), as schedule.ts turns wall
   * times into instants; null when the clocks jump over it, which the caller leaves to schedule.ts.
   */
  instantOf(wall: number): number | null {
    const exact = this.instantsOf(wall);
    return exact.length ? Math.min(...exact) : null;
  }

  /** Every instant whose wall clock reads `wall`: none in a gap, two in an hour the clocks repeat. */
  instantsOf(wall: number): number[] {
    const before = wall - this.offset(wall - DAY_MS) * MINUTE_MS;
    const after = wall - this.offset(wall + DAY_MS) * MINUTE_MS;
    return (before === after ? [before] : [before, after]).filter((t) => t + this.offset(t) * MINUTE_MS === wall);
  }

  private offsetsOn(day: number): { switchAt: number; before: number; after: number } {
    let lo = day * DAY_MS;
    let hi = lo + DAY_MS - 1;
    const before = this.zone.offset(lo);
    const after = this.zone.offset(hi);
    if (before === after) return { switchAt: Number.POSITIVE_INFINITY, before, after };
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.zone.offset(mid) === before) lo = mid;
      else hi = mid;
    }
    return { switchAt: hi, before, after };
  }
}

const clocks = new Map<string, ZoneClock>();

/** One clock per zone for the whole process: its offsets never change. */
export function zoneClock(timeZone: string): ZoneClock {
  let clock = clocks.get(timeZone);
  if (!clock) clocks.set(timeZone, (clock = new ZoneClock(timeZone)));
  return clock;
}

/**
 * Working hours on a zone's wall clock, answered from memory. `isWorking` depends only on the local
 * weekday and on which of the hours' span bounds the local minute has passed, so it is asked once per
 * (weekday, stretch between bounds) and remembered.
 *
 * The next start of work is the same for every instant of one off-duty stretch, and it falls the same
 * number of days later at the same wall time in every week: it is asked of schedule.ts once per
 * weekday and stretch, and later weeks turn that wall time into an instant themselves. Such an answer
 * is used only when it is an instant that really reads that wall time and really is working time;
 * otherwise (a DST switch in the way) schedule.ts is asked again.
 */
export class HoursClock {
  private readonly bounds: number[];
  private readonly working = new Map<number, boolean>();
  private readonly shapes = new Map<number, { days: number; minute: number }>();

  constructor(
    readonly hours: WorkingHours,
    readonly clock: ZoneClock,
  ) {
    this.bounds = [...new Set(hours.spans.flatMap((span) => [span.startMinute, span.endMinute % 1440]))].sort((a, b) => a - b);
  }

  isWorking(t: number): boolean {
    const key = this.weekdayStretch(this.clock.wall(t));
    let working = this.working.get(key);
    if (working === undefined) this.working.set(key, (working = isWorking(this.hours, this.clock.timeZone, new Date(t))));
    return working;
  }

  /** The first instant at or after `t` when the person works. */
  nextStart(t: number): number {
    const wall = this.clock.wall(t);
    const key = this.weekdayStretch(wall);
    if (this.isWorking(t)) return t;
    const shape = this.shapes.get(key);
    if (shape) {
      const start = this.clock.instantOf((wall.day + shape.days) * DAY_MS + shape.minute * MINUTE_MS);
      if (start !== null && start > t && this.isWorking(start)) return start;
    }
    const start = nextWorkingStart(this.hours, this.clock.timeZone, new Date(t)).getTime();
    const found = this.clock.wall(start);
    // Only a start on a span bound has the same shape next week (not one moved by a DST jump).
    if (this.bounds.includes(found.minute)) this.shapes.set(key, { days: found.day - wall.day, minute: found.minute });
    return start;
  }

  private weekdayStretch(wall: Wall): number {
    let stretch = 0;
    while (stretch < this.bounds.length && this.bounds[stretch]! <= wall.minute) stretch++;
    return (wall.day + 3 - 7 * Math.floor((wall.day + 3) / 7)) * 64 + stretch;
  }
}

/** A value that depends only on the local day (out-of-office days, approver pools), kept per day. */
export class DailyValue<T> {
  private readonly days = new Map<number, T>();

  /** `outside(day)` says, cheaply, that a day certainly has `outsideValue`, so `compute` need not be asked. */
  constructor(
    private readonly clock: ZoneClock,
    private readonly compute: (at: Date) => T,
    private readonly outside?: (day: number) => boolean,
    private readonly outsideValue?: T,
  ) {}

  at(t: number): T {
    const day = this.clock.wall(t).day;
    if (this.outside?.(day)) return this.outsideValue!;
    let value = this.days.get(day);
    if (value === undefined) this.days.set(day, (value = this.compute(new Date(t))));
    return value;
  }
}

/** Who holds a rotation, kept for the shift: `onCallAt` says how long its answer holds. */
export class OnCallClock {
  private shift: OnCall | null = null;

  constructor(private readonly rotation: Rotation) {}

  personAt(t: number): string {
    const shift = this.shift;
    if (shift && shift.shiftStart.getTime() <= t && t < shift.shiftEnd.getTime()) return shift.person;
    this.shift = onCallAt(this.rotation, new Date(t));
    return this.shift.person;
  }
}

/**
 * Out-of-office days as `isOutOfOffice` reads them, kept per local day, and never asked about a day
 * more than a day away from every range (its ISO dates, read as UTC midnights, are the local days it
 * compares; the margin only makes sure).
 */
export function awayDays(ranges: ReadonlyArray<{ from: string; to: string }>, clock: ZoneClock): DailyValue<boolean> {
  const days = ranges.map(({ from, to }) => [Date.parse(from) / DAY_MS, Date.parse(to) / DAY_MS] as const);
  const far = (day: number) => days.every(([first, last]) => !(day >= first - 1 && day <= last + 1));
  return new DailyValue(clock, (at) => ranges.length > 0 && isOutOfOffice(ranges, clock.timeZone, at), far, false);
}
