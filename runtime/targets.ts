import { ExplainError } from '../rewriter/errors';
import { broadcastRow, fromNdarray, TensorInput } from './tensors';

/** One row's target: a flat index over the explained axes, or one index per explained axis. */
export type TargetIndex = number | number[];
/**
 * A target for every row (a number), or one per row. A list holding a single multi-index
 * (`[[3, 17]]`) applies it to every row.
 */
export type Target = number | TargetIndex[];

export interface TargetOptions {
  target?: Target;
  /** "Why target rather than contrast": the seed becomes e_target − e_contrast. */
  contrast?: Target;
  /** The explained value is the sum or mean of the tensor over `reduceAxes`. */
  reduce?: 'sum' | 'mean';
  /** Axes of the explained tensor (batch is 0; negative counts from the end) to reduce; default all but the batch. */
  reduceAxes?: number[];
  /**
   * Weights of the tensor's values in the reduction (reduce defaults to 'sum'): the explained value is
   * Σ w·y, a masked sum where w is 0 or 1 (Captum's aggregation wrappers: a segmentation class over
   * the pixels predicted as it). Broadcastable to a row of the tensor, or to every row ([N, …]).
   */
  reduceWeights?: TensorInput;
  /** DeepLIFT §2.5: centre the seed over the final Softmax's classes (seed e_t − 1/n), over the row without one. */
  softmaxNormalize?: boolean;
}

/**
 * The values a target can pick in one row of an explained tensor: its non-batch axes, less the
 * reduced ones. Seeds are linear in the tensor, so a reduction is only a seed spread over the
 * reduced positions (1 for sum, 1/count for mean).
 */
export class TargetSpace {
  /** Sizes of the axes a target indexes (non-batch, not reduced). */
  readonly dims: number[];
  readonly size: number;
  /** Positions of one tensor row (row-major over its non-batch axes). */
  readonly rowSize: number;
  private readonly reduced: boolean[];
  private readonly scale: number;
  private readonly weights?: { values: Float64Array; dims: number[] };

  /**
   * `predictsMin`: the model predicts the smallest value (an ArgMin of the tensor), the default target
   * per row. `classes`: where the seed goes on a Softmax's logits, their row's dims (in the order of
   * this tensor's positions) and the axes the Softmax normalises, over which softmaxNormalize centres the seed.
   */
  constructor(readonly tensor: string, private readonly rowDims: number[], private readonly label: string, options: TargetOptions = {}, private readonly predictsMin = false, private readonly classes?: { dims: number[]; axes: number[] }) {
    const { reduceAxes, reduceWeights } = options;
    const reduce = options.reduce ?? (reduceWeights ? 'sum' : undefined);
    const rank = rowDims.length + 1;
    this.reduced = rowDims.map(() => false);
    if (reduce !== undefined && reduce !== 'sum' && reduce !== 'mean') throw new ExplainError(`${label}: --reduce ${reduce} is not 'sum' or 'mean'`);
    if (reduce) {
      const axes = reduceAxes ?? rowDims.map((_, k) => k + 1);
      for (const a of axes) {
        const axis = a < 0 ? a + rank : a;
        if (!Number.isInteger(a) || axis < 1 || axis >= rank) throw new ExplainError(`${label}: --reduce-axes ${a} is not a non-batch axis of '${tensor}' ${this.shapeText()} (axes 1..${rank - 1})`);
        if (this.reduced[axis - 1]) throw new ExplainError(`${label}: --reduce-axes names axis ${axis} twice`);
        this.reduced[axis - 1] = true;
      }
    } else if (reduceAxes) {
      throw new ExplainError(`${label}: reduceAxes given without reduce ('sum' or 'mean')`);
    }
    this.dims = rowDims.filter((_, k) => !this.reduced[k]);
    this.size = this.dims.reduce((a, b) => a * b, 1);
    this.rowSize = rowDims.reduce((a, b) => a * b, 1);
    this.scale = reduce === 'mean' ? this.size / this.rowSize : 1;
    if (reduceWeights) this.weights = this.checkWeights(reduceWeights);
  }

  private checkWeights(given: TensorInput): { values: Float64Array; dims: number[] } {
    const where = `${this.label}: reduceWeights`;
    // An ndarray, an onnxruntime float16 Tensor (its bits: fromNdarray reads the values).
    const w = fromNdarray(given);
    if (!w || !Array.isArray(w.dims) || !w.data || typeof w.data.length !== 'number') throw new ExplainError(`${where} must be a tensor { data, dims }`);
    const count = w.dims.reduce((a, d) => a * d, 1);
    if (w.data.length !== count) throw new ExplainError(`${where} has ${w.data.length} values but shape [${w.dims}] needs ${count}`);
    // As numpy broadcasts: fewer axes than a row are its last ones; one more is the batch.
    const dims = w.dims.length <= this.rowDims.length ? [...Array(this.rowDims.length + 1 - w.dims.length).fill(1), ...w.dims] : w.dims;
    if (dims.length !== this.rowDims.length + 1 || dims.slice(1).some((d, k) => d !== 1 && d !== this.rowDims[k])) throw new ExplainError(`${where} of shape [${w.dims}] does not broadcast to '${this.tensor}' ${this.shapeText()}`);
    const values = Float64Array.from(w.data as ArrayLike<number | bigint>, Number);
    if (!values.every(Number.isFinite)) throw new ExplainError(`${where} holds a value that is not finite`);
    return { values, dims };
  }

