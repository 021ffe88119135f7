import { ExplainError } from '../../rewriter/errors';
import type { AttributionResult } from '../explainer';
import { shuffled, uniform } from '../random';
import { weightedLeastSquares } from '../least-squares';
import { coalition, rowGroups, spread } from './coalitions';
import { fillPerRow, perturber } from './perturbation';
import { samplesOption } from './noise-tunnel';
import { Driver } from './types';

/** Exact Shapley values enumerate 2^G coalitions per row: at most this many groups. */
const MAX_EXACT_GROUPS = 16;

/**
 * Captum's ShapleyValues, exact: φ_g = Σ over coalitions S without g of
 * |S|!(G − |S| − 1)!/G! · (f(S ∪ {g}) − f(S)), where f(S) is the model with the groups outside S
 * replaced by the fill (zeros, a constant, or the baseline). Enumerates the 2^G coalitions of each
 * row (the full one is x); Σ_g φ_g = f(x) − f(∅) exactly.
 */
export const shapleyValues: Driver = {
  perturbs: true,
  perturbsInput: true,
  async attribute(ex, x, options): Promise<AttributionResult> {
    const byRow = rowGroups(x, options);
    const most = Math.max(...byRow.map((g) => g.length));
    if (most > MAX_EXACT_GROUPS) throw new ExplainError(`shapley-values: ${most} feature groups need 2^${most} forward runs per row (at most ${MAX_EXACT_GROUPS} groups); give a coarser feature mask or use shapley-value-sampling`);
    const p = await perturber(ex, x, options, fillPerRow(ex, options));
    const jobs = byRow.flatMap((groups, r) => Array.from({ length: 2 ** groups.length - 1 }, (_, s) => ({ r, s })));
    const values = await p.values(jobs.length, (j) => coalition(byRow[jobs[j].r], jobs[j].r, (g) => ((jobs[j].s >> g) & 1) === 1));
    let at = 0;
    const phi = byRow.map((groups, r) => {
      const count = groups.length;
      const v = Float64Array.from({ length: 2 ** count }, (_, s) => (s === 2 ** count - 1 ? p.original[r] : values[at + s]));
      at += 2 ** count - 1;
      // The weight of a coalition of each size, and each coalition's size, computed once.
      const factorial = (k: number): number => (k <= 1 ? 1 : k * factorial(k - 1));
      const weight = Array.from({ length: count }, (_, size) => (factorial(size) * factorial(count - size - 1)) / factorial(count));
      const size = new Uint8Array(2 ** count);
      for (let s = 1; s < 2 ** count; s++) size[s] = size[s >> 1] + (s & 1);
      return Float64Array.from(groups, (_, g) => {
        let sum = 0;
        for (let s = 0; s < 2 ** count; s++) if (!((s >> g) & 1)) sum += weight[size[s]] * (v[s | (1 << g)] - v[s]);
        return sum;
      });
    });
    return { attributions: { data: spread(x, byRow, phi), dims: [...x.dims] }, outputs: p.outputs, targets: p.targets };
  },
};

/**
 * Captum's ShapleyValueSampling: `samples` random orders of each row's groups (default 25, Captum's
 * n_samples; Fisher–Yates from the seeded generator of runtime/random.ts, row by row); along an
 * order the groups join one by one, starting from every group replaced by the fill, and each gets
 * the change of f when it joins; φ is the mean over the orders. Each order ends at x, so
 * Σ_g φ_g = f(x) − f(∅) exactly. One forward for the empty coalition and G − 1 per order and row.
 */
