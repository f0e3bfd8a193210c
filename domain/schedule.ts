/**
 * People's time: working hours, out-of-office days, quiet and business hours, on-call rotations and
 * approver pools, all read on the wall clock of a named IANA zone. Every function takes the instant
 * it reasons about; nothing here reads the clock.
 *
 * Two rules apply wherever a wall-clock time is turned into an instant (a hand-off, a start of work,
 * a deadline in days): a time that occurs twice when clocks go back means its first occurrence, and
 * a time skipped when clocks go forward means the moment the clocks jump past it.
 */
import { DateTime, IANAZone } from 'luxon';

export const weekdays = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;
export type Weekday = (typeof weekdays)[number];

/**
 * A span of working time on some days of the week, in minutes after local midnight. A span whose
 * `endMinute` is not after its `startMinute` runs overnight: it starts on one of `days` and ends on
 * the next day (`Sun-Thu 22:00-06:00` covers Thursday 23:00 and Friday 05:00, not Sunday 05:00).
 */
export interface WorkingSpan {
  readonly days: readonly Weekday[];
  readonly startMinute: number;
  /** 1440 for a span that ends at midnight (`24:00`). */
  readonly endMinute: number;
}

/** Working hours as `parseWorkingHours` reads them; plain data, so it can sit in a policy snapshot. */
export interface WorkingHours {
  readonly spans: readonly WorkingSpan[];
}

/**
 * Reads working hours: days, then one or more comma-separated time spans; several such groups are
 * separated by `;`. Days are `Mon`…`Sun` (any case), listed with commas or as ranges (`Fri-Mon` wraps
 * over the weekend). Times are `HH:mm`, the end may be `24:00`, and an end before the start is an
 * overnight span.
 *
 * `"Mon-Fri 08:00-17:00"`, `"Mon,Wed,Fri 09:00-12:00"`, `"Mon-Fri 09:00-12:00, 13:00-17:00"`,
 * `"Sun-Thu 22:00-06:00"`, `"Mon-Fri 09:00-17:00; Sat 10:00-14:00"`.
 *
 * @throws Error whose message quotes the text and says what is wrong with it.
 */
export function parseWorkingHours(text: string): WorkingHours {
  const fail = (why: string): never => {
    throw new Error(`working hours "${text}": ${why}. Write them like "Mon-Fri 08:00-17:00" or "Mon,Wed 09:00-12:00, 13:00-17:00"`);
  };
  if (text.trim() === '') fail('empty');
  const spans: WorkingSpan[] = [];
  for (const rawGroup of text.split(';')) {
    const group = rawGroup.trim();
    if (group === '') fail('an empty part between ";"');
    const timesAt = group.search(/\d/);
    if (timesAt === -1) fail(`"${group}" has no times`);
    if (timesAt === 0) fail(`"${group}" has times but no days`);
    const days = parseDays(group.slice(0, timesAt).trim(), fail);
    for (const rawSpan of group.slice(timesAt).split(',')) {
      const span = rawSpan.trim();
      const match = /^(\d{1,2}:\d{2})\s*-\s*(\d{1,2}:\d{2})$/.exec(span);
      if (match === null) return fail(`"${span}" is not a time span such as 08:00-17:00`);
      const startMinute = clockMinutes(match[1]!, false) ?? fail(`"${match[1]}" is not a time of day between 00:00 and 23:59`);
      const endMinute = clockMinutes(match[2]!, true) ?? fail(`"${match[2]}" is not a time of day between 00:00 and 24:00`);
      if (startMinute === endMinute) fail(`"${span}" is empty; use 00:00-24:00 for a whole day`);
      spans.push({ days, startMinute, endMinute });
    }
  }
  return { spans };
}

/** Whether `at` falls in the working hours, read on the person's own wall clock in `timeZone`. */
export function isWorking(hours: WorkingHours, timeZone: string, at: Date): boolean {
  return workingAt(hours, zoneOf(timeZone), at.getTime());
}

