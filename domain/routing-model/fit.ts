/**
 * One routed escalation as learning sees it: every candidate scored, with their factor values in the
 * order of `factors`, and who turned out to be right (decided, or was handed the escalation by a
 * reassignment).
 */
export interface RoutingExample {
  escalationId: string;
  candidates: Array<{ person: string; values: number[] }>;
  positives: string[];
  /** Someone handed the escalation on to another person. */
  reassigned?: boolean;
}

/** How the fit behaves; the defaults suit a few hundred to a few thousand examples. */
export interface FitOptions {
  /**
   * L2 penalty per example on the weights' distance from the starting weights: keeps them finite when
   * a factor separates the data perfectly, and leaves a factor the examples never vary where it was.
   */
  l2: number;
  /** Newton steps at most; the fit stops earlier once the log-likelihood gains less than `tolerance` per example. */
  maxSteps: number;
  tolerance: number;
}

export const defaultFitOptions: FitOptions = { l2: 0.01, maxSteps: 25, tolerance: 1e-7 };

/** The fitted weights (one per factor) and how well they explain the examples. */
export interface FitResult {
  weights: number[];
  /** Mean log-likelihood per example of who decided, at the weights. */
  logLikelihood: number;
  steps: number;
  /** Examples used: those with at least one positive and one other candidate. */
  examples: number;
}

/**
 * Fits a conditional logit (McFadden's choice model; listwise learning to rank): the chance that a
 * candidate is the one who decides is softmax(w · x) over the escalation's candidates, and the weights
 * maximise the likelihood of the observed deciders (any of several positives counts), minus an L2
 * penalty towards the starting weights (the model in use). The problem is concave, so Newton's method with step halving converges in a few steps and
 * gives the same weights for the same examples: no randomness, no learning rate to tune.
 */
export function fitConditionalLogit(examples: readonly RoutingExample[], factorCount: number, start: readonly number[] = [], options: FitOptions = defaultFitOptions): FitResult {
  const usable = examples.filter((example) => example.candidates.length > 1 && example.candidates.some((c) => example.positives.includes(c.person)));
  let weights = Array.from({ length: factorCount }, (_, i) => start[i] ?? 0);
  if (usable.length === 0) return { weights, logLikelihood: 0, steps: 0, examples: 0 };
  const data = usable.map((example) => {
    const positive = new Set(example.positives);
    return { values: example.candidates.map((c) => c.values), positive: example.candidates.map((c) => positive.has(c.person)) };
  });
  const penalty = options.l2 * data.length;
  const prior = [...weights];
  let current = evaluate(data, weights, prior, penalty);
  let steps = 0;
  for (; steps < options.maxSteps; steps++) {
    const direction = solve(current.hessian, current.gradient);
    if (!direction) break;
    let scale = 1;
    let next = evaluate(data, weights.map((w, i) => w + direction[i]!), prior, penalty);
    while (next.objective < current.objective && scale > 1e-6) {
      scale /= 2;
      next = evaluate(data, weights.map((w, i) => w + scale * direction[i]!), prior, penalty);
    }
    if (next.objective < current.objective) break;
    const gain = (next.objective - current.objective) / data.length;
    weights = next.weights;
    current = next;
    if (gain < options.tolerance) break;
  }
  return { weights, logLikelihood: current.logLikelihood / data.length, steps, examples: data.length };
}

interface Evaluation {
  weights: number[];
  objective: number;
  logLikelihood: number;
  gradient: number[];
  /** The negated Hessian (positive definite), so that a Newton step solves hessian · d = gradient. */
  hessian: number[][];
}

/**
 * The penalised log-likelihood, its gradient and negated Hessian. Per example, with p the softmax over
 * all candidates and q the softmax over the positives: gradient E_q[x] − E_p[x], negated Hessian
 * Cov_p[x] − Cov_q[x] (positive semi-definite for a concave problem; the penalty makes it definite).
 */
function evaluate(data: ReadonlyArray<{ values: number[][]; positive: boolean[] }>, weights: number[], prior: readonly number[], penalty: number): Evaluation {
  const factorCount = weights.length;
  const gradient = weights.map((w, i) => -2 * penalty * (w - prior[i]!));
  const hessian = Array.from({ length: factorCount }, (_, i) => Array.from({ length: factorCount }, (_, j) => (i === j ? 2 * penalty : 0)));
  let logLikelihood = 0;
  for (const { values, positive } of data) {
    const scores = values.map((row) => row.reduce((sum, x, i) => sum + x * weights[i]!, 0));
    const top = Math.max(...scores);
    const all = moments(values, scores, top, () => true, factorCount);
    const pos = moments(values, scores, top, (index) => positive[index]!, factorCount);
    logLikelihood += Math.log(pos.mass) - Math.log(all.mass);
    for (let i = 0; i < factorCount; i++) {
      gradient[i]! += pos.mean[i]! - all.mean[i]!;
      for (let j = 0; j < factorCount; j++) hessian[i]![j]! += all.second[i]![j]! - all.mean[i]! * all.mean[j]! - (pos.second[i]![j]! - pos.mean[i]! * pos.mean[j]!);
    }
  }
  const objective = logLikelihood - penalty * weights.reduce((sum, w, i) => sum + (w - prior[i]!) ** 2, 0);
  return { weights, objective, logLikelihood, gradient, hessian };
}

/** Softmax-weighted first and second moments of the rows `included` picks (scores shifted by `top` for stability). */
function moments(values: number[][], scores: number[], top: number, included: (index: number) => boolean, n: number) {
  let mass = 0;
  const mean = new Array<number>(n).fill(0);
  const second = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  values.forEach((row, index) => {
    if (!included(index)) return;
    const weight = Math.exp(scores[index]! - top);
    mass += weight;
    for (let i = 0; i < n; i++) {
      mean[i]! += weight * row[i]!;
      for (let j = 0; j < n; j++) second[i]![j]! += weight * row[i]! * row[j]!;
    }
  });
  for (let i = 0; i < n; i++) {
    mean[i]! /= mass;
    for (let j = 0; j < n; j++) second[i]![j]! /= mass;
  }
  return { mass, mean, second };
}

/** Solves a · x = b by Gaussian elimination with partial pivoting; undefined when a is singular. */
function solve(a: readonly number[][], b: readonly number[]): number[] | undefined {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++) if (Math.abs(m[row]![col]!) > Math.abs(m[pivot]![col]!)) pivot = row;
    if (Math.abs(m[pivot]![col]!) < 1e-12) return undefined;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let row = col + 1; row < n; row++) {
      const factor = m[row]![col]! / m[col]![col]!;
      for (let k = col; k <= n; k++) m[row]![k]! -= factor * m[col]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let row = n - 1; row >= 0; row--) {
    let sum = m[row]![n]!;
    for (let k = row + 1; k < n; k++) sum -= m[row]![k]! * x[k]!;
    x[row] = sum / m[row]![row]!;
  }
  return x;
}
