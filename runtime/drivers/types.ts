import type { AttributeOptions, AttributionResult, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { ModelProto } from '../../rewriter/proto';

/**
 * Runs one family of methods over the Explainer's prepared graphs and cached sessions: a single
 * augmented-graph run (backprop), batched path integrals, perturbation sweeps, optimisation loops.
 */
export interface Driver {
  /** `rowLabel` names row r of x in messages where x expands the user's rows (DeepLiftShap's input and baseline row pairs, a noisy copy). */
  attribute(ex: Explainer, x: OrtTensor, options: AttributeOptions, rowLabel?: (row: number) => string): Promise<AttributionResult>;
  /** Whether it attributes jointly to several inputs (the Explainer's `explained`; Captum's tuple of inputs). */
  joint?: boolean;
  /** What its required `layer` is: the tensor it attributes to (layer activation, conductance, internal influence), or the one holding its neuron (its attributions are the input's). */
  layer?: 'attributed' | 'neuron';
  /** Whether it only perturbs the input and runs the model forward (no attribution to a layer). */
  perturbsInput?: boolean;
  /** Whether it runs the model on copies of the input (or of a layer's values) whose features are replaced by a fill or the baseline. */
  perturbs?: boolean;
  /** The sampling options it reads itself (GradientShap, Shapley sampling), which otherwise only the noise tunnel reads. */
  sampling?: ('samples' | 'noiseStd' | 'stdevs')[];
  /** Its baseline is a distribution whose K rows every input row meets (DeepLiftShap), never one row per input row. */
  baselineDistribution?: boolean;
  /** Its convergence delta is the error of a quadrature over the path (more steps shrink it), not a broken identity. */
  quadrature?: boolean;
  /**
   * The one-graph runs it is made of, where a NaN or ±Inf in its result is looked for (DeepLiftShap:
   * DeepLIFT against each baseline row); by default the method's own options.
   */
  parts?(ex: Explainer, x: OrtTensor, options: AttributeOptions): { options: AttributeOptions; label: string }[];
  /** The single graph computing the method for one input row shape, where there is one (`rewrite`). */
  graph?(ex: Explainer, rowDims: number[], options: AttributeOptions): Promise<ModelProto>;
}
