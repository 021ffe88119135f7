import { ExplainError } from '../../rewriter/errors';
import { rowMajorStrides } from '../../rewriter/proto';
import type { AttributeOptions, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { Job, sweep } from './perturbation';
import { Driver } from './types';

/**
 * Windows of a sliding occlusion over a row of shape `dims` (Captum Occlusion): window k starts at
 * i·stride on each dimension, ceil((D − w)/s) + 1 starts per dimension, the last one cropped at the
 * border. Returns each window's start and flat indices within the row.
 */
export function occlusionWindows(dims: number[], window: number[] | undefined, stride: number | number[] | undefined): { start: number[]; indices: Int32Array }[] {
  if (!window) throw new ExplainError(`occlusion needs a window per input dimension without the batch (${dims.length} values, e.g. --window ${dims.map((d) => Math.min(d, 3)).join(',')})`);
  if (!Array.isArray(window)) throw new ExplainError(`occlusion window ${JSON.stringify(window)} is not a list: give one size per input dimension without the batch (${dims.length} values, e.g. [${dims.map((d) => Math.min(d, 3)).join(', ')}])`);
  if (window.length !== dims.length) throw new ExplainError(`occlusion window [${window}] has ${window.length} values; the input's row shape [${dims}] has ${dims.length} dimensions`);
  const strides = typeof stride === 'number' || stride === undefined ? dims.map(() => stride ?? 1) : stride;
  if (strides.length !== dims.length) throw new ExplainError(`occlusion stride [${strides}] has ${strides.length} values; give one, or one per dimension of the row shape [${dims}]`);
  dims.forEach((d, k) => {
    if (!Number.isInteger(window[k]) || window[k] < 1 || window[k] > d) throw new ExplainError(`occlusion window [${window}] does not fit the row shape [${dims}] (dimension ${k}: 1..${d})`);
    if (!Number.isInteger(strides[k]) || strides[k] < 1) throw new ExplainError(`occlusion stride [${strides}]: dimension ${k} is not a positive integer`);
    if (strides[k] > window[k] && window[k] < d) throw new ExplainError(`occlusion stride [${strides}] exceeds the window [${window}] on dimension ${k}: features between windows would never be occluded`);
  });
  const counts = dims.map((d, k) => Math.ceil((d - window[k]) / strides[k]) + 1);
  const total = counts.reduce((a, b) => a * b, 1);
  const rowStrides = rowMajorStrides(dims);
  const windows: { start: number[]; indices: Int32Array }[] = [];
  for (let w = 0; w < total; w++) {
    let rest = w;
    const starts = counts.map((c, k) => { const i = rest % c; rest = Math.floor(rest / c); return i * strides[k]; });
    const ends = starts.map((s, k) => Math.min(s + window[k], dims[k]));
    const indices: number[] = [];
    const walk = (k: number, offset: number) => {
      if (k === dims.length) { indices.push(offset); return; }
      for (let i = starts[k]; i < ends[k]; i++) walk(k + 1, offset + i * rowStrides[k]);
    };
    walk(0, 0);
    windows.push({ start: starts, indices: Int32Array.from(indices) });
  }
  return windows;
}

/** Occlusion (Zeiler & Fergus; Captum semantics): each feature gets the mean output drop over the windows covering it. */
export const occlusion: Driver = {
  perturbs: true,
  perturbsInput: true,
  async attribute(ex: Explainer, x: OrtTensor, options: AttributeOptions) {
    const dims = x.dims.slice(1);
    if (!options.window && ex.tokens) {
      throw new ExplainError(`occlusion needs a window over the tokens (e.g. --window 3: three tokens, each with its whole embedding), or one per dimension of the embedded row [${dims}]`);
    }
    // Text models: a window over the tokens alone covers each token's whole embedding (Captum's (w, hidden)).
    const width = ex.tokens && options.window?.length === dims.length - ex.tokens.rowDims.length ? ex.tokens.rowDims : [];
    const stride = Array.isArray(options.stride) && width.length ? [...options.stride, ...width] : options.stride;
    const windows = occlusionWindows(dims, Array.isArray(options.window) ? [...options.window, ...width] : options.window, stride);
    const jobs: Job[] = windows.flatMap(({ indices }) => Array.from({ length: x.dims[0] }, (_, row) => ({ row, indices })));
    return sweep(ex, x, options, () => jobs, true);
  },
};
