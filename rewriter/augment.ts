import { differentiable, emitBackward, gradientPath } from './backward';
import { Emitter } from './emitter';
import { ExplainError } from './errors';
import { ancestors, descendants, freeNames, GraphView, nodeReads, TensorFacts } from './graph-view';
import { DataType, isFloatType, isTensorValue, makeTensor, ModelProto, NodeProto, shapeless, ValueInfoProto, valueInfo } from './proto';
import { RuleTable } from '../rules/registry';
import { RuleOptions } from '../rules/types';

/** What an attribution method adds on top of the backward walk. */
export interface Method<N extends string = string> {
  name: N;
  table: RuleTable;
  /** The graph also runs the model on a `baseline` input and rules may read ref(name). */
  reference: boolean;
  /**
   * Turns the walk's result into the attribution output; `input` is the tensor attributed to (the
   * model input, or the layer) and `baseline` its reference-pass value.
   */
  attribution(em: Emitter, io: { grad: string; input: string; baseline?: string }): string;
  /**
   * The attribution is the walk's result times the input (or its difference from the baseline):
   * under `multiplyByInputs: false` it is the walk's result alone (Captum's multiply_by_inputs=False,
   * "global attribution": DeepLIFT's multipliers, integrated gradients' averaged gradients).
   */
  multipliesByInputs?: true;
  /** Turns the output seed into the signal the walk starts from (e.g. LRP's relevance = seed · logits). */
  start?(em: Emitter, io: { seed: string; from: string }): string;
  /**
   * Starts at the logit behind a final Sigmoid, as at the logits behind a final Softmax (LRP: a
   * probability's relevance passed back through the Sigmoid keeps p's sign where the logit's is
   * negative, so the features that lower the score would get positive relevance).
   */
  seedsLogit?: true;
  /**
   * The quantity the attributions should sum to, per element of the seeded output (DeepLIFT:
   * f(x) − f(x⁰); LRP: f(x)). When given, the graph also outputs `delta` per row:
   * Σ attribution − Σ seed · explained.
   */
  explained?(em: Emitter, io: { from: string; fromRef?: string }): string;
}

export interface AugmentSpec {
  view: GraphView;
  facts: TensorFacts;
  /** Whether the batch axis of the graph input may vary (else batch 1 is fixed). */
  batchDynamic: boolean;
  method: Method;
  /** The model input explained. */
  input: string;
  /**
   * Joint attribution (Captum's tuple of inputs): every one of these model inputs (`input` among
   * them) is attributed to by the same walk, fan-out summed; the graph then takes one reference
   * input `baseline:<name>` per input and outputs `attribution:<name>` per input, and `delta`
   * covers them all.
   */
  inputs?: string[];
  /**
   * Attributions with respect to this tensor instead of `input` (layer attribution; any tensor
   * computed from the input): the method's attribution reads it as its input and, for reference
   * methods, its reference-pass value as the baseline. The layer-gradient building block.
   */
  layer?: string;
  /** Forward tensors to output besides the model outputs (e.g. an explained intermediate tensor). */
  expose?: string[];
  /**
   * Path methods (integrated gradients): the walk runs on `steps` points per row between the
   * baseline and the input, all in one batch, and its result is their weighted sum (see pathPass).
   */
  path?: { steps: number };
  /** Tensor the output seed is applied to (the chosen output, or its pre-softmax logits). */
  from: string;
  /** The graph's own input and output names (default: ioNames of the view). */
  io?: IoNames;
  options: RuleOptions;
  /**
   * Reference methods: the reference input is a constant row instead of the `baseline` input —
   * zeros, or the given row per baseline input name — so that onnxruntime folds the whole
   * reference pass once, at session creation. Only where one row broadcasts against the batch
   * (facts.batchBroadcasts); ignored otherwise.
   */
  zeroBaseline?: boolean;
  baselineRows?: Record<string, Float32Array>;
  /**
   * The baseline input is fed one row: its batch is declared 1, not the symbol B (1 or N). Shape
   * inference then keeps the batch's symbol N where reference activations meet the input's, and
   * onnxruntime can plan the memory of large graphs (N against B is an unknown dimension).
   */
  sharedBaseline?: boolean;
  /** Reference methods: the run found every step on the walk's path at one value on both passes (WalkSpec.stepsKept). */
  stepsKept?: boolean;
}

