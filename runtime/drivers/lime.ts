import type { AttributionResult } from '../explainer';
import { weightedLasso } from '../least-squares';
import { uniform } from '../random';
import { coalition, rowGroups, spread } from './coalitions';
import { fillValues, Job, perturber } from './perturbation';
import { samplesOption } from './noise-tunnel';
import { Driver } from './types';

/** Captum's Lime defaults: the Lasso's α and the width of the exponential cosine kernel. */
const LASSO_ALPHA = 0.01;
const KERNEL_WIDTH = 1;

/** 1 − cos(a, b), with torch's CosineSimilarity guard max(‖a‖·‖b‖, 1e-8). */
function cosineDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let [dot, aa, bb] = [0, 0, 0];
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return 1 - dot / Math.max(Math.sqrt(aa) * Math.sqrt(bb), 1e-8);
}

/**
 * Captum's Lime with its defaults (Ribeiro et al. 2016): per row `samples` coalitions (default 50),
 * each group kept with probability ½ (the seeded generator, row by row), the others replaced by
 * the fill (zeros, a constant or the baseline); each weighs exp(−d²/2) with d the cosine distance
 * between the row and its perturbed copy; the attributions are the coefficients of the weighted
 * Lasso (α = 0.01, with an intercept) of f on the coalitions' 0/1 vectors.
 */
export const lime: Driver = {
  perturbs: true,
  perturbsInput: true,
  async attribute(ex, x, options): Promise<AttributionResult> {
    const samples = samplesOption(options, 50);
    const byRow = rowGroups(x, options);
    const next = uniform(options.seed ?? 0);
    const coalitions = byRow.map((groups) => Array.from({ length: samples }, () => Uint8Array.from(groups, () => Number(next() < 0.5))));
    const fill = fillValues(ex, x, options);
    const per = x.size / x.dims[0];
    const xs = x.data as Float32Array;
    const kernel = new Float64Array(x.dims[0] * samples);
    // Each perturbed row built when its run comes (memory: one internal batch of them, not every
    // sample's): its replacement values drawn once (a random fill) for the run and the kernel weight.
    const jobAt = (j: number): Job & { values: ArrayLike<number> } => {
      const r = Math.floor(j / samples);
      const z = coalitions[r][j % samples];
      const job = coalition(byRow[r], r, (g) => z[g] === 1);
      const values = fill(job);
      const original = xs.subarray(r * per, (r + 1) * per);
      const perturbed = Float32Array.from(original);
      job.indices.forEach((i, k) => { perturbed[i] = values[k]; });
      const d = cosineDistance(original, perturbed);
      kernel[j] = Math.exp(-(d * d) / (2 * KERNEL_WIDTH * KERNEL_WIDTH));
      return { ...job, values };
    };
    const p = await perturber(ex, x, options, () => (job) => (job as Job & { values: ArrayLike<number> }).values);
    const values = await p.values(kernel.length, jobAt);
    const phi = coalitions.map((row, r) => weightedLasso(row, values.subarray(r * samples, (r + 1) * samples), kernel.subarray(r * samples, (r + 1) * samples), LASSO_ALPHA));
    // Captum's α also zeroes every coefficient where the scores vary less than it penalises: said, not silent.
    // Rows whose perturbed copies all score alike (x equal to its fill: nothing to explain) are no news.
    const flat = (r: number) => values.subarray(r * samples, (r + 1) * samples).every((v) => v === p.original[r]);
    const zeroed = phi.flatMap((c, r) => (c.every((v) => v === 0) && !flat(r) ? [r] : []));
    if (zeroed.length) ex.warn(`${ex.label}: lime: the Lasso (α = ${LASSO_ALPHA}, Captum's default) set every coefficient of row${zeroed.length > 1 ? 's' : ''} ${zeroed.join(', ')} to zero: the scores vary too little across its ${samples} samples for α; more --samples, or kernel-shap (no penalty)`);
    return { attributions: { data: spread(x, byRow, phi), dims: [...x.dims] }, outputs: p.outputs, targets: p.targets };
  },
  sampling: ['samples'],
};
