import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Policy } from '../domain/policy.js';
import { parsePolicy } from '../domain/policy-parser.js';
import { isOutOfOffice, isWithinWindow, isWorking, onCallAt, parseWorkingHours, poolMembersAt } from '../domain/schedule.js';
import { placeWindows, type WindowPlacement } from './helpers/policy-windows.js';

// The time-dependent tests trust this helper to put "now" inside or outside every window of a
// policy; it is checked here at random instants in zones far apart, DST switches included.
const example = readFileSync('policies/example.yaml', 'utf8');
const zones = ['Europe/Berlin', 'Pacific/Kiritimati', 'America/Adak', 'Asia/Kolkata', 'Australia/Lord_Howe', 'UTC'];
const anInstant = fc.integer({ min: Date.parse('2026-01-01T00:00:00Z'), max: Date.parse('2031-01-01T00:00:00Z') }).map((t) => new Date(t));
const MINUTE = 60_000;
// Instants around daylight-saving switches, always tried besides the random ones. The first is the
// case that once failed: two hours before New York's clocks go back (bob's working hours).
const switches: Array<[Date, string]> = [
  [new Date('2026-11-01T04:00:00.000Z'), 'Europe/Berlin'],
  [new Date('2026-10-25T00:30:00.000Z'), 'Europe/Berlin'],
  [new Date('2026-03-29T00:30:00.000Z'), 'UTC'],
  [new Date('2026-03-08T05:00:00.000Z'), 'America/Adak'],
];

function placed(now: Date, placement: WindowPlacement, zone: string, onCall?: string): Policy {
  const yaml = example.replace('timezone: Europe/Berlin\n', `timezone: ${zone}\n`);
  return parsePolicy(placeWindows(yaml, now, placement, onCall ? { onCall: { 'primary-oncall': onCall } } : {}), 'example.yaml').policy;
}

/** Whether each window of the policy holds `t`. */
function windowsAt(policy: Policy, t: Date) {
  const zoneOf = (person: Policy['people'][string]) => person.timezone ?? policy.timezone;
  return {
    quiet: isWithinWindow(policy.quietHours!, policy.timezone, t),
    business: isWorking(parseWorkingHours(policy.businessHours), policy.timezone, t),
    working: Object.values(policy.people).filter((p) => p.workingHours).map((p) => isWorking(parseWorkingHours(p.workingHours!), zoneOf(p), t)),
    away: isOutOfOffice(policy.people.dave!.outOfOffice, zoneOf(policy.people.dave!), t),
  };
}

describe('placing a policy’s clock windows around the moment a test starts', () => {
  it('puts now inside every window, and keeps it there for the next hour and a half', () => {
    fc.assert(
      fc.property(anInstant, fc.constantFrom(...zones), (now, zone) => {
        const policy = placed(now, 'inside', zone);
        for (const t of [now, new Date(now.getTime() + 90 * MINUTE)]) {
          expect(windowsAt(policy, t)).toEqual({ quiet: true, business: true, working: [true, true, true], away: true });
        }
      }),
      { numRuns: 50, examples: switches },
    );
  });

  it('keeps now outside every window for the next hour and a half', () => {
    fc.assert(
      fc.property(anInstant, fc.constantFrom(...zones), (now, zone) => {
        const policy = placed(now, 'outside', zone);
        for (const t of [now, new Date(now.getTime() + 90 * MINUTE)]) {
          expect(windowsAt(policy, t)).toEqual({ quiet: false, business: false, working: [false, false, false], away: false });
        }
      }),
      { numRuns: 50, examples: switches },
    );
  });

  it('puts the chosen on-call member on shift and the pool’s first turn in service, with no hand-off for a day', () => {
    fc.assert(
      fc.property(anInstant, fc.constantFrom(...zones), fc.constantFrom('alice', 'carol', 'dave'), fc.constantFrom<WindowPlacement>('inside', 'outside'), (now, zone, member, placement) => {
        const policy = placed(now, placement, zone, member);
        const rotation = { ...policy.rotations['primary-oncall']!, timeZone: policy.timezone };
        const pool = { ...policy.pools['perf-approvers']!, timeZone: policy.timezone };
        for (const t of [now, new Date(now.getTime() + 24 * 60 * MINUTE)]) {
          expect(onCallAt(rotation, t).person).toBe(member);
          expect(poolMembersAt(pool, t)).toEqual(['alice', 'bob', 'carol']);
        }
      }),
      // The instant CI found: a week's turn counted back across the US switch to summer time.
      { numRuns: 50, examples: [[new Date('2028-03-22T09:00:00.000Z'), 'America/Adak', 'carol', 'inside']] },
    );
  });

  it('places a daily rotation too', () => {
    const daily = example.replace('handoff: weekly, handoffDay: Mon, handoffTime: "09:00"', 'handoff: daily, handoffTime: "09:00"');
    fc.assert(
      fc.property(anInstant, fc.constantFrom('alice', 'carol', 'dave'), (now, member) => {
        const { policy } = parsePolicy(placeWindows(daily, now, 'outside', { onCall: { 'primary-oncall': member } }), 'example.yaml');
        const rotation = { ...policy.rotations['primary-oncall']!, timeZone: policy.timezone };
        expect(onCallAt(rotation, now).person).toBe(member);
        expect(onCallAt(rotation, new Date(now.getTime() + 10 * 60 * MINUTE)).person).toBe(member);
      }),
      // The instant CI found: midnight in Berlin on the night the clocks went forward, when 24 hours back is two dates back.
      { numRuns: 50, examples: [[new Date('2027-03-28T22:00:00.000Z'), 'alice']] },
    );
  });
});