export const IO_NAMES = { seed: 'seed', baseline: 'baseline', attribution: 'attribution', delta: 'delta', alphas: 'alphas', weights: 'weights' };
export type IoNames = typeof IO_NAMES;

/** The augmented graphs' own input and output names for a model: IO_NAMES made free of its tensor names. */
export const ioNames = (view: GraphView): IoNames => freeNames(view, IO_NAMES);

/** A graph spec's own input and output names: those it is given, else ioNames of its view. */
export const ioOf = (spec: { view: GraphView; io?: IoNames }): IoNames => spec.io ?? ioNames(spec.view);

/** A per-input name of joint attribution: `attribution:<input>`, `baseline:<input>`. */
export const perInput = (io: string, input: string): string => `${io}:${input}`;
const REF_PREFIX = 'ref/';
const PATH_PREFIX = 'path/';

/** `base` ('ref/'), or it numbered ('ref_1/', …) where the graph already holds a name it would give (a TF model's own 'ref/…'). */
function freePrefix(view: GraphView, base: string): string {
  const names = view.names();
  for (let k = 0; ; k++) {
    const prefix = k ? `${base.slice(0, -1)}_${k}/` : base;
    if (![...names].some((name) => names.has(prefix + name))) return prefix;
  }
}

/**
 * Copies of the forward nodes that depend on the `replaced` tensors (or read a tensor `sided`
 * names), reading their replacements instead; their tensors get `prefix`. `side` maps the copies'
 * other inputs (default: unchanged); nodes `skip` names are not copied.
 */
function renamedPass(view: GraphView, replaced: Map<string, string>, base: string, side = (name: string) => name, skip = (_n: NodeProto, _renamed: Map<string, string>) => false, sided = (_name: string) => false): { nodes: NodeProto[]; originals: Map<NodeProto, NodeProto>; ref: (n: string) => string } {
  const prefix = freePrefix(view, base);
  const renamed = new Map(replaced);
  const originals = new Map<NodeProto, NodeProto>();
  for (const n of view.nodes) {
    if (!(n.input ?? []).some((i) => renamed.has(i) || sided(i)) || skip(n, renamed)) continue;
    const inputs = (n.input ?? []).map((i) => renamed.get(i) ?? side(i));
    // A replaced tensor keeps its replacement where its producer is copied for another output (a layer
    // that is TopK's values, its indices read past it): the copy's own value of it goes unused.
    for (const o of n.output ?? []) if (o && !replaced.has(o)) renamed.set(o, prefix + o);
    originals.set({ ...n, name: n.name ? prefix + n.name : undefined, input: inputs, output: (n.output ?? []).map((o) => (o ? (replaced.has(o) ? prefix + o : renamed.get(o)!) : o)) }, n);
  }
  return { nodes: [...originals.keys()], originals, ref: (name) => renamed.get(name) ?? name };
}

/**
 * The path of integrated gradients inside the graph, from the tensors `starts` (the inputs, or a
 * layer for Captum's LayerIntegratedGradients), each with its reference value:
 * a_{s,n} = a⁰_n + α_s·(a_n − a⁰_n) for the S `alphas` (batch S·N, step-major), a copy of the
 * forward nodes after the starts on them and of the integer ones after the inputs fed as they are
 * (those inputs repeated S times, so that what is computed from the batch's size — a Range over
 * the rows indexing a flattened batch — counts S·N rows), every other batch tensor they read
 * (features of a fed input, a skip connection around a layer) repeated S times, and the seed on
 * each point scaled by the step's weight, so the walk's result at a point is w_s·∂f/∂a(a_{s,n});
 * `sum` adds the S points of each row: Σ_s w_s ∂f/∂a(a_{s,n}) (Sundararajan et al. 2017, eq. 3).
 */
