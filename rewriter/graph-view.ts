import { attrFloat, attrFloats, attrInt, attrInts, attrTensorValues } from './attributes';
import { ExplainError } from './errors';
import { DimProto, GraphProto, isDefault, isFloatType, ModelProto, NodeProto, rowMajorStrides, TensorProto, tensorDims, tensorValues, toNumber, ValueInfoProto } from './proto';
import { lookupTable } from './lookup-table';

/** Static facts about tensors for one concrete input shape (batch axis marked, -1 if none). */
export interface TensorFacts {
  shapes: Map<string, number[]>;
  dtypes: Map<string, number>;
  batchAxis: Map<string, number>;
  /** Values of small tensors (integers, floats) computed from shapes and constants only, observed when probing. */
  values: Map<string, number[]>;
  /**
   * Every batch axis holds the batch alone (size 1 at batch 1): activations of a one-row run then
   * broadcast against an N-row run. False when the batch is folded into another axis (attention
   * heads as [N·heads, …], windows).
   */
  batchBroadcasts: boolean;
  /** Inputs the probe ran with their given values (their values set shapes: valueShaped), not zeros. */
  exactInputs?: string[];
}

export interface Constant { dims: number[]; values: number[] }

/**
 * Whether a tensor holds one row per input row: size 1 on axis 0 at batch 1, and (where the batch
 * varies) that axis is the batch alone — not the batch folded with another axis, as attention
 * heads [N·heads, …] or sequence-first flattenings [T·N, …] are.
 */
export function holdsRows(facts: TensorFacts, name: string, batchDynamic = true): boolean {
  return facts.shapes.get(name)?.[0] === 1 && (!batchDynamic || facts.batchAxis.get(name) === 0);
}

/** A shape probed at batch 1 as the user sees it, with N for the batch: [N, 16, 8]. */
export const rowsText = (dims: number[]) => `[${dims.map((d, k) => (k === 0 ? 'N' : d)).join(', ')}]`;

/** The subgraphs of a control-flow node (If, Loop, Scan). */
export function subgraphsOf(node: NodeProto): GraphProto[] {
  return (node.attribute ?? []).flatMap((a) => [a.g, ...(a.graphs ?? [])]).filter((g): g is GraphProto => !!g);
}

/** The node with each subgraph replaced by `map` of it. */
export function mapSubgraphs(node: NodeProto, map: (g: GraphProto) => GraphProto): NodeProto {
  if (!subgraphsOf(node).length) return node;
  return { ...node, attribute: node.attribute!.map((a) => ({ ...a, ...(a.g ? { g: map(a.g) } : {}), ...(a.graphs?.length ? { graphs: a.graphs.map(map) } : {}) })) };
}

/** The graph with every tensor its nodes read, in nested subgraphs too, turned to `rename` of it. */
export function readsRenamed(graph: GraphProto, rename: (name: string) => string): GraphProto {
  const map = (g: GraphProto): GraphProto => ({ ...g, node: (g.node ?? []).map((n) => mapSubgraphs({ ...n, input: (n.input ?? []).map(rename) }, map)) });
  return map(graph);
}

/** Tensors the subgraphs of a control-flow node (If, Loop, Scan) read, at any depth. */
export function subgraphReads(node: NodeProto): string[] {
  return subgraphsOf(node).flatMap((g) => (g.node ?? []).flatMap(nodeReads));
}

/** A graph's nodes, its subgraphs' included (each node before its subgraphs' nodes). */
export function allNodes(graph: GraphProto): NodeProto[] {
  return (graph.node ?? []).flatMap((n) => [n, ...subgraphsOf(n).flatMap(allNodes)]);
}

/** What a node reads: its inputs and its subgraphs' reads. */
export function nodeReads(n: NodeProto): string[] {
  return [...(n.input ?? []), ...subgraphReads(n)];
}

/**
 * `names` (a derived graph's own inputs and outputs), each one the model already gives a tensor
 * (or a `<name>:` prefix, as joint attribution's per-input names) suffixed `_1`, `_2`, … until
 * free, so that a model whose input is called `weights` or whose output is called `activation`
 * (a Keras Activation layer, as tf2onnx names outputs) is explained.
 */
export function freeNames<T extends Record<string, string>>(view: GraphView, names: T): T {
  const taken = [...view.producer.keys(), ...view.initializers.keys(), ...view.inputs.map((i) => i.name ?? '')];
  const used = new Set(taken);
  const free = (base: string) => {
    let name = base;
    for (let k = 1; used.has(name) || taken.some((t) => t.startsWith(`${name}:`)); k++) name = `${base}_${k}`;
    used.add(name);
    return name;
  };
  return Object.fromEntries(Object.entries(names).map(([key, base]) => [key, free(base)])) as T;
}

