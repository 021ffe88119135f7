import { ExplainError } from '../../rewriter/errors';
import type { AttributeOptions, AttributionResult, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { floatTensor, TensorData } from '../tensors';
import { rowsInMemory } from '../memory';
import { backprop } from './backprop';
import { expandedRows } from './expanded-rows';
import { tensorsAt } from './forward';
import { quadrature } from './integrated-gradients-quadrature';
import { explainedValue, outputSeed } from './seed';
import { internalBatch } from './perturbation';
import { Driver } from './types';
import { fromEnd, indexRange } from '../targets';

interface InputPath {
  /** ∂A_j/∂x at each point for the neuron j asked for (neuron-conductance), step-major rows k·N + r. */
  neuronGrads?: Float32Array;
  /** The neuron's row-major index within A's row. */
  neuron?: number;
  /** ∂f/∂A and A at each point, step-major rows k·N + r. */
  grads: Float32Array;
  values: Float32Array;
  /** Per row: A's size, and f(x) − f(b). */
  size: number;
  /** The baseline b, one row per row of x. */
  base: Float32Array;
  change: Float64Array;
  result: Pick<AttributionResult, 'outputs' | 'targets'>;
  layerDims: number[];
}

/**
 * Layer gradients ∂f/∂A and the layer's values A at the points b + α_k(x − b) of the straight input
 * path (rows k·N + r, as Captum concatenates them), in runs of at most internalBatchSize rows; and
 * f(x) − f(b) for the convergence delta.
 */
async function alongInputPath(ex: Explainer, x: OrtTensor, options: AttributeOptions, alphas: number[], withNeuron = false): Promise<InputPath> {
  const layer = options.layer;
  if (!layer) throw new ExplainError(`method '${options.method}' attributes to a layer: give --layer NAME ('onnx-explain info' lists them)`);
  const n = x.dims[0];
  const rowDims = x.dims.slice(1);
  const per = x.size / n;
  const base = ex.baselineFor(options.baseline, x, false);
  const [xs, bs] = [x.data as Float32Array, base.data as Float32Array];
  const explained = await outputSeed(ex, x, options);
  const side = ex.sideFeeds(x, options.feeds);
  const prepared = await ex.prepare(rowDims, options.onehotAxis, options.feeds);
  ex.checkLayer(prepared, layer, explained.from);
  const neuron = withNeuron ? neuronIndex(options.neuron, prepared.facts.shapes.get(layer)!.slice(1), layer) : undefined;
  const names = [...new Set([layer, explained.from, ...ex.outputNames, explained.output])];
  const run = await tensorsAt(ex, rowDims, names, options.onehotAxis, options.feeds);
  const total = alphas.length * n;
  const step = Math.min(total, internalBatch(options, await rowsInMemory(ex, rowDims, options)));
  const [grads, values, neuronGrads]: TensorData[][] = [[], [], []];
  for (let j0 = 0; j0 < total; j0 += step) {
    const rows = Array.from({ length: Math.min(step, total - j0) }, (_, i) => (j0 + i) % n);
    const points = new Float32Array(rows.length * per);
    rows.forEach((r, i) => {
      const alpha = alphas[Math.floor((j0 + i) / n)];
      for (let e = 0; e < per; e++) points[i * per + e] = bs[r * per + e] + alpha * (xs[r * per + e] - bs[r * per + e]);
    });
    const at = floatTensor(points, [rows.length, ...rowDims]);
    const expanded = expandedRows(ex, x, options, explained, rows);
    const feeds = expanded.feeds as Record<string, OrtTensor>;
    const g = await backprop.attribute(ex, at, { ...options, method: 'gradient', baseline: undefined, progress: undefined, ...expanded });
    grads.push(g.attributions);
    values.push((await run(at, feeds))[layer]);
    if (neuron !== undefined) {
      // ∂A_j/∂x: the gradient of the layer's tensor at the neuron (what f's target, contrast and reduction say does not apply),
      // the tensor itself also where a Softmax computes it (an attention's probabilities), not its logits.
      const explainNeuron = { ...options, method: 'gradient', layer: undefined, output: layer, explainSoftmax: ex.resolveOutput(layer).from !== layer, contrast: undefined, reduce: undefined, reduceAxes: undefined, reduceWeights: undefined, softmaxNormalize: undefined };
      neuronGrads.push((await backprop.attribute(ex, at, { ...explainNeuron, baseline: undefined, progress: undefined, target: rows.map(() => neuron), feeds })).attributions);
    }
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
    grads: join(grads), values: join(values), size: grads[0].data.length / grads[0].dims[0], layerDims: grads[0].dims.slice(1), base: bs,
    neuronGrads: neuron === undefined ? undefined : join(neuronGrads), neuron,
    change: Float64Array.from({ length: n }, (_, r) => f(atX[explained.from], r) - f(atB[explained.from], r)),
    // Float outputs only, as tensorsAt gives them: a class id or a mask beside the logits is left out.
    result: { outputs: Object.fromEntries([...new Set([...ex.outputNames, explained.output])].filter((k) => atX[k]).map((k) => [k, atX[k]])), targets: explained.targets },
  };
}

/** The row-major index of `--neuron` (a multi-index over the layer's non-batch axes, or a flat index) in a row of shape `dims`. */
function neuronIndex(neuron: number | number[] | undefined, dims: number[], layer: string): number {
  const size = dims.reduce((a, b) => a * b, 1);
  const shown = `[N, ${dims.join(', ')}]`;
  if (neuron === undefined) throw new ExplainError(`method 'neuron-conductance' needs the neuron of layer '${layer}' ${shown}: give --neuron I (flat) or i:j:… (API neuron)`);
  if (typeof neuron === 'number') {
    const at = fromEnd(neuron, size);
    if (at === undefined) throw new ExplainError(`--neuron ${neuron}: not an index of layer '${layer}' ${shown} (${indexRange(size)})`);
    return at;
  }
  if (neuron.some(Array.isArray)) throw new ExplainError(`--neuron: one neuron of layer '${layer}' ${shown} for every row, as Captum's neuron_selector; not one per row`);
  const at = neuron.map((v, k) => fromEnd(v, dims[k]));
  if (neuron.length !== dims.length || at.includes(undefined)) throw new ExplainError(`--neuron ${neuron.join(':')}: not a neuron of layer '${layer}' ${shown}`);
  return at.reduce((flat: number, v, k) => flat * dims[k] + v!, 0);
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
  layer: 'attributed',
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
  layer: 'attributed',
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
  quadrature: true,
};

/**
 * Captum's NeuronConductance: the conductance of each input feature through neuron j of layer A,
 * Σ_k w_k·∂f/∂A_j(x_k)·∂A_j/∂x(x_k)·(x − b), x_k = b + α_k(x − b), with Captum's quadrature for it
 * by default (riemann_trapezoid, 50 steps). No completeness property: no delta.
 */
export const neuronConductance: Driver = {
  layer: 'neuron',
  async attribute(ex, x, options) {
    const { alphas, weights } = quadrature(options.igMethod ?? 'riemann_trapezoid', options.steps ?? 50);
    const path = await alongInputPath(ex, x, options, alphas, true);
    const n = x.dims[0];
    const per = x.size / n;
    const out = new Float32Array(x.size);
    weights.forEach((w, k) => {
      for (let r = 0; r < n; r++) {
        const row = k * n + r;
        const mid = w * path.grads[row * path.size + path.neuron!];
        for (let e = 0; e < per; e++) out[r * per + e] += mid * path.neuronGrads![row * per + e];
      }
    });
    const xs = x.data as Float32Array;
    if (options.multiplyByInputs !== false) for (let i = 0; i < x.size; i++) out[i] *= xs[i] - path.base[i];
    return { attributions: { data: out, dims: [...x.dims] }, ...path.result };
  },
};