/**
 * Whether `at` falls on one of the out-of-office days: each range is two ISO dates (`2026-08-03`),
 * both included, as whole days on the person's wall clock in `timeZone`.
 *
 * @throws Error for a date that is not `YYYY-MM-DD` or a range that ends before it starts.
 */
export function isOutOfOffice(ranges: ReadonlyArray<{ from: string; to: string }>, timeZone: string, at: Date): boolean {
  const today = wallOf(zoneOf(timeZone), at.getTime()).day;
  return ranges.some(({ from, to }) => {
    const first = civilDay(from, 'out-of-office from');
    const last = civilDay(to, 'out-of-office to');
    if (last < first) throw new Error(`out-of-office range ${from} to ${to} ends before it starts`);
    return first <= today && today <= last;
  });
}

/**
 * The first instant at or after `at` when the person is working: `at` itself while they work,
 * otherwise the start of their next span (the moment the clocks jump past it, when a DST switch skips it).
 *
 * @throws Error when the working hours contain no span.
 */
export function nextWorkingStart(hours: WorkingHours, timeZone: string, at: Date): Date {
  const zone = zoneOf(timeZone);
  const now = at.getTime();
  if (workingAt(hours, zone, now)) return new Date(now);
  const today = wallOf(zone, now).day;
  let best: number | undefined;
  // From yesterday, for zones whose clocks go back over midnight.
  for (let day = today - 1; day <= today + 15; day++) {
    if (best !== undefined && dayStartMs(day) > best + 14 * HOUR_MS) break;
    for (const span of hours.spans) {
      if (!span.days.includes(weekdayOf(day))) continue;
      const start = instantOfWall(zone, dayStartMs(day) + span.startMinute * MINUTE_MS);
      if (start > now && (best === undefined || start < best) && workingAt(hours, zone, start)) best = start;
    }
  }
  if (best === undefined) throw new Error('working hours contain no span that can start');
  return new Date(best);
}

/** A deadline's length. `days` are calendar days on the wall clock; `hours` and `minutes` are elapsed time. */
export interface DeadlineDuration {
  days?: number;
  hours?: number;
  minutes?: number;
}

/**
 * `from` plus `duration`: first whole `days` on the wall clock of `timeZone` (the same local time
 * that many days later, so one day across a DST switch is 23 or 25 real hours), then `hours` and
 * `minutes` as elapsed time (two hours are always 7,200 seconds).
 *
 * @throws RangeError for a negative or non-finite amount, or fractional days.
 */
export function deadlineIn(timeZone: string, from: Date, duration: DeadlineDuration): Date {
  const zone = zoneOf(timeZone);
  const { days = 0, hours = 0, minutes = 0 } = duration;
  for (const [unit, amount] of [['days', days], ['hours', hours], ['minutes', minutes]] as const) {
    if (!Number.isFinite(amount) || amount < 0) throw new RangeError(`deadline ${unit} must be a finite number of at least 0, got ${amount}`);
  }
  if (!Number.isInteger(days)) throw new RangeError(`deadline days must be whole days, got ${days}`);
  let t = from.getTime();
  if (days > 0) t = instantOfWall(zone, t + zone.offset(t) * MINUTE_MS + days * DAY_MS);
  return new Date(t + hours * HOUR_MS + minutes * MINUTE_MS);
}

/** A daily window on the wall clock, such as quiet hours; `to` may be `24:00`. */
export interface ClockWindow {
  from: string;
  to: string;
}

/**
 * Whether `at` falls in the window on the wall clock of `timeZone`: `from` included, `to` excluded.
 * A window whose `to` is before its `from` spans midnight (`22:00`–`07:00`); equal bounds mean the
 * whole day.
 *
 * @throws Error for a bound that is not `HH:mm`.
 */