/** `nodes` without those `droppable` picks whose outputs nothing reads (graph outputs, other nodes, subgraphs), in turn. */
export function withoutUnreadNodes(graph: GraphProto, nodes: NodeProto[], droppable: (n: NodeProto) => boolean): NodeProto[] {
  const outputs = new Set((graph.output ?? []).map((o) => o.name));
  let kept = nodes;
  for (;;) {
    const read = new Set([...outputs, ...kept.flatMap(nodeReads)]);
    const next = kept.filter((n) => !droppable(n) || n.output!.some((o) => read.has(o)));
    if (next.length === kept.length) return kept;
    kept = next;
  }
}

/** A read-only index over a model's main graph. */
export class GraphView {
  readonly graph: GraphProto;
  readonly nodes: NodeProto[];
  readonly producer = new Map<string, NodeProto>();
  readonly consumers = new Map<string, NodeProto[]>();
  readonly initializers = new Map<string, TensorProto>();
  readonly opsets = new Map<string, number>();
  readonly inputs: ValueInfoProto[];
  private readonly constants = new Map<string, Constant>();
  /** Nodes of a pass copied from the model's (integrated gradients' path) by their originals, which messages name. */
  readonly copies = new Map<NodeProto, NodeProto>();
  /** Declared value infos by name (the first of inputs, outputs, value_info), made on first use. */
  private valueInfos?: Map<string, ValueInfoProto>;
  /** Ranks of every node output, found in one pass over the nodes on first use. */
  private ranks?: Map<string, number | undefined>;
  private allNames?: Set<string>;

  constructor(readonly model: ModelProto, readonly label = 'model') {
    this.graph = model.graph!;
    for (const o of model.opset_import ?? []) {
      this.opsets.set(isDefault(o.domain) ? '' : o.domain!, toNumber(o.version));
    }
    for (const t of this.graph.initializer ?? []) this.initializers.set(t.name ?? '', t);
    this.inputs = (this.graph.input ?? []).filter((i) => !this.initializers.has(i.name ?? ''));
    this.nodes = topologicalOrder(this.graph, this.initializers, label);
    for (const n of this.nodes) {
      for (const o of n.output ?? []) if (o) this.producer.set(o, n);
      for (const i of n.input ?? []) {
        if (!i) continue;
        const list = this.consumers.get(i) ?? [];
        list.push(n);
        this.consumers.set(i, list);
      }
    }
  }

  /**
   * Element type and dims the graph declares for a tensor (an initializer's, or a graph input's,
   * output's or value_info's type), where it declares them.
   */
  declared(name: string): { elemType?: number; dims?: DimProto[] } | undefined {
    const init = this.initializers.get(name);
    if (init) return { elemType: init.data_type, dims: tensorDims(init).map((d) => ({ dim_value: d })) };
    this.valueInfos ??= new Map([...(this.graph.value_info ?? []), ...(this.graph.output ?? []), ...(this.graph.input ?? [])].map((vi) => [vi.name ?? '', vi]));
    const info = this.valueInfos.get(name)?.type?.tensor_type;
    return info && { elemType: info.elem_type, dims: info.shape?.dim };
  }

  /** The default-domain opset the graph binds against. */
  get opset(): number {
    return this.opsets.get('') ?? 1;
  }

  /** Whether a tensor is an initializer or a Constant-node output (its values are not read). */
  isConstant(name: string): boolean {
    return this.initializers.has(name) || this.producer.get(name)?.op_type === 'Constant';
  }

  /** Dims of an initializer or Constant-node output (an initializer's values are not read). */
  constantDims(name: string): number[] | undefined {
    const init = this.initializers.get(name);
    return init ? tensorDims(init) : this.constant(name)?.dims;
  }

  /** Value of an initializer or Constant-node output, if it is one. */
  constant(name: string): Constant | undefined {
    if (!name) return undefined;
    const cached = this.constants.get(name);
    if (cached) return cached;
    let c: Constant | undefined;
    const init = this.initializers.get(name);
    if (init) c = lazyValues(tensorDims(init), () => tensorValues(init));
    const node = this.producer.get(name);
    if (!c && node?.op_type === 'Constant') c = constantNodeValue(node);
    if (c) this.constants.set(name, c);
    return c;
  }

  /** Every name of the main graph: inputs, initializers, nodes and their outputs. */
  names(): ReadonlySet<string> {
    this.allNames ??= new Set([...this.inputs.map((i) => i.name ?? ''), ...this.initializers.keys(), ...this.nodes.flatMap((n) => [n.name ?? '', ...(n.output ?? [])])]);
    return this.allNames;
  }

