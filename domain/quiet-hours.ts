import { DateTime } from 'luxon';
import type { ClockWindow } from './schedule.js';

/** A span of real time, in epoch milliseconds, `fromMs` included and `toMs` excluded. */
export interface Interval {
  fromMs: number;
  toMs: number;
}

/**
 * The quiet-hours intervals overlapping the `days` after `at`, as instants, so workflow code can test
 * "is it quiet now" against its own deterministic clock without time-zone data. Windows are on the
 * wall clock of `timeZone` (`22:00`–`07:00` spans midnight) and move with daylight-saving changes;
 * a bound that falls in a skipped hour moves to the end of the gap.
 */
export function quietIntervals(window: ClockWindow, timeZone: string, at: Date, days = 14): Interval[] {
  const [fromHour, fromMinute] = window.from.split(':').map(Number) as [number, number];
  const [toHour, toMinute] = window.to.split(':').map(Number) as [number, number];
  const overnight = toHour * 60 + toMinute <= fromHour * 60 + fromMinute;
  const first = DateTime.fromJSDate(at, { zone: timeZone }).startOf('day').minus({ days: 1 });
  const end = at.getTime() + days * 86_400_000;
  const intervals: Interval[] = [];
  for (let day = first; day.toMillis() < end; day = day.plus({ days: 1 })) {
    const fromMs = day.set({ hour: fromHour, minute: fromMinute }).toMillis();
    const toDay = overnight ? day.plus({ days: 1 }) : day;
    const toMs = (toHour === 24 ? toDay.plus({ days: 1 }).startOf('day') : toDay.set({ hour: toHour, minute: toMinute })).toMillis();
    if (toMs > at.getTime()) intervals.push({ fromMs, toMs });
  }
  return intervals;
}
