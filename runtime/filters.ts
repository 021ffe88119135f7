import { checkKnown } from './known-options';
import { checkSeed } from './random';
import { ExplainError } from '../rewriter/errors';
import { rowMajorStrides } from '../rewriter/proto';
import { Explainer, TensorInput } from './explainer';
import { activationLayer, tensorsAt } from './drivers/forward';
import { occlusionWindows } from './drivers/occlusion';
import { fillValues, internalBatch, Job, perturbedRows, PerturbationOptions } from './drivers/perturbation';
import { pickFeeds, TensorData } from './tensors';

export interface FilterOptions extends Pick<PerturbationOptions, 'window' | 'stride' | 'fill' | 'seed' | 'internalBatchSize'> {
  /** The layer whose channels (axis 1) are ranked. */
  layer: string;
  /** How many channels to report (default 5). */
  top?: number;
  /** Occluded regions as boxes: per box, [start, end) ranges over the trailing input dimensions. */
  boxes?: [number, number][][];
  /** Fill of the occluded regions (instead of `fill`): a tensor (one row, or one per row) or a number. */
  baseline?: TensorInput | number;
  /** Values of the model's other inputs (as attribute's `feeds`): one row for all rows, or one per row. */
  feeds?: Record<string, TensorInput>;
  progress?: (done: number, total: number) => void;
}

export interface Occluded {
  /** The window's start per dimension, or the box's ranges. */
  region: number[] | [number, number][];
  /** Channels with the largest mean activation of the occluded input, largest first. */
  top: number[];
  /** How many of them are in the unoccluded top-k. */
  shared: number;
  /** Per channel: mean activation occluded − unoccluded. */
  change: Float32Array;
}

export interface FilterRow {
  /** Mean activation per channel. */
  means: Float32Array;
  top: number[];
  occluded?: Occluded[];
}

export interface FilterReport { layer: string; shape: number[]; rows: FilterRow[] }

/** Mean over every axis but the batch and the channel axis (1), per row: [N·C]. */
function channelMeans(t: TensorData): Float32Array[] {
  const [n, c] = t.dims;
  const per = t.data.length / (n * (c ?? 1));
  return Array.from({ length: n }, (_, r) => Float32Array.from({ length: c }, (_, k) => {
    let s = 0;
    for (let i = 0; i < per; i++) s += t.data[(r * c + k) * per + i];
    return s / per;
  }));
}

/** Indices of the k largest values, largest first (ties: lower index first). */
export function topK(values: ArrayLike<number>, k: number): number[] {
  return Array.from(values, (v, i) => [v, i]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k).map((p) => p[1]);
}

/** Flat indices (within a row of shape `dims`) of a box: [start, end) ranges over the trailing dimensions. */
function boxIndices(dims: number[], box: [number, number][]): Int32Array {
  const lead = dims.length - box.length;
  if (lead < 0) throw new ExplainError(`occlusion box ${JSON.stringify(box)} has ${box.length} ranges; the input's row shape [${dims}] has ${dims.length} dimensions`);
  box.forEach(([a, b], k) => {
    if (!(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && a < b && b <= dims[lead + k])) throw new ExplainError(`occlusion box ${box.map((r) => r.join(':')).join(',')}: range ${a}:${b} does not fit dimension ${lead + k} of the row shape [${dims}]`);
  });
  const ranges: [number, number][] = [...dims.slice(0, lead).map((d): [number, number] => [0, d]), ...box];
  const strides = rowMajorStrides(dims);
  const out: number[] = [];
  const walk = (k: number, offset: number) => {
    if (k === dims.length) { out.push(offset); return; }
    for (let i = ranges[k][0]; i < ranges[k][1]; i++) walk(k + 1, offset + i * strides[k]);
  };
  walk(0, 0);
  return Int32Array.from(out);
}

const FILTER_KEYS: Record<keyof FilterOptions, true> = {
  layer: true, top: true, boxes: true, baseline: true, feeds: true, progress: true, window: true, stride: true, fill: true, seed: true, internalBatchSize: true,
};

/**
 * Filter sensitivity (Amirli 2021, §4.2–4.3): the channels of `layer` with the largest mean
 * activation and, for each occluded input (a grid of windows or a list of boxes), its own top-k,
 * how many of the unoccluded top-k it keeps, and every channel's change (paper's Table 1).
 */
