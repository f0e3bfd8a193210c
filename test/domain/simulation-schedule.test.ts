import { readFileSync } from 'node:fs';
import { IANAZone } from 'luxon';
import { describe, expect, it } from 'vitest';
import { resolvePlan } from '../../domain/escalation-plan.js';
import { type GateFailure, gateFailureSchema, severities } from '../../domain/gate-failure.js';
import type { Policy } from '../../domain/policy.js';
import { parsePolicy } from '../../domain/policy-parser.js';
import { isOutOfOffice, isWorking, nextWorkingStart, parseWorkingHours } from '../../domain/schedule.js';
import { PlanCache, rotationClocks } from '../../domain/simulation/plan-cache.js';
import { randomStream } from '../../domain/simulation/random.js';
import { awayDays, HoursClock, ZoneClock } from '../../domain/simulation/schedule-cache.js';
import { gateFailure } from '../helpers/gate-failure.js';

const DAY = 86_400_000;
const start = Date.parse('2026-01-01T00:00:00Z');
// DST at 02:00 and 03:00, half-hour DST, no DST, DST at midnight, a 45-minute offset.
const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kolkata', 'America/Santiago', 'Pacific/Chatham'];

/** Instants over two years, a third of them within two hours of a DST switch somewhere. */
function instants(count: number, seed: number): number[] {
  const random = randomStream(seed);
  const switches = ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z', '2026-04-04T15:00:00Z', '2026-09-06T03:00:00Z'].map(Date.parse);
  return Array.from({ length: count }, (_, i) => Math.floor(i % 3 === 0 ? switches[i % switches.length]! + (random() - 0.5) * 4 * 3_600_000 : start + random() * 730 * DAY));
}

describe('schedule caches answer as domain/schedule.ts does', () => {
  it('reads the same offsets as luxon, DST switches included', () => {
    for (const zone of zones) {
      const clock = new ZoneClock(zone);
      const luxon = IANAZone.create(zone);
      for (const t of instants(3000, 1)) expect(clock.offset(t), `${zone} at ${new Date(t).toISOString()}`).toBe(luxon.offset(t));
    }
  });

  it('says who is working and when they next start, as isWorking and nextWorkingStart do', () => {
    const hoursList = ['Mon-Fri 08:00-17:00', 'Mon-Fri 09:00-12:00, 13:00-17:00', 'Sun-Thu 22:00-06:00', 'Sat 02:30-03:30', 'Mon-Sun 00:00-24:00; Sat 10:00-14:00'];
    for (const zone of zones) {
      for (const text of hoursList) {
        const hours = parseWorkingHours(text);
        const clock = new HoursClock(hours, new ZoneClock(zone));
        for (const t of instants(400, 2)) {
          const at = new Date(t);
          expect(clock.isWorking(t), `${text} ${zone} ${at.toISOString()}`).toBe(isWorking(hours, zone, at));
          expect(clock.nextStart(t), `${text} ${zone} ${at.toISOString()}`).toBe(nextWorkingStart(hours, zone, at).getTime());
        }
      }
    }
  });

  it('says who is out of office as isOutOfOffice does', () => {
    const ranges = [
      { from: '2026-03-27', to: '2026-03-30' },
      { from: '2026-12-24', to: '2027-01-02' },
    ];
    for (const zone of zones) {
      const away = awayDays(ranges, new ZoneClock(zone));
      for (const t of instants(2000, 3)) expect(away.at(t)).toBe(isOutOfOffice(ranges, zone, new Date(t)));
    }
  });
});

