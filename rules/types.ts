import { Emitter } from '../rewriter/emitter';
import { Constant, GraphView } from '../rewriter/graph-view';
import { NodeProto } from '../rewriter/proto';
import type { LrpLayerRule } from './methods/lrp-composites';

/** Options a method's rules read (LRP epsilon, DeepLIFT max-pool rule, ...). */
export interface RuleOptions {
  epsilon?: number;
  maxpoolRule?: 'deeplift' | 'shapley';
  lrpMaxpool?: 'winner' | 'epsilon';
  alpha?: number;
  beta?: number;
  /** false: the attribution without its factor x − x⁰ (or x, or A − A⁰ at a layer), as Captum's multiply_by_inputs=False. */
  multiplyByInputs?: boolean;
  /** LRP: the stabiliser of every share but the ε rule at weighted ops (Zennit's `stabilizer`; default: `epsilon`). */
  stabilizer?: number;
  /** LRP-γ's γ (default 0.25). */
  gamma?: number;
  /** The z^B rule's bounds of its layer's input: a number, or one per entry of its axis 1. */
  boxLow?: number | number[];
  boxHigh?: number | number[];
  /** LRP rule per layer, by node name or output name (Captum's per-module rules). */
  lrpRules?: Record<string, LrpLayerRule>;
}

/** What a rule sees of the graph while it emits the backward nodes of one forward node. */
export interface RuleContext {
  readonly em: Emitter;
  readonly view: GraphView;
  readonly node: NodeProto;
  readonly opset: number;
  readonly options: RuleOptions;
  /** Whether input i lies on the path from the model input (only then is its gradient used). */
  needsGrad(i: number): boolean;
  /** Static shape of a tensor at batch size 1 for the explained input shape. */
  shape(name: string): number[];
  /** ONNX element type of a tensor (TensorProto data type). */
  dtype(name: string): number | undefined;
  /** Axis holding the batch, or -1 for tensors without one. */
  batchAxis(name: string): number;
  /** Value of an initializer, Constant output or (probed) shape-arithmetic tensor. */
  constant(name: string): Constant | undefined;
  /** Whether constant() has a value, without reading it (weights stay as they are). */
  isConstant(name: string): boolean;
  /** Same as constant() but fails naming the node when the value is not static. */
  requireConstant(name: string, what: string): Constant;
  /**
   * Reshape x to the shape of tensor `like` (its batch axis kept dynamic). With `layoutOf`, a tensor
   * shaped as x is, the batch keeps its symbol under shape inference (copied by Reshape's 0 on the
   * same axis; Squeeze and Unsqueeze where only unit axes move), so onnxruntime can plan the memory
   * of what follows: an unknown batch dimension gets a fresh symbol at every broadcast, and memory
   * planning of large graphs then turns quadratic.
   */
  reshapeLike(x: string, like: string, layoutOf?: string): string;
  /** Shape of `like` with its batch axis set to 1, for Expand targets. */
  broadcastShape(like: string): number[];
  /** The tensor the walk starts from (the explained tensor, where the seed enters). */
  readonly from: string;
  /** Whether a tensor's values depend on the graph inputs' values, not only on their shapes. */
  valueDependent(name: string): boolean;
  /** The reference pass may run on one row that broadcasts against the batch (TensorFacts.batchBroadcasts). */
  readonly batchBroadcasts: boolean;
  /** Name of the reference-pass tensor (the model run on the baseline); only for reference methods. */
  ref(name: string): string;
  /**
   * The same context for a stand-in node (e.g. the op applied to midpoints or modified weights);
   * `aliases` maps each new tensor name to the forward tensor whose shape it has.
   */
  withNode(node: NodeProto, aliases: Record<string, string>): RuleContext;
  /** Throws a one-line error naming the node, op type and opset. */
  fail(reason: string): never;
}

/**
 * The backward rule of one op: returns one gradient per input, null where it deliberately passes
 * none (an input that needs no gradient, LRP's divisor); an input that needs one and is left out
 * (undefined) is refused by the walk. Inputs listed in broadcastInputs get a gradient in the
 * output's shape; the walk sums it back to the input's shape.
 */
export interface BackwardRule {
  broadcastInputs?: number[] | 'all';
  /** Inputs its entry holds fixed that this rule differentiates (DeepLIFT carries a dynamic quantizer's change of scale). */
  differentiates?: number[];
  backward(ctx: RuleContext, dY: (string | null)[]): (string | null | undefined)[];
}

/**
 * What an op computes of its activation inputs. Every method other than the plain gradient picks
 * its rule per category (rules/methods/*, like Zennit's composites), so an op is classified once:
 * - shape: moves, copies or drops values (Reshape, Transpose, Slice, Gather, Pad, Tile, Trilu, Cast)
 * - linear: affine with constant coefficients (Add, Sub, ReduceSum, AveragePool, BatchNormalization,
 *   Resize, CumSum)
 * - weighted: affine in one activation with constant weights (Conv, Gemm, MatMul, Einsum); a
 *   product when two operands are activations
 * - product: element-wise product or quotient (Mul, Div)
 * - rectifier: Relu (the one op guided backprop and deconvnet change)
 * - activation: element-wise function of one activation, further operands constant (Sigmoid, Gelu,
 *   PRelu)
 * - elementwise: element-wise function of possibly several activations (Max, Min, Clip, Where,
 *   Pow); with one activation operand (Max(x, c), Clip with constant bounds) it is an activation
 * - selection: each output is one of the input's values (MaxPool, ReduceMax, TopK)
 * - reduction: nonlinear reduction (ReduceL2, ReduceLogSumExp, ReduceProd)
 * - normalization: Softmax, LayerNormalization, GroupNormalization, LpNormalization, LRN, ...
 * - constant: no gradient (ArgMax, comparisons): outputs are integers or booleans
 */
export type Category =
  | 'shape' | 'linear' | 'weighted' | 'product' | 'rectifier' | 'activation' | 'elementwise'
  | 'selection' | 'reduction' | 'normalization' | 'constant';

export const CATEGORIES: Category[] = [
  'shape', 'linear', 'weighted', 'product', 'rectifier', 'activation', 'elementwise', 'selection', 'reduction', 'normalization', 'constant',
];

/** A rule registered for an op type (of `domain`, default ONNX) over opsets [since, until). */
export interface RuleEntry {
  opType: string;
  domain?: string;
  since: number;
  until?: number;
  category: Category;
  /**
   * The op's integer outputs stand for real values (a quantizer): the walk carries gradients
   * through them as through float tensors.
   */
  quantizer?: boolean;
  /**
   * Inputs held fixed even where they depend on the explained input: a quantizer's scale and zero
   * point, which dynamic quantization computes from the input (PyTorch's observers compute them
   * without gradient). Rules see needsGrad false for them.
   */
  fixedInputs?: number[];
  /** The op's output values follow from its input's shape alone (EyeLike): said so where nothing else carries a gradient. */
  shapeOnly?: boolean;
  rule: BackwardRule;
}
