import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createGateMetrics } from '../adapters/gate-metrics.js';
import { type OutcomeStore, openOutcomeStore } from '../adapters/outcome-store/store.js';
import { buildShim } from '../client/shim/app.js';
import { TokenRegistry } from '../client/shim/tokens.js';
import type { EscalationOutcome, OutcomeKind, TimelineEntry } from '../domain/escalation.js';
import { metricsQuerySchema } from '../domain/metrics/query.js';
import type { GateFigures, MetricsReport } from '../domain/metrics/report.js';
import { parsePolicy } from '../domain/policy-parser.js';
import { escalator, json } from './helpers/cli-run.js';
import { createDatabase } from './helpers/postgres-database.js';

// A scripted week of escalations at fixed instants, and every figure worked out by hand below.
// Window: Mon 2026-03-02 00:00Z .. Mon 2026-03-09 00:00Z; the previous window is the week before.
const policyYaml = `
version: 1
people:
  alice: { email: alice@example.com, team: checkout, workingHours: "Mon-Fri 09:00-17:00", timezone: UTC }
  bob:   { email: bob@example.com, team: payments }
  carol: { email: carol@example.com, roles: [incident-commander] }
breakGlass: { roles: [incident-commander] }
gates:
  deploy:
    model: sequential
    costPerHour: 120
    chain: [{ reviewers: [alice], timeout: 1h }, { reviewers: [bob], timeout: 4h }]
  lint:
    model: sequential
    chain: [{ reviewers: [bob], timeout: 1h }]
`;
const { policy } = parsePolicy(policyYaml, 'policy.yaml');
const window = { from: '2026-03-02T00:00:00.000Z', to: '2026-03-09T00:00:00.000Z' };
const minute = 60_000;
const hour = 60 * minute;

type Step = [offsetMinutes: number, entry: Record<string, unknown> & { event: string }];

interface Scripted {
  id: string;
  gate: string;
  start: string;
  steps: Step[];
  end?: { afterMinutes: number; outcome: OutcomeKind };
  mode?: 'shadow';
}

const scripted: Scripted[] = [
  // E0, the week before: alice approves after an hour.
  { id: 'e0', gate: 'deploy', start: '2026-02-24T10:00:00Z', steps: [[0, assigned(['alice'])], [60, decided('alice', 'approve')]], end: { afterMinutes: 60, outcome: 'passed' } },
  // E1 Mon: alice approves after 30 minutes.
  { id: 'e1', gate: 'deploy', start: '2026-03-02T10:00:00Z', steps: [[0, assigned(['alice'])], [30, decided('alice', 'approve')]], end: { afterMinutes: 30, outcome: 'passed' } },
  // E2 Tue: alice is silent for the hour (a timeout), bob rejects it as a real issue 2 h later.
  {
    id: 'e2',
    gate: 'deploy',
    start: '2026-03-03T10:00:00Z',
    steps: [[0, assigned(['alice'])], [60, { event: 'timed-out', step: 0, stage: { kind: 'primary' }, reviewers: ['alice'] }], [60, assigned(['bob'], 1)], [180, decided('bob', 'reject', 'real-issue')]],
    end: { afterMinutes: 180, outcome: 'blocked' },
  },
  // E3 Wed 20:00, outside alice's hours: carol breaks glass after 15 minutes.
  { id: 'e3', gate: 'deploy', start: '2026-03-04T20:00:00Z', steps: [[0, assigned(['alice'])], [15, { event: 'break-glass', by: 'carol', justification: 'outage', channel: 'http' }]], end: { afterMinutes: 15, outcome: 'overridden' } },
  // E4 Thu: the gate re-runs green after 5 minutes (a false positive), before anyone answered.
  { id: 'e4', gate: 'deploy', start: '2026-03-05T09:30:00Z', steps: [[0, assigned(['alice'])], [5, { event: 'recovered', pipelineRunId: 'run-2' }]], end: { afterMinutes: 5, outcome: 'recovered' } },
  // E5 Fri: still open when the window ends, 60 h later.
  { id: 'e5', gate: 'deploy', start: '2026-03-06T12:00:00Z', steps: [[0, assigned(['alice'])]] },
  // E6 Mon, another gate without a cost: bob approves after 10 minutes, calling it flaky.
  { id: 'e6', gate: 'lint', start: '2026-03-02T12:00:00Z', steps: [[0, assigned(['bob'])], [10, decided('bob', 'approve', 'flaky')]], end: { afterMinutes: 10, outcome: 'passed' } },
  // E7 Sat and E8 Sun: the deploy gate piloted in shadow mode; its figures stay apart. E7: alice,
  // who would have been notified, approves through the API after an hour.
  { id: 'e7', gate: 'deploy', start: '2026-03-07T10:00:00Z', mode: 'shadow', steps: [[0, assigned(['alice'])], [0, wouldNotify('alice')], [60, decided('alice', 'approve')]], end: { afterMinutes: 60, outcome: 'passed' } },
  // E8: alice times out, bob would have been asked, and the team's own way decides after 2 h (withdraw).
  {
    id: 'e8',
    gate: 'deploy',
    start: '2026-03-08T10:00:00Z',
    mode: 'shadow',
    steps: [[0, assigned(['alice'])], [0, wouldNotify('alice')], [60, { event: 'timed-out', step: 0, stage: { kind: 'primary' }, reviewers: ['alice'] }], [60, assigned(['bob'], 1)], [60, wouldNotify('bob', 1)], [120, { event: 'withdrawn', by: 'ci', reason: 'decided in the change review' }]],
    end: { afterMinutes: 120, outcome: 'withdrawn' },
  },
];