function pathPass(spec: AugmentSpec, io: IoNames, em: Emitter, steps: number, starts: [string, string][]): { view: GraphView; facts: TensorFacts; nodes: NodeProto[]; from: string; wrt: string[]; seed: string; sum: (g: string, start: string) => string } {
  const { view, facts, from } = spec;
  const rowOf = (name: string) => facts.shapes.get(name)!.slice(1);
  const column = (t: string, rank: number) => em.reshape(t, [steps, ...Array(rank).fill(1)]);
  const wrt = starts.map(([start, startRef]) => {
    const points = em.add(em.unsqueeze(startRef, [0]), em.mul(column(io.alphas, rowOf(start).length + 1), em.unsqueeze(em.sub(start, startRef), [0])));
    return em.reshape(points, [-1, ...rowOf(start)]);
  });
  const seed = em.reshape(em.mul(column(io.weights, rowOf(from).length + 1), em.unsqueeze(io.seed, [0])), [-1, ...rowOf(from)]);
  const explained = spec.inputs ?? [spec.input];
  const fromInput = differentiable(view, facts, explained);
  const repeated = new Map<string, string>();
  const batchOf = (name: string) => facts.batchAxis.get(name) ?? -1;
  const repeat = (name: string) => {
    if (!fromInput.has(name) && batchOf(name) < 0) return name;
    // Along the tensor's own batch axis (axis 1 of a sequence-first [L, N, E] query, whose Shape sizes
    // the keys' heads); Tile is step-major and, unlike a Reshape to [-1, …], keeps an empty axis (a
    // generation cache with no past) empty.
    if (!repeated.has(name)) repeated.set(name, em.op('Tile', [name, em.constInt(facts.shapes.get(name)!.map((_, k) => (k === Math.max(batchOf(name), 0) ? steps : 1)))]));
    return repeated.get(name)!;
  };
  const before = new Set(starts.flatMap(([start]) => [...ancestors(view, start)]));
  const afterStarts = descendants(view, starts.map(([start]) => start));
  // What computing the explained tensor from the starts reads (not what computes the starts).
  const readPast = ancestors(view, from, new Set(starts.map(([start]) => start)));
  const floatOnly = (n: NodeProto) => (n.output ?? []).every((o) => !o || isFloatType(facts.dtypes.get(o)));
  // Not copied: what lies before a layer, unless it is integer and read past the layer (a batch size
  // taken before the layer for a Reshape after it: copied from the repeated tensors, it counts S·N
  // rows), and float tensors computed from the fed inputs alone (repeated instead) — unless they read
  // an integer tensor the pass recomputed over the S·N rows (lengths sorted by a TopK over the rows,
  // pack_padded_sequence with enforce_sorted=False: repeated, they kept the rows' first order).
  const replaced = new Map(starts.map(([start], k): [string, string] => [start, wrt[k]]));
  const recomputed = (i: string, renamed: Map<string, string>) => renamed.has(i) && !replaced.has(i);
  const skip = (n: NodeProto, renamed: Map<string, string>) => (n.output ?? []).every((o) => !o || before.has(o)) && (floatOnly(n) || !(n.output ?? []).some((o) => readPast.has(o)))
    || (!(n.input ?? []).some((i) => afterStarts.has(i) || recomputed(i, renamed)) && floatOnly(n));
  // Integer nodes reading a batch tensor that is not copied (a Shape of a decoder's query computed
  // from the fed ids alone, which sizes the heads of keys from the path) read it repeated: copied too.
  const { nodes, originals, ref } = renamedPass(view, replaced, PATH_PREFIX, repeat, skip, (name) => batchOf(name) >= 0);
  const pathFacts: TensorFacts = { ...facts, shapes: new Map(facts.shapes), dtypes: new Map(facts.dtypes), batchAxis: new Map(facts.batchAxis), values: new Map(facts.values) };
  const copies: [string, string][] = [
    ...starts.map(([start], k): [string, string] => [wrt[k], start]), ...[...repeated].map(([original, copy]): [string, string] => [copy, original]),
    ...[...originals].flatMap(([copy, n]) => (copy.output ?? []).map((o, k): [string, string] => [o, n.output![k]]).filter(([o]) => !!o)),
  ];
  for (const [copy, original] of copies) {
    for (const map of [pathFacts.shapes, pathFacts.dtypes, pathFacts.batchAxis, pathFacts.values] as Map<string, unknown>[]) if (map.has(original)) map.set(copy, map.get(original));
  }
  // A fed input probed with its values stays so, repeated for the steps.
  if (facts.exactInputs) pathFacts.exactInputs = [...facts.exactInputs, ...[...repeated].filter(([original]) => facts.exactInputs!.includes(original)).map(([, copy]) => copy)];
  const graph = view.graph;
  const inputs = [...wrt, ...repeated.values()].map((name) => ({ name }));
  const pathView = new GraphView({ ...view.model, graph: { ...graph, node: [...view.nodes, ...nodes], input: [...(graph.input ?? []), ...inputs] } }, view.label);
  for (const [copy, original] of originals) pathView.copies.set(copy, original);
  const sum = (g: string, start: string) => em.reduceSum(em.reshape(g, [steps, -1, ...rowOf(start)]), [0], false);
  return { view: pathView, facts: pathFacts, nodes, from: ref(from), wrt, seed, sum };
}

