/**
 * `npm run bench:routing [-- --escalations 100000 --candidates 100 --routes 2000]`: the latency of
 * routing one change through the worker's routing path — the routing activity's function on an outcome
 * store (SQLite in a temporary directory) holding `--escalations` decided escalations. A synthetic
 * repository (1,000 folders) and 300 reviewers who each keep to a few folders; each stored escalation
 * is one change of 1 to 40 files (a few sweeping ones of 300) approved by one reviewer over two
 * years. Then `--routes` changes drawn the same way are each routed among `--candidates` people, with
 * every factor the store can feed (expertise, approvals, recency, response time, load) — including
 * the write of each routing's factor values that retraining reads. Prints the seeding time, the first
 * routing (which learns the whole history into memory), the heap that memory holds, and p50/p99/max
 * of one routing after it. Seeded: the same arguments give the same workload.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openOutcomeStore } from '../adapters/outcome-store/store.js';
import { createRouter } from '../adapters/routing/store-router.js';
import type { EscalationOutcome, TimelineEntry } from '../domain/escalation.js';
import { gateFailureSchema } from '../domain/gate-failure.js';
import { gateFailure } from '../test/helpers/gate-failure.js';

const { values: args } = parseArgs({ options: { escalations: { type: 'string', default: '100000' }, candidates: { type: 'string', default: '100' }, routes: { type: 'string', default: '2000' } } });
const escalationCount = Number(args.escalations);
const candidateCount = Number(args.candidates);
const routeCount = Number(args.routes);

// mulberry32: a small seeded generator, so runs compare.
let seed = 13;
function random(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const folders = Array.from({ length: 1000 }, (_, i) => `svc${i % 10}/module${Math.floor(i / 10) % 10}/pkg${Math.floor(i / 100)}`);
const reviewers = Array.from({ length: 300 }, (_, i) => ({ id: `reviewer${i}`, folders: Array.from({ length: 5 }, () => pick(folders)) }));
const services = ['checkout', 'payments', 'search', 'catalog', 'accounts'];

function change(): string[] {
  const size = random() < 0.01 ? 300 : 1 + Math.floor(random() ** 3 * 40);
  const home = pick(folders);
  return Array.from({ length: size }, () => `${random() < 0.8 ? home : pick(folders)}/File${Math.floor(random() * 20)}.java`);
}

const DAY = 86_400_000;
const now = Date.parse('2026-06-01T00:00:00Z');
const dir = await mkdtemp(join(tmpdir(), 'escalator-bench-routing-'));
const store = await openOutcomeStore({ sqliteFile: join(dir, 'outcomes.sqlite') });
await store.migrate();
try {
  let started = performance.now();
  for (let i = 0; i < escalationCount; i++) {
    const reviewer = pick(reviewers);
    const files = change().map((path) => (random() < 0.7 ? `${pick(reviewer.folders)}/${path.split('/').pop()}` : path));
    const start = now - 730 * DAY + (i / escalationCount) * 730 * DAY;
    const at = (minutes: number) => new Date(start + minutes * 60_000).toISOString();
    const id = `bench-${i}`;
    const service = pick(services);
    await store.recordChangedFiles(id, 'acme/mono', files);
    const timeline = [
      { at: at(0), event: 'raised', gate: 'review', service, severity: 'high' },
      { at: at(0), event: 'assigned', step: 0, stage: { kind: 'primary' }, reviewers: [reviewer.id], deadline: at(60), depth: 0 },
      { at: at(5 + random() * 50), event: 'decided', reviewer: reviewer.id, decision: 'approve', channel: 'http', step: 0 },
    ] as TimelineEntry[];
    const decidedAt = timeline[2]!.at;
    timeline.push({ at: decidedAt, event: 'ended', outcome: 'passed', reason: 'approved' } as TimelineEntry);
    const outcome: EscalationOutcome = {
      escalationId: id,
      outcome: 'passed',
      reason: 'approved',
      postmortem: false,
      gate: 'review',
      service,
      severity: 'high',
      model: 'dynamic',
      depth: 0,
      policyVersion: 'bench',
      startedAt: at(0),
      endedAt: decidedAt,
      decisions: [{ reviewer: reviewer.id, decision: 'approve', channel: 'http', at: decidedAt, step: 0, stage: { kind: 'primary' } }],
      timeline,
    };
    await store.recordOutcome(outcome);
  }
  const seedMs = performance.now() - started;

  const router = createRouter(store);
  const route = (n: number) => {
    const candidates = Array.from(new Set(Array.from({ length: candidateCount * 2 }, () => pick(reviewers).id))).slice(0, candidateCount);
    const failure = gateFailureSchema.parse(gateFailure({ gate: { name: 'review', kind: 'review' }, service: pick(services), repository: 'acme/mono', change: { ...gateFailure().change, changedFiles: change() } }));
    return router({
      escalationId: `route-${n}`,
      at: new Date(now + n * 1000).toISOString(),
      failure,
      plan: { gateKey: 'review', candidates, routeBy: ['expertise', 'approvals', 'recency', 'responseHistory', 'load'], pick: 1, codeowners: null, coldStart: { model: 'sequential', minHistory: 5 }, people: {}, facts: {} },
    });
  };
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  started = performance.now();
  await route(0);
  const firstMs = performance.now() - started;
  global.gc?.();
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;

  const latencies: number[] = [];
  for (let n = 1; n <= routeCount; n++) {
    started = performance.now();
    await route(n);
    latencies.push(performance.now() - started);
  }
  latencies.sort((a, b) => a - b);
  const quantile = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  console.log(`${escalationCount.toLocaleString('en-US')} decided escalations stored in ${(seedMs / 1000).toFixed(1)} s (SQLite)`);
  console.log(`first routing (learns them all into memory): ${(firstMs / 1000).toFixed(2)} s, about ${Math.round(heapMb)} MB of heap${global.gc ? '' : ' (without --expose-gc)'}`);
  console.log(`routing one change among ${candidateCount} candidates, ${routeCount} changes: p50 ${quantile(0.5).toFixed(2)} ms, p99 ${quantile(0.99).toFixed(2)} ms, max ${quantile(1).toFixed(2)} ms`);
} finally {
  await store.close();
  await rm(dir, { recursive: true, force: true });
}