  /**
   * A tensor's rank: where the graph declares it (or it is a constant), else followed through the
   * ops that keep or set it (element-wise and normalisation ops, MatMul, Transpose, Reshape to a
   * constant shape, Gather, Squeeze/Unsqueeze with constant axes); undefined past anything else.
   */
  rank(name: string): number | undefined {
    const known = (t: string) => this.constantDims(t)?.length ?? this.declared(t)?.dims?.length;
    if (!this.ranks) {
      const ranks = new Map<string, number | undefined>();
      const of = (t: string | undefined) => (!t ? undefined : ranks.has(t) ? ranks.get(t) : known(t));
      for (const node of this.nodes) (node.output ?? []).forEach((o, k) => o && ranks.set(o, known(o) ?? this.derivedRank(node, k, of)));
      this.ranks = ranks;
    }
    return this.ranks.has(name) ? this.ranks.get(name) : known(name);
  }

  /** The rank of output k of `node` from its inputs' ranks (`of`), where its op keeps or sets it. */
  private derivedRank(node: NodeProto, k: number, rankOf: (t: string | undefined) => number | undefined): number | undefined {
    const of = (i: number) => rankOf(node.input?.[i]);
    const axes = () => attrInts(node, 'axes') ?? this.constant(node.input?.[1] ?? '')?.values;
    switch (node.op_type) {
      case 'Reshape': return (attrInts(node, 'shape') ?? this.constant(node.input?.[1] ?? '')?.values)?.length;
      case 'Gemm': case 'Flatten': return 2;
      case 'Split': return of(0);
      case 'Transpose': return attrInts(node, 'perm')?.length ?? of(0);
      case 'MatMul': case 'MatMulNBits': case 'FusedMatMul': case 'TransposeMatMul': {
        const [a, b] = [of(0), node.op_type === 'MatMulNBits' ? 2 : of(1)];
        return a === undefined || b === undefined ? undefined : Math.max(a, b) - (a === 1 || b === 1 ? 1 : 0);
      }
      case 'Gather': { const [d, i] = [of(0), of(1)]; return d === undefined || i === undefined ? undefined : d - 1 + i; }
      case 'Unsqueeze': { const [r, a] = [of(0), axes()]; return r === undefined || !a ? undefined : r + a.length; }
      case 'Squeeze': { const [r, a] = [of(0), axes()]; return r === undefined || !a ? undefined : r - a.length; }
      default: {
        if (k !== 0) return undefined;
        if (node.op_type?.startsWith('Reduce') && node.input?.length === 1) {
          // axes as an attribute (ReduceSum before 13, the others before 18); none: all axes
          const r = of(0);
          const reduced = attrInts(node, 'axes')?.length ?? (attrInt(node, 'noop_with_empty_axes', 0) ? 0 : r);
          return r === undefined || reduced === undefined ? undefined : attrInt(node, 'keepdims', 1) ? r : r - reduced;
        }
        if (SAME_RANK.has(node.op_type ?? '')) return of(0);
        if (!ELEMENTWISE.has(node.op_type ?? '')) return undefined;
        const ranks = (node.input ?? []).flatMap((name, i) => (name ? [of(i)] : []));
        return ranks.some((r) => r === undefined) ? undefined : Math.max(...(ranks as number[]));
      }
    }
  }

  nodeLabel(copy: NodeProto): string {
    const node = this.copies.get(copy) ?? copy;
    const domain = node.domain && node.domain !== 'ai.onnx' ? node.domain : '';
    const op = domain ? `${domain}.${node.op_type}` : node.op_type || 'no op type';
    return `${namedNode(node)} (${op}, opset ${this.opsets.get(domain) ?? this.opset})`;
  }
}

/** "node 'NAME'" by its name, else its first output's; a node with neither says so. */
function namedNode(node: NodeProto): string {
  const name = node.name || node.output?.find(Boolean);
  return name ? `node '${name}'` : 'a node without a name or output';
}

/** Ops whose first output has the largest rank of their inputs (broadcasting element-wise ops and normalisations). */
const ELEMENTWISE = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Where', 'Max', 'Min', 'Sum', 'Relu', 'Sigmoid', 'Tanh', 'Erf', 'Neg', 'Sqrt', 'Exp', 'Log', 'Cast',
  'Identity', 'Dropout', 'Softmax', 'Gelu', 'FastGelu', 'BiasGelu', 'QuickGelu', 'BiasAdd', 'LayerNormalization', 'SkipLayerNormalization',
  'SimplifiedLayerNormalization', 'SkipSimplifiedLayerNormalization', 'RMSNormalization', 'RotaryEmbedding', 'Clip', 'LeakyRelu', 'HardSigmoid', 'HardSwish',
  'PRelu', 'Elu', 'Selu', 'Softplus', 'Softsign', 'Abs', 'Reciprocal', 'LogSoftmax', 'Floor', 'Ceil', 'Round', 'Sign', 'Sin', 'Cos',
]);

/** Ops whose first output has their first input's rank (windows, resizing, padding, slicing). */
const SAME_RANK = new Set([
  'Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'BatchNormalization', 'InstanceNormalization',
  'LRN', 'Resize', 'Upsample', 'Pad', 'Slice', 'Concat', 'Tile',
]);