const none = { count: 0, p50: null, p90: null, mean: null };
/** The resolution histogram from counts per bucket: ≤5m, 15m, 30m, 1h, 2h, 4h, 8h, 1d, 2d, longer. */
const histogram = (...counts: number[]) =>
  [5, 15, 30, 60, 120, 240, 480, 1440, 2880, null].map((bound, i) => ({ upToMs: bound === null ? null : bound * minute, count: counts[i] ?? 0 }));
const noRatings = { average: null, responses: 0, asked: 0, responseRate: null };

// By hand. deploy, live, this week: E1–E5.
// Resolution (ended): 30m, 3h, 15m, 5m → sorted 5, 15, 30, 180 min; nearest rank p50 = 2nd = 15m,
// p90 = 4th = 3h, mean = 230/4 = 57.5 min. First response: E1 30m, E2 3h (bob), E3 15m (break-glass);
// E4 none → 15, 30, 180: p50 = 2nd = 30m, p90 = 3rd = 3h, mean 75m. Timeouts: E2 of 5 raised = 0.2.
// Ended 4: override E3 = 0.25 (> 0.2: alert); false positive E4 (recovered) = 0.25; E2's reason is
// real-issue. Decisions: alice, bob, carol one each: top share 1/3, HHI 3 × (1/3)² = 1/3.
// Load: alice asked 5 (E3 at Wed 20:00 outside her hours), decided 1; bob asked 1, decided 1;
// carol asked 0, decided 1. Cost: 120/h × (0.5 + 3 + 0.25 + 1/12 + 60) h = 7660.
const deployThisWeek: GateFigures = {
  raised: 5,
  ended: 4,
  open: 1,
  timeToResolution: { count: 4, p50: 15 * minute, p90: 3 * hour, mean: 57.5 * minute },
  timeToFirstResponse: { count: 3, p50: 30 * minute, p90: 3 * hour, mean: 75 * minute },
  timeoutShare: 0.2,
  exhaustedShare: 0,
  rollbackShare: 0,
  overrideShare: 0.25,
  overrideAlert: true,
  falsePositiveShare: 0.25,
  outcomes: { passed: 1, blocked: 1, overridden: 1, recovered: 1 },
  // 5m, 15m, 30m and 3h; all four ended in the week of Monday 2 March.
  resolutionHistogram: histogram(1, 1, 1, 0, 0, 1),
  outcomesByWeek: [{ weekStart: '2026-03-02', outcomes: { passed: 1, blocked: 1, overridden: 1, recovered: 1 } }],
  topResponderShare: 1 / 3,
  concentration: 1 / 3,
  load: [
    { person: 'alice', asked: 5, decided: 1, outsideWorkingHours: 1 },
    { person: 'bob', asked: 1, decided: 1, outsideWorkingHours: 0 },
    { person: 'carol', asked: 0, decided: 1, outsideWorkingHours: 0 },
  ],
  costOfDelay: 7660,
  routingAccuracy: null,
  satisfaction: noRatings,
  shadow: null,
};

