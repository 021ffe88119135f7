import { attrInt, attrInts } from './attributes';
import { Emitter } from './emitter';
import { constantNodeValue, GraphView, nodeReads, TensorFacts, throughCasts, withoutUnreadNodes } from './graph-view';
import { inlineBranch } from './inline-if';
import { loopTrips } from './loop-trips';
import { DataType, GraphProto, makeTensor, ModelProto, NodeProto, TensorProto } from './proto';

/** More iterations than this stay a Loop or Scan (each one is a copy of the body). */
const MAX_ITERATIONS = 1024;
/** Nor is a Loop or Scan written out where the graph would then hold more nodes than this (nested loops multiply). */
export const MAX_WRITTEN_NODES = 200_000;

/**
 * Nodes of a graph, its subgraphs' included; with `constant`, once its loops are written out: a Loop
 * with a constant trip count (a Constant node of its graph, or a constant of the model) as that
 * many copies of its body.
 */
function writtenSize(graph: GraphProto, constant?: Known): number {
  const local = new Map((graph.node ?? []).filter((n) => n.op_type === 'Constant' && !n.domain).map((n) => [n.output![0], constantNodeValue(n)?.values] as const));
  const known: Known | undefined = constant && ((name) => local.get(name) ?? constant(name));
  return (graph.node ?? []).reduce((s, n) => {
    const subgraphs = (n.attribute ?? []).flatMap((a) => [a.g, ...(a.graphs ?? [])]).filter((g): g is GraphProto => !!g);
    const inside = subgraphs.reduce((t, g) => t + writtenSize(g, known), 0);
    const trips = known && n.op_type === 'Loop' && !n.domain && n.input?.[0] ? known(n.input[0])?.[0] ?? 1 : 1;
    return s + 1 + Math.min(trips, MAX_ITERATIONS) * inside;
  }, 0);
}

/**
 * Graph canonicalisation before the walk, for torch.onnx's export of torch.tensor_split and of
 * scripted loops (and other converters' loops): a Loop whose trip count is known (a constant, or
 * computed from shapes and observed when probing) and whose condition stays true, and a Scan over
 * a known length, become their iterations; sequences whose positions are known become the tensors
 * they hold (SequenceEmpty, SequenceConstruct, SequenceInsert, SequenceErase, SplitToSequence and
 * Identity build them; SequenceAt, SequenceLength and ConcatFromSequence read them). Returns
 * undefined when nothing changed.
 */
export function staticLoopsAndSequences(view: GraphView, facts: TensorFacts): ModelProto | undefined {
  const known = (name: string) => (name ? view.constant(name)?.values ?? facts.values.get(name) : undefined);
  const unrolled = unrollLoops(view, known, facts);
  const graph = unrolled ?? view.graph;
  const read = staticSequences(graph, view.opset, known, facts);
  if (!unrolled && !read) return undefined;
  return { ...view.model, graph: withoutUnusedConstants(view.graph, read ?? graph) };
}

/**
 * `after` without the initializers and Constant nodes that `before` read (or did not have) and
 * nothing reads now (the iteration numbers and sequence positions): onnxruntime warns of each.
 */
function withoutUnusedConstants(before: GraphProto, after: GraphProto): GraphProto {
  const reads = (g: GraphProto) => new Set([...(g.output ?? []).map((o) => o.name), ...(g.node ?? []).flatMap(nodeReads)]);
  const [was, is] = [reads(before), reads(after)];
  const had = new Set([...(before.initializer ?? []).map((t) => t.name), ...(before.node ?? []).filter((n) => n.op_type === 'Constant').map((n) => n.output![0])]);
  const unused = (name = '') => !is.has(name) && (was.has(name) || !had.has(name));
  return {
    ...after,
    node: (after.node ?? []).filter((n) => n.op_type !== 'Constant' || !unused(n.output![0])),
    initializer: (after.initializer ?? []).filter((t) => !unused(t.name)),
    input: (after.input ?? []).filter((i) => !((before.initializer ?? []).some((t) => t.name === i.name) && unused(i.name))),
  };
}

type Known = (name: string) => number[] | undefined;