/** A constant whose values are decoded on first read (rules often only ask whether weights are constant). */
function lazyValues(dims: number[], read: () => number[]): Constant {
  let values: number[] | undefined;
  return { dims, get values() { return (values ??= read()); } };
}

export function constantNodeValue(node: NodeProto): Constant | undefined {
  const a = node.attribute?.[0];
  if (!a) return undefined;
  if (a.t) return { dims: tensorDims(a.t), values: tensorValues(a.t) };
  if (a.name === 'value_float') return { dims: [], values: [attrFloat(node, 'value_float', 0)] };
  if (a.name === 'value_int') return { dims: [], values: [attrInt(node, 'value_int', 0)] };
  if (a.name === 'value_floats') { const v = attrFloats(node, 'value_floats') ?? []; return { dims: [v.length], values: v }; }
  if (a.name === 'value_ints') { const v = attrInts(node, 'value_ints') ?? []; return { dims: [v.length], values: v }; }
  return undefined;
}

function topologicalOrder(graph: GraphProto, initializers: Map<string, TensorProto>, label: string): NodeProto[] {
  const available = new Set<string>([...initializers.keys(), ...(graph.input ?? []).map((i) => i.name ?? ''), '']);
  let pending = [...(graph.node ?? [])];
  const order: NodeProto[] = [];
  // Nodes are usually already sorted: one pass in the common case.
  while (pending.length) {
    const waiting: NodeProto[] = [];
    for (const n of pending) {
      if ((n.input ?? []).every((x) => available.has(x))) {
        order.push(n);
        for (const o of n.output ?? []) available.add(o);
      } else waiting.push(n);
    }
    if (waiting.length === pending.length) {
      const n = waiting[0];
      const missing = (n.input ?? []).filter((x) => !available.has(x));
      throw new ExplainError(`${label}: ${namedNode(n)} (${n.op_type || 'no op type'}) reads '${missing[0]}', which no node, input or initializer produces (or the graph has a cycle)`);
    }
    pending = waiting;
  }
  return order;
}

/**
 * The node that computes `name`, past Identity copies (output names given by Identity nodes:
 * tf2onnx, torch.onnx) and inference Dropouts' outputs (a copy there too; not their masks).
 */
export function producerPastCopies(view: GraphView, name: string): NodeProto | undefined {
  let n = view.producer.get(name);
  while (n && !n.domain && (n.op_type === 'Identity' || (n.op_type === 'Dropout' && n.output![0] === name))) {
    name = n.input![0];
    n = view.producer.get(name);
  }
  return n;
}

/**
 * The node that computes `name` past copies (producerPastCopies) and past the nodes that keep each
 * row's values in order on axis 0: float Casts (a float16 export's `keep_io_types` output), Flatten
 * at axis 1, Squeeze and Unsqueeze of constant axes other than 0 (also as an If of a Squeeze and an
 * Identity: squeezedInBranches), Reshape keeping axis 0 (a shape
 * [0, …], or [−1, …] of a fixed row: torch's `reshape(-1, C)`). Where a negative axis or a −1 turns
 * out to move the batch, the chosen tensor holds no rows and is refused (Explainer.targetSpace).
 */
export function producerPastViews(view: GraphView, name: string): NodeProto | undefined {
  for (let n = producerPastCopies(view, name); ;) {
    const from = n && !n.domain ? (n.op_type === 'If' ? squeezedInBranches(view, n) : keepsRows(view, n) ? n.input![0] : undefined) : undefined;
    if (from === undefined) return n;
    n = producerPastCopies(view, from);
  }
}

/**
 * The outer tensor an If's two branches each pass on as it is or squeezed on constant axes other
 * than 0: torch's `squeeze(dim)` where the dim's size is not known when exported (If(size == 1,
 * Squeeze, Identity)); undefined for any other If.
 */
function squeezedInBranches(view: GraphView, n: NodeProto): string | undefined {
  const read = ['then_branch', 'else_branch'].map((which) => {
    const g = n.attribute?.find((a) => a.name === which)?.g;
    const constants = new Map((g?.node ?? []).filter((b) => b.op_type === 'Constant' && !b.domain).map((b) => [b.output![0], attrTensorValues(b, 'value')]));
    const steps = (g?.node ?? []).filter((b) => !constants.has(b.output?.[0] ?? ''));
    const [only] = steps;
    if (steps.length !== 1 || only.domain || g?.output?.length !== 1 || only.output![0] !== g.output[0].name) return undefined;
    if (only.op_type === 'Identity') return only.input![0];
    const axes = only.op_type !== 'Squeeze' ? undefined : only.input?.[1] ? constants.get(only.input[1]) ?? view.constant(only.input[1])?.values : attrInts(only, 'axes');
    return axes?.length && axes.every((k) => k !== 0) ? only.input![0] : undefined;
  });
  return read[0] !== undefined && read[0] === read[1] ? read[0] : undefined;
}