// deploy, live, the week before: E0 alone, an hour, alice approving; cost 120.
const deployWeekBefore: GateFigures = {
  raised: 1,
  ended: 1,
  open: 0,
  timeToResolution: { count: 1, p50: hour, p90: hour, mean: hour },
  timeToFirstResponse: { count: 1, p50: hour, p90: hour, mean: hour },
  timeoutShare: 0,
  exhaustedShare: 0,
  rollbackShare: 0,
  overrideShare: 0,
  overrideAlert: false,
  falsePositiveShare: 0,
  outcomes: { passed: 1 },
  resolutionHistogram: histogram(0, 0, 0, 1),
  outcomesByWeek: [{ weekStart: '2026-02-23', outcomes: { passed: 1 } }],
  topResponderShare: 1,
  concentration: 1,
  load: [{ person: 'alice', asked: 1, decided: 1, outsideWorkingHours: 0 }],
  costOfDelay: 120,
  routingAccuracy: null,
  satisfaction: noRatings,
  shadow: null,
};

const nothing: GateFigures = {
  raised: 0,
  ended: 0,
  open: 0,
  timeToResolution: none,
  timeToFirstResponse: none,
  timeoutShare: null,
  exhaustedShare: null,
  rollbackShare: null,
  overrideShare: null,
  overrideAlert: false,
  falsePositiveShare: null,
  outcomes: {},
  resolutionHistogram: histogram(),
  outcomesByWeek: [],
  topResponderShare: null,
  concentration: null,
  load: [],
  costOfDelay: null,
  routingAccuracy: null,
  satisfaction: noRatings,
  shadow: null,
};

// lint: E6, 10 minutes, bob calling it flaky: a false positive; no cost per hour.
const lintThisWeek: GateFigures = {
  ...nothing,
  raised: 1,
  ended: 1,
  timeToResolution: { count: 1, p50: 10 * minute, p90: 10 * minute, mean: 10 * minute },
  timeToFirstResponse: { count: 1, p50: 10 * minute, p90: 10 * minute, mean: 10 * minute },
  timeoutShare: 0,
  exhaustedShare: 0,
  rollbackShare: 0,
  overrideShare: 0,
  falsePositiveShare: 1,
  outcomes: { passed: 1 },
  resolutionHistogram: histogram(0, 1),
  outcomesByWeek: [{ weekStart: '2026-03-02', outcomes: { passed: 1 } }],
  topResponderShare: 1,
  concentration: 1,
  load: [{ person: 'bob', asked: 1, decided: 1, outsideWorkingHours: 0 }],
};

// deploy in shadow: E7 (1 h, alice) and E8 (2 h, withdrawn: decided elsewhere). Resolution 1 h, 2 h:
// p50 1 h, p90 2 h, mean 1.5 h; first response E7's hour; E8 timed out (1 of 2); the weekend is
// outside everyone's hours (alice asked twice, bob once); cost 120 × 3 h; the team's own way decided
// E8 after 2 h; the shadow runs would have notified 1 and 2 people: 1.5 on average.
const deployShadow: GateFigures = {
  ...nothing,
  raised: 2,
  ended: 2,
  timeToResolution: { count: 2, p50: hour, p90: 2 * hour, mean: 1.5 * hour },
  timeToFirstResponse: { count: 1, p50: hour, p90: hour, mean: hour },
  timeoutShare: 0.5,
  exhaustedShare: 0,
  rollbackShare: 0,
  overrideShare: 0,
  falsePositiveShare: 0,
  outcomes: { passed: 1, withdrawn: 1 },
  resolutionHistogram: histogram(0, 0, 0, 1, 1),
  outcomesByWeek: [{ weekStart: '2026-03-02', outcomes: { passed: 1, withdrawn: 1 } }],
  topResponderShare: 1,
  concentration: 1,
  load: [
    { person: 'alice', asked: 2, decided: 1, outsideWorkingHours: 2 },
    { person: 'bob', asked: 1, decided: 0, outsideWorkingHours: 1 },
  ],
  costOfDelay: 360,
  shadow: { decidedElsewhere: 1, teamResolution: { count: 1, p50: 2 * hour, p90: 2 * hour, mean: 2 * hour }, escalatorExhausted: 0, wouldHaveAsked: 1.5 },
};

