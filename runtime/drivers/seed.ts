import type { AttributeOptions, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { argmaxRows, checkClass, classSeed, perRow } from '../targets';
import { TensorData } from '../tensors';

export interface OutputSeed {
  /** The model output chosen and the tensor explained (its pre-softmax logits by default). */
  output: string;
  from: string;
  /** Shape of `from` at batch 1. */
  fromShape: number[];
  targets: number[];
  /** Per row, the weights of `from`'s elements in the explained value Σ seed · from. */
  seed: Float32Array;
}

/**
 * What a method explains for each row of x: Σ seed · from with seed e_target (− e_contrast,
 * optionally mean-normalised). Default targets are each row's argmax of the chosen output
 * (`scores`, or one forward run when not given).
 */
export async function outputSeed(ex: Explainer, x: OrtTensor, options: AttributeOptions, scores?: TensorData): Promise<OutputSeed> {
  const { output, from } = ex.resolveOutput(options.output, options.explainSoftmax);
  const prepared = await ex.prepare(x.dims.slice(1), options.onehotAxis);
  const n = x.dims[0];
  const fromShape = prepared.facts.shapes.get(from)!;
  const classes = fromShape.slice(1).reduce((a, b) => a * b, 1);
  const targets = perRow(options.target, n, 'target') ?? argmaxRows(scores ?? (await ex.forward(x))[output], n);
  targets.forEach((t) => checkClass(t, classes, 'target', ex.label, output));
  const contrast = perRow(options.contrast, n, 'contrast');
  contrast?.forEach((t) => checkClass(t, classes, 'contrast', ex.label, output));
  return { output, from, fromShape, targets, seed: classSeed(targets, classes, contrast, options.softmaxNormalize) };
}
