import { type ClockWindow, isWithinWindow } from './schedule.js';

/** A span of real time, in epoch milliseconds, `fromMs` included and `toMs` excluded. */
export interface Interval {
  fromMs: number;
  toMs: number;
}

const MINUTE_MS = 60_000;

/**
 * The quiet-hours intervals in the `days` after `at`, as instants, so workflow code can test "is it
 * quiet now" against its own deterministic clock without time-zone data. Windows are on the wall
 * clock of `timeZone` and move with daylight-saving changes.
 */
export function quietIntervals(window: ClockWindow, timeZone: string, at: Date, days = 14): Interval[] {
  const intervals: Interval[] = [];
  const start = Math.floor(at.getTime() / MINUTE_MS) * MINUTE_MS;
  const end = start + days * 24 * 60 * MINUTE_MS;
  let open: number | undefined;
  // Minute steps find every bound exactly (bounds are whole minutes) in ~20k cheap checks.
  for (let t = start; t < end; t += MINUTE_MS) {
    const quiet = isWithinWindow(window, timeZone, new Date(t));
    if (quiet && open === undefined) open = t;
    if (!quiet && open !== undefined) {
      intervals.push({ fromMs: open, toMs: t });
      open = undefined;
    }
  }
  if (open !== undefined) intervals.push({ fromMs: open, toMs: end });
  return intervals;
}