const expectedByGate: MetricsReport = {
  groupBy: 'gate',
  window,
  previousWindow: { from: '2026-02-23T00:00:00.000Z', to: window.from },
  rows: [
    {
      key: 'deploy',
      mode: 'live',
      current: deployThisWeek,
      previous: deployWeekBefore,
      slowest: [
        { escalationId: 'e5', startedAt: iso('2026-03-06T12:00:00Z'), endedAt: null, waitedMs: 60 * hour, outcome: null },
        { escalationId: 'e2', startedAt: iso('2026-03-03T10:00:00Z'), endedAt: iso('2026-03-03T13:00:00Z'), waitedMs: 3 * hour, outcome: 'blocked' },
        { escalationId: 'e1', startedAt: iso('2026-03-02T10:00:00Z'), endedAt: iso('2026-03-02T10:30:00Z'), waitedMs: 30 * minute, outcome: 'passed' },
        { escalationId: 'e3', startedAt: iso('2026-03-04T20:00:00Z'), endedAt: iso('2026-03-04T20:15:00Z'), waitedMs: 15 * minute, outcome: 'overridden' },
        { escalationId: 'e4', startedAt: iso('2026-03-05T09:30:00Z'), endedAt: iso('2026-03-05T09:35:00Z'), waitedMs: 5 * minute, outcome: 'recovered' },
      ],
    },
    {
      key: 'deploy',
      mode: 'shadow',
      current: deployShadow,
      previous: { ...nothing, shadow: { decidedElsewhere: 0, teamResolution: none, escalatorExhausted: 0, wouldHaveAsked: null } },
      slowest: [
        { escalationId: 'e8', startedAt: iso('2026-03-08T10:00:00Z'), endedAt: iso('2026-03-08T12:00:00Z'), waitedMs: 2 * hour, outcome: 'withdrawn' },
        { escalationId: 'e7', startedAt: iso('2026-03-07T10:00:00Z'), endedAt: iso('2026-03-07T11:00:00Z'), waitedMs: hour, outcome: 'passed' },
      ],
    },
    {
      key: 'lint',
      mode: 'live',
      current: lintThisWeek,
      previous: nothing,
      slowest: [{ escalationId: 'e6', startedAt: iso('2026-03-02T12:00:00Z'), endedAt: iso('2026-03-02T12:10:00Z'), waitedMs: 10 * minute, outcome: 'passed' }],
    },
  ],
};

const engines = [
  { name: 'SQLite', open: async (dir: string) => ({ sqliteFile: join(dir, 'outcomes.sqlite') }) },
  { name: 'PostgreSQL', open: async (dir: string) => ({ databaseUrl: await createDatabase(inject('postgresUrl')), sqliteFile: join(dir, 'unused.sqlite') }) },
];