/** How a Loop or Scan node unrolls: its body, iteration count, carried states, per-iteration feeds and scan outputs' stacking. */
interface Unrolling {
  body: GraphProto;
  trips: number;
  /** Body inputs that carry the states, and the node inputs that start them. */
  states: string[];
  initial: string[];
  /** Index of the first carried state among the body's outputs (a Loop body's outputs start with its condition). */
  firstState: number;
  /** The other body inputs at iteration i, as [body input, tensor] (tensors made with `em` or added to `constants`). */
  feeds(i: number, prefix: string, em: Emitter, constants: TensorProto[]): [string, string][];
  /** Per scan output: the axis it is stacked on, and whether the iterations run backwards. */
  scanOutputs(k: number): { axis: number; reverse: boolean };
}

function unrollLoops(view: GraphView, known: Known, facts: TensorFacts): GraphProto | undefined {
  const graph = view.graph;
  const initializers: TensorProto[] = [];
  let changed = false;
  let size: number | undefined;
  const nodes = (graph.node ?? []).flatMap((n) => {
    const plan = n.domain ? undefined : n.op_type === 'Loop' ? loopPlan(view, n, known) : n.op_type === 'Scan' ? scanPlan(view, n, facts) : undefined;
    if (!plan) return [n];
    // Its loops inside written out too (nested loops multiply), the graph stays within the bound.
    size ??= writtenSize(graph);
    const grown = size - writtenSize({ node: [n] }) + plan.trips * writtenSize(plan.body, known);
    if (grown > MAX_WRITTEN_NODES) return [n];
    size = grown;
    changed = true;
    const { body, states } = plan;
    const label = n.name || n.output![0];
    const em = new Emitter(view.opset, DataType.FLOAT, `${label}/unrolled`);
    let carried = plan.initial;
    const scans: string[][] = [];
    const out: NodeProto[] = [];
    for (let i = 0; i < plan.trips; i++) {
      const prefix = `${label}/iteration_${i}/`;
      const before = em.nodes.length;
      const inputs = new Map([...plan.feeds(i, prefix, em, initializers), ...states.map((c, k) => [c, carried[k]] as [string, string])]);
      out.push(...em.nodes.slice(before));
      const part = inlineBranch(body, prefix, [], inputs);
      out.push(...part.nodes);
      initializers.push(...part.initializers);
      carried = part.results.slice(plan.firstState, plan.firstState + states.length);
      part.results.slice(plan.firstState + states.length).forEach((r, k) => (scans[k] ??= []).push(r));
    }
    // The final carried states keep the node's output names (its readers, --output and --layer name them).
    n.output!.slice(0, states.length).forEach((o, k) => o && out.push({ op_type: 'Identity', input: [carried[k]], output: [o], name: `${o}/last_iteration` }));
    const stacked = em.nodes.length;
    scans.forEach((values, k) => {
      const o = n.output![states.length + k];
      const { axis, reverse } = plan.scanOutputs(k);
      if (o) em.rename(em.concat((reverse ? [...values].reverse() : values).map((v) => em.unsqueeze(v, [axis])), axis), o);
    });
    initializers.push(...em.initializers);
    return [...out, ...em.folded(em.nodes.slice(stacked))];
  });
  if (!changed) return undefined;
  return { ...graph, node: nodes, initializer: [...(graph.initializer ?? []), ...initializers] };
}

/**
 * A Loop that can be unrolled: its initial condition absent or known true, and the number of
 * iterations known and at most MAX_ITERATIONS — its trip count M where the body's condition output
 * is the body's condition input or a constant true (through Identity nodes), or as many as the
 * condition computed from counters and constants allows (loopTrips; M then bounds it, or is
 * absent). Each iteration is fed its number and the condition, of the rank the body declares
 * (onnxruntime feeds that rank); scan outputs stack on a new first axis.
 */
