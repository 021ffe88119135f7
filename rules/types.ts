import { Emitter } from '../rewriter/emitter';
import { Constant, GraphView } from '../rewriter/graph-view';
import { NodeProto } from '../rewriter/proto';

/** Options a method's rules read (LRP epsilon, DeepLIFT max-pool rule, ...). */
export interface RuleOptions {
  epsilon?: number;
  maxpoolRule?: 'deeplift' | 'shapley';
  lrpMaxpool?: 'winner' | 'epsilon';
  alpha?: number;
  beta?: number;
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
  /** Axis holding the batch, or -1 for tensors without one. */
  batchAxis(name: string): number;
  /** Value of an initializer, Constant output or (probed) shape-arithmetic tensor. */
  constant(name: string): Constant | undefined;
  /** Same as constant() but fails naming the node when the value is not static. */
  requireConstant(name: string, what: string): Constant;
  /** Reshape x to the shape of tensor `like` (its batch axis kept dynamic). */
  reshapeLike(x: string, like: string): string;
  /** Shape of `like` with its batch axis set to 1, for Expand targets. */
  broadcastShape(like: string): number[];
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
 * The backward rule of one op: returns one gradient (or null) per input. Inputs listed in
 * broadcastInputs get a gradient in the output's shape; the walk sums it back to the input's shape.
 */
export interface BackwardRule {
  broadcastInputs?: number[] | 'all';
  backward(ctx: RuleContext, dY: (string | null)[]): (string | null | undefined)[];
}

/** A rule registered for an op type over opsets [since, until). */
export interface RuleEntry {
  opType: string;
  since: number;
  until?: number;
  rule: BackwardRule;
}