describe.each(engines)('gate metrics from the outcome store on $name', (engine) => {
  let dir: string;
  let store: OutcomeStore;
  let database: { databaseUrl?: string; sqliteFile: string };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'escalator-metrics-'));
    database = await engine.open(dir);
    store = await openOutcomeStore(database);
    await store.migrate();
    for (const escalation of scripted) await record(store, escalation);
  });
  afterAll(async () => {
    await store?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const report = (query: Record<string, string>) => createGateMetrics({ store, policy: () => policy })(metricsQuerySchema.parse(query));

  it('computes every figure per gate and mode exactly as worked out by hand, beside the week before', async () => {
    expect(await report(window)).toEqual(expectedByGate);
  });

  it('groups by team (the first asked reviewer’s), by model and by service, and filters one gate', async () => {
    const byTeam = await report({ ...window, groupBy: 'team' });
    expect(byTeam.rows.map((row) => [row.key, row.mode, row.current.raised])).toEqual([
      ['checkout', 'live', 5],
      ['checkout', 'shadow', 2],
      ['payments', 'live', 1],
    ]);
    const byModel = await report({ ...window, groupBy: 'model' });
    expect(byModel.rows.map((row) => [row.key, row.mode, row.current.raised])).toEqual([
      ['sequential', 'live', 6],
      ['sequential', 'shadow', 2],
    ]);
    expect((await report({ ...window, groupBy: 'service' })).rows.map((row) => [row.key, row.mode, row.current.raised])).toEqual([
      ['checkout', 'live', 6],
      ['checkout', 'shadow', 2],
    ]);
    const lint = await report({ ...window, gate: 'lint' });
    expect(lint.rows).toEqual([expectedByGate.rows[2]]);
  });

  it('answers GET /v1/metrics/gates with the same report, to a token with the read scope only', async () => {
    const shim = buildShim({
      escalator: undefined as never,
      tokens: new TokenRegistry([
        { identity: 'dashboard', scopes: ['read'], token: 'read-token-0123456789abcdef' },
        { identity: 'ci', scopes: ['raise'], token: 'raise-token-0123456789abcdef' },
      ]),
      checkTemporal: async () => undefined,
      gateMetrics: createGateMetrics({ store, policy: () => policy }),
    });
    try {
      const query = new URLSearchParams(window).toString();
      const read = await shim.inject({ method: 'GET', url: `/v1/metrics/gates?${query}`, headers: { authorization: 'Bearer read-token-0123456789abcdef' } });
      expect(read.statusCode).toBe(200);
      expect(JSON.parse(read.body)).toEqual(expectedByGate);
      const raiseOnly = await shim.inject({ method: 'GET', url: `/v1/metrics/gates?${query}`, headers: { authorization: 'Bearer raise-token-0123456789abcdef' } });
      expect(raiseOnly.statusCode).toBe(403);
      const bad = await shim.inject({ method: 'GET', url: '/v1/metrics/gates?window=1y&groupBy=planet', headers: { authorization: 'Bearer read-token-0123456789abcdef' } });
      expect(bad.statusCode).toBe(400);
      expect(JSON.parse(bad.body).error.details.map((d: { path: string }) => d.path).sort()).toEqual(['query.groupBy', 'query.window']);
    } finally {
      await shim.close();
    }
  });

  it('prints the same figures from escalator metrics --json, and a table with the trend and the override alert', async () => {
    const policyFile = join(dir, 'policy.yaml');
    await writeFile(policyFile, policyYaml);
    const storeFlags = database.databaseUrl ? ['--database-url', database.databaseUrl] : ['--outcomes-file', database.sqliteFile];
    const asJson = await escalator(['metrics', '--from', window.from, '--to', window.to, '--policy', policyFile, ...storeFlags, '--json']);
    expect(asJson.code, asJson.stderr).toBe(0);
    expect(json(asJson)).toEqual(expectedByGate);
    const asTable = await escalator(['metrics', '--from', window.from, '--to', window.to, '--policy', policyFile, ...storeFlags]);
    expect(asTable.code, asTable.stderr).toBe(0);
    expect(asTable.stdout).toMatch(/deploy\s*│\s*live\s*│\s*5 \(was 1\)/);
    expect(asTable.stdout).toContain('25.0% (was 0.0%) ALERT >20%');
    expect(asTable.stdout).toContain('15m / 3h (was 1h)');
    expect(asTable.stdout).toContain("deploy (shadow): the team's own way decided 1 of 2 (median 2h); 0 shadow run(s) ran out of people first; Escalator would have asked 1.5 people per run");
    const wrong = await escalator(['metrics', '--from', window.from, '--policy', policyFile, ...storeFlags]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--to: from and to go together');
  });
});

function assigned(reviewers: string[], step = 0): Record<string, unknown> & { event: string } {
  return { event: 'assigned', step, stage: { kind: 'primary' }, reviewers, deadline: '2026-12-31T00:00:00.000Z', depth: step };
}

function decided(reviewer: string, decision: 'approve' | 'reject', reason?: string): Record<string, unknown> & { event: string } {
  return { event: 'decided', reviewer, decision, channel: 'http', step: 0, ...(reason ? { reason } : {}) };
}

function wouldNotify(reviewer: string, step = 0): Record<string, unknown> & { event: string } {
  return { event: 'would-notify', reviewer, channel: 'email', purpose: 'decide', step };
}

function iso(text: string): string {
  return new Date(text).toISOString();
}

/** Writes one scripted escalation as the worker would: its events while open, its outcome once ended. */
async function record(store: OutcomeStore, s: Scripted): Promise<void> {
  const start = Date.parse(s.start);
  const at = (minutes: number) => new Date(start + minutes * minute).toISOString();
  const timeline = [
    { at: at(0), event: 'raised', gate: s.gate, service: 'checkout', severity: 'high' },
    { at: at(0), event: 'policy-snapshot', policyVersion: 'v1', gateKey: s.gate, model: 'sequential', selectedBy: 'gate', notes: [], ...(s.mode ? { mode: s.mode } : {}) },
    ...s.steps.map(([offset, entry]) => ({ at: at(offset), ...entry })),
    ...(s.end ? [{ at: at(s.end.afterMinutes), event: 'ended', outcome: s.end.outcome, reason: 'scripted' }] : []),
  ] as TimelineEntry[];
  const common = { escalationId: s.id, gate: s.gate, service: 'checkout', severity: 'high', model: 'sequential' as const, policyVersion: 'v1' };
  if (!s.end) {
    await store.recordEvents({ ...common, repository: 'acme/checkout', startedAt: at(0), fromSeq: 0, entries: timeline, decisions: [] });
    return;
  }
  const outcome: EscalationOutcome = { ...common, outcome: s.end.outcome, reason: 'scripted', postmortem: false, depth: 0, startedAt: at(0), endedAt: at(s.end.afterMinutes), decisions: [], timeline };
  await store.recordOutcome(outcome);
}
