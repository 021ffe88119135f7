import { ExplainError } from '../../rewriter/errors';
import type { AttributeOptions, AttributionResult, Explainer } from '../explainer';
import { checkFloatBaseline } from '../inputs';
import { OrtTensor } from '../backend';
import { requireFinite } from '../finite';
import { uniform } from '../random';
import { floatTensor, fromNdarray, pickRows, TensorData } from '../tensors';
import { rowsInMemory } from '../memory';
import { backprop } from './backprop';
import { expandedRows } from './expanded-rows';
import { tensorsAt } from './forward';
import { noiseStdOption, noisyStream, samplesOption } from './noise-tunnel';
import { explainedValue, OutputSeed, outputSeed } from './seed';
import { internalBatch } from './perturbation';
import { Driver } from './types';

/**
 * The baseline distribution: the K rows of `baseline` ([K, …], or one row without the batch axis);
 * one zero row by default (text models: the input and baselines are embeddings).
 */
function distribution(ex: Explainer, x: OrtTensor, options: AttributeOptions): OrtTensor {
  const rowDims = x.dims.slice(1);
  const per = rowDims.reduce((a, d) => a * d, 1);
  if (!options.baseline) return floatTensor(new Float32Array(per), [1, ...rowDims]);
  const b = fromNdarray(options.baseline);
  checkFloatBaseline(`${ex.label}: baseline`, b, true);
  const dims = b.dims.length === rowDims.length ? [1, ...b.dims] : [...b.dims];
  if (dims.length !== rowDims.length + 1 || dims.slice(1).some((d, i) => d !== rowDims[i]) || dims[0] < 1) {
    throw new ExplainError(`${ex.label}: baseline has shape [${b.dims}]; expected K rows of the input's row shape [K, ${rowDims}]`);
  }
  const data = Float32Array.from(b.data as ArrayLike<number>);
  if (data.length !== dims[0] * per) throw new ExplainError(`${ex.label}: baseline has ${data.length} values but shape [${b.dims}]`);
  requireFinite(data, `${ex.label}: baseline`, b.data as ArrayLike<unknown>);
  return floatTensor(data, dims);
}

/** Draws per expanded row j (input row ⌊j/draws⌋), computed run by run over at most internalBatchSize rows. */
type Expanded = (rows: number[], j0: number, j1: number) => Promise<{ attributions: TensorData; delta?: Float32Array }>;

/** Runs `run` over the n·draws expanded rows and returns each input row's mean attribution (Captum's mean over samples or baselines). */
async function meanOverDraws(ex: Explainer, x: OrtTensor, options: AttributeOptions, { output, targets }: OutputSeed, draws: number, run: Expanded): Promise<AttributionResult> {
  const n = x.dims[0];
  const total = n * draws;
  const step = Math.min(total, internalBatch(options, await rowsInMemory(ex, x.dims.slice(1), options)));
  let sums: Float64Array | undefined;
  let dims: number[] = [];
  let delta: Float32Array | undefined;
  for (let j0 = 0; j0 < total; j0 += step) {
    const j1 = Math.min(total, j0 + step);
    const rows = Array.from({ length: j1 - j0 }, (_, k) => Math.floor((j0 + k) / draws));
    const r = await run(rows, j0, j1);
    const per = r.attributions.data.length / rows.length;
    dims = [n, ...r.attributions.dims.slice(1)];
    const sum = (sums ??= new Float64Array(n * per));
    rows.forEach((row, k) => { for (let i = 0; i < per; i++) sum[row * per + i] += r.attributions.data[k * per + i]; });
    if (r.delta) (delta ??= new Float32Array(total)).set(r.delta, j0);
    options.progress?.(j1, total);
  }
  const outputs = await (await tensorsAt(ex, x.dims.slice(1), [...new Set([...ex.outputNames, output])], options.onehotAxis, options.feeds))(x);
  return { attributions: { dims, data: Float32Array.from(sums!, (v) => v / draws) }, outputs, targets, delta };
}

/**
 * Captum's DeepLiftShap: DeepLIFT of every input row against every row of the baseline
 * distribution (expanded row j = r·K + k), averaged over the K baselines; the convergence delta is
 * DeepLIFT's, one per expanded row (so each row's attributions sum to f(x) − mean_k f(b_k)). With
 * a layer, layer DeepLIFT's (Captum's LayerDeepLiftShap).
 */
