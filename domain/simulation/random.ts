import type { Distribution } from './team.js';

/**
 * Seeded randomness for the simulator; nothing here reads Math.random or the clock, so a seed
 * reproduces a run exactly.
 *
 * Every draw comes from a stream keyed by what it is about (one arrival, one person's answer to one
 * request of one escalation), not from a single generator consumed in event order. The models of
 * `--compare` then see the same failures, and the same person asked the same thing answers the same
 * way in each, so their differences come from the model and not from luck (common random numbers).
 */
export type Random = () => number;

/** A 32-bit seed for the stream named by `keys` (murmur3's finaliser over each key in turn). */
export function streamSeed(seed: number, ...keys: number[]): number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const key of keys) {
    h = Math.imul(h ^ (key >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** mulberry32: tiny and fast; a stream draws a handful of numbers, far below its period of 2^32 (not for secrets). */
export function randomStream(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a name: stream keys for people and gates, stable whatever order a file lists them in. */
export function hashText(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** One draw from the distribution, in milliseconds (never negative). */
export function sample(distribution: Distribution, random: Random): number {
  if (distribution.fixed !== undefined) return distribution.fixed;
  if (distribution.lognormal) {
    const { median, spread } = distribution.lognormal;
    return median * Math.exp(spread * standardNormal(random));
  }
  if (distribution.exponential) return -distribution.exponential.mean * Math.log(1 - random());
  const { min, max } = distribution.uniform!;
  return min + (max - min) * random();
}

/** The value below which half the draws fall: what a person "usually" takes. */
export function medianOf(distribution: Distribution): number {
  if (distribution.fixed !== undefined) return distribution.fixed;
  if (distribution.lognormal) return distribution.lognormal.median;
  if (distribution.exponential) return distribution.exponential.mean * Math.LN2;
  return (distribution.uniform!.min + distribution.uniform!.max) / 2;
}

/** An item chosen with probability proportional to its weight; the weights need not sum to 1. */
export function pickWeighted<T>(items: ReadonlyArray<{ value: T; weight: number }>, random: Random): T {
  const total = items.reduce((sum, item) => sum + item.weight, 0);
  let point = random() * total;
  for (const item of items) {
    point -= item.weight;
    if (point < 0) return item.value;
  }
  return items.at(-1)!.value;
}

/** An exponential gap with the given rate (events per millisecond): the next Poisson arrival. */
export function exponentialGap(ratePerMs: number, random: Random): number {
  return -Math.log(1 - random()) / ratePerMs;
}

/** Box–Muller; one of the pair is thrown away so a draw always uses exactly two uniforms. */
function standardNormal(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