  /** The weight of each position of row r; undefined (every weight 1) without weights. */
  private rowWeights(r: number): Float64Array | undefined {
    return this.weights && broadcastRow(this.weights.values, this.weights.dims, this.rowDims, r);
  }

  /** Per-row weights picked for expanded rows (each an input row's index); undefined where one row of weights serves every row. */
  weightsOfRows(rows: number[]): { data: Float64Array; dims: number[] } | undefined {
    const w = this.weights;
    if (!w || w.dims[0] === 1) return undefined;
    const per = w.values.length / w.dims[0];
    const data = new Float64Array(rows.length * per);
    rows.forEach((r, k) => data.set(w.values.subarray(r * per, (r + 1) * per), k * per));
    return { data, dims: [rows.length, ...w.dims.slice(1)] };
  }

  /** Checks that per-row weights have one row per input row. */
  private checkRows(n: number): void {
    const rows = this.weights?.dims[0] ?? 1;
    if (rows !== 1 && rows !== n) throw new ExplainError(`${this.label}: reduceWeights of shape [${this.weights!.dims}] give ${rows} rows for ${n} input rows`);
  }

  shapeText(): string {
    return `[${['N', ...this.rowDims].join(', ')}]`;
  }

  /** Target-space index of each position of a tensor row. */
  private project(): Int32Array {
    const out = new Int32Array(this.rowSize);
    const idx = this.rowDims.map(() => 0);
    for (let p = 0; p < this.rowSize; p++) {
      let j = 0;
      this.rowDims.forEach((d, k) => { if (!this.reduced[k]) j = j * d + idx[k]; });
      out[p] = j;
      for (let k = this.rowDims.length - 1; k >= 0 && ++idx[k] === this.rowDims[k]; k--) idx[k] = 0;
    }
    return out;
  }

  /** Checks a target and returns its flat index. */
  flat(t: TargetIndex, what: string): number {
    const where = `${this.label}: ${what} ${Array.isArray(t) ? t.join(':') : t}`;
    if (Array.isArray(t)) {
      if (t.length !== this.dims.length) throw new ExplainError(`${where} has ${t.length} indices, but '${this.tensor}' ${this.shapeText()}${this.reducedText()} takes ${this.dims.length} (axes of sizes ${this.dims.join(', ') || 'none'})`);
      return t.reduce((acc, v, k) => {
        const at = fromEnd(v, this.dims[k]);
        if (at === undefined) throw new ExplainError(`${where} is out of range for '${this.tensor}' ${this.shapeText()}${this.reducedText()}: index ${k} must be in ${indexRange(this.dims[k])}`);
        return acc * this.dims[k] + at;
      }, 0);
    }
    if (!Number.isInteger(t)) throw new ExplainError(`${this.label}: ${what} ${typeof t === 'string' ? JSON.stringify(t) : String(t)} is not an integer index`);
    const at = fromEnd(t, this.size);
    if (at === undefined) {
      const kind = this.dims.length === 1 && this.rowDims.length === 1 ? `${this.size} classes` : `shape ${this.shapeText()}${this.reducedText()}, ${this.size} values per row`;
      throw new ExplainError(`${where} is out of range for output '${this.tensor}' with ${kind} (${indexRange(this.size)})`);
    }
    return at;
  }

  private reducedText(): string {
    return this.reduced.some(Boolean) ? ` reduced over axes ${this.reduced.map((r, k) => (r ? k + 1 : -1)).filter((k) => k > 0).join(',')}` : '';
  }

  /** A target as the user writes it: the flat index, or `i:j` over several axes. */
  format(flat: number): string {
    if (this.dims.length <= 1) return String(flat);
    const idx: number[] = [];
    for (let k = this.dims.length - 1; k >= 0; k--) { idx.unshift(flat % this.dims[k]); flat = Math.floor(flat / this.dims[k]); }
    return idx.join(':');
  }

  /** The explained values of row r of the tensor (after the reduction): one per target index. */
  values(row: ArrayLike<number>, r: number): Float64Array {
    const out = new Float64Array(this.size);
    const proj = this.project();
    const w = this.rowWeights(r);
    for (let p = 0; p < this.rowSize; p++) out[proj[p]] += row[p] * this.scale * (w ? w[p] : 1);
    return out;
  }

