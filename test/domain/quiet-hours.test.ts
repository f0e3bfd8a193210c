import { describe, expect, it } from 'vitest';
import { quietIntervals } from '../../domain/quiet-hours.js';
import { isWithinWindow } from '../../domain/schedule.js';

const hour = 3_600_000;

describe('quiet-hours intervals', () => {
  it('turns 22:00-07:00 in Berlin into instants, 9 real hours a night', () => {
    const intervals = quietIntervals({ from: '22:00', to: '07:00' }, 'Europe/Berlin', new Date('2026-11-27T12:00:00Z'), 3);
    expect(intervals.slice(0, 2).map((i) => [new Date(i.fromMs).toISOString(), new Date(i.toMs).toISOString()])).toEqual([
      ['2026-11-27T21:00:00.000Z', '2026-11-28T06:00:00.000Z'],
      ['2026-11-28T21:00:00.000Z', '2026-11-29T06:00:00.000Z'],
    ]);
  });

  it('includes the night under way at the start', () => {
    const [first] = quietIntervals({ from: '22:00', to: '07:00' }, 'Europe/Berlin', new Date('2026-11-27T03:00:00Z'), 1);
    expect(new Date(first!.fromMs).toISOString()).toBe('2026-11-26T21:00:00.000Z');
  });

  it('moves with the spring and autumn DST switches: 8 and 10 real hours those nights', () => {
    const spring = quietIntervals({ from: '22:00', to: '07:00' }, 'Europe/Berlin', new Date('2026-03-28T12:00:00Z'), 1)[0]!;
    expect((spring.toMs - spring.fromMs) / hour).toBe(8);
    const autumn = quietIntervals({ from: '22:00', to: '07:00' }, 'Europe/Berlin', new Date('2026-10-24T12:00:00Z'), 1)[0]!;
    expect((autumn.toMs - autumn.fromMs) / hour).toBe(10);
  });

  it('agrees with isWithinWindow minute by minute over two weeks in New York', () => {
    const start = new Date('2026-10-28T00:00:00Z');
    const window = { from: '21:30', to: '06:15' };
    const intervals = quietIntervals(window, 'America/New_York', start, 14);
    for (let t = start.getTime(); t < start.getTime() + 13 * 86_400_000; t += 60_000) {
      const quiet = intervals.some((i) => i.fromMs <= t && t < i.toMs);
      if (quiet !== isWithinWindow(window, 'America/New_York', new Date(t))) throw new Error(`disagree at ${new Date(t).toISOString()}`);
    }
    expect(intervals.length).toBeGreaterThanOrEqual(14);
  });

  it('covers the whole day for equal bounds', () => {
    const intervals = quietIntervals({ from: '00:00', to: '00:00' }, 'UTC', new Date('2026-11-27T12:00:00Z'), 2);
    expect(intervals.some((i) => i.fromMs <= Date.parse('2026-11-28T13:00:00Z') && Date.parse('2026-11-28T13:00:00Z') < i.toMs)).toBe(true);
  });
});
