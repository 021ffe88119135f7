import * as path from 'path';
import { ExplainError } from '../rewriter/errors';
import { isSigmoid, producerPastViews } from '../rewriter/graph-view';
import { AttributeRequest, AttributionResult, Explainer, TensorData } from '../runtime';
import { attributionLayout, Rgb, tensorToRgb } from '../runtime/image';
import type { TargetSpace } from '../runtime/targets';
import { writePng } from '../runtime/node/png-file';
import { checkFigureKind, checkVisualizeOptions, Figure, rowCaptions, VIS_METHODS, VIS_SIGNS, VisColumn, visualize, VisualizeOptions } from '../runtime/visualize';
import { num, Parsed } from './args';
import { say } from './output';

export const VIS_FLAGS = { 'vis-method': true, sign: true, 'outlier-perc': true, 'display-size': true };

/** The first figure flag given, if any (they apply to PNG figures only). */
export const drawingFlag = (p: Parsed): string | undefined => Object.keys(VIS_FLAGS).find((flag) => p.flags.has(flag));

export const VIS_HELP = `  --vis-method M        for .png: ${VIS_METHODS.join(' | ')} (default blended_heat_map over images)
  --sign S              for .png: ${VIS_SIGNS.join(' | ')} (default absolute; all = diverging red-white-green)
  --outlier-perc P      for .png: % of attribution mass saturated at the top of the scale (default 2, as Captum;
                        image maps: sequences are drawn as bars to scale)
  --display-size PX     for .png: an image panel's longer side in pixels (default 224)`;

export function visOptions(p: Parsed): VisualizeOptions {
  const pick = <T extends string>(flag: string, allowed: readonly T[]): T | undefined => {
    const v = p.flags.get(flag) as string | undefined;
    if (v !== undefined && !allowed.includes(v as T)) throw new ExplainError(`--${flag}: '${v}' is not one of ${allowed.join(', ')}`);
    return v as T | undefined;
  };
  const number = (flag: string) => (p.flags.has(flag) ? num(p.flags.get(flag) as string, `--${flag}`) : undefined);
  const options = { method: pick('vis-method', VIS_METHODS), sign: pick('sign', VIS_SIGNS), outlierPerc: number('outlier-perc'), size: number('display-size') };
  checkVisualizeOptions(options);
  return options;
}

/** What the figure of input x will draw, checked against its options before any attribution is computed. */
export function checkFigure(options: VisualizeOptions, x: TensorData, shown: Rgb | undefined, label: string, tokens: boolean): void {
  // Input attributions (and maps upsampled to the input) have the input's rank; token ids are drawn as one bar per token.
  const kind = tokens ? 'sequence' : attributionLayout(x.dims).kind;
  checkFigureKind(kind, kind === 'image' ? inputImages(x, shown, label) : undefined, Math.min(x.dims[0], options.maxRows ?? 16), options);
}

/** The output's format from its extension, checked before any work (the file itself: runtime/node/files checkOutput). */
export function outFormat(out: string, formats: string[]): string {
  const ext = path.extname(out).slice(1).toLowerCase();
  if (!formats.includes(ext)) throw new ExplainError(`--out: '${out}' must end in ${formats.map((f) => `.${f}`).join(' or ')}`);
  return ext;
}

/** How the CLI names the explained value: the tensor, or its (weighted) reduction. */
export function explainedLabel(tensor: string, options: AttributeRequest): string {
  const reduce = options.reduce ?? (options.reduceWeights ? 'sum' : undefined);
  return reduce ? `${reduce}(${options.reduceWeights ? 'w·' : ''}${tensor})` : tensor;
}

/**
 * Per row: target, predicted class and its probability (softmax of logits unless the output is
 * already a Softmax); where a target is no class of a score vector (a multi-index, a reduction), the
 * explained value at it; a contrast after the target ("3 rather than 8"). `rowDims`: the explained
 * tensor's row (token ids: their embeddings').
 */
export async function captions(ex: Explainer, r: AttributionResult, options: AttributeRequest, rowDims: number[]): Promise<string[]> {
  const space = await ex.targetSpaceFor(rowDims, options);
  const scores = r.outputs[space.tensor];
  // "Why the target rather than the contrast": the map is of their difference.
  const contrast = options.contrast === undefined ? undefined : await space.targets(options.contrast, r.targets.length, async () => scores.data, 'contrast');
  const lines = classCaptions(ex, r, options, space, scores);
  return contrast ? lines.map((l, row) => l.replace(/^(row \d+: target \S+)/, `$1 rather than ${space.format(contrast[row])}`)) : lines;
}