function loopPlan(view: GraphView, n: NodeProto, known: Known): Unrolling | undefined {
  const [m, cond] = n.input ?? [];
  const given = m ? known(m) : [Infinity];
  if (given?.length !== 1 || (cond && !known(cond)?.[0])) return undefined;
  const body = n.attribute?.find((a) => a.name === 'body')?.g;
  if (!body) return undefined;
  const bound = Math.min(given[0], MAX_ITERATIONS + 1);
  const trips = conditionStaysTrue(view, body) ? bound : loopTrips(n, body, known, bound);
  // Zero iterations of a Loop with scan outputs would give empty tensors of unknown shape.
  const scans = (body.output?.length ?? 0) - (body.input?.length ?? 0);
  if (trips === undefined || !(trips >= 0 && trips <= MAX_ITERATIONS) || (trips === 0 && scans > 0)) return undefined;
  const [iterName, condName, ...states] = (body.input ?? []).map((i) => i.name ?? '');
  const dims = (input: string) => (body.input!.find((x) => x.name === input)?.type?.tensor_type?.shape?.dim?.length ? [1] : []);
  return {
    body, trips, states, initial: (n.input ?? []).slice(2), firstState: 1,
    feeds(i, prefix, _em, constants) {
      const iteration = makeTensor(`${prefix}${iterName}`, dims(iterName), [i], DataType.INT64);
      const condition: TensorProto = { name: `${prefix}${condName}`, dims: dims(condName), data_type: DataType.BOOL, raw_data: Uint8Array.of(1) };
      constants.push(iteration, condition);
      return [[iterName, iteration.name!], [condName, condition.name!]];
    },
    scanOutputs: () => ({ axis: 0, reverse: false }),
  };
}

/**
 * Whether a Loop body's condition output is its condition input or a constant true (through
 * Identity and Cast nodes, in the body or outside it): the loop then runs its trip count.
 */
export function conditionStaysTrue(view: GraphView, body: GraphProto): boolean {
  const producer = new Map((body.node ?? []).flatMap((b) => (b.output ?? []).map((o) => [o, b] as const)));
  const c = throughCasts(body.output?.[0]?.name ?? '', (t) => producer.get(t) ?? view.producer.get(t));
  const inBody = producer.get(c);
  const value = inBody ? (inBody.op_type === 'Constant' ? constantNodeValue(inBody) : undefined) : view.constant(c);
  return c === body.input?.[1]?.name || !!value?.values[0];
}

/**
 * A Scan (opset 9 on) over a known length (its first scan input's size along its scan axis, at
 * most MAX_ITERATIONS, not the batch axis): each iteration is fed its slices of the scan inputs
 * (in their directions), and scan outputs stack on their axes, in their directions.
 */
function scanPlan(view: GraphView, n: NodeProto, facts: TensorFacts): Unrolling | undefined {
  const body = n.attribute?.find((a) => a.name === 'body')?.g;
  const scanned = attrInt(n, 'num_scan_inputs', 0);
  if (view.opset < 9 || !body || scanned < 1) return undefined;
  const inputs = n.input ?? [];
  const stateCount = inputs.length - scanned;
  const scanInputs = inputs.slice(stateCount);
  const axes = attrInts(n, 'scan_input_axes') ?? scanInputs.map(() => 0);
  const directions = attrInts(n, 'scan_input_directions') ?? scanInputs.map(() => 0);
  const shape = facts.shapes.get(scanInputs[0]);
  if (!shape) return undefined;
  const axis = axes[0] < 0 ? axes[0] + shape.length : axes[0];
  const trips = shape[axis];
  if (!(trips >= 1 && trips <= MAX_ITERATIONS) || axis === facts.batchAxis.get(scanInputs[0])) return undefined;
  const bodyInputs = (body.input ?? []).map((i) => i.name ?? '');
  const outAxes = attrInts(n, 'scan_output_axes');
  const outDirections = attrInts(n, 'scan_output_directions');
  return {
    body, trips, states: bodyInputs.slice(0, stateCount), initial: inputs.slice(0, stateCount), firstState: 0,
    feeds: (i, _prefix, em) => scanInputs.map((x, j) => {
      const at = directions[j] ? trips - 1 - i : i;
      return [bodyInputs[stateCount + j], em.squeeze(em.slice(x, [at], [at + 1], [axes[j]]), [axes[j]])];
    }),
    scanOutputs: (k) => ({ axis: outAxes?.[k] ?? 0, reverse: !!outDirections?.[k] }),
  };
}

const SEQUENCE_OPS = new Set(['SequenceEmpty', 'SequenceConstruct', 'SequenceInsert', 'SequenceErase', 'SplitToSequence', 'SequenceAt', 'SequenceLength', 'ConcatFromSequence']);

/**
 * Sequences of known contents (tensor names) replaced where they are read; the sequence ops nothing
 * reads any more are dropped. Undefined when nothing changed.
 */