export const deepliftShap: Driver = {
  baselineDistribution: true,
  parts(ex, x, options) {
    const dist = distribution(ex, x, options);
    return Array.from({ length: dist.dims[0] }, (_, k) => ({ options: { ...options, method: 'deeplift', baseline: pickRows(dist, [k]) }, label: `DeepLIFT against baseline row ${k}` }));
  },
  async attribute(ex, x, options, rowLabel = (r) => `row ${r}`) {
    const dist = distribution(ex, x, options);
    const k = dist.dims[0];
    const explained = await outputSeed(ex, x, options);
    return meanOverDraws(ex, x, options, explained, k, async (rows, j0) => backprop.attribute(ex, pickRows(x, rows), {
      ...options, method: 'deeplift', progress: undefined, ...expandedRows(ex, x, options, explained, rows),
      baseline: pickRows(dist, rows.map((_, i) => (j0 + i) % k)),
    }, (i) => `${rowLabel(rows[i])} against baseline row ${(j0 + i) % k}`));
  },
};

/**
 * Captum's GradientShap (NoiseTunnel over InputBaselineXGradient, baselines drawn from the
 * distribution): per input row, `samples` draws j of x̃ = x + noise (as the noise tunnel's,
 * --noise-std a fraction of the row's range, default 0), a baseline row b and α uniform in [0, 1)
 * (drawn from the seeded generator, the index and then α per draw); the attribution is the mean of
 * ∂f/∂x at b + α(x̃ − b) times (x̃ − b); with a layer A, ∂f/∂A there times A(x̃) − A(b) (Captum's
 * LayerGradientShap). The delta per draw is Σ attribution − (f(x̃) − f(b)).
 */
export const gradientShap: Driver = {
  sampling: ['samples', 'noiseStd', 'stdevs'],
  async attribute(ex, x, options) {
    const dist = distribution(ex, x, options);
    const samples = samplesOption(options, 5);
    const noise = noiseStdOption(options, 0);
    const rowDims = x.dims.slice(1);
    const per = rowDims.reduce((a, d) => a * d, 1);
    const n = x.dims[0];
    const seed = options.seed ?? 0;
    const noisy = noisyStream({ data: x.data as Float32Array, dims: x.dims }, samples, noise, seed, 0, (m) => ex.warn(`${ex.label}: ${m}`));
    const next = uniform(seed, 1);
    const draws = Array.from({ length: n * samples }, () => ({ k: Math.floor(next() * dist.dims[0]), alpha: next() }));
    const explained = await outputSeed(ex, x, options);
    const { from, seed: weights } = explained;
    const fromRow = weights.length / n;
    const layer = options.layer;
    if (layer !== undefined) ex.checkLayer(await ex.prepare(rowDims, options.onehotAxis, options.feeds), layer, from);
    const values = await tensorsAt(ex, rowDims, layer ? [from, layer] : [from], options.onehotAxis, options.feeds);
    const base = dist.data as Float32Array;
    return meanOverDraws(ex, x, options, explained, samples, async (rows, j0, j1) => {
      const m = j1 - j0;
      const copies = noisy(m);
      const [point, step, start] = [new Float32Array(m * per), new Float32Array(m * per), new Float32Array(m * per)];
      for (let i = 0; i < m; i++) {
        const { k, alpha } = draws[j0 + i];
        for (let e = 0; e < per; e++) {
          const [xe, be] = [copies[i * per + e], base[k * per + e]];
          start[i * per + e] = be;
          step[i * per + e] = xe - be;
          point[i * per + e] = be + alpha * (xe - be);
        }
      }
      const inner = { ...options, method: 'gradient', progress: undefined, baseline: undefined, ...expandedRows(ex, x, options, explained, rows) };
      const g = await backprop.attribute(ex, floatTensor(point, [m, ...rowDims]), inner);
      const side = inner.feeds as Record<string, OrtTensor>;
      const [atX, atB] = [await values(floatTensor(copies, [m, ...rowDims]), side), await values(floatTensor(start, [m, ...rowDims]), side)];
      // With a layer: ∂f/∂A at the point times A(x̃) − A(b) (Captum's LayerGradientShap).
      const change = layer ? atX[layer].data.map((v, e) => v - atB[layer].data[e]) : step;
      const attributions = { dims: g.attributions.dims, data: options.multiplyByInputs === false ? g.attributions.data : g.attributions.data.map((v, e) => v * change[e]) };
      const size = attributions.data.length / m;
      const value = (t: TensorData, i: number) => explainedValue(weights, fromRow, t.data, i, rows[i]);
      const delta = Float32Array.from(rows, (_, i) => {
        let s = 0;
        for (let e = 0; e < size; e++) s += attributions.data[i * size + e];
        return s - (value(atX[from], i) - value(atB[from], i));
      });
      return { attributions, delta };
    });
  },
};