/**
 * `vi` declared at the shape the probe saw, its batch axis N (the probed size where the batch is
 * fixed): the graph is built for that shape (recurrent cells unrolled over its length, rules'
 * reshapes at its sizes), so its inputs and outputs say so (an output declared without a shape, a
 * batch-freed export's whose fixed batch was dropped, gets the shape serving configs declare); one
 * the probe did not see keeps its declared shape, its batch named N.
 */
function withProbedShape(vi: ValueInfoProto, facts: TensorFacts, batchDynamic: boolean): ValueInfoProto {
  const name = vi.name ?? '';
  if (!facts.shapes.has(name)) return withBatch(vi, batchDynamic);
  const dim = (batchDynamic ? batchDims(facts, name, 'N') : facts.shapes.get(name)!).map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d }));
  return { ...vi, type: { tensor_type: { elem_type: vi.type?.tensor_type?.elem_type ?? facts.dtypes.get(name), shape: { dim } } } };
}

function withBatch(vi: ValueInfoProto, batchDynamic: boolean): ValueInfoProto {
  const tt = vi.type?.tensor_type;
  if (!batchDynamic || !tt?.shape?.dim?.length) return vi;
  const dim = [{ dim_param: 'N' }, ...tt.shape.dim.slice(1)];
  return { ...vi, type: { ...vi.type, tensor_type: { ...tt, shape: { dim } } } };
}

/** Fails when the model already uses one of the augmented graph's input/output names. */
export function checkFreeNames(view: GraphView, names: string[]): void {
  const taken = new Set<string>([...view.producer.keys(), ...view.initializers.keys(), ...view.inputs.map((i) => i.name ?? '')]);
  for (const n of names) {
    if (taken.has(n)) throw new ExplainError(`${view.label}: the model already has a tensor named '${n}', which the augmented graph needs`);
  }
}

/** A tensor's shape for a value info, its batch axis named `batch`. */
export function batchDims(facts: TensorFacts, name: string, batch: string | number = 'N'): (number | string)[] {
  const s = facts.shapes.get(name)!;
  const b = facts.batchAxis.get(name) ?? -1;
  return s.map((d, k) => (k === b ? batch : d));
}