  /** Flat targets per row: given, or each row's argmax (argmin where the model predicts the smallest) of the explained values of `tensorRows`. */
  targets(target: Target | undefined, n: number, rowsOf: () => Promise<ArrayLike<number>>, what = 'target'): Promise<number[]> | number[] {
    const given = perRow(target, n, what);
    this.checkRows(n);
    if (given) return given.map((t) => this.flat(t, what));
    if (this.size === 1) return Array(n).fill(0);
    const sign = this.predictsMin ? -1 : 1;
    return rowsOf().then((data) => Array.from({ length: n }, (_, r) => argmax(this.values(Array.prototype.slice.call(data, r * this.rowSize, (r + 1) * this.rowSize), r).map((v) => sign * v))));
  }

  /**
   * The seed on the tensor per row: e_target (− e_contrast) spread over the reduced positions,
   * optionally centred over the Softmax's classes (classGroups).
   */
  seed(targets: number[], contrast?: number[], softmaxNormalize = false): Float32Array {
    const n = targets.length;
    this.checkRows(n);
    const proj = this.project();
    const groups = softmaxNormalize ? this.classGroups() : undefined;
    const seed = new Float32Array(n * this.rowSize);
    const row = new Float64Array(this.rowSize);
    for (let r = 0; r < n; r++) {
      const weights = this.rowWeights(r);
      if (contrast?.[r] === targets[r]) throw new ExplainError(`${this.label}: row ${r}: the contrast ${this.format(targets[r])} is the target, so e_target − e_contrast is zero: give another contrast, or a target for that row`);
      for (let p = 0; p < this.rowSize; p++) {
        const w = (proj[p] === targets[r] ? 1 : 0) - (proj[p] === contrast?.[r] ? 1 : 0);
        row[p] = w * this.scale * (weights ? weights[p] : 1);
      }
      if (groups) centre(row, groups);
      seed.set(row, r * this.rowSize);
    }
    return seed;
  }

  /**
   * DeepLIFT §2.5: a Softmax gives the same for logits shifted by one value over its classes, so the
   * seed is centred over each group of positions it normalises together (e_t − 1/n for a target among
   * n classes) — over the whole row where the tensor is no Softmax's output. Group index per position.
   */
  private classGroups(): { of: Int32Array; size: number } {
    const { dims, axes } = this.classes ?? { dims: this.rowDims, axes: this.rowDims.map((_, k) => k) };
    const of = new Int32Array(this.rowSize);
    const idx = dims.map(() => 0);
    for (let p = 0; p < this.rowSize; p++) {
      of[p] = dims.reduce((g, d, k) => (axes.includes(k) ? g : g * d + idx[k]), 0);
      for (let k = dims.length - 1; k >= 0 && ++idx[k] === dims[k]; k--) idx[k] = 0;
    }
    const size = axes.reduce((a, k) => a * dims[k], 1);
    if (size === 1) throw new ExplainError(`${this.label}: softmaxNormalize (DeepLIFT §2.5) centres the seed over a softmax's classes; '${this.tensor}' ${this.shapeText()} ${this.classes ? 'is no softmax over several classes' : 'has one value per row'}, so the seed would be zero`);
    return { of, size };
  }
}

/** Subtracts from each value the mean of its group (`of`: group per position, `size` positions each). */
function centre(row: Float64Array, { of, size }: { of: Int32Array; size: number }): void {
  const sums = new Float64Array(row.length / size);
  row.forEach((v, p) => { sums[of[p]] += v; });
  row.forEach((v, p) => { row[p] = v - sums[of[p]] / size; });
}

/** One value per row from a scalar or a per-row list (a list with one multi-index applies to all rows). */
export function perRow(v: Target | undefined, n: number, what: string): TargetIndex[] | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return Array(n).fill(v);
  if (!Array.isArray(v)) throw new ExplainError(`${what} ${typeof v === 'string' || (typeof v === 'object' && v !== null) ? JSON.stringify(v) : String(v)} is not an index: give an integer, a list with one per row, or multi-indices ([[3, 17]])`);
  if (v.length === 1 && Array.isArray(v[0])) return Array(n).fill(v[0]);
  if (v.length !== n) throw new ExplainError(`${what}: ${v.length} values given for ${n} input rows`);
  return [...v];
}

/** The index of the first largest value. */
export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let k = 1; k < v.length; k++) if (v[k] > v[best]) best = k;
  return best;
}

/**
 * The position a Python index picks on an axis of `size` (negative ones count from the end, as Captum's
 * `output[:, -1]`), or undefined where it is no integer in -size..size-1.
 */
export function fromEnd(index: number, size: number): number | undefined {
  if (!Number.isInteger(index) || index < -size || index >= size) return undefined;
  return index < 0 ? index + size : index;
}

/** The indices an axis of `size` takes, as an error names them. */
export function indexRange(size: number): string {
  return `0..${size - 1}, or -${size}..-1 from the end`;
}
