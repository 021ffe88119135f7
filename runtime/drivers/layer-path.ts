import { ExplainError } from '../../rewriter/errors';
import type { AttributeOptions, AttributionResult, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { floatTensor, pickFeeds, TensorData } from '../tensors';
import { rowsInMemory } from '../memory';
import { backprop } from './backprop';
import { tensorsAt } from './forward';
import { quadrature } from './integrated-gradients-quadrature';
import { explainedValue, outputSeed } from './seed';
import { internalBatch } from './perturbation';
import { Driver } from './types';

interface InputPath {
  /** ∂f/∂A and A at each point, step-major rows k·N + r. */
  grads: Float32Array;
  values: Float32Array;
  /** Per row: A's size, and f(x) − f(b). */
  size: number;
  change: Float64Array;
  result: Pick<AttributionResult, 'outputs' | 'targets'>;
  layerDims: number[];
}

/**
 * Layer gradients ∂f/∂A and the layer's values A at the points b + α_k(x − b) of the straight input
 * path (rows k·N + r, as Captum concatenates them), in runs of at most internalBatchSize rows; and
 * f(x) − f(b) for the convergence delta.
 */
async function alongInputPath(ex: Explainer, x: OrtTensor, options: AttributeOptions, alphas: number[]): Promise<InputPath> {
  const layer = options.layer;
  if (!layer) throw new ExplainError(`method '${options.method}' attributes to a layer: give --layer NAME ('onnx-explain info' lists them)`);
  const n = x.dims[0];
  const rowDims = x.dims.slice(1);
  const per = x.size / n;
  const base = ex.baselineFor(options.baseline, x, false);
  const [xs, bs] = [x.data as Float32Array, base.data as Float32Array];
  const explained = await outputSeed(ex, x, options);
  const side = ex.sideFeeds(x, options.feeds);
  ex.checkLayer(await ex.prepare(rowDims, options.onehotAxis, options.feeds), layer, explained.from);
  const names = [...new Set([layer, explained.from, ...ex.outputNames, explained.output])];
  const run = await tensorsAt(ex, rowDims, names, options.onehotAxis, options.feeds);
  const total = alphas.length * n;
  const step = Math.min(total, internalBatch(options, await rowsInMemory(ex, rowDims, options)));
  const [grads, values]: TensorData[][] = [[], []];
  for (let j0 = 0; j0 < total; j0 += step) {
    const rows = Array.from({ length: Math.min(step, total - j0) }, (_, i) => (j0 + i) % n);
    const points = new Float32Array(rows.length * per);
    rows.forEach((r, i) => {
      const alpha = alphas[Math.floor((j0 + i) / n)];
      for (let e = 0; e < per; e++) points[i * per + e] = bs[r * per + e] + alpha * (xs[r * per + e] - bs[r * per + e]);
    });
    const at = floatTensor(points, [rows.length, ...rowDims]);
    const feeds = pickFeeds(side, rows);
    const g = await backprop.attribute(ex, at, { ...options, method: 'gradient', baseline: undefined, progress: undefined, target: rows.map((r) => explained.targets[r]), feeds });
    grads.push(g.attributions);
    values.push((await run(at, feeds))[layer]);
    options.progress?.(j0 + rows.length, total);
  }
  const join = (parts: TensorData[]) => {
    const out = new Float32Array(parts.reduce((a, p) => a + p.data.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p.data, at); at += p.data.length; }
    return out;
  };
  // f = Σ seed · explained tensor of each row.
  const width = explained.seed.length / n;
  const [atX, atB] = [await run(x, side), await run(base, side)];
  const f = (t: TensorData, r: number) => explainedValue(explained.seed, width, t.data, r, r);
  return {
    grads: join(grads), values: join(values), size: grads[0].data.length / grads[0].dims[0], layerDims: grads[0].dims.slice(1),
    change: Float64Array.from({ length: n }, (_, r) => f(atX[explained.from], r) - f(atB[explained.from], r)),
    result: { outputs: Object.fromEntries([...new Set([...ex.outputNames, explained.output])].map((k) => [k, atX[k]])), targets: explained.targets },
  };
}

/** Σ of each row's attributions minus f(x) − f(b). */
function deltas(a: Float32Array, size: number, change: Float64Array): Float32Array {
  return Float32Array.from(change, (c, r) => a.subarray(r * size, (r + 1) * size).reduce((s, v) => s + v, 0) - c);
}

/**
 * Captum's InternalInfluence: Σ_k w_k ∂f/∂A(b + α_k(x − b)), the layer gradient integrated along
 * the input path with the quadrature of `--steps` and `--ig-method` (Captum's, Gauss–Legendre 50
 * by default). It has no completeness property, so no delta.
 */
export const internalInfluence: Driver = {
  async attribute(ex, x, options) {
    const { alphas, weights } = quadrature(options.igMethod ?? 'gausslegendre', options.steps ?? 50);
    const path = await alongInputPath(ex, x, options, alphas);
    const n = x.dims[0];
    const out = new Float32Array(n * path.size);
    weights.forEach((w, k) => { for (let i = 0; i < n * path.size; i++) out[i] += w * path.grads[k * n * path.size + i]; });
    return { attributions: { data: out, dims: [n, ...path.layerDims] }, ...path.result };
  },
};

/**
 * Captum's LayerConductance (Dhamdhere et al. 2018): at the `--steps` + 1 nodes α_k of the
 * quadrature (Gauss–Legendre by default), Σ_k ∂f/∂A(x_k)·(A(x_{k+1}) − A(x_k)) over k < steps,
 * x_k = b + α_k(x − b). The delta is Σ attributions − (f(x) − f(b)).
 */
export const layerConductance: Driver = {
  async attribute(ex, x, options) {
    const steps = options.steps ?? 50;
    const { alphas } = quadrature(options.igMethod ?? 'gausslegendre', steps + 1);
    const path = await alongInputPath(ex, x, options, alphas);
    const block = x.dims[0] * path.size;
    const out = new Float32Array(block);
    for (let k = 0; k < steps; k++) {
      for (let i = 0; i < block; i++) out[i] += path.grads[k * block + i] * (path.values[(k + 1) * block + i] - path.values[k * block + i]);
    }
    return { attributions: { data: out, dims: [x.dims[0], ...path.layerDims] }, ...path.result, delta: deltas(out, path.size, path.change) };
  },
};