/**
 * The model with nodes appended (`extra`, then the emitter's): graph inputs are the model's plus
 * `inputs`, outputs the model's tensor outputs plus `outputs` (the batch axis dynamic where the model allows it).
 */
export function extendModel(view: GraphView, facts: TensorFacts, batchDynamic: boolean, em: Emitter, inputs: ValueInfoProto[], outputs: ValueInfoProto[], extra: NodeProto[] = []): ModelProto {
  const graph = view.graph;
  const output = [...(graph.output ?? []).filter(isTensorValue).map((o) => withProbedShape(o, facts, batchDynamic)), ...outputs];
  const added = liveNodes([...extra, ...em.folded(em.nodes, output.map((o) => o.name!))], output.map((o) => o.name!));
  const read = new Set([...output.map((o) => o.name), ...added.flatMap(nodeReads)]);
  // The model's weights that no node reads any more (a text model's token table, cut at its embedding) are left out, but for declared inputs.
  const kept = new Set([...read, ...view.nodes.flatMap(nodeReads), ...(graph.input ?? []).map((i) => i.name)]);
  return {
    ...view.model,
    graph: {
      ...graph,
      node: [...view.nodes, ...added],
      // Declared shapes of intermediate tensors are hints that an edited model may leave stale (fuzz
      // seed 1471): onnxruntime then meets them in the emitted ops. Types stay, shapes are inferred.
      value_info: graph.value_info?.map(shapeless),
      initializer: [...(graph.initializer ?? []).filter((t) => kept.has(t.name!)), ...em.initializers.filter((t) => read.has(t.name!))],
      input: [...(graph.input ?? []).map((i) => (view.inputs.includes(i) ? withProbedShape(i, facts, batchDynamic) : i)), ...inputs],
      // A ZipMap's sequence of maps is left out: onnxruntime-node and -web return tensors only.
      output,
    },
  };
}

/** `nodes` (in graph order) less those whose outputs nothing later reads, nor `outputs` names: a rule's unused intermediate, a path copy of the logits' Gemm. */
function liveNodes(nodes: NodeProto[], outputs: string[]): NodeProto[] {
  const needed = new Set(outputs);
  const live: NodeProto[] = [];
  for (const n of [...nodes].reverse()) {
    if (!(n.output ?? []).some((o) => o && needed.has(o))) continue;
    live.push(n);
    for (const i of nodeReads(n)) needed.add(i);
  }
  return live.reverse();
}

/**
 * The augmented model: the original graph, the reference pass when the method needs one, and the
 * backward pass from the `seed` input; outputs are the model outputs plus `attribution` (one
 * `attribution:<name>` per input for joint attribution) and `delta`.
 */
