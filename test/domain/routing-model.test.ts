import { describe, expect, it } from 'vitest';
import { rankingAccuracy } from '../../domain/routing-model/accuracy.js';
import { routingExample } from '../../domain/routing-model/examples.js';
import { fitConditionalLogit, type RoutingExample } from '../../domain/routing-model/fit.js';
import { handWeightedModel } from '../../domain/routing-model/model.js';
import { modelFactors, retrainRoutingModel } from '../../domain/routing-model/retrain.js';
import { scoreCandidates } from '../../domain/routing.js';

// mulberry32: seeded, so the synthetic escalations are the same on every run.
function generator(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Escalations whose decider is drawn from softmax(true weights · values) over 8 candidates with 3 factors. */
function simulated(count: number, weights: number[], seed: number): RoutingExample[] {
  const random = generator(seed);
  return Array.from({ length: count }, (_, n) => {
    const candidates = Array.from({ length: 8 }, (_, i) => ({ person: `p${i}`, values: weights.map(() => random()) }));
    const odds = candidates.map((c) => Math.exp(c.values.reduce((sum, x, i) => sum + x * weights[i]!, 0)));
    let draw = random() * odds.reduce((a, b) => a + b, 0);
    const decider = candidates.find((_, i) => (draw -= odds[i]!) <= 0) ?? candidates.at(-1)!;
    return { escalationId: `e${n}`, candidates, positives: [decider.person] };
  });
}

describe('fitting routing weights (conditional logit)', () => {
  it('recovers the weights that generated who decided, sign and size', () => {
    const fit = fitConditionalLogit(simulated(3000, [3, -1.5, 0], 7), 3, [], { l2: 1e-4, maxSteps: 25, tolerance: 1e-9 });
    expect(fit.examples).toBe(3000);
    expect(fit.weights[0]).toBeCloseTo(3, 0);
    expect(fit.weights[1]).toBeCloseTo(-1.5, 0);
    expect(Math.abs(fit.weights[2]!)).toBeLessThan(0.3);
  });

  it('gives the same weights for the same escalations, and leaves a factor that never varies at its starting weight', () => {
    const examples = simulated(500, [2, 0, 0], 11).map((example) => ({ ...example, candidates: example.candidates.map((c) => ({ ...c, values: [c.values[0]!, 0.5, 0] })) }));
    const first = fitConditionalLogit(examples, 3, [1, 4, 2]);
    const second = fitConditionalLogit(examples, 3, [1, 4, 2]);
    expect(second.weights).toEqual(first.weights);
    expect(first.weights[1]).toBeCloseTo(4, 6);
    expect(first.weights[2]).toBeCloseTo(2, 6);
    expect(first.weights[0]).toBeGreaterThan(1.2);
  });

  it('learns nothing from escalations with a single candidate or with no decider among them', () => {
    const lonely: RoutingExample = { escalationId: 'a', candidates: [{ person: 'x', values: [1] }], positives: ['x'] };
    const undecided: RoutingExample = { escalationId: 'b', candidates: [{ person: 'x', values: [1] }, { person: 'y', values: [0] }], positives: ['z'] };
    expect(fitConditionalLogit([lonely, undecided], 1, [0.5])).toEqual({ weights: [0.5], logLikelihood: 0, steps: 0, examples: 0 });
  });
});

describe('measuring and retraining routing', () => {
  const example = (positives: string[], rows: Record<string, number[]>): RoutingExample => ({ escalationId: positives.join(), candidates: Object.entries(rows).map(([person, values]) => ({ person, values })), positives });

  it('measures top-1, top-3 and MRR of weights on recorded factor values, ties in candidate order', () => {
    const examples = [example(['b'], { a: [1], b: [0.5], c: [0] }), example(['a'], { a: [1], b: [0] }), example(['d'], { a: [0], b: [0], c: [0], d: [0] }), example(['nobody'], { a: [1] })];
    expect(rankingAccuracy(examples, [1])).toEqual({ escalations: 3, top1: 1 / 3, top3: 2 / 3, mrr: (1 / 2 + 1 + 1 / 4) / 3 });
  });

  it('keeps the fitted model when it is not worse on the last period, and the current one when it is', () => {
    const index = (factor: string) => modelFactors.indexOf(factor as (typeof modelFactors)[number]);
    const lift = (examples: RoutingExample[], factor: string, weightIndex: number) =>
      examples.map((e) => ({ ...e, candidates: e.candidates.map((c) => ({ ...c, values: modelFactors.map((_, i) => (i === index(factor) ? c.values[weightIndex]! : 0)) })) }));
    // Who decides follows `approvals` strongly and `load` not at all; the hand-set model weighs load only.
    const truth = [0, 4, 0];
    const training = lift(simulated(800, truth, 3), 'approvals', 1);
    const period = lift(simulated(200, truth, 4), 'approvals', 1);
    const loadOnly = { ...handWeightedModel, weights: Object.fromEntries(modelFactors.map((f) => [f, f === 'load' ? 1 : 0])) as typeof handWeightedModel.weights };
    const better = retrainRoutingModel({ current: loadOnly, training, period: { from: '2026-01-01T00:00:00Z', to: '2026-01-08T00:00:00Z', examples: period }, at: '2026-01-08T00:00:00Z', version: 'fit-1' });
    expect(better.kept).toBe('candidate');
    expect(better.candidate.weights.approvals).toBeGreaterThan(2);
    expect(better.accuracy.candidate.mrr).toBeGreaterThan(better.accuracy.current.mrr);
    expect(better.reason).toMatch(/^not worse on 200 escalation\(s\)/);

    // Fitted on escalations where the opposite held, the new model ranks this period worse: the current one stays.
    const misleading = training.map((e) => ({ ...e, positives: [e.candidates.reduce((low, c) => (c.values[index('approvals')]! < low.values[index('approvals')]! ? c : low)).person] }));
    const worse = retrainRoutingModel({ current: better.candidate, training: misleading, period: { from: '2026-01-08T00:00:00Z', to: '2026-01-15T00:00:00Z', examples: period }, at: '2026-01-15T00:00:00Z', version: 'fit-2' });
    expect(worse.kept).toBe('current');
    expect(worse.reason).toMatch(/^worse on 200/);

    const nothing = retrainRoutingModel({ current: better.candidate, training, period: { from: '2026-01-15T00:00:00Z', to: '2026-01-22T00:00:00Z', examples: [] }, at: '2026-01-22T00:00:00Z', version: 'fit-3' });
    expect(nothing).toMatchObject({ kept: 'current', reason: 'no routed escalation with a decision in the period to measure on', reassignRate: 0 });
  });

  it('turns what routing kept into an example: factors in model order, deciders and reassignment targets right', () => {
    const features = { escalationId: 'e1', routedAt: '2026-01-01T00:00:00Z', model: 'hand-1', factors: ['load', 'expertise'], candidates: { alice: [0.5, 1], bob: [1, 0], carol: [0.2, 0.1] } };
    const built = routingExample(features, ['bob'], ['carol', 'zed']);
    expect(built.positives).toEqual(['bob', 'carol']);
    expect(built.reassigned).toBe(true);
    expect(built.candidates.find((c) => c.person === 'alice')!.values).toEqual(modelFactors.map((f) => (f === 'load' ? 0.5 : f === 'expertise' ? 1 : 0)));
  });
});

describe('load spreading', () => {
  const inputs = (within?: number) => ({
    candidates: ['ann', 'ben', 'cat'],
    routeBy: ['approvals' as const],
    pick: 1,
    severity: 'low' as const,
    author: 'mallory',
    people: {},
    facts: {},
    ownership: {},
    medianResponseMs: {},
    load: { ann: 4, ben: 0, cat: 0 },
    approvals: { ann: 10, ben: 9.5, cat: 2 },
    model: { ...handWeightedModel, weights: { ...handWeightedModel.weights, approvals: 2 } },
    ...(within === undefined ? {} : { spreadLoad: { within } }),
  });

  it('asks the best candidate without it, and the least loaded of those near enough to the best with it', () => {
    expect(scoreCandidates(inputs()).chosen).toEqual(['ann']);
    // ben scores 1.9 beside ann's 2: exp(-0.1) ≈ 0.90 as likely, within 20 %; cat (0.4) is not.
    const spread = scoreCandidates(inputs(0.2));
    expect(spread.chosen).toEqual(['ben']);
    expect(spread.ranked).toEqual(['ben', 'ann', 'cat']);
    expect(scoreCandidates(inputs(0.05)).chosen).toEqual(['ann']);
  });
});
