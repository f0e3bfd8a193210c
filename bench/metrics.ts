/**
 * `npm run bench:metrics -- [--escalations 100000] [--engine sqlite|postgres|both]`: the cost of the
 * per-gate metrics report over a large outcome store. Seeds the store (escalations spread over 90
 * days, 20 gates, 40 people, 6 timeline entries each) with bulk inserts, then times the report for
 * the last 7, 30 and 90 days (five runs each, the median printed): the two window reads and the
 * computation, as GET /v1/metrics/gates does them. PostgreSQL is started for the run (scripts/postgres.ts).
 * Seeded: the same arguments give the same data.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createGateMetrics } from '../adapters/gate-metrics.js';
import type { SqlEngine, SqlValue } from '../adapters/outcome-store/engine.js';
import { openPostgresEngine } from '../adapters/outcome-store/postgres.js';
import { openSqliteEngine } from '../adapters/outcome-store/sqlite.js';
import { openOutcomeStore } from '../adapters/outcome-store/store.js';
import { metricsReport } from '../domain/metrics/compute.js';
import { metricsQuerySchema, windowsOf } from '../domain/metrics/query.js';
import { parsePolicy } from '../domain/policy-parser.js';
import { startPostgres } from '../scripts/postgres.js';

const { values: args } = parseArgs({ options: { escalations: { type: 'string', default: '100000' }, engine: { type: 'string', default: 'both' } } });
const count = Number(args.escalations);
const DAY = 86_400_000;
const now = new Date('2026-12-01T00:00:00Z');

let seed = 7;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const people = Array.from({ length: 40 }, (_, i) => `person${i}`);
const gates = Array.from({ length: 20 }, (_, i) => `gate${i}`);
const policy = parsePolicy(
  `version: 1\npeople:\n${people.map((p, i) => `  ${p}: { email: ${p}@example.com, team: team${i % 5} }`).join('\n')}\ngates:\n${gates.map((g) => `  ${g}: { model: sequential, costPerHour: 50, chain: [{ reviewers: [person0], timeout: 1h }] }`).join('\n')}\n`,
  'bench.yaml',
).policy;

async function seedStore(engine: SqlEngine): Promise<void> {
  seed = 7;
  const outcomes = ['passed', 'passed', 'passed', 'blocked', 'overridden', 'recovered'];
  let escalationRows: SqlValue[][] = [];
  let eventRows: SqlValue[][] = [];
  const flush = async () => {
    await engine.transaction(async (tx) => {
      for (const rows of chunks(escalationRows, 500)) {
        await tx.run(`INSERT INTO escalations (escalation_id, gate, service, repository, severity, model, policy_version, started_at, ended_at, outcome, reason, depth, postmortem) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`, rows.flat());
      }
      for (const rows of chunks(eventRows, 1000)) {
        await tx.run(`INSERT INTO escalation_events (escalation_id, seq, at, kind, actor, detail) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?)').join(', ')}`, rows.flat());
      }
    });
    escalationRows = [];
    eventRows = [];
  };
  for (let i = 0; i < count; i++) {
    const id = `bench-${i}`;
    const gate = gates[Math.floor(random() * gates.length)]!;
    const started = now.getTime() - random() * 90 * DAY;
    const waited = Math.floor(random() ** 2 * 8 * 3_600_000);
    const reviewer = people[Math.floor(random() * people.length)]!;
    const outcome = outcomes[Math.floor(random() * outcomes.length)]!;
    const at = (ms: number) => new Date(started + ms).toISOString();
    escalationRows.push([id, gate, 'svc', 'acme/svc', 'high', 'sequential', 'v1', at(0), at(waited), outcome, 'bench', 0, false]);
    const events: Array<[string, string | null, object]> = [
      ['raised', null, { gate, service: 'svc', severity: 'high' }],
      ['policy-snapshot', null, { policyVersion: 'v1', gateKey: gate, model: 'sequential', selectedBy: 'gate', notes: [] }],
      ['assigned', null, { step: 0, stage: { kind: 'primary' }, reviewers: [reviewer], deadline: at(3_600_000), depth: 0 }],
      ['notified', reviewer, { reviewer, channel: 'email', messageId: `<${id}>`, step: 0 }],
      outcome === 'recovered' ? ['recovered', null, {}] : ['decided', reviewer, { reviewer, decision: outcome === 'blocked' ? 'reject' : 'approve', channel: 'http', step: 0 }],
      ['ended', null, { outcome, reason: 'bench' }],
    ];
    events.forEach(([kind, actor, detail], seq) => eventRows.push([id, seq, at(seq === 0 ? 0 : waited), kind, actor, JSON.stringify(detail)]));
    if (escalationRows.length >= 5000) await flush();
  }
  await flush();
}

function chunks<T>(items: T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

async function measure(name: string, open: () => Promise<{ engine: SqlEngine; databaseUrl?: string; sqliteFile: string }>): Promise<void> {
  const target = await open();
  const seedStart = performance.now();
  const store = await openOutcomeStore({ sqliteFile: target.sqliteFile, ...(target.databaseUrl ? { databaseUrl: target.databaseUrl } : {}) });
  await store.migrate();
  await seedStore(target.engine);
  const seeded = performance.now() - seedStart;
  const report = createGateMetrics({ store, policy: () => policy, now: () => now });
  const rows: string[] = [];
  for (const window of ['7d', '30d', '90d'] as const) {
    const times: number[] = [];
    let escalations = 0;
    for (let run = 0; run < 5; run++) {
      const started = performance.now();
      const result = await report(metricsQuerySchema.parse({ window }));
      times.push(performance.now() - started);
      escalations = result.rows.reduce((sum, row) => sum + row.current.raised, 0);
    }
    times.sort((a, b) => a - b);
    // The same report in its two parts: reading both windows from the store, and computing.
    const query = metricsQuerySchema.parse({ window });
    const windows = windowsOf(query, now);
    const readStart = performance.now();
    const [current, previous] = await Promise.all([windows.current, windows.previous].map((w) => store.metricFacts({ from: w.from.toISOString(), to: w.to.toISOString() })));
    const read = performance.now() - readStart;
    const computeStart = performance.now();
    metricsReport({ query, window: windows.current, previousWindow: windows.previous, current: current!, previous: previous!, policy });
    const compute = performance.now() - computeStart;
    rows.push(`| ${name} | ${window} | ${escalations} | ${times[2]!.toFixed(0)} ms | ${times[4]!.toFixed(0)} ms | ${read.toFixed(0)} ms + ${compute.toFixed(0)} ms |`);
  }
  process.stdout.write(`${name}: seeded ${count} escalations in ${(seeded / 1000).toFixed(1)} s\n`);
  process.stdout.write(`${rows.join('\n')}\n`);
  await store.close();
  await target.engine.close();
}

const dir = await mkdtemp(join(tmpdir(), 'escalator-bench-metrics-'));
process.stdout.write(`| engine | window | escalations in window | median of 5 | slowest | one more: read + compute |\n| --- | --- | --- | --- | --- | --- |\n`);
try {
  if (args.engine !== 'postgres') {
    const sqliteFile = join(dir, 'outcomes.sqlite');
    await measure('SQLite', async () => ({ engine: await openSqliteEngine(sqliteFile), sqliteFile }));
  }
  if (args.engine !== 'sqlite') {
    const postgres = await startPostgres({ log: () => {} });
    try {
      await measure('PostgreSQL', async () => ({ engine: await openPostgresEngine(postgres.url), databaseUrl: postgres.url, sqliteFile: join(dir, 'unused.sqlite') }));
    } finally {
      await postgres.stop();
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
