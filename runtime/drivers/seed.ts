import type { AttributeOptions, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { TargetSpace } from '../targets';
import { TensorData } from '../tensors';
import { tensorsAt } from './forward';

export interface OutputSeed {
  /** The tensor chosen and the tensor explained (its pre-softmax logits by default). */
  output: string;
  from: string;
  /** Shape of `from` at batch 1. */
  fromShape: number[];
  /** What a target indexes (the non-batch axes of `output`, less the reduced ones). */
  space: TargetSpace;
  targets: number[];
  /** Per row, the weights of `from`'s elements in the explained value Σ seed · from. */
  seed: Float32Array;
}

/**
 * What a method explains for each row of x: Σ seed · from with seed e_target (− e_contrast,
 * optionally mean-normalised), spread over the reduced axes. Default targets are each row's argmax
 * of the chosen tensor's (reduced) values (`scores`, or one forward run when not given).
 */
export async function outputSeed(ex: Explainer, x: OrtTensor, options: AttributeOptions, scores?: TensorData): Promise<OutputSeed> {
  const explained = ex.resolveOutput(options.output, options.explainSoftmax, options.method);
  const { output, from } = explained;
  const rowDims = x.dims.slice(1);
  const prepared = await ex.prepare(rowDims, options.onehotAxis, options.feeds);
  const space = ex.targetSpace(prepared, explained, options);
  const n = x.dims[0];
  const rows = async () => (scores ?? (await (await tensorsAt(ex, rowDims, [output], options.onehotAxis, options.feeds))(x))[output]).data;
  const targets = await space.targets(options.target, n, rows);
  const contrast = options.contrast === undefined ? undefined : await space.targets(options.contrast, n, rows, 'contrast');
  return { output, from, fromShape: prepared.facts.shapes.get(from)!, space, targets, seed: space.seed(targets, contrast, options.softmaxNormalize) };
}

/** Σ seed · values for input row `row`: its seed (`width` weights) against slot `slot` of `values` (`width` values per slot). */
export function explainedValue(seed: Float32Array, width: number, values: ArrayLike<number>, slot: number, row: number): number {
  let v = 0;
  for (let k = 0; k < width; k++) v += seed[row * width + k] * values[slot * width + k];
  return v;
}
