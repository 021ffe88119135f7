import { attrInt, attrInts, attrString } from '../rewriter/attributes';
import { Emitter } from '../rewriter/emitter';
import { NodeProto } from '../rewriter/proto';
import { Constant } from '../rewriter/graph-view';
import { BackwardRule, RuleContext, RuleEntry } from './types';

/** Whether operand i of a weighted or product op multiplies the others (Gemm's C and a Conv's bias are added to their product). */
export const multiplies = (opType: string, i: number): boolean => !(i === 2 && ['Gemm', 'Conv', 'ConvTranspose'].includes(opType));

/** Normalises a possibly negative axis; one outside [−rank, rank) fails naming the node. */
export function normAxis(ctx: Pick<RuleContext, 'fail'>, axis: number, rank: number): number {
  if (!Number.isSafeInteger(axis) || axis < -rank || axis >= rank) ctx.fail(`axis ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}

/** Integer list given as attribute `name` (older opsets) or as constant input `index` (newer). */
export function intsOf(ctx: RuleContext, name: string, index: number): number[] | undefined {
  const fromAttr = attrInts(ctx.node, name);
  if (fromAttr) return fromAttr;
  const input = ctx.node.input?.[index];
  return input ? ctx.requireConstant(input, name).values : undefined;
}

/** Reduction axes (attribute before opset 13/18, input after), normalised; all axes when absent. */
export function reduceAxes(ctx: RuleContext, rank: number): number[] {
  const axes = intsOf(ctx, 'axes', 1);
  if (axes && axes.length) {
    const norm = axes.map((a) => normAxis(ctx, a, rank));
    if (new Set(norm).size !== norm.length) ctx.fail(`axes [${axes}] name an axis twice (rank ${rank})`);
    return norm;
  }
  if (attrInt(ctx.node, 'noop_with_empty_axes', 0)) return [];
  return Array.from({ length: rank }, (_, k) => k);
}

export interface ConvGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Explicit pads [begin..., end...] with auto_pad resolved. */
  pads: number[];
  group: number;
}

/** A total padding split as auto_pad splits it: [begin, end], the odd one at the end for SAME_UPPER, at the start otherwise. */
export function splitPadding(total: number, autoPad: string): [number, number] {
  const half = Math.floor(total / 2);
  return autoPad === 'SAME_UPPER' ? [half, total - half] : [total - half, half];
}

/** Conv/pool attributes with auto_pad resolved to explicit pads for input spatial size `x`. */
export function convGeometry(ctx: RuleContext, x: number[], kernel: number[]): ConvGeometry {
  const n = kernel.length;
  const node = ctx.node;
  const strides = attrInts(node, 'strides') ?? Array(n).fill(1);
  const dilations = attrInts(node, 'dilations') ?? Array(n).fill(1);
  let pads = attrInts(node, 'pads') ?? Array(2 * n).fill(0);
  const autoPad = attrString(node, 'auto_pad', 'NOTSET');
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    pads = Array(2 * n).fill(0);
    for (let i = 0; i < n; i++) {
      const out = Math.ceil(x[i] / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - x[i]);
      [pads[i], pads[i + n]] = splitPadding(total, autoPad);
    }
  } else if (autoPad === 'VALID') {
    pads = Array(2 * n).fill(0);
  }
  return { kernel, strides, dilations, pads, group: attrInt(node, 'group', 1) };
}

/**
 * ConvTranspose that scatters `dY` (spatial size y) back onto an input of spatial size x:
 * output_padding_i = x_i − ((y_i−1)·s_i + (k_i−1)·d_i + 1 − pad_begin_i − pad_end_i).
 */
export function scatterConv(em: Emitter, dY: string, w: string, g: ConvGeometry, x: number[], y: number[]): string {
  const n = g.kernel.length;
  if (n === 3 && g.group === 1 && em.opset >= 10) return stuffedConv(em, dY, w, g, x, y);
  const outputPadding = x.map((xi, i) => xi - ((y[i] - 1) * g.strides[i] + (g.kernel[i] - 1) * g.dilations[i] + 1 - g.pads[i] - g.pads[i + n]));
  const attrs = {
    strides: g.strides, dilations: g.dilations, pads: g.pads, group: g.group,
    output_padding: outputPadding.some((p) => p > 0) ? outputPadding.map((p) => Math.max(0, p)) : undefined,
  };
  const full = em.op('ConvTranspose', [dY, w], attrs);
  // A window that ran past the input's end (ceil_mode) scatters beyond it: crop.
  if (outputPadding.some((p) => p < 0)) return em.slice(full, Array(n).fill(0), x, Array.from({ length: n }, (_, i) => i + 2));
  return full;
}

/** Weights w [a, b, k…] with the kernel flipped on every spatial axis (Slice, step −1), and a/b swapped where `swap`: a ConvTranspose's weights as a Conv's. */
export function flippedKernel(em: Emitter, w: string, kernel: number[], swap: boolean): string {
  const spatial = kernel.map((_, i) => i + 2);
  return em.slice(swap ? em.transpose(w, [1, 0, ...spatial]) : w, kernel.map(() => -1), kernel.map((k) => -k - 1), spatial, kernel.map(() => -1));
}

/**
 * scatterConv for 3-D kernels, whose ConvTranspose neither onnxruntime-web WebGPU backend runs
 * (JSEP: "only 2-dimensional", native: "Conv2d or Conv1d"): dY with s−1 zeros after each element
 * (a unit axis padded to s and merged), padded by d·(k−1) − p_begin before and x − (y−1)·s − 1 +
 * p_begin after (a negative amount crops), convolved with W's channels swapped and its kernel
 * flipped — the same sums, plus products with the inserted zeros.
 */
function stuffedConv(em: Emitter, dY: string, w: string, g: ConvGeometry, x: number[], y: number[]): string {
  const n = g.kernel.length;
  const spatial = g.kernel.map((_, i) => i + 2);
  const stuffed = g.strides.every((s) => s === 1) ? dY
    : em.reshape(em.pad(em.reshape(dY, [0, -1, ...y.flatMap((d) => [d, 1])]), [0, 0, ...y.flatMap(() => [0, 0]), 0, 0, ...g.strides.flatMap((s) => [0, s - 1])]), [0, -1, ...y.map((d, i) => d * g.strides[i])]);
  const before = g.kernel.map((k, i) => g.dilations[i] * (k - 1) - g.pads[i]);
  // The stuffed axis already ends in s − 1 zeros.
  const after = x.map((d, i) => d - (y[i] - 1) * g.strides[i] - 1 + g.pads[i] - (g.strides[i] - 1));
  const padded = em.pad(stuffed, [0, 0, ...before.map((p) => Math.max(0, p)), 0, 0, ...after.map((p) => Math.max(0, p))]);
  const lengths = y.map((d, i) => d * g.strides[i] + Math.max(0, before[i]) + Math.max(0, after[i]));
  const cropped = [...before, ...after].some((p) => p < 0)
    ? em.slice(padded, before.map((p) => Math.max(0, -p)), lengths.map((l, i) => l - Math.max(0, -after[i])), spatial) : padded;
  return em.op('Conv', [cropped, flippedKernel(em, w, g.kernel, true)], { strides: Array(n).fill(1), dilations: g.dilations, pads: Array(2 * n).fill(0), group: 1 });
}

/**
 * dW of Y = Conv(X, W) (X with xChannels channels and spatial sizes xs, Y with ys) for weights
 * computed from the input: dW[m, c, k] = Σ_{n,o} dY[n, m, o]·Xpad[n, c, o·s + k·d]
 * (c within m's group), itself a Conv — the padded X with batch and channels swapped as its input
 * ([C/g, g·N, …]: group j reads its N rows of channel c), dY with batch and channels swapped as its
 * weights ([M, N, …]), the forward's dilations as strides and its strides as dilations — cropped to
 * the kernel (the stride's leftover positions reach past it) and swapped back to [M, C/g, k…].
 */
export function convWeightGrad(em: Emitter, x: string, dY: string, g: ConvGeometry, xChannels: number, xs: number[], ys: number[]): string {
  const n = g.kernel.length;
  const spatial = g.kernel.map((_, i) => i + 2);
  const swap = [1, 0, ...spatial];
  const padded = g.pads.some((p) => p !== 0) ? em.pad(x, [0, 0, ...g.pads.slice(0, n), 0, 0, ...g.pads.slice(n)]) : x;
  const inner = xs.map((d, i) => d + g.pads[i] + g.pads[i + n]);
  const channels = xChannels / g.group;
  const rows = g.group === 1 ? em.transpose(padded, swap)
    : em.reshape(em.transpose(em.reshape(padded, [0, g.group, channels, ...inner]), [2, 1, 0, ...spatial.map((a) => a + 1)]), [channels, -1, ...inner]);
  const full = em.op('Conv', [rows, em.transpose(dY, swap)], { strides: g.dilations, dilations: g.strides, pads: Array(2 * n).fill(0), group: g.group });
  const reach = inner.map((p, i) => Math.floor((p - (ys[i] - 1) * g.strides[i] - 1) / g.dilations[i]) + 1);
  const cropped = reach.some((r, i) => r > g.kernel[i]) ? em.slice(full, Array(n).fill(0), g.kernel, spatial) : full;
  return em.transpose(cropped, swap);
}

/** dB of a Conv's or ConvTranspose's bias computed from the input: dY summed over all but the channels. */
export function convBiasGrad(em: Emitter, dY: string, rank: number): string {
  return em.reduceSum(dY, Array.from({ length: rank }, (_, k) => k).filter((k) => k !== 1), false);
}

/**
 * Transpose of summing each pooling window of x (spatial sizes xsp) into y (ysp): every input
 * element gets the sum of g over the windows that hold it, a ConvTranspose with a ones kernel per
 * channel; a padded end that no window reaches stays zero.
 */
export function windowSumBackward(em: Emitter, g: string, geo: ConvGeometry, channels: number, xsp: number[], ysp: number[]): string {
  const n = geo.kernel.length;
  const size = geo.kernel.reduce((a, b) => a * b, 1);
  const full = ysp.map((o, i) => (o - 1) * geo.strides[i] + (geo.kernel[i] - 1) * geo.dilations[i] + 1);
  const pads = [...geo.pads.slice(0, n), ...full.map((f, i) => Math.max(0, f - geo.pads[i] - xsp[i]))];
  if (n === 3) {
    // Channels folded into the batch: one kernel, group 1 (no grouped 3-D kernels on WebGPU).
    const w = em.constFloat(new Float64Array(size).fill(1), [1, 1, ...geo.kernel]);
    const placed = scatterConv(em, em.reshape(g, [-1, 1, ...ysp]), w, { ...geo, pads, group: 1 }, xsp, ysp);
    return em.reshape(placed, [-1, channels, ...xsp]);
  }
  const w = em.constFloat(new Float64Array(channels * size).fill(1), [channels, 1, ...geo.kernel]);
  return scatterConv(em, g, w, { ...geo, pads, group: channels }, xsp, ysp);
}

/**
 * dX of a constant-mode pad of x (shape xs) by begin/end per axis, negative ones cropping: dY
 * cropped back to x where padded, zero-padded back where cropped.
 */
export function constantPadBack(em: Emitter, dY: string, xs: number[], begin: number[], end: number[]): string {
  const cut = xs.map((_, k) => k).filter((k) => begin[k] > 0 || end[k] > 0);
  const cropped = cut.length === 0 ? dY : em.slice(dY, cut.map((k) => Math.max(begin[k], 0)), cut.map((k) => xs[k] + begin[k] + end[k] - Math.max(end[k], 0)), cut);
  return em.pad(cropped, [...begin.map((p) => Math.max(-p, 0)), ...end.map((p) => Math.max(-p, 0))]);
}

/**
 * Sums slices of `g` along `axis` into a tensor of length `inLen` on that axis, slice j going to
 * index map[j] (or dropped when map[j] < 0): a MatMul with a constant one-hot matrix.
 */
export function scatterAlongAxis(em: Emitter, g: string, axis: number, rank: number, map: number[], inLen: number): string {
  const plan = map.length * inLen > DENSE_SCATTER ? scatterPieces(map) : undefined;
  if (!plan) return denseScatter(em, g, axis, rank, map, 0, map.length, 0, inLen);
  const pads = (lo: number, hi: number) => Array.from({ length: 2 * rank }, (_, k) => (k === axis ? lo : k === rank + axis ? inLen - 1 - hi : 0));
  const parts = plan.map(({ from, to, lo, hi, run }) => {
    const rows = em.slice(g, [from], [to], [axis]);
    return em.pad(run ? rows : denseScatter(em, rows, axis, rank, map, from, to, lo, hi + 1), pads(lo, hi));
  });
  return parts.reduce((sum, part) => em.add(sum, part));
}

/** Largest dense scatter matrix (elements) before a long axis is cut into runs (a reflect Pad of a waveform). */
const DENSE_SCATTER = 1 << 22;
/** Shortest run of consecutive sources taken as a Slice of its own. */
const SCATTER_RUN = 16;

interface ScatterPiece { from: number; to: number; lo: number; hi: number; run: boolean }

/**
 * The rows of a scatter cut into runs that read consecutive sources (a Slice, padded into place)
 * and the groups of rows between them (each a small dense matrix over the sources [lo, hi] it
 * reads); undefined where a group's matrix is itself too large (a permutation).
 */
function scatterPieces(map: number[]): ScatterPiece[] | undefined {
  const pieces: ScatterPiece[] = [];
  let rest = -1;
  const closeRest = (to: number) => {
    if (rest < 0) return true;
    const sources = map.slice(rest, to).filter((s) => s >= 0);
    // Not Math.min(...sources): a group of 10⁵ rows or more overflows the call stack.
    const [from, lo, hi] = [rest, sources.reduce((a, b) => Math.min(a, b), Infinity), sources.reduce((a, b) => Math.max(a, b), -Infinity)];
    rest = -1;
    if (!sources.length) return true;
    pieces.push({ from, to, lo, hi, run: false });
    return (to - from) * (hi - lo + 1) <= DENSE_SCATTER;
  };
  for (let j = 0; j < map.length;) {
    let k = j + 1;
    if (map[j] >= 0) while (k < map.length && map[k] === map[k - 1] + 1) k++;
    if (map[j] >= 0 && k - j >= SCATTER_RUN) {
      if (!closeRest(j)) return undefined;
      pieces.push({ from: j, to: k, lo: map[j], hi: map[k - 1], run: true });
    } else if (rest < 0) rest = j;
    j = k;
  }
  return closeRest(map.length) ? pieces : undefined;
}

/** Rows [from, to) of the scatter as one dense matrix (those rows × sources [lo, hi)) contracted with g (holding those rows along axis). */
function denseScatter(em: Emitter, g: string, axis: number, rank: number, map: number[], from: number, to: number, lo: number, hi: number): string {
  const cols = hi - lo;
  const matrix = new Float64Array((to - from) * cols);
  for (let j = from; j < to; j++) if (map[j] >= 0) matrix[(j - from) * cols + map[j] - lo] += 1;
  return matmulAlongAxis(em, g, axis, rank, matrix, to - from, cols);
}

/** Contracts axis `axis` of `g` (length rows) with a constant rows×cols matrix M: result length cols there. */
export function matmulAlongAxis(em: Emitter, g: string, axis: number, rank: number, matrix: ArrayLike<number>, rows: number, cols: number): string {
  return contractAlongAxis(em, g, axis, rank, () => em.constFloat(matrix, [rows, cols]), () => {
    const t = new Float64Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = matrix[r * cols + c];
    return em.constFloat(t, [cols, rows]);
  });
}

/** Contracts axis `axis` of `g` with the matrix m() (rows × cols; mT() its transpose, built only when used). */
export function contractAlongAxis(em: Emitter, g: string, axis: number, rank: number, m: () => string, mT: () => string): string {
  if (axis === rank - 1) return em.matmul(g, m());
  // Mᵀ·g broadcasts over the leading axes: no transposes needed.
  if (axis === rank - 2) return em.matmul(mT(), g);
  const perm = Array.from({ length: rank }, (_, k) => k);
  perm[axis] = rank - 1;
  perm[rank - 1] = axis;
  return em.transpose(em.matmul(em.transpose(g, perm), m()), perm);
}

/** Rule of ops that only change the shape (Reshape, Flatten, Squeeze, Unsqueeze): dX = dY reshaped like X. */
export const reshapeBack: BackwardRule = {
  backward: (ctx, [dY]) => [ctx.reshapeLike(dY!, ctx.node.input![0], ctx.node.output![0])],
};

/**
 * Gradient of x̂ = (x − mean)·rstd over `axes` given g = dY·γ:
 * dX = rstd·(g − mean(g) − x̂·mean(g·x̂)).
 */
export function normalizeBackward(em: Emitter, x: string, g: string, axes: number[], epsilon: number): string {
  const centered = em.sub(x, em.reduceMean(x, axes));
  const variance = em.reduceMean(em.mul(centered, centered), axes);
  const rstd = em.op('Reciprocal', [em.op('Sqrt', [em.add(variance, em.scalar(epsilon))])]);
  const xhat = em.mul(centered, rstd);
  const inner = em.sub(em.sub(g, em.reduceMean(g, axes)), em.mul(xhat, em.reduceMean(em.mul(g, xhat), axes)));
  return em.mul(rstd, inner);
}

/** Max/Min: dY goes to the inputs equal to Y, split evenly among ties (as PyTorch maximum/minimum). */
export function extremumGrad(ctx: RuleContext, dY: string): (string | null)[] {
  const { em, node } = ctx;
  const inputs = node.input!;
  if (inputs.length === 1) return [dY];
  const hits = inputs.map((x) => em.mask('Equal', x, node.output![0]));
  const share = em.div(dY, em.sum(hits));
  return hits.map((h, i) => (ctx.needsGrad(i) ? em.mul(share, h) : null));
}

/** round(v) with halves to even (QuantizeLinear's rounding, std::nearbyint) from Floor, which every backend runs natively. */
export function roundHalfEven(em: Emitter, v: string): string {
  const r = em.floor(em.add(v, em.scalar(0.5)));
  const odd = em.sub(r, em.mul(em.floor(em.mul(r, em.scalar(0.5))), em.scalar(2)));
  return em.sub(r, em.mul(em.mask('Equal', em.sub(r, v), em.scalar(0.5)), odd));
}

/** m·a + (1−m)·b for a float 0/1 mask m: an exact select at every opset (Where needs opset 9). */
export function blend(em: Emitter, m: string, a: string, b: string): string {
  return em.add(em.mul(m, a), em.mul(em.sub(em.scalar(1), m), b));
}

/** exp(min(x, 0)·scale) for scale > 0: never overflows, so a branch blend leaves unselected stays finite. */
export function expOfNegativePart(em: Emitter, x: string, scale = 1): string {
  const m = em.neg(em.op('Relu', [em.neg(x)]));
  return em.op('Exp', [scale === 1 ? m : em.mul(m, em.scalar(scale))]);
}

/** Axes (Log)Softmax normalises over: [axis..rank−1] before opset 13 (axis default 1), the one axis after (default −1). */
export function softmaxAxes(ctx: RuleContext, rank: number): number[] {
  if (ctx.opset >= 13) return [normAxis(ctx, attrInt(ctx.node, 'axis', -1), rank)];
  const axis = normAxis(ctx, attrInt(ctx.node, 'axis', 1), rank);
  return Array.from({ length: rank - axis }, (_, k) => axis + k);
}

/** Broadcasts g (static shape gShape) to `target` (a broadcastShape): Expand, or Tile before opset 8. */
export function expandTo(em: Emitter, g: string, gShape: number[], target: number[]): string {
  if (em.opset >= 8) return em.expand(g, target);
  return em.op('Tile', [g, em.constInt(target.map((t, k) => (gShape[k] === t ? 1 : t)))]);
}

/**
 * A reduction's axes (sorted) and a function restoring them (as size 1) on a tensor of the
 * output's shape, so that it broadcasts against the input.
 */
export function keptAxes(ctx: RuleContext): { axes: number[]; keep: boolean; kept: (t: string) => string } {
  const axes = reduceAxes(ctx, ctx.shape(ctx.node.input![0]).length).sort((a, b) => a - b);
  const keep = attrInt(ctx.node, 'keepdims', 1) === 1;
  return { axes, keep, kept: (t) => (keep ? t : ctx.em.unsqueeze(t, axes)) };
}

/**
 * The rule of a nonlinear reduction y = R(x): dX = dY·∂y/∂x, with ∂y/∂x given by `local` from x
 * and the output y (both broadcasting against x once the reduced axes are restored).
 */
export function reductionRule(local: (ctx: RuleContext, x: string, y: string) => string): BackwardRule {
  return {
    backward(ctx, [dY]) {
      const { kept } = keptAxes(ctx);
      const x = ctx.node.input![0];
      return [ctx.em.mul(kept(dY!), local(ctx, x, kept(ctx.node.output![0]))), null];
    },
  };
}

/** A rule for ops whose outputs are integers or booleans (ArgMax, comparisons): nothing flows back. */
export const noGradient: BackwardRule = {
  backward: (ctx) => ctx.node.input!.map(() => null),
};

/**
 * Rule of ops that are a Reshape to `split`, a Transpose by `perm` and a Reshape (DepthToSpace,
 * SpaceToDepth): dY reshaped to the transposed shape, transposed back, reshaped like X. The batch
 * (axis 0) stays -1.
 */
export function rearrangeBack(ctx: RuleContext, dY: string, split: number[], perm: number[]): string {
  const transposed = perm.map((p) => (p === 0 ? -1 : split[p]));
  const inverse: number[] = [];
  perm.forEach((p, i) => { inverse[p] = i; });
  return ctx.reshapeLike(ctx.em.transpose(ctx.em.reshape(dY, transposed), inverse), ctx.node.input![0]);
}

/**
 * Gradient of a gather with constant indices: `source[j]` is the flat input index output element
 * j reads (one sample of batch 1). dX = dY·M with M[j, source[j]] = 1, a MatMul on flattened
 * tensors (at most 2²⁴ entries); a larger map as one Gather of dY per time an input element is read
 * (the k-th reader of each element, or a zero appended to dY), summed.
 */
export function gatherBack(ctx: RuleContext, dY: string, source: number[]): string {
  const x = ctx.node.input![0];
  const inSize = ctx.shape(x).reduce((a, b) => a * b, 1);
  if (source.length * inSize > 2 ** 24) {
    const readers: number[][] = [];
    const count = new Array<number>(inSize).fill(0);
    source.forEach((s, j) => {
      const k = count[s]++;
      if (!readers[k]) readers[k] = new Array<number>(inSize).fill(source.length);
      readers[k][s] = j;
    });
    if (readers.length * inSize > 2 ** 24) ctx.fail(`the gather map (${source.length} × ${inSize}, elements read up to ${readers.length} times) is too large`);
    const { em } = ctx;
    const padded = em.concat([em.reshape(dY, [source.length]), em.constFloat([0], [1])], 0);
    const parts = readers.map((r) => em.op('Gather', [padded, em.constInt(r)], { axis: 0 }));
    return ctx.reshapeLike(parts.reduce((a, b) => em.add(a, b)), x);
  }
  const matrix = new Float64Array(source.length * inSize);
  source.forEach((s, j) => { matrix[j * inSize + s] += 1; });
  const flat = ctx.em.matmul(ctx.em.reshape(dY, [1, source.length]), ctx.em.constFloat(matrix, [source.length, inSize]));
  return ctx.reshapeLike(flat, x);
}

/** The flat position in a tensor of shape `dims` that each element of constant `indices` names along `axis` (GatherElements, ScatterElements). */
export function elementPositions(indices: Constant, dims: number[], axis: number): number[] {
  const [is, ds] = [strides(indices.dims), strides(dims)];
  return indices.values.map((v, j) => dims.reduce((acc, _, k) => {
    const coord = k === axis ? (v < 0 ? v + dims[axis] : v) : Math.floor(j / is[k]) % indices.dims[k];
    return acc + coord * ds[k];
  }, 0));
}

/**
 * A scatter without reduction that writes a position more than once keeps one of the writes:
 * onnxruntime the last in index order (ONNX leaves it open). The gradient of that write alone:
 * dUpdates times a 0/1 mask of the last write to each position, shaped `dims` (broadcast over
 * the slices ScatterND writes); the gradient itself where no position repeats.
 */
export function lastWritesOnly(ctx: RuleContext, dUpdates: string, positions: number[], dims: number[]): string {
  const last = new Map(positions.map((p, j) => [p, j]));
  if (last.size === positions.length) return dUpdates;
  return ctx.em.mul(dUpdates, ctx.em.constFloat(positions.map((p, j) => (last.get(p) === j ? 1 : 0)), dims));
}

/** Row-major strides of a shape. */
export function strides(shape: number[]): number[] {
  const s = shape.map(() => 1);
  for (let k = shape.length - 2; k >= 0; k--) s[k] = s[k + 1] * shape[k + 1];
  return s;
}

/**
 * A piecewise-constant element-wise op (Sign, Round, Floor, Ceil): dX = 0 where it is
 * differentiable; DeepLIFT's rescale rule still gives its finite difference δy/δx.
 */
export function stepRule(opType: string, since: number): RuleEntry {
  return { opType, since, category: 'activation', rule: { backward: ({ em }, [dY]) => [em.mul(dY!, em.scalar(0))] } };
}

/** The rule of an element-wise function of one activation with derivative f′(x, y) (attributes from the node): dX = dY·f′. */
export function derivativeRule(opType: string, since: number, derivative: (em: Emitter, x: string, y: string, node: NodeProto) => string): RuleEntry {
  return {
    opType, since, category: 'activation',
    rule: { backward: ({ em, node }, [dY]) => [em.mul(dY!, derivative(em, node.input![0], node.output![0], node))] },
  };
}
