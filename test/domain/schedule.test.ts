import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  type OnCall,
  type Rotation,
  type Weekday,
  deadlineIn,
  isOutOfOffice,
  isWithinWindow,
  isWorking,
  nextWorkingStart,
  onCallAt,
  parseWorkingHours,
  poolMembersAt,
  weekdays,
} from '../../domain/schedule.js';

const HOUR = 3_600_000;
const BERLIN = 'Europe/Berlin';
const NEW_YORK = 'America/New_York';

/** An instant given as wall-clock time in a zone; never used for times that occur twice. */
const local = (zone: string, text: string) => DateTime.fromISO(text, { zone }).toJSDate();
const berlin = (text: string) => local(BERLIN, text);
const newYork = (text: string) => local(NEW_YORK, text);
const wallClock = (zone: string, at: Date) => DateTime.fromJSDate(at, { zone }).toFormat("ccc yyyy-MM-dd HH:mm ZZ");

describe('parseWorkingHours', () => {
  it('reads days, ranges of days and several spans a day', () => {
    expect(parseWorkingHours('Mon-Fri 08:00-17:00')).toEqual({
      spans: [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'], startMinute: 480, endMinute: 1020 }],
    });
    expect(parseWorkingHours('Mon,Wed,Fri 09:00-12:00')).toEqual({ spans: [{ days: ['Mon', 'Wed', 'Fri'], startMinute: 540, endMinute: 720 }] });
    expect(parseWorkingHours('Mon-Fri 09:00-12:00, 13:00-17:00').spans.map((s) => [s.startMinute, s.endMinute])).toEqual([
      [540, 720],
      [780, 1020],
    ]);
    expect(parseWorkingHours('Sun-Thu 22:00-06:00')).toEqual({ spans: [{ days: ['Mon', 'Tue', 'Wed', 'Thu', 'Sun'], startMinute: 1320, endMinute: 360 }] });
  });

  it('reads ranges that wrap over the weekend, several groups, any case and a midnight end', () => {
    expect(parseWorkingHours('fri-MON 10:00-24:00; Wed 9:30-11:00')).toEqual({
      spans: [
        { days: ['Mon', 'Fri', 'Sat', 'Sun'], startMinute: 600, endMinute: 1440 },
        { days: ['Wed'], startMinute: 570, endMinute: 660 },
      ],
    });
  });

  it.each([
    ['', /working hours "": empty/],
    ['Mon-Fri', /"Mon-Fri" has no times/],
    ['08:00-17:00', /"08:00-17:00" has times but no days/],
    ['Mon-Fri 8-17', /"8-17" is not a time span such as 08:00-17:00/],
    ['Mox-Fri 08:00-17:00', /unknown day "Mox" \(use Mon, Tue, Wed, Thu, Fri, Sat or Sun\)/],
    ['Mon-Fri 25:00-26:00', /"25:00" is not a time of day between 00:00 and 23:59/],
    ['Mon-Fri 08:00-17:60', /"17:60" is not a time of day between 00:00 and 24:00/],
    ['Mon 24:00-08:00', /"24:00" is not a time of day between 00:00 and 23:59/],
    ['Mon 09:00-09:00', /"09:00-09:00" is empty; use 00:00-24:00 for a whole day/],
    ['Mon-Fri,Wed 09:00-17:00', /Wed is listed twice/],
    ['Mon-Fri 09:00-12:00,', /"" is not a time span/],
    ['Mon-Fri 09:00-17:00;', /an empty part between ";"/],
  ])('refuses %j with a message that says why', (text, message) => {
    expect(() => parseWorkingHours(text)).toThrow(message);
    expect(() => parseWorkingHours(text)).toThrow(/Write them like "Mon-Fri 08:00-17:00"/);
  });
});

describe('isWorking', () => {
  const office = parseWorkingHours('Mon-Fri 08:00-17:00');

  it('reads the hours on the person’s own clock, Berlin and New York', () => {
    expect(isWorking(office, BERLIN, berlin('2026-03-04T08:00'))).toBe(true);
    expect(isWorking(office, BERLIN, berlin('2026-03-04T07:59:59.999'))).toBe(false);
    expect(isWorking(office, BERLIN, berlin('2026-03-04T16:59'))).toBe(true);
    expect(isWorking(office, BERLIN, berlin('2026-03-04T17:00'))).toBe(false);
    expect(isWorking(office, BERLIN, berlin('2026-03-07T10:00'))).toBe(false); // Saturday
    // 14:00 UTC is 15:00 in Berlin but 09:00 in New York; 13:30 UTC is still 08:30 there.
    expect(isWorking(office, NEW_YORK, new Date('2026-03-04T14:00:00Z'))).toBe(true);
    expect(isWorking(office, NEW_YORK, new Date('2026-03-04T12:59:00Z'))).toBe(false);
    expect(isWorking(office, BERLIN, new Date('2026-03-04T16:30:00Z'))).toBe(false);
    expect(isWorking(office, NEW_YORK, new Date('2026-03-04T16:30:00Z'))).toBe(true);
  });

  it('follows the EU switch to summer time on 29 March 2026', () => {
    // 06:30 UTC is 07:30 CET on Friday 27 March and 08:30 CEST on Monday 30 March.
    expect(isWorking(office, BERLIN, new Date('2026-03-27T06:30:00Z'))).toBe(false);
    expect(isWorking(office, BERLIN, new Date('2026-03-30T06:30:00Z'))).toBe(true);
    expect(isWorking(office, BERLIN, new Date('2026-03-30T05:59:59.999Z'))).toBe(false);
    expect(isWorking(office, BERLIN, new Date('2026-03-30T06:00:00Z'))).toBe(true);
    // A span over the skipped hour lasts one real hour less: 01:00-04:00 is 00:00Z to 02:00Z that night.
    const night = parseWorkingHours('Sun 01:00-04:00');
    expect(isWorking(night, BERLIN, new Date('2026-03-28T23:59:59Z'))).toBe(false);
    expect(isWorking(night, BERLIN, new Date('2026-03-29T00:00:00Z'))).toBe(true);
    expect(isWorking(night, BERLIN, new Date('2026-03-29T00:59:59Z'))).toBe(true); // 01:59:59 CET
    expect(isWorking(night, BERLIN, new Date('2026-03-29T01:00:00Z'))).toBe(true); // 03:00 CEST
    expect(isWorking(night, BERLIN, new Date('2026-03-29T02:00:00Z'))).toBe(false); // 04:00 CEST
  });

  it('follows the EU switch back on 25 October 2026, counting the repeated hour twice', () => {
    expect(isWorking(office, BERLIN, new Date('2026-10-23T06:30:00Z'))).toBe(true); // 08:30 CEST, Friday
    expect(isWorking(office, BERLIN, new Date('2026-10-26T06:30:00Z'))).toBe(false); // 07:30 CET, Monday
    expect(isWorking(office, BERLIN, new Date('2026-10-26T07:00:00Z'))).toBe(true);
    const repeated = parseWorkingHours('Sun 02:00-03:00');
    expect(isWorking(repeated, BERLIN, new Date('2026-10-24T23:59:59Z'))).toBe(false); // 01:59:59 CEST
    expect(isWorking(repeated, BERLIN, new Date('2026-10-25T00:00:00Z'))).toBe(true); // 02:00 CEST
    expect(isWorking(repeated, BERLIN, new Date('2026-10-25T00:59:59Z'))).toBe(true);
    expect(isWorking(repeated, BERLIN, new Date('2026-10-25T01:00:00Z'))).toBe(true); // 02:00 CET again
    expect(isWorking(repeated, BERLIN, new Date('2026-10-25T01:59:59Z'))).toBe(true);
    expect(isWorking(repeated, BERLIN, new Date('2026-10-25T02:00:00Z'))).toBe(false); // 03:00 CET
  });

  it('follows the US switches on 8 March and 1 November 2026', () => {
    // 12:30 UTC: 07:30 EST on Friday 6 March, 08:30 EDT on Monday 9 March.
    expect(isWorking(office, NEW_YORK, new Date('2026-03-06T12:30:00Z'))).toBe(false);
    expect(isWorking(office, NEW_YORK, new Date('2026-03-09T12:30:00Z'))).toBe(true);
    expect(isWorking(office, NEW_YORK, new Date('2026-03-09T11:59:59Z'))).toBe(false);
    expect(isWorking(office, NEW_YORK, new Date('2026-03-09T12:00:00Z'))).toBe(true);
    // 12:30 UTC: 08:30 EDT on Friday 30 October, 07:30 EST on Monday 2 November.
    expect(isWorking(office, NEW_YORK, new Date('2026-10-30T12:30:00Z'))).toBe(true);
    expect(isWorking(office, NEW_YORK, new Date('2026-11-02T12:30:00Z'))).toBe(false);
    expect(isWorking(office, NEW_YORK, new Date('2026-11-02T13:00:00Z'))).toBe(true);
    const night = parseWorkingHours('Sun 01:00-03:00');
    expect(isWorking(night, NEW_YORK, new Date('2026-03-08T06:59:59Z'))).toBe(true); // 01:59:59 EST
    expect(isWorking(night, NEW_YORK, new Date('2026-03-08T07:00:00Z'))).toBe(false); // 03:00 EDT
    expect(isWorking(night, NEW_YORK, new Date('2026-11-01T05:00:00Z'))).toBe(true); // 01:00 EDT
    expect(isWorking(night, NEW_YORK, new Date('2026-11-01T06:30:00Z'))).toBe(true); // 01:30 EST
    expect(isWorking(night, NEW_YORK, new Date('2026-11-01T07:59:59Z'))).toBe(true); // 02:59:59 EST
    expect(isWorking(night, NEW_YORK, new Date('2026-11-01T08:00:00Z'))).toBe(false);
  });

  it('runs overnight spans into the next morning of the day they start', () => {
    const nights = parseWorkingHours('Sun-Thu 22:00-06:00');
    const cases: Array<[string, boolean]> = [
      ['2026-03-05T23:00', true], // Thursday night
      ['2026-03-06T05:59', true], // Friday morning, Thursday's shift
      ['2026-03-06T06:00', false],
      ['2026-03-06T23:00', false], // Friday night
      ['2026-03-07T05:00', false], // Saturday morning
      ['2026-03-08T05:00', false], // Sunday morning: Saturday night is off
      ['2026-03-08T21:59', false],
      ['2026-03-08T22:00', true], // Sunday night
      ['2026-03-09T03:00', true], // Monday morning
    ];
    for (const [text, expected] of cases) expect([text, isWorking(nights, BERLIN, berlin(text))]).toEqual([text, expected]);
  });

  it('refuses an unknown time zone', () => {
    expect(() => isWorking(office, 'Mars/Olympus_Mons', new Date('2026-03-04T12:00:00Z'))).toThrow(/not an IANA time zone/);
  });

  it('agrees with the local weekday and time of day that luxon reports (property)', () => {
    const zones = [BERLIN, NEW_YORK, 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham', 'America/St_Johns', 'UTC'];
    const switches = ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z'].map(Date.parse);
    const span = fc
      .tuple(fc.integer({ min: 0, max: 1439 }), fc.integer({ min: 1, max: 1440 }))
      .filter(([start, end]) => start !== end);
    const group = fc.record({ days: fc.subarray([...weekdays], { minLength: 1 }), spans: fc.array(span, { minLength: 1, maxLength: 3 }) });
    const instant = fc.oneof(
      fc.integer({ min: Date.parse('2025-01-01T00:00:00Z'), max: Date.parse('2028-01-01T00:00:00Z') }),
      fc.tuple(fc.constantFrom(...switches), fc.integer({ min: -3 * HOUR, max: 3 * HOUR })).map(([at, delta]) => at + delta),
    );
    fc.assert(
      fc.property(fc.array(group, { minLength: 1, maxLength: 3 }), fc.constantFrom(...zones), instant, (groups, zone, at) => {
        const text = groups.map((g) => `${g.days.join(',')} ${g.spans.map(([s, e]) => `${hhmm(s)}-${hhmm(e)}`).join(', ')}`).join('; ');
        const wall = DateTime.fromMillis(at, { zone });
        const minute = wall.hour * 60 + wall.minute + wall.second / 60 + wall.millisecond / 60_000;
        const today = weekdays[wall.weekday - 1]!;
        const yesterday = weekdays[(wall.weekday + 5) % 7]!;
        const expected = groups.some((g) =>
          g.spans.some(([start, end]) =>
            end > start
              ? g.days.includes(today) && start <= minute && minute < end
              : (g.days.includes(today) && minute >= start) || (g.days.includes(yesterday) && minute < end),
          ),
        );
        expect(isWorking(parseWorkingHours(text), zone, new Date(at))).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });
});

describe('nextWorkingStart', () => {
  const office = parseWorkingHours('Mon-Fri 08:00-17:00');

  it('is the instant asked about while the person works', () => {
    const at = berlin('2026-03-04T10:15');
    expect(nextWorkingStart(office, BERLIN, at)).toEqual(at);
  });

  it('is the next morning, or Monday after a weekend, across the EU switch', () => {
    expect(nextWorkingStart(office, BERLIN, berlin('2026-03-04T18:00'))).toEqual(new Date('2026-03-05T07:00:00Z'));
    // Friday evening in winter time to Monday morning in summer time.
    expect(nextWorkingStart(office, BERLIN, berlin('2026-03-27T17:00'))).toEqual(new Date('2026-03-30T06:00:00Z'));
    expect(nextWorkingStart(office, NEW_YORK, newYork('2026-10-30T17:00'))).toEqual(new Date('2026-11-02T13:00:00Z'));
  });

  it('starts an overnight span the evening it begins', () => {
    const nights = parseWorkingHours('Sun-Thu 22:00-06:00');
    expect(nextWorkingStart(nights, BERLIN, berlin('2026-03-06T07:00'))).toEqual(berlin('2026-03-08T22:00'));
  });

  it('starts a span whose start the clocks skip when they jump past it', () => {
    const early = parseWorkingHours('Sun 02:30-04:00');
    expect(nextWorkingStart(early, BERLIN, berlin('2026-03-28T12:00'))).toEqual(new Date('2026-03-29T01:00:00Z'));
    // A span entirely inside the skipped hour does not happen that day.
    const skipped = parseWorkingHours('Sun 02:00-02:30');
    expect(nextWorkingStart(skipped, BERLIN, berlin('2026-03-28T12:00'))).toEqual(berlin('2026-04-05T02:00'));
  });

  it('is a working instant with no working time before it (property)', () => {
    const zones = [BERLIN, NEW_YORK, 'Australia/Lord_Howe', 'Asia/Kathmandu'];
    const texts = ['Mon-Fri 08:00-17:00', 'Sun-Thu 22:00-06:00', 'Mon,Wed 09:00-12:00, 13:00-17:00; Sat 02:00-03:00', 'Sun 02:15-02:45', 'Tue 00:00-24:00'];
    fc.assert(
      fc.property(
        fc.constantFrom(...texts),
        fc.constantFrom(...zones),
        fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2027-01-01T00:00:00Z') }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 20, maxLength: 20 }),
        (text, zone, at, samples) => {
          const hours = parseWorkingHours(text);
          const next = nextWorkingStart(hours, zone, new Date(at)).getTime();
          expect(next).toBeGreaterThanOrEqual(at);
          expect(isWorking(hours, zone, new Date(next))).toBe(true);
          if (next > at) expect(isWorking(hours, zone, new Date(next - 1))).toBe(false);
          for (const fraction of samples) {
            const between = at + Math.floor(fraction * (next - at));
            if (between < next) expect(isWorking(hours, zone, new Date(between))).toBe(false);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('isOutOfOffice', () => {
  const holiday = [{ from: '2026-08-03', to: '2026-08-07' }];

  it('covers whole days, both ends included, on the person’s clock', () => {
    expect(isOutOfOffice(holiday, NEW_YORK, newYork('2026-08-02T23:59:59'))).toBe(false);
    expect(isOutOfOffice(holiday, NEW_YORK, newYork('2026-08-03T00:00'))).toBe(true);
    expect(isOutOfOffice(holiday, NEW_YORK, newYork('2026-08-07T23:59:59'))).toBe(true);
    expect(isOutOfOffice(holiday, NEW_YORK, newYork('2026-08-08T00:00'))).toBe(false);
    // 02:00 UTC on 8 August is still 7 August in New York but already 8 August in Berlin.
    expect(isOutOfOffice(holiday, NEW_YORK, new Date('2026-08-08T02:00:00Z'))).toBe(true);
    expect(isOutOfOffice(holiday, BERLIN, new Date('2026-08-08T02:00:00Z'))).toBe(false);
  });

  it('checks every range and none is no absence', () => {
    const ranges = [...holiday, { from: '2026-12-24', to: '2026-12-24' }];
    expect(isOutOfOffice(ranges, BERLIN, berlin('2026-12-24T15:00'))).toBe(true);
    expect(isOutOfOffice(ranges, BERLIN, berlin('2026-12-25T15:00'))).toBe(false);
    expect(isOutOfOffice([], BERLIN, berlin('2026-12-24T15:00'))).toBe(false);
  });

  it('refuses malformed dates and backwards ranges', () => {
    expect(() => isOutOfOffice([{ from: '2026-8-3', to: '2026-08-07' }], BERLIN, new Date(0))).toThrow(/"2026-8-3" is not an ISO date/);
    expect(() => isOutOfOffice([{ from: '2026-02-30', to: '2026-03-01' }], BERLIN, new Date(0))).toThrow(/is not an ISO date/);
    expect(() => isOutOfOffice([{ from: '2026-08-07', to: '2026-08-03' }], BERLIN, new Date(0))).toThrow(/ends before it starts/);
  });
});

describe('deadlineIn', () => {
  it('counts days on the wall clock: 23 hours into summer time, 25 out of it', () => {
    const friday = berlin('2026-03-28T12:00');
    expect(deadlineIn(BERLIN, friday, { days: 1 })).toEqual(berlin('2026-03-29T12:00'));
    expect(deadlineIn(BERLIN, friday, { days: 1 }).getTime() - friday.getTime()).toBe(23 * HOUR);
    const october = berlin('2026-10-24T12:00');
    expect(deadlineIn(BERLIN, october, { days: 1 }).getTime() - october.getTime()).toBe(25 * HOUR);
    expect(deadlineIn(NEW_YORK, newYork('2026-03-07T09:00'), { days: 2 })).toEqual(newYork('2026-03-09T09:00'));
  });

  it('counts hours and minutes as elapsed time', () => {
    const beforeSwitch = new Date('2026-03-29T00:30:00Z'); // 01:30 CET
    expect(deadlineIn(BERLIN, beforeSwitch, { hours: 2 })).toEqual(new Date('2026-03-29T02:30:00Z')); // 04:30 CEST
    expect(deadlineIn(BERLIN, berlin('2026-03-28T12:00'), { hours: 24 })).toEqual(berlin('2026-03-29T13:00'));
    expect(deadlineIn(NEW_YORK, new Date('2026-11-01T05:30:00Z'), { minutes: 90 })).toEqual(new Date('2026-11-01T07:00:00Z'));
  });

  it('adds the days first, then the elapsed time', () => {
    expect(deadlineIn(BERLIN, berlin('2026-03-28T12:00'), { days: 1, hours: 2, minutes: 30 })).toEqual(berlin('2026-03-29T14:30'));
  });

  it('lands on the jump when the day lands in skipped time, and on the first of a repeated time', () => {
    expect(deadlineIn(BERLIN, berlin('2026-03-28T02:30'), { days: 1 })).toEqual(new Date('2026-03-29T01:00:00Z'));
    expect(deadlineIn(BERLIN, berlin('2026-10-24T02:30'), { days: 1 })).toEqual(new Date('2026-10-25T00:30:00Z'));
  });

  it('returns the start for an empty duration and refuses negative or fractional days', () => {
    const at = berlin('2026-05-01T10:00');
    expect(deadlineIn(BERLIN, at, {})).toEqual(at);
    expect(() => deadlineIn(BERLIN, at, { hours: -1 })).toThrow(RangeError);
    expect(() => deadlineIn(BERLIN, at, { days: 1.5 })).toThrow(/whole days/);
    expect(() => deadlineIn(BERLIN, at, { minutes: Number.NaN })).toThrow(RangeError);
  });
});

describe('isWithinWindow', () => {
  it('reads quiet hours over midnight: from included, to excluded', () => {
    const quiet = { from: '22:00', to: '07:00' };
    expect(isWithinWindow(quiet, BERLIN, berlin('2026-03-04T21:59:59'))).toBe(false);
    expect(isWithinWindow(quiet, BERLIN, berlin('2026-03-04T22:00'))).toBe(true);
    expect(isWithinWindow(quiet, BERLIN, berlin('2026-03-05T03:00'))).toBe(true);
    expect(isWithinWindow(quiet, BERLIN, berlin('2026-03-05T06:59:59'))).toBe(true);
    expect(isWithinWindow(quiet, BERLIN, berlin('2026-03-05T07:00'))).toBe(false);
    // 23:30 UTC is quiet in Berlin, evening in New York.
    expect(isWithinWindow(quiet, NEW_YORK, new Date('2026-03-04T23:30:00Z'))).toBe(false);
  });

  it('reads business hours within a day, and equal bounds as the whole day', () => {
    const business = { from: '09:00', to: '17:00' };
    expect(isWithinWindow(business, NEW_YORK, newYork('2026-03-09T09:00'))).toBe(true);
    expect(isWithinWindow(business, NEW_YORK, newYork('2026-03-09T17:00'))).toBe(false);
    expect(isWithinWindow({ from: '18:00', to: '24:00' }, BERLIN, berlin('2026-03-09T23:59'))).toBe(true);
    expect(isWithinWindow({ from: '00:00', to: '00:00' }, BERLIN, berlin('2026-03-09T04:00'))).toBe(true);
  });

  it('refuses bounds that are not times of day', () => {
    expect(() => isWithinWindow({ from: '22h', to: '07:00' }, BERLIN, new Date(0))).toThrow(/window from "22h" is not a time of day/);
  });
});

describe('onCallAt', () => {
  /** Every shift met while stepping hour by hour, keyed by its start. */
  function shiftsHourly(rotation: Rotation, from: Date, to: Date): OnCall[] {
    const shifts = new Map<number, OnCall>();
    for (let t = from.getTime(); t < to.getTime(); t += HOUR) {
      const now = onCallAt(rotation, new Date(t));
      expect(now.shiftStart.getTime()).toBeLessThanOrEqual(t);
      expect(now.shiftEnd.getTime()).toBeGreaterThan(t);
      const seen = shifts.get(now.shiftStart.getTime());
      if (seen) expect(now).toEqual(seen);
      shifts.set(now.shiftStart.getTime(), now);
    }
    return [...shifts.values()];
  }

  function shares(shifts: OnCall[], members: readonly string[]): number[] {
    return members.map((m) => shifts.filter((s) => s.person === m).length);
  }

  it.each([
    ['March', '2026-03-01', '2026-04-01', '2026-03-28', 23],
    ['October', '2026-10-01', '2026-11-01', '2026-10-24', 25],
  ])('hands a daily Berlin rotation over at 09:00 every day of %s 2026, DST switch included', (_month, first, end, switchShift, switchHours) => {
    const rotation: Rotation = { members: ['alice', 'bob', 'carol'], handoff: 'daily', handoffTime: '09:00', start: '2026-03-01', timeZone: BERLIN };
    const shifts = shiftsHourly(rotation, berlin(`${first}T09:00`), berlin(`${end}T09:00`));
    expect(shifts).toHaveLength(31);
    shifts.forEach((shift, i) => {
      expect(wallClock(BERLIN, shift.shiftStart)).toMatch(/ 09:00 /);
      expect(wallClock(BERLIN, shift.shiftEnd)).toMatch(/ 09:00 /);
      expect(shift.override).toBe(false);
      if (i > 0) {
        expect(shift.shiftStart).toEqual(shifts[i - 1]!.shiftEnd);
        expect(shift.person).not.toBe(shifts[i - 1]!.person);
      }
      const hours = (shift.shiftEnd.getTime() - shift.shiftStart.getTime()) / HOUR;
      expect(hours).toBe(shift.shiftStart.getTime() === berlin(`${switchShift}T09:00`).getTime() ? switchHours : 24);
    });
    const counts = shares(shifts, rotation.members);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    // The hand-off is exactly at 09:00 local: a millisecond earlier the previous member still holds it.
    const handoff = berlin(`${switchShift}T09:00`);
    expect(onCallAt(rotation, new Date(handoff.getTime() - 1)).person).not.toBe(onCallAt(rotation, handoff).person);
  });

  it('starts a daily rotation with the first member on the start date', () => {
    const rotation: Rotation = { members: ['alice', 'bob', 'carol'], handoff: 'daily', handoffTime: '09:00', start: '2026-03-01', timeZone: BERLIN };
    expect(onCallAt(rotation, berlin('2026-03-01T09:00')).person).toBe('alice');
    expect(onCallAt(rotation, berlin('2026-03-02T08:59')).person).toBe('alice');
    expect(onCallAt(rotation, berlin('2026-03-02T09:00')).person).toBe('bob');
    expect(onCallAt(rotation, berlin('2026-03-04T09:00')).person).toBe('alice');
    // Before the start the schedule runs backwards: the day before belongs to the last member.
    expect(onCallAt(rotation, berlin('2026-03-01T08:59')).person).toBe('carol');
  });

  it('hands a weekly New York rotation over on Mondays at 10:00 through March 2026', () => {
    const members = ['dana', 'erin', 'frank', 'grace'];
    const rotation: Rotation = { members, handoff: 'weekly', handoffDay: 'Mon', handoffTime: '10:00', start: '2026-02-02', timeZone: NEW_YORK };
    const shifts = shiftsHourly(rotation, newYork('2026-03-01T00:00'), newYork('2026-04-01T00:00'));
    expect(shifts.map((s) => wallClock(NEW_YORK, s.shiftStart))).toEqual([
      'Mon 2026-02-23 10:00 -05:00',
      'Mon 2026-03-02 10:00 -05:00',
      'Mon 2026-03-09 10:00 -04:00',
      'Mon 2026-03-16 10:00 -04:00',
      'Mon 2026-03-23 10:00 -04:00',
      'Mon 2026-03-30 10:00 -04:00',
    ]);
    expect(shifts.map((s) => s.person)).toEqual(['grace', 'dana', 'erin', 'frank', 'grace', 'dana']);
    expect(shifts.map((s) => (s.shiftEnd.getTime() - s.shiftStart.getTime()) / HOUR)).toEqual([168, 167, 168, 168, 168, 168]);
    const counts = shares(shifts, members);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(onCallAt(rotation, newYork('2026-03-09T09:59:59.999')).person).toBe('dana');
    expect(onCallAt(rotation, newYork('2026-03-09T10:00')).person).toBe('erin');
  });

  it('gives a weekly rotation starting mid-week the shift under way on its start date', () => {
    const rotation: Rotation = { members: ['a', 'b'], handoff: 'weekly', handoffDay: 'Mon', handoffTime: '09:00', start: '2026-03-04', timeZone: BERLIN };
    const now = onCallAt(rotation, berlin('2026-03-04T12:00'));
    expect(now.person).toBe('a');
    expect(now.shiftStart).toEqual(berlin('2026-03-02T09:00'));
    expect(onCallAt(rotation, berlin('2026-03-09T09:00')).person).toBe('b');
    // Without handoffDay, the weekday of the start is the hand-off day.
    expect(onCallAt({ ...rotation, handoffDay: undefined }, berlin('2026-03-04T09:00')).shiftEnd).toEqual(berlin('2026-03-11T09:00'));
  });

  it('hands over when the clocks jump past a skipped hand-off time, and at the first of a repeated one', () => {
    const rotation: Rotation = { members: ['a', 'b', 'c'], handoff: 'daily', handoffTime: '02:30', start: '2026-03-01', timeZone: BERLIN };
    const spring = onCallAt(rotation, new Date('2026-03-29T01:00:00Z'));
    expect(spring.shiftStart).toEqual(new Date('2026-03-29T01:00:00Z')); // 03:00 CEST
    expect(onCallAt(rotation, new Date('2026-03-29T00:59:59Z')).person).not.toBe(spring.person);
    const autumn = onCallAt(rotation, new Date('2026-10-25T01:15:00Z')); // 02:15 CET, the second time round
    expect(autumn.shiftStart).toEqual(new Date('2026-10-25T00:30:00Z')); // 02:30 CEST
    expect((autumn.shiftEnd.getTime() - autumn.shiftStart.getTime()) / HOUR).toBe(25);
  });

  describe('overrides', () => {
    const rotation: Rotation = {
      members: ['alice', 'bob', 'carol'],
      handoff: 'daily',
      handoffTime: '09:00',
      start: '2026-03-01',
      timeZone: BERLIN,
      overrides: [
        { from: '2026-03-02T12:00', to: '2026-03-02T18:00', person: 'dave' },
        { from: '2026-03-02T14:00:00+01:00', to: '2026-03-02T14:00:00Z', person: 'erin' },
      ],
    };

    it('win over the regular member and cut the shift into pieces', () => {
      const at = (text: string) => onCallAt(rotation, berlin(text));
      expect(at('2026-03-02T11:00')).toEqual({ person: 'bob', shiftStart: berlin('2026-03-02T09:00'), shiftEnd: berlin('2026-03-02T12:00'), override: false });
      expect(at('2026-03-02T12:00')).toEqual({ person: 'dave', shiftStart: berlin('2026-03-02T12:00'), shiftEnd: berlin('2026-03-02T14:00'), override: true });
      expect(at('2026-03-02T14:30')).toEqual({ person: 'erin', shiftStart: berlin('2026-03-02T14:00'), shiftEnd: berlin('2026-03-02T15:00'), override: true });
      expect(at('2026-03-02T15:00')).toEqual({ person: 'dave', shiftStart: berlin('2026-03-02T15:00'), shiftEnd: berlin('2026-03-02T18:00'), override: true });
      expect(at('2026-03-02T18:00')).toEqual({ person: 'bob', shiftStart: berlin('2026-03-02T18:00'), shiftEnd: berlin('2026-03-03T09:00'), override: false });
    });

    it('refuse malformed or backwards overrides', () => {
      const bad = (override: { from: string; to: string; person: string }) => () => onCallAt({ ...rotation, overrides: [override] }, new Date(0));
      expect(bad({ from: 'noon', to: '2026-03-02T18:00', person: 'dave' })).toThrow(/override from "noon" is not an ISO date-time/);
      expect(bad({ from: '2026-03-02T18:00', to: '2026-03-02T12:00', person: 'dave' })).toThrow(/ends before it starts/);
    });
  });

  it('refuses a rotation without members or with a bad hand-off time', () => {
    const rotation: Rotation = { members: ['a'], handoff: 'daily', handoffTime: '09:00', start: '2026-03-01', timeZone: BERLIN };
    expect(() => onCallAt({ ...rotation, members: [] }, new Date(0))).toThrow(/at least one member/);
    expect(() => onCallAt({ ...rotation, handoffTime: '9am' }, new Date(0))).toThrow(/handoffTime "9am"/);
    expect(() => onCallAt({ ...rotation, start: 'March' }, new Date(0))).toThrow(/rotation start "March"/);
  });

  it('has exactly one holder at every instant, in shifts that tile time (property)', () => {
    const zones = [BERLIN, NEW_YORK, 'Australia/Lord_Howe', 'America/St_Johns', 'Asia/Tokyo'];
    const dayMs = 86_400_000;
    const rotationArb = fc
      .record({
        members: fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { minLength: 1, maxLength: 5 }),
        handoff: fc.constantFrom('daily' as const, 'weekly' as const),
        handoffMinute: fc.integer({ min: 0, max: 1439 }),
        handoffDay: fc.option(fc.constantFrom<Weekday>(...weekdays), { nil: undefined }),
        startDay: fc.integer({ min: 0, max: 3 * 365 }),
        timeZone: fc.constantFrom(...zones),
        overrides: fc.array(
          fc.record({ from: fc.integer({ min: 0, max: 3 * 365 * 24 }), hours: fc.integer({ min: 1, max: 72 }), person: fc.constantFrom('x', 'y', 'a') }),
          { maxLength: 3 },
        ),
      })
      .map(({ handoffMinute, startDay, overrides, ...rest }): Rotation => {
        const base = Date.parse('2025-01-01T00:00:00Z');
        return {
          ...rest,
          handoffTime: hhmm(handoffMinute),
          start: new Date(base + startDay * dayMs).toISOString().slice(0, 10),
          overrides: overrides.map((o) => ({
            from: new Date(base + o.from * HOUR).toISOString(),
            to: new Date(base + (o.from + o.hours) * HOUR).toISOString(),
            person: o.person,
          })),
        };
      });
    const instant = fc.integer({ min: Date.parse('2025-01-01T00:00:00Z'), max: Date.parse('2028-01-01T00:00:00Z') });
    fc.assert(
      fc.property(rotationArb, instant, (rotation, at) => {
        const now = onCallAt(rotation, new Date(at));
        const start = now.shiftStart.getTime();
        const end = now.shiftEnd.getTime();
        expect(start).toBeLessThanOrEqual(at);
        expect(end).toBeGreaterThan(at);
        const holders = [...rotation.members, ...(rotation.overrides ?? []).map((o) => o.person)];
        expect(holders).toContain(now.person);
        for (const inside of [start, end - 1]) {
          expect(onCallAt(rotation, new Date(inside))).toEqual(now);
        }
        expect(onCallAt(rotation, new Date(end)).shiftStart).toEqual(now.shiftEnd);
        if (!now.override && (rotation.overrides ?? []).length === 0) {
          // A regular shift starts at the hand-off time, or when the clocks jump past it.
          const wall = DateTime.fromMillis(start, { zone: rotation.timeZone });
          const justBefore = DateTime.fromMillis(start - 1, { zone: rotation.timeZone });
          if (wall.toFormat('HH:mm') !== rotation.handoffTime) expect(justBefore.offset).toBeLessThan(wall.offset);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('poolMembersAt', () => {
  const team = ['ann', 'ben', 'cat', 'dan', 'eve'];

  it('rotates a weekly pool fairly over a year, changing at local midnight on the start weekday', () => {
    const pool = { members: team, size: 2, rotate: 'weekly' as const, start: '2026-01-05', timeZone: BERLIN };
    const weeks: string[][] = [];
    for (let week = 0; week < 52; week++) {
      const monday = DateTime.fromISO('2026-01-05T00:00', { zone: BERLIN }).plus({ weeks: week });
      const serving = poolMembersAt(pool, monday.toJSDate());
      expect(poolMembersAt(pool, monday.plus({ days: 6 }).set({ hour: 23, minute: 59 }).toJSDate())).toEqual(serving);
      if (week > 0) expect(poolMembersAt(pool, new Date(monday.toMillis() - 1))).toEqual(weeks[week - 1]);
      weeks.push(serving);
    }
    expect(weeks.slice(0, 3)).toEqual([
      ['ann', 'ben'],
      ['cat', 'dan'],
      ['eve', 'ann'],
    ]);
    const counts = team.map((m) => weeks.filter((w) => w.includes(m)).length);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    // One full cycle (five weeks for five members, two at a time) gives each member exactly two weeks.
    expect(team.map((m) => weeks.slice(0, 5).filter((w) => w.includes(m)).length)).toEqual([2, 2, 2, 2, 2]);
  });

  it('rotates by sprint, two weeks by default, fairly over a year', () => {
    const members = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const pool = { members, size: 3, rotate: 'sprint' as const, start: '2026-01-05', timeZone: NEW_YORK };
    const sprints: string[][] = [];
    for (let day = 0; day < 364; day++) {
      const noon = DateTime.fromISO('2026-01-05T12:00', { zone: NEW_YORK }).plus({ days: day });
      const serving = poolMembersAt(pool, noon.toJSDate());
      if (day % 14 === 0) sprints.push(serving);
      else expect(serving).toEqual(sprints.at(-1));
    }
    expect(sprints).toHaveLength(26);
    const counts = members.map((m) => sprints.filter((s) => s.includes(m)).length);
    expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    expect(poolMembersAt({ ...pool, sprintLength: 3 }, newYork('2026-01-26T12:00'))).toEqual(['d', 'e', 'f']);
  });

  it('changes at local midnight across the US switch to summer time', () => {
    const pool = { members: team, size: 1, rotate: 'weekly' as const, start: '2026-03-02', timeZone: NEW_YORK };
    expect(poolMembersAt(pool, new Date('2026-03-09T03:59:59Z'))).toEqual(['ann']); // Sunday 23:59:59 EDT
    expect(poolMembersAt(pool, new Date('2026-03-09T04:00:00Z'))).toEqual(['ben']); // Monday 00:00 EDT
  });

  it('keeps the first members when it does not rotate, and everyone when no size is given', () => {
    const at = berlin('2026-06-01T12:00');
    expect(poolMembersAt({ members: team, size: 3, rotate: 'none', start: '2026-01-05', timeZone: BERLIN }, at)).toEqual(['ann', 'ben', 'cat']);
    const everyone = { members: team, rotate: 'weekly' as const, start: '2026-01-05', timeZone: BERLIN };
    expect(poolMembersAt(everyone, berlin('2026-01-05T12:00'))).toEqual(team);
    // Everyone serves, but who is listed first moves on each week.
    expect(poolMembersAt(everyone, berlin('2026-01-12T12:00'))).toEqual(['ben', 'cat', 'dan', 'eve', 'ann']);
  });

  it('refuses an empty pool, a size out of range and a bad sprint length', () => {
    const pool = { members: team, rotate: 'sprint' as const, start: '2026-01-05', timeZone: BERLIN };
    expect(() => poolMembersAt({ ...pool, members: [] }, new Date(0))).toThrow(/at least one member/);
    expect(() => poolMembersAt({ ...pool, size: 0 }, new Date(0))).toThrow(/from 1 to 5/);
    expect(() => poolMembersAt({ ...pool, size: 6 }, new Date(0))).toThrow(/from 1 to 5/);
    expect(() => poolMembersAt({ ...pool, sprintLength: 0 }, new Date(0))).toThrow(/sprintLength/);
    expect(() => poolMembersAt({ ...pool, timeZone: 'Berlin' }, new Date(0))).toThrow(/not an IANA time zone/);
  });

  it('serves every member equally often over a full cycle (property)', () => {
    const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
    const poolArb = fc
      .integer({ min: 1, max: 9 })
      .chain((n) => fc.record({ n: fc.constant(n), size: fc.integer({ min: 1, max: n }), rotate: fc.constantFrom('weekly' as const, 'sprint' as const), sprintLength: fc.integer({ min: 1, max: 4 }), firstTurn: fc.integer({ min: -50, max: 50 }) }));
    fc.assert(
      fc.property(poolArb, ({ n, size, rotate, sprintLength, firstTurn }) => {
        const members = Array.from({ length: n }, (_, i) => `m${i}`);
        const pool = { members, size, rotate, sprintLength, start: '2026-01-05', timeZone: BERLIN };
        const periodDays = rotate === 'weekly' ? 7 : 7 * sprintLength;
        const cycle = n / gcd(n, size);
        const served = new Map(members.map((m) => [m, 0]));
        for (let turn = firstTurn; turn < firstTurn + cycle; turn++) {
          const at = DateTime.fromISO('2026-01-05T12:00', { zone: BERLIN }).plus({ days: turn * periodDays });
          const serving = poolMembersAt(pool, at.toJSDate());
          expect(new Set(serving).size).toBe(size);
          for (const m of serving) served.set(m, served.get(m)! + 1);
        }
        expect(new Set(served.values())).toEqual(new Set([(size * cycle) / n]));
      }),
    );
  });
});

function hhmm(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}