export async function filterSensitivity(ex: Explainer, input: TensorInput, options: FilterOptions): Promise<FilterReport> {
  checkKnown('filterSensitivity', options, FILTER_KEYS);
  const isRange = (r: unknown) => Array.isArray(r) && r.length === 2 && r.every((v) => typeof v === 'number');
  if (options.boxes !== undefined && !(Array.isArray(options.boxes) && options.boxes.every((box) => Array.isArray(box) && box.every(isRange)))) throw new ExplainError(`filterSensitivity: boxes must be a list of boxes, each a list of [start, end) ranges over the input's trailing dimensions, got ${JSON.stringify(options.boxes)}`);
  if (options.progress !== undefined && typeof options.progress !== 'function') throw new ExplainError('filterSensitivity: progress must be a function (done, total)');
  // What only occlusion reads, given without any (or beside another kind of region): it changed nothing.
  if (options.window !== undefined && options.boxes !== undefined) throw new ExplainError('filterSensitivity: give window (a grid of windows) or boxes, not both');
  if (options.stride !== undefined && options.window === undefined) throw new ExplainError('filterSensitivity: stride sets the step of window\'s grid; give window');
  const occluding = (['fill', 'seed', 'baseline', 'internalBatchSize'] as const).filter((k) => options[k] !== undefined);
  if (occluding.length && options.window === undefined && options.boxes === undefined) throw new ExplainError(`filterSensitivity: ${occluding.join(', ')} appl${occluding.length > 1 ? 'y' : 'ies'} to occluded inputs: give window or boxes`);
  if (typeof options.layer !== 'string') throw new ExplainError(`filterSensitivity: layer (the tensor whose channels are ranked, a name from info --layers) is required${options.layer === undefined ? '' : `, got ${typeof options.layer}`}`);
  checkSeed('filterSensitivity', options.seed);
  if (options.seed !== undefined && options.fill !== 'random') throw new ExplainError('filterSensitivity: seed seeds a random fill: give fill \'random\'');
  if (ex.tokens) throw new ExplainError(`${ex.label}: filter sensitivity takes a model with a float input (an image or a signal); this one takes token ids (attribute explains it, with --layer for a layer)`);
  const x = ex.toTensor(input);
  const rowDims = x.dims.slice(1);
  const prepared = await ex.prepare(rowDims, undefined, options.feeds);
  const layer = activationLayer(ex, prepared, options.layer, 'rank');
  const shape = prepared.facts.shapes.get(layer)!;
  if (shape.length < 2) throw new ExplainError(`${ex.label}: layer '${options.layer}' of shape [${shape}] has no channels after a batch axis`);
  // The default top 5, of a layer of fewer channels: all of them.
  const k = options.top ?? Math.min(5, shape[1]);
  if (!Number.isInteger(k) || k < 1 || k > shape[1]) throw new ExplainError(`top: ${k} is not between 1 and the layer's ${shape[1]} channels`);
  const run = await tensorsAt(ex, rowDims, [layer], undefined, options.feeds);
  const side = ex.sideFeeds(x, options.feeds);
  const rows: FilterRow[] = channelMeans((await run(x, side))[layer]).map((means) => ({ means, top: topK(means, k) }));
  const regions: { region: Occluded['region']; indices: Int32Array }[] = options.boxes
    ? options.boxes.map((box) => ({ region: box, indices: boxIndices(rowDims, box) }))
    : options.window ? occlusionWindows(rowDims, options.window, options.stride).map((w) => ({ region: w.start, indices: w.indices })) : [];
  const batch = internalBatch(options);
  // The layer's shape at these rows (the probe saw one).
  const atRows = [x.dims[0], ...shape.slice(1)];
  if (!regions.length) return { layer, shape: atRows, rows };
  const jobs: Job[] = regions.flatMap(({ indices }) => rows.map((_, row) => ({ row, indices })));
  const fill = fillValues(ex, x, options);
  rows.forEach((r) => { r.occluded = []; });
  for (let start = 0; start < jobs.length; start += batch) {
    const chunk = jobs.slice(start, start + batch);
    const means = channelMeans((await run(perturbedRows(x, chunk, fill), pickFeeds(side, chunk.map((job) => job.row))))[layer]);
    chunk.forEach((job, slot) => {
      const row = rows[job.row];
      const top = topK(means[slot], k);
      row.occluded!.push({
        region: regions[Math.floor((start + slot) / rows.length)].region,
        top,
        shared: top.filter((c) => row.top.includes(c)).length,
        change: means[slot].map((v, c) => v - row.means[c]),
      });
    });
    options.progress?.(Math.min(start + batch, jobs.length), jobs.length);
  }
  return { layer, shape: atRows, rows };
}
