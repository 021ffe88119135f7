import { ExplainError } from '../../rewriter/errors';
import type { AttributeOptions, AttributionResult, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { uniform } from '../random';
import { floatTensor, pickFeeds, pickRows, TensorInput } from '../tensors';
import { tensorsAt, tensorsFromLayer } from './forward';
import { explainedValue, outputSeed } from './seed';

/** Options of the perturbation methods (occlusion, feature ablation). */
export interface PerturbationOptions {
  /** Occlusion window per input dimension without the batch. */
  window?: number[];
  /** Occlusion stride: one value for every dimension or one per dimension (default 1). */
  stride?: number | number[];
  /** What replaces occluded features: a constant (default 0) or 'random' (uniform in the row's value range); `baseline` overrides it. */
  fill?: number | 'random';
  /** Seed of the random fill. */
  seed?: number;
  /** Feature ablation groups: integer ids broadcastable to the input (batch axis 1, N or absent). */
  featureMask?: { data: ArrayLike<number> | BigInt64Array; dims: number[] };
  /** At most this many perturbed rows per forward run (default 16). */
  internalBatchSize?: number;
}

/** One perturbed copy of row `row`: the features at `indices` (flat, within the row) replaced. */
export interface Job { row: number; indices: Int32Array }

/** Replacement values of each job's features, given the perturbed tensor (x, or the layer's values). */
export type FillOf = (perturbed: OrtTensor) => (job: Job) => ArrayLike<number>;

/** The random fill's stream of runtime/random.ts `uniform` (0: orders, coalitions and permutations; 1: GradientShap's draws). */
const FILL_STREAM = 2;

/**
 * The fill drawn once per row, over all its features, every job of the row reading its values: for
 * the Shapley methods, whose coalition values telescope (Σφ = f(x) − f(∅)), a random fill is one
 * baseline row. Drawn afresh for each coalition, it left the sum to the empty coalition's one
 * draw (Shapley sampling biased by 0.12 per feature on six uniform features, whatever the samples).
 * The same as fillValues for a constant or a baseline.
 */
export function fillPerRow(ex: Explainer, options: AttributeOptions): FillOf {
  return (t) => {
    const fill = fillValues(ex, t, options);
    const per = t.size / t.dims[0];
    const all = Int32Array.from({ length: per }, (_, i) => i);
    const rows = Array.from({ length: t.dims[0] }, (_, row) => fill({ row, indices: all }));
    return (job) => Float32Array.from(job.indices, (i) => rows[job.row][i]);
  };
}

/**
 * The explained value f = Σ seed · explained tensor on x and with features of `perturbed` replaced:
 * copies of x's rows, or with `layer`, copies of that layer's activations on x fed to the rest of
 * the model (Captum's LayerFeatureAblation and LayerFeaturePermutation).
 */
export interface Perturber {
  /** The tensor whose features the jobs index: x, or the layer's values on x. */
  perturbed: OrtTensor;
  targets: number[];
  /** The model's (float) outputs and the explained tensor on x, as the backprop methods report them. */
  outputs: AttributionResult['outputs'];
  /** f(x) per row. */
  original: Float64Array;
  /** f at each of `count` jobs' perturbed rows (`jobAt(j)`: built when its run comes), in runs of internalBatchSize rows. */
  values(count: number, jobAt: (j: number) => Job): Promise<Float64Array>;
}

/** `fillOf`: the replacement values of a job's features (by default the fill or baseline options give). */
export async function perturber(ex: Explainer, x: OrtTensor, options: AttributeOptions, fillOf: FillOf = (t) => fillValues(ex, t, options)): Promise<Perturber> {
  const rowDims = x.dims.slice(1);
  const n = x.dims[0];
  const batch = internalBatch(options);
  const { output, from } = ex.resolveOutput(options.output, options.explainSoftmax, options.method);
  const { layer } = options;
  const prepared = await ex.prepare(rowDims, options.onehotAxis, options.feeds);
  ex.checkTensor(prepared, from, 'explained tensor');
  if (layer !== undefined) ex.checkLayer(prepared, layer, from);
  const names = [...new Set([...ex.outputNames, output, from])];
  const run = await tensorsAt(ex, rowDims, layer === undefined ? names : [...new Set([...names, layer])], options.onehotAxis, options.feeds);
  const side = ex.sideFeeds(x, options.feeds);
  const base = await run(x, side);
  const perturbed = layer === undefined ? x : floatTensor(base[layer].data, base[layer].dims);
  const fromLayer = layer === undefined ? undefined : await tensorsFromLayer(ex, rowDims, layer, [from], options.onehotAxis, options.feeds);
  const evaluate = (rows: number[], values: OrtTensor) => (fromLayer ? fromLayer(pickRows(x, rows), pickFeeds(side, rows), values) : run(values, pickFeeds(side, rows)));
  const fill = fillOf(perturbed);
  const { targets, seed } = await outputSeed(ex, x, options, base[output]);
  const classes = seed.length / n;
  const explained = (values: Float32Array, slot: number, row: number) => explainedValue(seed, classes, values, slot, row);
  return {
    perturbed,
    targets,
    outputs: Object.fromEntries(names.filter((name) => base[name]).map((name) => [name, base[name]])),
    original: Float64Array.from({ length: n }, (_, r) => explained(base[from].data, r, r)),
    async values(count, jobAt) {
      const result = new Float64Array(count);
      for (let start = 0; start < count; start += batch) {
        const chunk = Array.from({ length: Math.min(batch, count - start) }, (_, k) => jobAt(start + k));
        const rows = chunk.map((job) => job.row);
        const out = (await evaluate(rows, perturbedRows(perturbed, chunk, fill)))[from].data;
        chunk.forEach((job, slot) => { result[start + slot] = explained(out, slot, job.row); });
        options.progress?.(Math.min(start + batch, count), count);
      }
      return result;
    },
  };
}

/**
 * Runs every job's perturbed input through the model in batches of `internalBatchSize` rows and
 * gives each perturbed feature f(x)[t] − f(x_perturbed)[t] (f: Σ seed · explained tensor).
 * `average`: a feature's attribution is the mean over the jobs that perturb it (occlusion, Captum's
 * weights); otherwise the sum (feature ablation, where groups do not overlap).
 */
export async function sweep(ex: Explainer, x: OrtTensor, options: AttributeOptions, jobsOf: (perturbed: OrtTensor) => Job[], average: boolean, fillOf?: FillOf): Promise<AttributionResult> {
  const p = await perturber(ex, x, options, fillOf);
  const { perturbed } = p;
  const per = perturbed.size / perturbed.dims[0];
  const jobs = jobsOf(perturbed);
  const after = await p.values(jobs.length, (j) => jobs[j]);
  const attributions = new Float32Array(perturbed.size);
  const counts = new Float32Array(average ? perturbed.size : 0);
  jobs.forEach((job, j) => {
    const diff = p.original[job.row] - after[j];
    for (const i of job.indices) {
      attributions[job.row * per + i] += diff;
      if (average) counts[job.row * per + i] += 1;
    }
  });
  if (average) attributions.forEach((a, i) => { if (counts[i] > 0) attributions[i] = a / counts[i]; });
  return { attributions: { data: attributions, dims: [...perturbed.dims] }, outputs: p.outputs, targets: p.targets };
}

/** A given internalBatchSize is a positive integer (every method checks it, also those that run once). */
export function checkInternalBatchSize(size: number | undefined): void {
  if (size !== undefined && (!Number.isInteger(size) || size < 1)) throw new ExplainError(`internalBatchSize: ${size} is not a positive integer`);
}

/** Rows per forward run (internalBatchSize; by default 16, a sweep's, or `fallback`). */
export function internalBatch(options: { internalBatchSize?: number }, fallback = 16): number {
  checkInternalBatchSize(options.internalBatchSize);
  return options.internalBatchSize ?? fallback;
}

/** One row per job: the job's row of x with its features replaced by `fill`'s values. */
export function perturbedRows(x: OrtTensor, jobs: Job[], fill: (job: Job) => ArrayLike<number>): OrtTensor {
  const per = x.size / x.dims[0];
  const xs = x.data as Float32Array;
  const data = new Float32Array(jobs.length * per);
  jobs.forEach((job, slot) => {
    data.set(xs.subarray(job.row * per, (job.row + 1) * per), slot * per);
    const values = fill(job);
    job.indices.forEach((i, k) => { data[slot * per + i] = values[k]; });
  });
  return floatTensor(data, [jobs.length, ...x.dims.slice(1)]);
}

/** The replacement values of a job's features: the baseline's, a constant, or seeded uniform noise in the row's range. */
export function fillValues(ex: Explainer, x: OrtTensor, options: Pick<AttributeOptions, 'fill' | 'seed'> & { baseline?: TensorInput | number }): (job: Job) => ArrayLike<number> {
  const per = x.size / x.dims[0];
  if (options.baseline !== undefined) {
    if (options.fill !== undefined) throw new ExplainError('fill and baseline are exclusive: the baseline is what fills the perturbed features');
    if (typeof options.baseline === 'number') {
      if (!Number.isFinite(options.baseline)) throw new ExplainError(`baseline: ${options.baseline} is not a finite number`);
      return fillValues(ex, x, { fill: options.baseline });
    }
    const b = ex.baselineFor(options.baseline, x, false).data as Float32Array;
    return (job) => Float32Array.from(job.indices, (i) => b[job.row * per + i]);
  }
  const fill = options.fill ?? 0;
  if (fill === 'random') {
    // A stream of its own: the sampling methods draw their orders and coalitions from stream 0 of
    // the same seed, and fills drawn from it took those very numbers.
    const rand = uniform(options.seed ?? 0, FILL_STREAM);
    const xs = x.data as Float32Array;
    const range = Array.from({ length: x.dims[0] }, (_, r) => {
      const row = xs.subarray(r * per, (r + 1) * per);
      return [row.reduce((a, v) => Math.min(a, v), Infinity), row.reduce((a, v) => Math.max(a, v), -Infinity)];
    });
    return (job) => Float32Array.from(job.indices, () => range[job.row][0] + (range[job.row][1] - range[job.row][0]) * rand());
  }
  if (typeof fill !== 'number' || !Number.isFinite(fill)) throw new ExplainError(`fill: '${fill}' is not a number or 'random'`);
  return (job) => new Float32Array(job.indices.length).fill(fill);
}
