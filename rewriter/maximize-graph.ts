import { emitBackward } from './backward';
import { Emitter } from './emitter';
import { freeNames, GraphView, TensorFacts } from './graph-view';
import { ADAM_IO, AdamNames, AdamOptions, withAdam } from './adam-step';
import { batchDims } from './augment';
import { objectiveModel } from './objective-model';
import { DataType, ModelProto, valueInfo } from './proto';
import { lpNorm, totalVariation } from './regularizers';
import { gradientRules } from '../rules/registry';

export interface MaximizeGraphSpec {
  view: GraphView;
  facts: TensorFacts;
  /** The model input optimised. */
  input: string;
  /** The tensor whose seeded sum is maximised (class logits, or any activation). */
  at: string;
  /** Weight and exponent of the Lp term (Mahendran & Vedaldi's α-norm). */
  lp?: { weight: number; p: number };
  /** Weight and exponent β of the total-variation term, over the image's spatial axes. */
  tv?: { weight: number; beta: number; axes: number[] };
  /** Also emit one Adam ascent step on the input (kept in `box`). */
  adam?: AdamOptions;
  /** The seed built into the graph (shape of `at`, batch 1) instead of the `seed` input. */
  seed?: { values: Float32Array; dims: number[] };
  /** The graph's own names (default: maximizeNames of the view). */
  names?: MaximizeNames;
}

export const MAXIMIZE_IO = { seed: 'seed', objective: 'objective', activation: 'activation', gradient: 'gradient' };
export type MaximizeNames = typeof MAXIMIZE_IO & AdamNames;

/** The maximisation graph's own names for a model: MAXIMIZE_IO and ADAM_IO made free of its tensor names. */
export const maximizeNames = (view: GraphView): MaximizeNames => freeNames(view, { ...MAXIMIZE_IO, ...ADAM_IO });

/**
 * The activation-maximisation objective and its gradient as one graph:
 * objective = Σ seed·at − w_p·mean|x|^p − w_tv·TV_β(x), gradient = ∂objective/∂x. The seed picks
 * what is maximised (e_k for a class logit, 1/(H·W) on one channel for a channel's mean).
 * Inputs: the model input and `seed` (the shape of `at`; a constant when `spec.seed` is given);
 * outputs `objective`, `activation` (Σ seed·at) per row and `gradient` (the input's shape).
 */
export function buildMaximization(spec: MaximizeGraphSpec): ModelProto {
  const { view, facts, input, at } = spec;
  const io = spec.names ?? maximizeNames(view);
  const shape = facts.shapes.get(input)!;
  const em = Emitter.joining(view);
  // A built-in seed is one row: spread over the batch, as the backward rules take dY shaped like `at`.
  const seed = spec.seed ? em.op('Expand', [em.constFloat(spec.seed.values, spec.seed.dims), em.op('Shape', [at])]) : io.seed;
  const [ascent] = emitBackward({ view, facts, em, table: gradientRules, options: {}, wrt: [input], from: at, seed }).values();
  const atAxes = facts.shapes.get(at)!.slice(1).map((_, k) => k + 1);
  const activation = em.reduceSum(em.mul(seed, at), atAxes, false);
  let objective = activation;
  let gradient = ascent;
  const subtract = (r: { value: string; gradient: string }) => {
    objective = em.sub(objective, r.value);
    gradient = em.sub(gradient, r.gradient);
  };
  if (spec.lp && spec.lp.weight) subtract(lpNorm(em, input, shape, spec.lp.p, spec.lp.weight));
  if (spec.tv && spec.tv.weight) subtract(totalVariation(em, input, shape, spec.tv.axes, spec.tv.beta, spec.tv.weight));
  em.rename(activation, io.activation);
  em.rename(objective, io.objective);
  em.rename(gradient, io.gradient);
  const inputDims = batchDims(facts, input);
  const adam = withAdam(em, spec.adam && { ...spec.adam, param: input, grad: io.gradient, ascent: true, names: io }, inputDims);
  const seedInput = spec.seed ? [] : [valueInfo(io.seed, DataType.FLOAT, batchDims(facts, at))];
  return objectiveModel(view, em, [valueInfo(input, DataType.FLOAT, inputDims), ...seedInput, ...adam.inputs], [
    { name: io.objective, dims: ['N'] },
    { name: io.activation, dims: ['N'] },
    { name: io.gradient, dims: inputDims },
    ...adam.outputs,
  ]);
}