export function buildAugmented(spec: AugmentSpec): ModelProto {
  const { view, facts, method } = spec;
  const io = ioOf(spec);
  const explained = spec.inputs ?? [spec.input];
  const name = (base: string, input: string) => (spec.inputs ? perInput(base, input) : base);
  if (spec.inputs && spec.layer !== undefined) throw new ExplainError(`${view.label}: layer attribution attributes to one tensor; it cannot be joint over several inputs`);
  checkFreeNames(view, [...Object.values(io), ...explained.flatMap((i) => [name(io.baseline, i), name(io.attribution, i)])]);
  const floatType = facts.dtypes.get(spec.input) ?? DataType.FLOAT;
  const em = Emitter.joining(view, floatType);
  const dims = (name: string, batch: string | number = 'N') => batchDims(facts, name, batch);
  const extraInputs: ValueInfoProto[] = [valueInfo(io.seed, facts.dtypes.get(spec.from) ?? floatType, dims(spec.from))];
  let refNodes: NodeProto[] = [];
  let ref: ((n: string) => string) | undefined;
  if (method.reference) {
    // Batch B of the baseline is N or 1: one shared reference row runs the reference pass once,
    // and its activations broadcast against the N rows in the rules (where the model keeps the
    // batch on an axis of its own; otherwise the baseline has N rows).
    for (const input of explained) {
      const baseline = name(io.baseline, input);
      const row = facts.shapes.get(input)!;
      const constant = spec.baselineRows?.[baseline] ?? (spec.zeroBaseline ? new Float32Array(row.reduce((a, b) => a * b, 1)) : undefined);
      if (constant && facts.batchBroadcasts) {
        em.initializers.push(makeTensor(baseline, row, constant, floatType));
      } else {
        const batch = !facts.batchBroadcasts ? 'N' : spec.sharedBaseline ? 1 : 'B';
        extraInputs.push(valueInfo(baseline, floatType, dims(input, batch)));
      }
    }
    ({ nodes: refNodes, ref } = renamedPass(view, new Map(explained.map((i) => [i, name(io.baseline, i)])), REF_PREFIX));
  }
  const wrt = spec.layer !== undefined ? [spec.layer] : explained;
  const grads = new Map<string, string>();
  let pathNodes: NodeProto[] = [];
  if (spec.path) {
    if (!ref) throw new ExplainError(`${view.label}: a path method needs a baseline`);
    gradientPath({ view, facts, wrt, from: spec.from });
    const steps = spec.path.steps;
    extraInputs.push(valueInfo(io.alphas, floatType, [steps]), valueInfo(io.weights, floatType, [steps]));
    const interpolation = em.nodes.length;
    const path = pathPass(spec, io, em, steps, wrt.map((w) => [w, ref!(w)]));
    pathNodes = [...em.nodes.splice(interpolation), ...path.nodes];
    const g = emitBackward({
      view: path.view, facts: path.facts, em, table: method.table, options: spec.options, wrt: path.wrt, from: path.from,
      seed: method.start ? method.start(em, { seed: path.seed, from: path.from }) : path.seed,
    });
    wrt.forEach((w, k) => grads.set(w, path.sum(g.get(path.wrt[k])!, w)));
  } else {
    const g = emitBackward({
      view, facts, em, table: method.table, options: spec.options, wrt, from: spec.from, ref, stepsKept: spec.stepsKept,
      seed: method.start ? method.start(em, { seed: io.seed, from: spec.from }) : io.seed,
    });
    for (const w of wrt) grads.set(w, g.get(w)!);
  }
  const outputs: ValueInfoProto[] = (spec.expose ?? []).map((name) => valueInfo(name, facts.dtypes.get(name)!, dims(name)));
  const rowSum = (t: string, name: string) => em.reduceSum(t, facts.shapes.get(name)!.slice(1).map((_, k) => k + 1), false);
  const sums: string[] = [];
  for (const w of wrt) {
    const global = spec.options.multiplyByInputs === false && method.multipliesByInputs;
    // Without the multiplication the delta is still Σ attribution − the explained change, as Captum's.
    const attribution = em.rename(global ? grads.get(w)! : method.attribution(em, { grad: grads.get(w)!, input: w, baseline: ref?.(w) }), name(io.attribution, w));
    outputs.push(valueInfo(attribution, floatType, dims(w)));
    if (method.explained) sums.push(rowSum(attribution, w));
  }
  if (method.explained) {
    const explainedValue = method.explained(em, { from: spec.from, fromRef: ref?.(spec.from) });
    // Entries the seed leaves out count 0, even where the value is not finite (a −Inf-masked logit on both passes: −Inf − −Inf).
    const seeded = em.where(em.compare('Equal', io.seed, em.scalar(0)), em.scalar(0), em.mul(io.seed, explainedValue));
    em.rename(em.sub(em.sum(sums), rowSum(seeded, spec.from)), io.delta);
    outputs.push(valueInfo(io.delta, floatType, spec.batchDynamic ? ['N'] : [1]));
  }
  return extendModel(view, facts, spec.batchDynamic, em, extraInputs, outputs, [...refNodes, ...pathNodes]);
}
