import { integratedGradients as method } from '../../rules/methods/integrated-gradients';
import type { AttributeOptions, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { concatRows, floatTensor, rowRange } from '../tensors';
import { rowsInMemory } from '../memory';
import { outputSeed } from './seed';
import { quadrature } from './integrated-gradients-quadrature';
import { Driver } from './types';
import { checkInternalBatchSize } from './perturbation';

function nodes(options: AttributeOptions) {
  return quadrature(options.igMethod ?? 'gausslegendre', options.steps ?? 50);
}

/** Model rows per run, and path points per run: at most `limit` rows in all (points × rows), all in one run without a limit. */
export function chunking(n: number, steps: number, limit: number | undefined, batchDynamic: boolean): { rows: number; steps: number } {
  checkInternalBatchSize(limit);
  if (!batchDynamic) return { rows: 1, steps: 1 };
  const rows = Math.min(n, limit ?? n);
  const most = Math.max(1, Math.min(steps, Math.floor((limit ?? Infinity) / rows)));
  // Equal chunks: the last one pads the fewest points (weight 0).
  return { rows, steps: Math.ceil(steps / Math.ceil(steps / most)) };
}

/**
 * Integrated gradients: one augmented graph holds the path (inputs x, baseline, alphas, weights;
 * the model's other inputs repeated over the points), so every point of a chunk runs in one batch;
 * chunks of points (and of rows) bounded by internalBatchSize add up. Joint attribution
 * interpolates every explained input between its own baseline and itself. Delta: Captum's
 * Σ attribution (over all explained inputs) − (f(x) − f(x⁰)).
 */
export const integratedGradients: Driver = {
  async attribute(ex: Explainer, x: OrtTensor, options: AttributeOptions) {
    const { alphas, weights } = nodes(options);
    const rowDims = x.dims.slice(1);
    const prepared = await ex.prepare(rowDims, options.onehotAxis, options.feeds);
    const side = ex.sideFeeds(x, options.feeds);
    const values = { [ex.input.name]: x, ...side };
    const { targets, seed: seedValues, fromShape } = await outputSeed(ex, x, options);
    const n = x.dims[0];
    const seed = floatTensor(seedValues, [n, ...fromShape.slice(1)]);
    const chunk = chunking(n, alphas.length, options.internalBatchSize ?? await rowsInMemory(ex, rowDims, options), prepared.batchDynamic);
    const key = JSON.stringify([rowDims, Object.values(side).map((t) => t.dims.slice(1)), method.name, options.output, options.explainSoftmax, options.layer, options.onehotAxis, options.multiplyByInputs, chunk.steps]);
    const session = await ex.session(key, async () => (await ex.augmented(rowDims, options, { method, path: { steps: chunk.steps } })).model);
    const references = ex.referenceFeeds(options, values, prepared.facts.batchBroadcasts);
    const names = ex.attributionNames;
    const rows = (t: OrtTensor, r0: number, r1: number) => (t.dims[0] === 1 && n > 1 ? t : rowRange(t, r0, r1));
    const sums: Record<string, { data: Float32Array; dims: number[]; per: number }> = {};
    const explained = new Float64Array(n);
    const firsts = [];
    const runs = Math.ceil(n / chunk.rows) * Math.ceil(alphas.length / chunk.steps);
    let done = 0;
    for (let r0 = 0; r0 < n; r0 += chunk.rows) {
      const r1 = Math.min(n, r0 + chunk.rows);
      for (let s0 = 0; s0 < alphas.length; s0 += chunk.steps) {
        const pad = (v: number[]) => floatTensor(Float32Array.from({ length: chunk.steps }, (_, k) => v[s0 + k] ?? 0), [chunk.steps]);
        const result = await session.run({
          ...Object.fromEntries(Object.entries({ ...values, ...references, [ex.io.seed]: seed }).map(([k, t]) => [k, rows(t, r0, r1)])),
          [ex.io.alphas]: pad(alphas), [ex.io.weights]: pad(weights),
        });
        for (const name of names) {
          const t = result[name] as OrtTensor;
          const a = t.data as Float32Array;
          // Shaped like the input, or like the layer.
          const per = a.length / (r1 - r0);
          sums[name] ??= { data: new Float32Array(n * per), dims: [n, ...t.dims.slice(1)], per };
          for (let i = 0; i < a.length; i++) sums[name].data[r0 * per + i] += a[i];
        }
        if (s0 === 0) {
          firsts.push(result);
          // f(x) − f(x⁰) of the seeded value: this chunk's Σ attribution − its delta.
          const d = result[ex.io.delta].data as Float32Array;
          for (let r = r0; r < r1; r++) explained[r] = names.reduce((e, name) => e + rowSum(result[name].data as Float32Array, r - r0, sums[name].per), 0) - d[r - r0];
        }
        options.progress?.(++done, runs);
      }
    }
    const delta = Float32Array.from(explained, (e, r) => names.reduce((total, name) => total + rowSum(sums[name].data, r, sums[name].per), 0) - e);
    const others = Object.keys(firsts[0]).filter((k) => !names.includes(k) && k !== ex.io.delta);
    const all = { ...concatRows(firsts, others), ...Object.fromEntries(names.map((name) => [name, { data: sums[name].data, dims: sums[name].dims }])) };
    return { ...ex.splitOutputs(all), delta, targets };
  },
  // A model whose batch is fixed (a batch-1 export, unbatched) runs one point per run, as attribute does (chunking).
  async graph(ex: Explainer, rowDims: number[], options: AttributeOptions) {
    const { batchDynamic } = await ex.prepare(rowDims, options.onehotAxis, options.feeds);
    return (await ex.augmented(rowDims, options, { method, path: { steps: batchDynamic ? nodes(options).alphas.length : 1 } })).model;
  },
  joint: true,
  quadrature: true,
};

function rowSum(a: Float32Array, row: number, per: number): number {
  let s = 0;
  for (let i = row * per; i < (row + 1) * per; i++) s += a[i];
  return s;
}