function keepsRows(view: GraphView, n: NodeProto): boolean {
  const axes = () => (view.opset >= 13 && n.input?.[1] ? view.constant(n.input[1])?.values : attrInts(n, 'axes'));
  switch (n.op_type) {
    case 'Cast': return isFloatType(attrInt(n, 'to', 0));
    case 'Flatten': return attrInt(n, 'axis', 1) === 1;
    case 'Squeeze': case 'Unsqueeze': { const a = axes(); return !!a?.length && a.every((k) => k !== 0); }
    case 'Reshape': {
      const [first, ...rest] = view.constant(n.input?.[1] ?? '')?.values ?? [];
      return !attrInt(n, 'allowzero', 0) && (first === 0 || (first === -1 && rest.every((d) => d > 0)));
    }
    default: return false;
  }
}

/** A Sigmoid, or a HardSigmoid through ½ at 0 (β = ½, its default and torch's): its input is a logit. */
export const isSigmoid = (n: NodeProto | undefined) => !n?.domain && (n?.op_type === 'Sigmoid' || (n?.op_type === 'HardSigmoid' && attrFloat(n, 'beta', 0.5) === 0.5));

/** A head written out in element-wise ops: the squash it computes, its logits, and the axes a softmax normalises. */
export interface WrittenSquash { op: 'Softmax' | 'LogSoftmax' | 'Sigmoid'; logits: string; axes?: number[] }

/**
 * The softmax, log-softmax or sigmoid that `n` ends, written out as hand-written torch modules export
 * them: exp(a) / Σ exp(a) over kept axes with a = z or z − max z; z − ReduceLogSumExp(z) or
 * z − log Σ exp(z); 1 / (1 + exp(−z)) by Reciprocal or Div. Sums over the batch axis are no row's softmax.
 */
export function writtenSquash(view: GraphView, n: NodeProto): WrittenSquash | undefined {
  const made = (t: string | undefined, op: string) => {
    const p = t ? view.producer.get(t) : undefined;
    return p && !p.domain && p.op_type === op ? p : undefined;
  };
  // The axes a reduction keeps as ones (not the batch's), from its attribute or, at opsets 13 (ReduceSum) and 18, its input.
  const rowAxes = (r: NodeProto | undefined): number[] | undefined => {
    const axes = r?.input?.[1] ? view.constant(r.input[1])?.values : r && attrInts(r, 'axes');
    const rank = r && view.rank(r.input![0]);
    return r && attrInt(r, 'keepdims', 1) === 1 && axes?.length && axes.every((a) => a > 0 || (a < 0 && rank !== undefined && a + rank > 0)) ? axes : undefined;
  };
  const same = (a: number[] | undefined, b: number[]) => a?.join() === b.join();
  const [a, b] = n.input ?? [];
  if (n.domain) return undefined;
  // z − max z over the same axes is the logits shifted per softmax (the spec's function bodies): z is; a max over others is part of the logits.
  const unshifted = (t: string, axes: number[]) => {
    const shifted = made(t, 'Sub');
    const max = made(shifted?.input![1], 'ReduceMax');
    return max && max.input![0] === shifted!.input![0] && same(rowAxes(max), axes) ? shifted!.input![0] : t;
  };
  if (n.op_type === 'Div' && made(a, 'Exp')) {
    const sum = made(b, 'ReduceSum');
    const axes = sum?.input![0] === a ? rowAxes(sum) : undefined;
    return axes && { op: 'Softmax', logits: unshifted(made(a, 'Exp')!.input![0], axes), axes };
  }
  if (n.op_type === 'Sub') {
    const lse = made(b, 'ReduceLogSumExp');
    const log = made(b, 'Log');
    const sum = made(log?.input![0], 'ReduceSum');
    const exp = made(sum?.input![0], 'Exp');
    const axes = lse?.input![0] === a ? rowAxes(lse) : exp?.input![0] === a ? rowAxes(sum) : undefined;
    return axes && { op: 'LogSoftmax', logits: unshifted(a!, axes), axes };
  }
  // A scalar one (a ones tensor could broadcast the logits to a larger shape).
  const one = (t: string | undefined) => {
    const v = t ? view.constant(t)?.values : undefined;
    return v?.length === 1 && v[0] === 1;
  };
  const denominator = n.op_type === 'Reciprocal' ? a : n.op_type === 'Div' && one(a) ? b : undefined;
  const sum = made(denominator, 'Add');
  const exp = sum && made(sum.input!.find((t) => !one(t)), 'Exp');
  const negated = made(exp?.input![0], 'Neg');
  return sum && sum.input!.some(one) && negated ? { op: 'Sigmoid', logits: negated.input![0] } : undefined;
}