/** The captions without a contrast (see captions). */
function classCaptions(ex: Explainer, r: AttributionResult, options: AttributeRequest, space: TargetSpace, scores: TensorData): string[] {
  // A Softmax's output (behind which the logits are) or a Sigmoid's holds probabilities, a LogSoftmax's their logarithms (captions give p).
  const { squash } = ex.resolveOutput(options.output);
  const probabilities = !!squash || isSigmoid(producerPastViews(ex.view, space.tensor));
  // Values computed from probabilities (a softmax written out, scaled, masked, its top k) are no logits: p where they lie in [0, 1].
  const derived = !probabilities && fromProbabilities(ex.view, space.tensor);
  const unit = derived && Array.prototype.every.call(scores.data, (v: number) => v >= 0 && v <= 1);
  if (space.dims.length !== 1 || space.size !== space.rowSize || options.reduceWeights || (derived && !unit)) {
    const label = explainedLabel(space.tensor, options);
    return r.targets.map((t, row) => `row ${row}: target ${space.format(t)} (${label}[${space.format(t)}] ${space.values(scores.data.subarray(row * space.rowSize, (row + 1) * space.rowSize), row)[t].toPrecision(3)})`);
  }
  const shown = squash === 'LogSoftmax' ? { ...scores, data: Float32Array.from(scores.data as Float32Array, Math.exp) } : scores;
  return rowCaptions(shown, r.targets, probabilities || unit);
}

/** Ops that carry probabilities on as values of the same kind (shifted, clipped, picked, moved), any operand doing so (Mul and Div: fromProbabilities). */
const CARRY_PROBABILITIES = new Set(['Identity', 'Cast', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Gather', 'Slice', 'TopK', 'Add', 'Clip', 'Max', 'Min', 'Concat']);

/**
 * Whether `tensor`, computed from the input, is computed through CARRY_PROBABILITIES, Mul and Div only
 * from a Softmax, Sigmoid or Exp (a softmax written out as Exp / ReduceSum): every factor of a Mul weights
 * or such values (a swish x·σ(x) is none), a Div's numerator; a Log on the way makes
 * log-probabilities, as good as logits.
 */
function fromProbabilities(view: Explainer['view'], tensor: string, depth = 0): boolean {
  const n = view.producer.get(tensor);
  if (!n || n.domain || depth > 8) return false;
  if (n.op_type === 'Softmax' || n.op_type === 'Exp' || isSigmoid(n)) return true;
  const derived = (i: string) => fromProbabilities(view, i, depth + 1);
  // Weights are passed over; a Mul's every other factor must carry probabilities (CLIP's logits times exp(logit_scale) are logits).
  const read = (n.input ?? []).filter((i) => !!i && !view.isConstant(i));
  if (n.op_type === 'Mul') return read.length > 0 && read.every(derived);
  if (n.op_type === 'Div') return read[0] === n.input![0] && derived(n.input![0]);
  return CARRY_PROBABILITIES.has(n.op_type ?? '') && read.some(derived);
}

/** Displayable input images per row (the preprocessed picture when the input was an image file). */
export function inputImages(x: TensorData, shown: Rgb | undefined, label: string): (Rgb | undefined)[] | undefined {
  if (attributionLayout(x.dims).kind !== 'image') return undefined;
  try {
    return Array.from({ length: x.dims[0] }, (_, row) => (row === 0 && shown ? shown : tensorToRgb(x, label, row)));
  } catch {
    return undefined;
  }
}

export function writeFigure(out: string, columns: VisColumn[], x: TensorData, shown: Rgb | undefined, rowCaptions: string[], label: string, options: VisualizeOptions): void {
  const figure: Figure = { columns, images: inputImages(x, shown, label), captions: rowCaptions };
  writePng(out, visualize(figure, options));
  const drawn = options.maxRows ?? 16;
  if (x.dims[0] > drawn) say(`${out}: the figure shows the first ${drawn} of ${x.dims[0]} rows`);
}