function staticSequences(graph: GraphProto, opset: number, known: Known, facts: TensorFacts): GraphProto | undefined {
  const lists = new Map<string, string[]>();
  const position = (name: string | undefined, length: number, fallback: number): number | undefined => {
    const v = name ? known(name) : [fallback];
    if (v?.length !== 1) return undefined;
    const p = v[0] < 0 ? v[0] + length : v[0];
    return p >= 0 && p <= length ? p : undefined;
  };
  const initializers: TensorProto[] = [];
  let changed = false;
  const nodes = (graph.node ?? []).flatMap((n) => {
    if (n.domain || !(SEQUENCE_OPS.has(n.op_type ?? '') || (n.op_type === 'Identity' && lists.has(n.input![0])))) return [n];
    const [s, arg] = n.input ?? [];
    const list = lists.get(s);
    const out = n.output![0];
    const em = new Emitter(opset, DataType.FLOAT, `${n.name || out}/static`);
    const replaced = (build: () => void): NodeProto[] => {
      build();
      changed = true;
      initializers.push(...em.initializers);
      return em.folded();
    };
    switch (n.op_type) {
      case 'SequenceEmpty': lists.set(out, []); break;
      case 'SequenceConstruct': lists.set(out, [...n.input!]); break;
      case 'Identity': lists.set(out, list!); break;
      case 'SequenceInsert': {
        const at = list && position(n.input![2] || undefined, list.length, list.length);
        if (list && at !== undefined) lists.set(out, [...list.slice(0, at), arg, ...list.slice(at)]);
        break;
      }
      case 'SequenceErase': {
        const at = list && position(arg, list.length, list.length - 1);
        if (list && at !== undefined && at < list.length) lists.set(out, list.filter((_, k) => k !== at));
        break;
      }
      case 'SplitToSequence': {
        const pieces = splitLengths(n, facts.shapes.get(s), arg ? known(arg) : undefined, arg ? facts.shapes.get(arg)?.length : undefined);
        if (!pieces) break;
        const { axis, lengths, squeeze } = pieces;
        const parts = em.split(s, axis, lengths).map((p) => (squeeze ? em.squeeze(p, [axis]) : p));
        changed = true;
        initializers.push(...em.initializers);
        lists.set(out, parts);
        return [n, ...em.nodes];
      }
      case 'SequenceAt': {
        const at = list && position(arg, list.length, 0);
        if (list && at !== undefined && at < list.length) return replaced(() => em.rename(list[at], out));
        break;
      }
      case 'SequenceLength':
        if (list) return replaced(() => em.rename(em.constInt([list.length], []), out));
        break;
      case 'ConcatFromSequence':
        if (list?.length) {
          const axis = attrInt(n, 'axis', 0);
          const stacked = attrInt(n, 'new_axis', 0) === 1;
          return replaced(() => em.rename(em.concat(stacked ? list.map((t) => em.unsqueeze(t, [axis])) : list, axis), out));
        }
        break;
    }
    return [n];
  });
  if (!changed) return undefined;
  const sequences = new Set(lists.keys());
  const droppable = (n: NodeProto) => SEQUENCE_OPS.has(n.op_type ?? '') || (n.op_type === 'Identity' && sequences.has(n.input![0]));
  return { ...graph, node: withoutUnreadNodes(graph, nodes, droppable), initializer: [...(graph.initializer ?? []), ...initializers] };
}

/** SplitToSequence's pieces: lengths along the axis (its split input, or 1 each), and whether they lose the axis (keepdims 0 without split). */
function splitLengths(n: NodeProto, shape: number[] | undefined, split: number[] | undefined, splitRank: number | undefined): { axis: number; lengths: number[]; squeeze: boolean } | undefined {
  if (!shape) return undefined;
  const axis = attrInt(n, 'axis', 0) < 0 ? attrInt(n, 'axis', 0) + shape.length : attrInt(n, 'axis', 0);
  const size = shape[axis];
  if (!(size > 0)) return undefined;
  if (n.input![1] === undefined || n.input![1] === '') return { axis, lengths: Array(size).fill(1), squeeze: attrInt(n, 'keepdims', 1) === 0 };
  if (!split?.length || split.some((v) => !(v > 0))) return undefined;
  // A scalar split is a chunk length (the last chunk shorter); a 1-D one lists the lengths.
  const lengths = splitRank === 0 ? Array.from({ length: Math.ceil(size / split[0]) }, (_, k) => Math.min(split[0], size - k * split[0])) : split;
  return lengths.reduce((a, b) => a + b, 0) === size ? { axis, lengths, squeeze: false } : undefined;
}