/** The tensor `name` traced back through Cast and Identity nodes, each found by `producerOf`. */
export function throughCasts(name: string, producerOf: (t: string) => NodeProto | undefined): string {
  for (let p = producerOf(name); p?.op_type === 'Identity' || p?.op_type === 'Cast'; p = producerOf(name)) name = p.input![0];
  return name;
}

/** Tensors that `target` depends on. */
export function ancestors(view: GraphView, target: string, held = new Set<string>()): Set<string> {
  const seen = new Set<string>([target]);
  const stack = [target];
  while (stack.length) {
    const t = stack.pop()!;
    const n = held.has(t) ? undefined : view.producer.get(t);
    for (const i of n?.input ?? []) if (i && !seen.has(i)) { seen.add(i); stack.push(i); }
  }
  return seen;
}

/** Tensors computed from `sources`, through every node but those `reads` excludes, and not through `held`. */
export function descendants(view: GraphView, sources: string[], reads = (_n: NodeProto) => true, held = new Set<string>()): Set<string> {
  const seen = new Set(sources);
  for (const n of view.nodes) if (reads(n) && (n.input ?? []).some((i) => seen.has(i))) for (const o of n.output ?? []) if (o && !held.has(o)) seen.add(o);
  return seen;
}

/**
 * Tensors computed from `sources` (themselves included) in a graph not yet viewed, read directly or
 * inside subgraphs (descendants follows a GraphView's main-graph inputs only).
 */
export function computedFrom(graph: GraphProto, sources: string[]): Set<string> {
  const derived = new Set(sources);
  for (const n of graph.node ?? []) if (nodeReads(n).some((t) => derived.has(t))) for (const o of n.output ?? []) derived.add(o);
  return derived;
}

/** Tensors whose values follow from the values of `sources` (Shape and Size read only shapes), not through `held`. */
export function valueDescendants(view: GraphView, sources: string[], held?: Set<string>): Set<string> {
  return descendants(view, sources, (n) => n.op_type !== 'Shape' && n.op_type !== 'Size', held);
}

/**
 * The value of `name` where a constant, or a small tensor built from constants by the ops
 * torch.onnx writes for view(4, ...) without constant folding (Unsqueeze of scalars, Concat on
 * axis 0, Cast, Identity) and for F.pad's pads at opset 11 on (ConstantOfShape, Concat, Reshape
 * to [-1, 2], a reversing Slice, Transpose, Reshape, Cast). `limit` bounds the elements it
 * rearranges (weights: see weightConstant).
 */
export function shapeConstant(view: GraphView, name: string, limit = BUILT_LIMIT): Constant | undefined {
  const c = view.constant(name);
  const node = view.producer.get(name);
  if (c || !node || node.domain || !SHAPE_BUILDERS.has(node.op_type ?? '')) return c;
  const known = shapeConstants.get(view) ?? new Map<string, Constant | undefined>();
  shapeConstants.set(view, known);
  const key = `${limit}\u0000${name}`;
  if (known.has(key)) return known.get(key);
  const value = shapeBuilt(view, node, limit);
  known.set(key, value);
  return value;
}

/**
 * A weight computed from initializers by the same rearranging ops, at any size: torch.onnx without
 * constant folding (or inside an If branch) writes an LSTM's W as its gates' Slices, Concat and
 * Unsqueeze of the parameter.
 */
export function weightConstant(view: GraphView, name: string): Constant | undefined {
  return shapeConstant(view, name, Infinity);
}

/** The ops shapeConstant reads through; its results per view (shared inputs are read once). */
const SHAPE_BUILDERS = new Set(['Identity', 'Cast', 'Unsqueeze', 'Squeeze', 'Concat', 'ConstantOfShape', 'Reshape', 'Slice', 'Transpose', 'Equal', 'Where', 'Add', 'Sub', 'Mul']);
const shapeConstants = new WeakMap<GraphView, Map<string, Constant | undefined>>();
/** Largest tensor shapeConstant builds. */
const BUILT_LIMIT = 4096;