describe('the plan cache gives the plans resolvePlan gives', () => {
  /** Quiet hours are compared by what the engine asks of them: which interval, if any, holds an instant. */
  function expectSamePlans(policy: Policy, failures: (random: () => number, at: number) => GateFailure, seed: number): void {
    const cache = new PlanCache(policy, rotationClocks(policy), start);
    const random = randomStream(seed);
    let at = start;
    for (let i = 0; i < 600; i++) {
      at += random() * 30 * 3_600_000;
      const failure = failures(random, at);
      const ordinal = Math.floor(random() * 7);
      const expected = resolvePlan(policy, failure, { at: new Date(at), ordinal });
      const cached = cache.planFor(failure, at, ordinal);
      const when = `${failure.gate.name} at ${new Date(at).toISOString()}`;
      const { quietHours: expectedQuiet, ...expectedRest } = expected!;
      const { quietHours: cachedQuiet, ...cachedRest } = cached!;
      expect(cachedRest, when).toEqual(expectedRest);
      expect(cachedQuiet?.onCall, when).toBe(expectedQuiet?.onCall);
      for (let k = 0; k < 10; k++) {
        const t = at + random() * 14 * DAY;
        const holding = (intervals: Array<{ fromMs: number; toMs: number }> | undefined) => intervals?.find((q) => q.fromMs <= t && t < q.toMs) ?? null;
        expect(holding(cachedQuiet?.intervals), `${when}, quiet at ${new Date(t).toISOString()}`).toEqual(holding(expectedQuiet?.intervals));
      }
    }
  }

  it('for the example policy: rules, pools, rotations, out-of-office days, routing facts and quiet hours', () => {
    const { policy } = parsePolicy(readFileSync('policies/example.yaml', 'utf8'), 'policies/example.yaml');
    const gates = ['unit-tests', 'performance', 'security-scan', 'integration-tests', 'deploy'];
    expectSamePlans(
      policy,
      (random, at) =>
        gateFailureSchema.parse(
          gateFailure({
            gate: { name: gates[Math.floor(random() * gates.length)]!, kind: random() < 0.5 ? 'tests' : 'custom' },
            severity: severities[Math.floor(random() * severities.length)]!,
            hotfix: random() < 0.3,
            rollback: random() < 0.2,
            occurredAt: new Date(at).toISOString(),
          }),
        ),
      4,
    );
  });

  it('for quiet hours whose bounds fall in the hour clocks skip or repeat, and author, crossTeam and routing rules', () => {
    const { policy } = parsePolicy(
      `version: 1
timezone: Europe/Berlin
codeowners: |
  /a/ @alice
  /b/ @bob
people:
  alice: { email: alice@example.com, team: web, seniority: junior, timezone: America/New_York, workingHours: "Mon-Fri 09:00-17:00", outOfOffice: [{ from: 2026-03-27, to: 2026-03-31 }] }
  bob: { email: bob@example.com, team: api, seniority: senior, timezone: Australia/Lord_Howe, workingHours: "Sun-Thu 22:00-06:00" }
  carol: { email: carol@example.com, backup: bob }
rotations:
  night: { members: [alice, bob, carol], handoff: daily, handoffTime: "02:30", start: 2026-01-01 }
quietHours: { from: "02:30", to: "03:30", notify: primary-oncall-only, oncall: night }
gates:
  build: { model: dynamic, candidates: [alice, bob, carol], routeBy: [oncall, workingHours], decideWithin: 1h }
  deploy: { model: sequential, chain: [{ reviewers: [carol], timeout: 1h }] }
rules:
  - { when: { gate: [deploy], hotfix: true }, use: { model: dynamic, reviewers: [alice, bob] } }
  - { when: { crossTeam: true }, use: { model: parallel, reviewers: [alice, bob, carol], quorum: { approve: 2 } } }
  - { when: { authorSeniority: [junior] }, use: { model: sequential, chain: [{ reviewers: oncall:night, timeout: 1h }] } }
`,
      'policy.yaml',
    );
    const files = [['a/x.ts'], ['a/x.ts', 'b/y.ts'], ['c/z.ts']];
    expectSamePlans(
      policy,
      (random, at) =>
        gateFailureSchema.parse(
          gateFailure({
            gate: { name: random() < 0.5 ? 'build' : 'deploy', kind: 'tests' },
            hotfix: random() < 0.5,
            change: { sha: 'abcdef1', author: random() < 0.5 ? 'alice' : 'bob', title: 't', url: 'https://git.example.com/c/1', changedFiles: files[Math.floor(random() * files.length)]! },
            occurredAt: new Date(at).toISOString(),
          }),
        ),
      5,
    );
  });
});
