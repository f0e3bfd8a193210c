/**
 * `npx tsx bench/routing.ts [--reviews 100000] [--candidates 100] [--routes 2000]`: the latency of
 * routing one change by path expertise with a large index. A synthetic repository (4 levels of
 * folders, 20,000 files) and 300 reviewers who each keep to a few folders; `--reviews` past reviews
 * of 1 to 40 files (a few sweeping ones of 300) are learned by the expertise ranking (an `ExpertiseIndex`), then `--routes`
 * changes drawn the same way are each ranked among `--candidates` people. Prints the build time, the
 * heap the index holds, and p50/p99/max of one routing (affinity, approval counts, sort). Seeded: the
 * same arguments give the same workload.
 */
import { parseArgs } from 'node:util';
import { expertiseRanker } from '../domain/routing-replay/expertise-ranker.js';

const { values: args } = parseArgs({ options: { reviews: { type: 'string', default: '100000' }, candidates: { type: 'string', default: '100' }, routes: { type: 'string', default: '2000' } } });
const reviewCount = Number(args.reviews);
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

function change(): string[] {
  const size = random() < 0.01 ? 300 : 1 + Math.floor(random() ** 3 * 40);
  const home = pick(folders);
  return Array.from({ length: size }, () => `${random() < 0.8 ? home : pick(folders)}/File${Math.floor(random() * 20)}.java`);
}

const DAY = 86_400_000;
const ranker = expertiseRanker();
const heapBefore = process.memoryUsage().heapUsed;
let started = performance.now();
for (let i = 0; i < reviewCount; i++) {
  const reviewer = pick(reviewers);
  const paths = change().map((path) => (random() < 0.7 ? `${pick(reviewer.folders)}/${path.split('/').pop()}` : path));
  const review = { reviewer: reviewer.id, paths, at: (i / reviewCount) * 730 * DAY };
  ranker.learn(review);
}
const buildMs = performance.now() - started;
global.gc?.();
const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;

const latencies: number[] = [];
for (let i = 0; i < routeCount; i++) {
  const candidates = Array.from(new Set(Array.from({ length: candidateCount * 2 }, () => pick(reviewers).id))).slice(0, candidateCount);
  const paths = change();
  started = performance.now();
  ranker.rank({ paths, at: 731 * DAY }, candidates);
  latencies.push(performance.now() - started);
}
latencies.sort((a, b) => a - b);
const quantile = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
console.log(`${reviewCount.toLocaleString('en-US')} reviews indexed in ${(buildMs / 1000).toFixed(1)} s (about ${Math.round(heapMb)} MB of heap${global.gc ? '' : ', without --expose-gc'})`);
console.log(`routing one change among ${candidateCount} candidates, ${routeCount} changes: p50 ${quantile(0.5).toFixed(2)} ms, p99 ${quantile(0.99).toFixed(2)} ms, max ${quantile(1).toFixed(2)} ms`);