function shapeBuilt(view: GraphView, node: NodeProto, limit: number): Constant | undefined {
  const inputs = node.input ?? [];
  const ins = inputs.map((i) => (i ? shapeConstant(view, i, limit) : undefined));
  if (node.op_type === 'Slice' && !ins[0]) return emptySliceOfShape(view, node, ins);
  if (ins.some((v, k) => inputs[k] && !v)) return undefined;
  const [first] = ins as Constant[];
  const count = (dims: number[]) => dims.reduce((a, d) => a * d, 1);
  // Rearranging reads only small tensors (shapes, pads), not weights.
  if (['Reshape', 'Slice', 'Transpose', 'Concat'].includes(node.op_type ?? '') && first.values.length > limit) return undefined;
  switch (node.op_type) {
    case 'Identity': return first;
    case 'Cast': return first.values.every(Number.isInteger) ? first : undefined;
    case 'Squeeze': {
      const axes = (attrInts(node, 'axes') ?? ins[1]?.values)?.map((a) => (a < 0 ? a + first.dims.length : a));
      return { dims: first.dims.filter((d, k) => (axes ? !axes.includes(k) : d !== 1)), values: first.values };
    }
    case 'Unsqueeze': {
      const given = attrInts(node, 'axes') ?? ins[1]?.values;
      if (!given) return undefined;
      const dims = [...first.dims];
      for (const a of given.map((a) => (a < 0 ? a + first.dims.length + given.length : a)).sort((p, q) => p - q)) dims.splice(a, 0, 1);
      return { dims, values: first.values };
    }
    case 'Concat': {
      const parts = ins as Constant[];
      const axis = attrInt(node, 'axis', 0) < 0 ? attrInt(node, 'axis', 0) + first.dims.length : attrInt(node, 'axis', 0);
      if (parts.some((v) => v.dims.length !== first.dims.length || v.dims.some((d, k) => k !== axis && d !== first.dims[k]))) return undefined;
      // Each part contributes its block of dims[axis..] per index of the axes before `axis`.
      const outer = count(first.dims.slice(0, axis));
      const blocks = parts.map((v) => v.values.length / (outer || 1));
      const values: number[] = [];
      for (let o = 0; o < outer; o++) parts.forEach((v, i) => { for (let k = 0; k < blocks[i]; k++) values.push(v.values[o * blocks[i] + k]); });
      return { dims: first.dims.map((d, k) => (k === axis ? parts.reduce((n, v) => n + v.dims[axis], 0) : d)), values };
    }
    case 'ConstantOfShape': {
      const dims = first.values;
      if (dims.some((d) => !Number.isSafeInteger(d) || d < 0) || count(dims) > BUILT_LIMIT) return undefined;
      return { dims, values: Array(count(dims)).fill(attrTensorValues(node, 'value')?.[0] ?? 0) };
    }
    case 'Reshape': {
      const dims = ins[1]!.values.map((d, k) => (d === 0 && !attrInt(node, 'allowzero', 0) ? first.dims[k] : d));
      const free = dims.indexOf(-1);
      const rest = count(dims.filter((_, k) => k !== free));
      if (free >= 0 && rest > 0) dims[free] = first.values.length / rest;
      return dims.every((d) => Number.isSafeInteger(d) && d >= 0) && count(dims) === first.values.length ? { dims, values: first.values } : undefined;
    }
    case 'Transpose': {
      const perm = attrInts(node, 'perm') ?? first.dims.map((_, k) => first.dims.length - 1 - k);
      const dims = perm.map((p) => first.dims[p]);
      return { dims, values: gatherAt(first, dims, (at) => perm.reduce((idx, p, k) => { idx[p] = at[k]; return idx; }, Array<number>(perm.length))) };
    }
    case 'Slice': return sliced(node, first, ins);
    // torch.onnx's expand(…, −1, …): Where(Equal(shape, −1 · ones), ones, shape).
    case 'Equal': return elementwise(ins as Constant[], ([a, b]) => Number(a === b));
    case 'Add': return elementwise(ins as Constant[], ([a, b]) => a + b);
    case 'Sub': return elementwise(ins as Constant[], ([a, b]) => a - b);
    case 'Mul': return elementwise(ins as Constant[], ([a, b]) => a * b);
    case 'Where': return elementwise(ins as Constant[], ([c, a, b]) => (c ? a : b));
    default: return undefined;
  }
}

/** An element-wise function of operands that each hold one value or as many as the largest (shape vectors). */
export function elementwise(ins: Constant[], f: (values: number[]) => number): Constant | undefined {
  const widest = ins.reduce((a, v) => (v.values.length > a.values.length ? v : a));
  if (ins.some((v) => v.values.length !== 1 && v.values.length !== widest.values.length)) return undefined;
  return { dims: widest.dims, values: widest.values.map((_, k) => f(ins.map((v) => v.values[v.values.length === 1 ? 0 : k]))) };
}

/** Slice of `first` with the node's starts, ends, axes and steps (inputs from opset 10 on, attributes before). */
function sliced(node: NodeProto, first: Constant, ins: (Constant | undefined)[]): Constant | undefined {
  const [starts, ends, axes, steps] = node.input!.length > 1 ? [1, 2, 3, 4].map((k) => ins[k]?.values) : [attrInts(node, 'starts'), attrInts(node, 'ends'), attrInts(node, 'axes'), undefined];
  if (!starts || !ends) return undefined;
  const ranges = first.dims.map((d) => ({ start: 0, step: 1, size: d }));
  for (const [i, a] of (axes ?? starts.map((_, k) => k)).entries()) {
    const axis = a < 0 ? a + first.dims.length : a;
    const d = first.dims[axis];
    const step = steps?.[i] ?? 1;
    if (d === undefined || !step) return undefined;
    const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
    const [start, end] = step > 0 ? [clamp(starts[i], 0, d), clamp(ends[i], 0, d)] : [clamp(starts[i], 0, d - 1), clamp(ends[i], -1, d - 1)];
    ranges[axis] = { start, step, size: Math.max(0, Math.ceil((end - start) / step)) };
  }
  const dims = ranges.map((r) => r.size);
  return { dims, values: gatherAt(first, dims, (at) => at.map((k, axis) => ranges[axis].start + k * ranges[axis].step)) };
}