export function isWithinWindow(window: ClockWindow, timeZone: string, at: Date): boolean {
  const from = clockMinutes(window.from, false) ?? badClock(window.from, 'window from');
  const to = (clockMinutes(window.to, true) ?? badClock(window.to, 'window to')) % 1440;
  const minute = wallOf(zoneOf(timeZone), at.getTime()).minute;
  if (from === to) return true;
  return from < to ? from <= minute && minute < to : minute >= from || minute < to;
}

/** Someone who holds the rotation in place of its regular member, between two instants. */
export interface RotationOverride {
  /** ISO date-time; without an offset it is read on the rotation's wall clock. */
  from: string;
  /** ISO date-time, excluded; without an offset it is read on the rotation's wall clock. */
  to: string;
  person: string;
}

/** An on-call rotation, handed from one member to the next at a wall-clock time. */
export interface Rotation {
  members: readonly string[];
  handoff: 'daily' | 'weekly';
  /** `HH:mm` on the rotation's wall clock. */
  handoffTime: string;
  /** Weekly rotations hand off on this day; default: the weekday of `start`. */
  handoffDay?: Weekday;
  /** ISO date: the first member's shift is the one under way at `handoffTime` that day. */
  start: string;
  timeZone: string;
  overrides?: readonly RotationOverride[];
}

export interface OnCall {
  person: string;
  /** With `shiftEnd`, the interval around the instant asked about during which this answer holds. */
  shiftStart: Date;
  /** Excluded: at `shiftEnd` the next shift or override begins. */
  shiftEnd: Date;
  /** Whether `person` holds the rotation through an override. */
  override: boolean;
}

/**
 * Who is on call at `at`. Members take turns in list order, one shift each, a shift running from one
 * hand-off to the next; hand-offs happen at `handoffTime` on the rotation's wall clock, so a daily
 * shift lasts 23 or 25 hours across a DST switch. The schedule is periodic in both directions: before
 * `start` it shows who would have held it.
 *
 * Overrides win over the regular member; where overrides overlap, the one listed last wins. A shift
 * that an override interrupts is reported in pieces: `shiftStart` and `shiftEnd` bound the time during
 * which the same person holds the rotation the same way.
 *
 * @throws Error for an empty member list, a malformed `start`, `handoffTime` or override, or an unknown zone.
 */
export function onCallAt(rotation: Rotation, at: Date): OnCall {
  const zone = zoneOf(rotation.timeZone);
  const { members } = rotation;
  if (members.length === 0) throw new Error('a rotation needs at least one member');
  const handoffMinute = clockMinutes(rotation.handoffTime, false) ?? badClock(rotation.handoffTime, 'handoffTime');
  const startDay = civilDay(rotation.start, 'rotation start');
  const period = rotation.handoff === 'daily' ? 1 : 7;
  let anchorDay = startDay;
  if (rotation.handoff === 'weekly') {
    const handoffWeekday = weekdays.indexOf(rotation.handoffDay ?? weekdayOf(startDay));
    if (handoffWeekday === -1) throw new Error(`handoffDay "${rotation.handoffDay}" is not one of ${weekdays.join(', ')}`);
    anchorDay = startDay - mod(weekdays.indexOf(weekdayOf(startDay)) - handoffWeekday, 7);
  }
  const handoffAt = (day: number) => instantOfWall(zone, dayStartMs(day) + handoffMinute * MINUTE_MS);

  const now = at.getTime();
  const today = wallOf(zone, now).day;
  let shiftDay = anchorDay + Math.floor((today - anchorDay) / period) * period;
  if (now < handoffAt(shiftDay)) shiftDay -= period;
  const overrides = (rotation.overrides ?? []).map((override) => parseOverride(override, rotation.timeZone));
  let winner = -1;
  overrides.forEach((o, i) => {
    if (o.from <= now && now < o.to) winner = i;
  });
  const won = overrides[winner];
  const held = won
    ? { person: won.person, start: won.from, end: won.to, override: true }
    : { person: members[mod((shiftDay - anchorDay) / period, members.length)]!, start: handoffAt(shiftDay), end: handoffAt(shiftDay + period), override: false };
  // Only overrides listed after the winner can cut its time short (all of them, for a regular shift).
  let { start, end } = held;
  for (const o of overrides.slice(winner + 1)) {
    if (o.to <= now) start = Math.max(start, o.to);
    if (o.from > now) end = Math.min(end, o.from);
  }
  return { person: held.person, shiftStart: new Date(start), shiftEnd: new Date(end), override: held.override };
}