export const shapleyValueSampling: Driver = {
  perturbs: true,
  perturbsInput: true,
  async attribute(ex, x, options): Promise<AttributionResult> {
    const samples = samplesOption(options, 25);
    const byRow = rowGroups(x, options);
    const next = uniform(options.seed ?? 0);
    const orders = byRow.map((groups) => Array.from({ length: samples }, () => shuffled(groups.length, next)));
    const p = await perturber(ex, x, options, fillPerRow(ex, options));
    // Per row: the empty coalition, then the first k groups of each order for k = 1 … G − 1.
    const jobs = byRow.flatMap((groups, r) => [{ r, o: 0, k: 0 }, ...orders[r].flatMap((_, o) => Array.from({ length: groups.length - 1 }, (_, k) => ({ r, o, k: k + 1 })))]);
    const values = await p.values(jobs.length, (j) => {
      const { r, o, k } = jobs[j];
      const kept = new Set(orders[r][o].slice(0, k));
      return coalition(byRow[r], r, (g) => kept.has(g));
    });
    let at = 0;
    const phi = byRow.map((groups, r) => {
      const count = groups.length;
      const empty = values[at++];
      const sums = new Float64Array(count);
      for (const order of orders[r]) {
        let before = empty;
        order.forEach((g, k) => {
          const after = k === count - 1 ? p.original[r] : values[at++];
          sums[g] += after - before;
          before = after;
        });
      }
      return sums.map((v) => v / samples);
    });
    return { attributions: { data: spread(x, byRow, phi), dims: [...x.dims] }, outputs: p.outputs, targets: p.targets };
  },
  sampling: ['samples'],
};

/** KernelShap's weight of the two end coalitions (all groups, none): Captum's "infinite" weight. */
const END_WEIGHT = 1e6;

/**
 * KernelShap's coalitions of `count` groups as 0/1 vectors: all groups, none, then `samples` − 2
 * of k groups, k drawn with probability ∝ (G − 1)/(k(G − k)) for k = 1 … G − 1 (one u), the
 * groups by a shuffle. With one group every draw is the whole.
 */
export function kernelCoalitions(count: number, samples: number, next: () => number): Uint8Array[] {
  const weights = Array.from({ length: Math.max(0, count - 1) }, (_, i) => (count - 1) / ((i + 1) * (count - i - 1)));
  const total = weights.reduce((a, v) => a + v, 0);
  return Array.from({ length: samples }, (_, s) => {
    const z = new Uint8Array(count);
    if (s === 0 || (s > 1 && count === 1)) z.fill(1);
    else if (s > 1) {
      let u = next() * total;
      let k = 1;
      while (k < count - 1 && u >= weights[k - 1]) u -= weights[k++ - 1];
      for (const g of shuffled(count, next).slice(0, k)) z[g] = 1;
    }
    return z;
  });
}

/**
 * Captum's KernelShap (Lundberg & Lee 2017: LIME with the Shapley kernel). Per row, `samples`
 * coalitions (default 25; `kernelCoalitions`, from the seeded generator row by row). The ends
 * weigh 10⁶, the others 1, and the attributions are the coefficients of the weighted
 * least-squares fit of f(S) on the coalitions' 0/1 vectors with an intercept (sklearn's
 * LinearRegression, minimum-norm where the coalitions leave it open).
 */
export const kernelShap: Driver = {
  perturbs: true,
  perturbsInput: true,
  async attribute(ex, x, options): Promise<AttributionResult> {
    // The first two coalitions are all groups and none.
    const samples = samplesOption(options, 25, 2);
    const byRow = rowGroups(x, options);
    const next = uniform(options.seed ?? 0);
    const coalitions = byRow.map((groups) => kernelCoalitions(groups.length, samples, next));
    const p = await perturber(ex, x, options, fillPerRow(ex, options));
    // The full coalition is x itself; every other one is a forward row.
    const jobs = coalitions.flatMap((row, r) => row.map((z, s) => ({ r, z, s })).filter(({ s }) => s > 0));
    const values = await p.values(jobs.length, (j) => coalition(byRow[jobs[j].r], jobs[j].r, (g) => jobs[j].z[g] === 1));
    let at = 0;
    const phi = coalitions.map((row, r) => {
      const y = Float64Array.from(row, (_, s) => (s === 0 ? p.original[r] : values[at++]));
      const w = Float64Array.from(row, (z) => (z.every((v) => v === 1) || z.every((v) => v === 0) ? END_WEIGHT : 1));
      return weightedLeastSquares(row, y, w);
    });
    return { attributions: { data: spread(x, byRow, phi), dims: [...x.dims] }, outputs: p.outputs, targets: p.targets };
  },
  sampling: ['samples'],
};
