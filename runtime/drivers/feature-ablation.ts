import { ExplainError } from '../../rewriter/errors';
import type { AttributeOptions, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { shuffled, uniform } from '../random';
import { broadcastRow } from '../tensors';
import { Job, sweep } from './perturbation';
import { Driver } from './types';

/**
 * Per row of x, the flat indices of each feature group of an integer mask broadcastable to x's
 * shape (numpy's rules: leading axes may be left out, size-1 axes repeat), as Captum's feature_mask.
 */
export function maskGroups(mask: { data: ArrayLike<number> | BigInt64Array; dims: number[] }, xDims: number[]): Job[] {
  if (!mask || !Array.isArray(mask.dims) || !mask.data || typeof mask.data.length !== 'number') throw new ExplainError('featureMask must be a tensor { data, dims } of integer group ids');
  // numpy's (and torch's) broadcasting: missing leading axes are 1 (a [H, W] mask for [N, 1, H, W]).
  const dims = mask.dims.length < xDims.length ? [...Array(xDims.length - mask.dims.length).fill(1), ...mask.dims] : mask.dims;
  const show = `[${mask.dims}]`;
  const count = mask.dims.reduce((a, d) => a * d, 1);
  if (mask.data.length !== count) throw new ExplainError(`feature mask has ${mask.data.length} values but shape ${show} needs ${count}`);
  if (dims.length !== xDims.length || dims.some((d, k) => d !== 1 && d !== xDims[k])) {
    throw new ExplainError(`feature mask of shape ${show} does not broadcast to the input's shape [${xDims}]`);
  }
  const values = Array.from(mask.data as ArrayLike<number | bigint>, Number);
  if (values.some((v) => !Number.isInteger(v))) throw new ExplainError(`feature mask of shape ${show} holds non-integer values; it must hold integer group ids`);
  const jobs: Job[] = [];
  for (let row = 0; row < xDims[0]; row++) {
    const groups = new Map<number, number[]>();
    const ids = broadcastRow(values, dims, xDims.slice(1), row);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      const list = groups.get(id) ?? [];
      list.push(i);
      groups.set(id, list);
    }
    for (const id of [...groups.keys()].sort((a, b) => a - b)) jobs.push({ row, indices: Int32Array.from(groups.get(id)!) });
  }
  return jobs;
}

/**
 * A feature mask of square patches (superpixels) of `size` × `size` pixels over an image of
 * `height` × `width`, numbered row-major (the last row and column of patches cropped at the border),
 * shared by the channels and rows: [1, 1, height, width], or [1, height, width, 1] for a
 * channels-last image.
 */
export function patchMask(height: number, width: number, size: number, channelsLast = false): { data: Int32Array; dims: number[] } {
  if (![height, width, size].every((v) => Number.isInteger(v) && v >= 1)) throw new ExplainError(`patch mask: ${height}×${width} pixels in patches of ${size} must be positive integers`);
  const across = Math.ceil(width / size);
  const data = Int32Array.from({ length: height * width }, (_, i) => Math.floor(Math.floor(i / width) / size) * across + Math.floor((i % width) / size));
  return { data, dims: channelsLast ? [1, height, width, 1] : [1, 1, height, width] };
}

/**
 * Feature ablation (Captum FeatureAblation): every feature of a group gets the output drop when the
 * whole group is replaced; without a mask each feature is a group. With a layer, the features are
 * the layer's activations (Captum's LayerFeatureAblation; the mask, fill and baseline then have
 * the layer's shape).
 */
export const featureAblation: Driver = {
  perturbs: true,
  async attribute(ex: Explainer, x: OrtTensor, options: AttributeOptions) {
    return sweep(ex, x, options, (t) => featureGroups(t, options), false);
  },
};

/** The feature groups of every row of t: the mask's, or (as Captum without a mask) each feature alone. */
export function featureGroups(t: OrtTensor, options: AttributeOptions): Job[] {
  const per = t.size / t.dims[0];
  return options.featureMask
    ? maskGroups(options.featureMask, [...t.dims])
    : Array.from({ length: t.size }, (_, i) => ({ row: Math.floor(i / per), indices: Int32Array.of(i % per) }));
}

/**
 * Captum's FeaturePermutation: each feature group takes, in every row at once, the values of another
 * row of the batch (a permutation of the rows per group, Fisher–Yates from the seeded generator,
 * drawn again while it is the identity); each row's features in the group get f(x) − f(x with the
 * group permuted). The mask is shared by the rows; the batch needs two rows or more. With a layer,
 * the layer's activations are permuted (Captum's LayerFeaturePermutation).
 */
export const featurePermutation: Driver = {
  perturbs: true,
  async attribute(ex: Explainer, x: OrtTensor, options: AttributeOptions) {
    const n = x.dims[0];
    if (n < 2) throw new ExplainError(`feature-permutation permutes features between the rows of the batch: it needs two rows or more (the input has ${n})`);
    const sources = new Map<Job, number>();
    const jobsOf = (t: OrtTensor) => {
      if (options.featureMask && options.featureMask.dims.length === t.dims.length && options.featureMask.dims[0] !== 1) throw new ExplainError('feature-permutation: the feature mask must be shared by the rows (no batch axis, or one row)');
      const next = uniform(options.seed ?? 0);
      return featureGroups(t, options).filter((job) => job.row === 0).flatMap((group) => {
        let order: number[];
        do order = shuffled(n, next);
        while (order.every((r, i) => r === i));
        return order.map((source, row) => {
          const job = { row, indices: group.indices };
          sources.set(job, source);
          return job;
        });
      });
    };
    const fromRows = (t: OrtTensor) => {
      const per = t.size / n;
      const values = t.data as Float32Array;
      return (job: Job) => Float32Array.from(job.indices, (i) => values[sources.get(job)! * per + i]);
    };
    return sweep(ex, x, options, jobsOf, false, fromRows);
  },
};