/** A pool of approvers, of whom `size` serve at a time. */
export interface ApproverPool {
  members: readonly string[];
  /** How many serve at once; default: all members. */
  size?: number;
  rotate: 'none' | 'weekly' | 'sprint';
  /** Weeks in a sprint; default 2. */
  sprintLength?: number;
  /** ISO date the first week or sprint begins, at local midnight. */
  start: string;
  timeZone: string;
}

/**
 * The members serving at `at`, in list order from the first one whose turn it is. With
 * `rotate: 'none'` the first `size` members always serve. Otherwise the pool moves on by `size`
 * members at each local midnight that begins a week or sprint (counted from `start`, in both
 * directions), wrapping around the list, so over a full cycle every member serves equally often;
 * when all members serve, the list still moves on by one, so who is listed first changes.
 *
 * @throws Error for an empty pool, a size outside 1…members, a bad sprint length, `start` or zone.
 */
export function poolMembersAt(pool: ApproverPool, at: Date): string[] {
  const zone = zoneOf(pool.timeZone);
  const { members } = pool;
  const size = pool.size ?? members.length;
  if (members.length === 0) throw new Error('an approver pool needs at least one member');
  if (!Number.isInteger(size) || size < 1 || size > members.length) {
    throw new Error(`pool size must be a whole number from 1 to ${members.length} (the number of members), got ${size}`);
  }
  if (pool.rotate === 'none') return members.slice(0, size);
  const sprintLength = pool.sprintLength ?? 2;
  if (!Number.isInteger(sprintLength) || sprintLength < 1) throw new Error(`sprintLength must be a whole number of weeks, at least 1, got ${sprintLength}`);
  const periodDays = pool.rotate === 'weekly' ? 7 : 7 * sprintLength;
  const turn = Math.floor((wallOf(zone, at.getTime()).day - civilDay(pool.start, 'pool start')) / periodDays);
  // Moving on by `size` makes every member serve equally often; a pool where all serve moves on by one.
  const first = mod(turn * (size < members.length ? size : 1), members.length);
  return Array.from({ length: size }, (_, i) => members[(first + i) % members.length]!);
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

function zoneOf(timeZone: string): IANAZone {
  const zone = IANAZone.create(timeZone);
  if (!zone.isValid) throw new Error(`"${timeZone}" is not an IANA time zone such as Europe/Berlin`);
  return zone;
}

/** Local calendar day (days since 1970-01-01) and fractional minutes after local midnight. */
function wallOf(zone: IANAZone, t: number): { day: number; minute: number } {
  const wall = t + zone.offset(t) * MINUTE_MS;
  const day = Math.floor(wall / DAY_MS);
  return { day, minute: (wall - day * DAY_MS) / MINUTE_MS };
}

/**
 * The instant showing `wall` (wall-clock milliseconds as if the zone were UTC): its first occurrence
 * when clocks go back, or the jump past it when clocks go forward over it.
 */
function instantOfWall(zone: IANAZone, wall: number): number {
  // At most one offset change lies within a day of any instant in real zones.
  const before = zone.offset(wall - DAY_MS) * MINUTE_MS;
  const after = zone.offset(wall + DAY_MS) * MINUTE_MS;
  const exact = [wall - before, wall - after].filter((t) => t + zone.offset(t) * MINUTE_MS === wall);
  if (exact.length > 0) return Math.min(...exact);
  // Skipped: find the jump, the first instant whose wall clock reads `wall` or later.
  let lo = wall - after;
  let hi = wall - before;
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (mid + zone.offset(mid) * MINUTE_MS >= wall) hi = mid;
    else lo = mid;
  }
  return hi;
}