/**
 * A Slice of Shape(x) that keeps none of x's dims, whatever they are: torch's flatten() writes its
 * Reshape's shape as Concat(Slice(Shape(x), 0, 0), [-1]).
 */
function emptySliceOfShape(view: GraphView, node: NodeProto, ins: (Constant | undefined)[]): Constant | undefined {
  const shape = view.producer.get(node.input![0]);
  const rank = shape?.op_type === 'Shape' && !shape.attribute?.length ? view.rank(shape.input![0]) : undefined;
  if (node.input!.slice(1).some((i, k) => i && !ins[k + 1])) return undefined;
  const kept = rank === undefined ? undefined : sliced(node, { dims: [rank], values: Array(rank).fill(0) }, ins);
  return kept?.dims[0] === 0 ? kept : undefined;
}

/** The values of a tensor of `dims` whose element at each index is `from`'s element at `source(index)` (row-major). */
function gatherAt(from: Constant, dims: number[], source: (at: number[]) => number[]): number[] {
  const total = dims.reduce((a, d) => a * d, 1);
  const [outStride, inStride] = [rowMajorStrides(dims), rowMajorStrides(from.dims)];
  return Array.from({ length: total }, (_, flat) => {
    const at = dims.map((d, k) => Math.floor(flat / outStride[k]) % d);
    return from.values[source(at).reduce((a, v, k) => a + v * inStride[k], 0)];
  });
}

/** Tensors whose values depend on the graph inputs' values (Shape and Size read only shapes). */
export function valueDependent(view: GraphView): Set<string> {
  return valueDescendants(view, view.inputs.map((i) => i.name ?? ''));
}

/** Inputs whose values set an op's output shape, where they are not constants. */
export const SHAPE_SETTING: Record<string, number[]> = lookupTable({
  NonZero: [0], Compress: [1], Unique: [0], NonMaxSuppression: [0, 1, 2, 3, 4], TopK: [1], OneHot: [1],
  Reshape: [1], Expand: [1], Tile: [1], Slice: [1, 2, 3, 4], Pad: [1, 3], Resize: [2, 3], Upsample: [1],
  ConstantOfShape: [0], Range: [0, 1, 2], Split: [1], Squeeze: [1], Unsqueeze: [1], CenterCropPad: [1],
  Col2Im: [1, 2], AffineGrid: [1], DFT: [1], STFT: [2], MaxUnpool: [2],
  ReduceSum: [1], ReduceMean: [1], ReduceMax: [1], ReduceMin: [1], ReduceProd: [1], ReduceL1: [1], ReduceL2: [1],
  ReduceLogSum: [1], ReduceLogSumExp: [1], ReduceSumSquare: [1],
});

/**
 * Tensors whose shape follows from the values of graph inputs (`sources`, default all; a NonZero of
 * a comparison, a Reshape to sizes counted from a mask), each with the node where that starts: a
 * probe's shapes of these hold for its own input values only. Shape and Size of such a tensor are
 * values that follow from the inputs.
 */
export function valueShaped(view: GraphView, sources = view.inputs.map((i) => i.name ?? '')): Map<string, NodeProto> {
  const fromValues = new Set(sources);
  const shaped = new Map<string, NodeProto>();
  for (const n of view.nodes) {
    const ins = (n.input ?? []).filter(Boolean);
    const readsShape = !n.domain && (n.op_type === 'Shape' || n.op_type === 'Size');
    const setting = !n.domain && SHAPE_SETTING[n.op_type ?? '']?.some((k) => fromValues.has(n.input?.[k] ?? ''));
    const start = ins.map((i) => shaped.get(i)).find(Boolean) ?? (setting ? n : undefined);
    const valued = readsShape ? ins.some((i) => shaped.has(i)) : ins.some((i) => fromValues.has(i) || shaped.has(i));
    for (const o of n.output ?? []) {
      if (o && valued) fromValues.add(o);
      if (o && start && !readsShape) shaped.set(o, start);
    }
  }
  return shaped;
}

/** The graph inputs other than the explained ones that hold the batch on axis 0 (token ids, masks, a second input fed as it is). */
export function fedBatchInputs(view: GraphView, facts: TensorFacts, explained: string[]): string[] {
  return view.inputs.map((i) => i.name ?? '').filter((i) => !explained.includes(i) && facts.batchAxis.get(i) === 0);
}