function workingAt(hours: WorkingHours, zone: IANAZone, t: number): boolean {
  const { day, minute } = wallOf(zone, t);
  const today = weekdayOf(day);
  const yesterday = weekdayOf(day - 1);
  return hours.spans.some((span) =>
    span.endMinute > span.startMinute
      ? span.days.includes(today) && span.startMinute <= minute && minute < span.endMinute
      : (span.days.includes(today) && minute >= span.startMinute) || (span.days.includes(yesterday) && minute < span.endMinute),
  );
}

function dayStartMs(day: number): number {
  return day * DAY_MS;
}

function weekdayOf(day: number): Weekday {
  // 1970-01-01 was a Thursday.
  return weekdays[mod(day + 3, 7)]!;
}

function mod(n: number, m: number): number {
  return ((n % m) + m) % m;
}

/** Minutes after midnight for `HH:mm`; `24:00` only when `allowMidnightEnd`. Undefined when malformed. */
function clockMinutes(text: string, allowMidnightEnd: boolean): number | undefined {
  const match = /^(\d{1,2}):(\d{2})$/.exec(text);
  if (match === null) return undefined;
  const hour = Number(match[1]);
  const minute = Number(match[2]);
  if (minute > 59 || hour > 24 || (hour === 24 && (minute > 0 || !allowMidnightEnd))) return undefined;
  return hour * 60 + minute;
}

function badClock(text: string, what: string): never {
  throw new Error(`${what} "${text}" is not a time of day such as 09:30`);
}

/** Days since 1970-01-01 for an ISO date `YYYY-MM-DD`. */
function civilDay(text: string, what: string): number {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(text) ? DateTime.fromISO(text, { zone: 'utc' }) : undefined;
  if (date === undefined || !date.isValid) throw new Error(`${what} "${text}" is not an ISO date such as 2026-03-29`);
  return Math.round(date.toMillis() / DAY_MS);
}

function parseOverride(override: RotationOverride, timeZone: string): { from: number; to: number; person: string } {
  const instant = (text: string, what: string) => {
    const parsed = DateTime.fromISO(text, { zone: timeZone });
    if (!parsed.isValid) throw new Error(`override ${what} "${text}" is not an ISO date-time such as 2026-03-29T09:00+02:00`);
    return parsed.toMillis();
  };
  const from = instant(override.from, 'from');
  const to = instant(override.to, 'to');
  if (to <= from) throw new Error(`override for ${override.person} from ${override.from} to ${override.to} ends before it starts`);
  if (override.person === '') throw new Error('an override needs a person');
  return { from, to, person: override.person };
}

function parseDays(text: string, fail: (why: string) => never): Weekday[] {
  const chosen = new Set<number>();
  for (const rawItem of text.split(',')) {
    const item = rawItem.trim();
    const match = /^([A-Za-z]+)(?:\s*-\s*([A-Za-z]+))?$/.exec(item);
    if (match === null) return fail(`"${item}" is not a day or a range of days such as Mon-Fri`);
    const first = dayIndex(match[1]!, fail);
    const last = match[2] === undefined ? first : dayIndex(match[2], fail);
    for (let i = first; ; i = (i + 1) % 7) {
      if (chosen.has(i)) fail(`${weekdays[i]} is listed twice`);
      chosen.add(i);
      if (i === last) break;
    }
  }
  return [...chosen].sort((a, b) => a - b).map((i) => weekdays[i]!);
}

function dayIndex(name: string, fail: (why: string) => never): number {
  const index = weekdays.findIndex((day) => day.toLowerCase() === name.toLowerCase());
  return index === -1 ? fail(`unknown day "${name}" (use Mon, Tue, Wed, Thu, Fri, Sat or Sun)`) : index;
}
