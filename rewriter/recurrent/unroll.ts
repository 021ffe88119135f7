import { attrFloat, attrFloats, attrInt, attrString, attrStrings, hasAttr } from '../attributes';
import { Emitter } from '../emitter';
import { ExplainError } from '../errors';
import { GraphView, nodeReads, TensorFacts, weightConstant } from '../graph-view';
import { DataType, ModelProto, NodeProto, TensorProto } from '../proto';
import { isZeros } from '../zero-initial-states';
import { parseActivations } from './activations';
import { Cell, DirectionWeights, GRU_CELL, LSTM_CELL, RNN_CELL, State, transposed } from './cells';
import { lookupTable } from '../lookup-table';

/** Recurrent ops the canonizer replaces with their unrolled steps. */
export const RECURRENT_CELLS: Record<string, Cell> = lookupTable({ RNN: RNN_CELL, GRU: GRU_CELL, LSTM: LSTM_CELL });

const DEFAULT_ACTIVATIONS: Record<string, string[]> = lookupTable({ RNN: ['Tanh'], GRU: ['Sigmoid', 'Tanh'], LSTM: ['Sigmoid', 'Tanh', 'Tanh'] });

/**
 * Graph canonicalisation before the walk: every RNN, GRU and LSTM node of the main graph becomes
 * its time steps in standard ops (MatMul, Split, the activations, Mul, Add, Concat), for the
 * sequence length of this input shape, so every method's rules apply to the cell's gates and
 * products and the augmented graph runs where the recurrent op does not (WebGPU). The outputs keep
 * their names and values. Returns undefined when the graph has no recurrent node.
 */
export function unrollRecurrent(view: GraphView, facts: TensorFacts): ModelProto | undefined {
  const graph = view.graph;
  if (!(graph.node ?? []).some((n) => isRecurrent(n))) return undefined;
  const added: TensorProto[] = [];
  const replacedInputs = new Set<string>();
  const node = (graph.node ?? []).flatMap((n) => {
    if (!isRecurrent(n)) return [n];
    const em = unroll(view, facts, n);
    added.push(...em.initializers);
    (n.input ?? []).forEach((i) => replacedInputs.add(i));
    return em.folded();
  });
  // The cells' weights now live in the unrolled constants: drop those nothing else reads.
  const read = new Set(node.flatMap(nodeReads));
  const unused = (name = '') => replacedInputs.has(name) && view.initializers.has(name) && !read.has(name);
  return {
    ...view.model,
    graph: {
      ...graph, node,
      initializer: [...(graph.initializer ?? []).filter((t) => !unused(t.name)), ...added],
      input: (graph.input ?? []).filter((i) => !unused(i.name)),
    },
  };
}

/** Whether an op type (of the default domain) is a cell the canonizer unrolls. */
export function isRecurrentOp(op: string): boolean {
  return Object.hasOwn(RECURRENT_CELLS, op);
}

function isRecurrent(n: NodeProto): boolean {
  return !n.domain && isRecurrentOp(n.op_type ?? '');
}

function unroll(view: GraphView, facts: TensorFacts, node: NodeProto): Emitter {
  const op = node.op_type!;
  const cell = RECURRENT_CELLS[op];
  const where = `${view.label}: ${view.nodeLabel(node)}`;
  const fail = (why: string): never => { throw new ExplainError(`${where}: ${why}`); };
  const [x, wName, rName, bName, lensName, h0Name, c0Name, pName] = node.input ?? [];
  const constant = (name: string, what: string) => weightConstant(view, name) ?? fail(`${what} '${name}' must be a constant (an initializer, or made from initializers by Slice, Concat, Reshape, Transpose, Squeeze or Unsqueeze) to unroll the cell`);
  const w = constant(wName, 'W');
  const r = constant(rName, 'R');
  const [directions, gh, inputSize] = w.dims;
  const hidden = attrInt(node, 'hidden_size', gh / cell.gates);
  const direction = attrString(node, 'direction', 'forward');
  if ((direction === 'bidirectional' ? 2 : 1) !== directions || !['forward', 'reverse', 'bidirectional'].includes(direction)) fail(`direction '${direction}' does not match W's ${directions} direction(s)`);
  if (gh !== cell.gates * hidden) fail(`W has ${gh} rows, expected ${cell.gates} gates × hidden_size ${hidden}`);
  const names = attrStrings(node, 'activations') ?? [...DEFAULT_ACTIVATIONS[op], ...(directions === 2 ? DEFAULT_ACTIVATIONS[op] : [])];
  if (names.length !== cell.activations * directions) fail(`${names.length} activations given, ${op} needs ${cell.activations} per direction`);
  const clip = hasAttr(node, 'clip') ? attrFloat(node, 'clip', 0) : undefined;
  if (clip !== undefined && !(clip > 0)) fail(`clip ${clip} must be a positive threshold`);
  const acts = parseActivations(names, attrFloats(node, 'activation_alpha') ?? [], attrFloats(node, 'activation_beta') ?? [], where, clip);
  if (attrInt(node, 'layout', 0) !== 0) fail('layout 1 (batch-first) is not supported');
  const linearBeforeReset = attrInt(node, 'linear_before_reset', 0) !== 0;
  const inputForget = attrInt(node, 'input_forget', 0) !== 0;
  const xShape = facts.shapes.get(x) ?? fail(`the shape of its input '${x}' is unknown`);
  const steps = xShape[0];
  const b = bName ? constant(bName, 'B').values : undefined;
  const p = pName ? constant(pName, 'P').values : undefined;

  const em = new Emitter(view.opset, facts.dtypes.get(x) ?? DataType.FLOAT, `${node.name || node.output![0]}/unrolled`);
  // The sequence length written into X's shape: with it symbolic, every step's tensors would get their
  // own unknown dimension, and onnxruntime's memory planner, unable to reuse them, goes quadratic.
  const seq = em.reshape(x, [steps, 0, inputSize]);
  // Per-row lengths: a step past a row's end keeps its state and outputs zeros (also reversed).
  const lens = lensName ? view.constant(lensName)?.values : undefined;
  const masked = lensName && !(lens && lens.every((l) => l === steps));
  const lensF = masked ? em.unsqueeze(em.cast(lensName, em.floatType), [0, 2]) : undefined;
  // A zero initial state (torch.onnx writes ConstantOfShape zeros of the input's batch) is left out:
  // onnxruntime then infers every state's shape from X's and plans their memory in linear time.
  const initial = (name: string | undefined, ds: number[]) => {
    if (!name || isZeros(view, name)) return undefined;
    return ds.length === directions ? name : em.slice(name, [ds[0]], [ds[0] + 1], [0]);
  };
  const dirWeights = Array.from({ length: directions }, (_, d): DirectionWeights => {
    // Direction d's part of a tensor holding k values per direction (zeros when the input is absent).
    const part = (v: readonly number[] | undefined, k: number) => (v ? Array.from(v.slice(d * k, (d + 1) * k)) : new Array(k).fill(0));
    const bias = part(b, 2 * gh);
    return { w: part(w.values, gh * inputSize), r: part(r.values, gh * hidden), wb: bias.slice(0, gh), rb: bias.slice(gh), p: p && part(p, 3 * hidden) };
  });
  // Each direction's input projection X·Wᵀ + biases for all steps at once, split into the steps.
  const perStep = dirWeights.map((weights) => {
    const wT = transposed(weights.w, gh, inputSize);
    const projected = em.add(em.matmul(seq, em.constFloat(wT.values, wT.dims)), em.constFloat(cell.inputBias(weights, hidden, linearBeforeReset), [gh]));
    return steps === 1 ? [projected] : em.split(projected, 0, new Array(steps).fill(1));
  });
  const reverse = (d: number) => direction === 'reverse' || d === 1;
  const actsOf = (d: number) => acts.slice(d * cell.activations, (d + 1) * cell.activations);
  // Directions with the same activations step together: one node per gate for both (the graph, and
  // onnxruntime's time to open it, grow with the nodes), their weights stacked on a direction axis.
  const together = directions === 2 && JSON.stringify(actsOf(0)) === JSON.stringify(actsOf(1));
  const groups = together ? [[0, 1]] : Array.from({ length: directions }, (_, d) => [d]);
  const [yName, hName, cName] = node.output ?? [];
  const outputs: string[][] = Array.from({ length: directions }, () => new Array(steps));
  const hs: string[] = [];
  const cs: string[] = [];
  for (const ds of groups) {
    const ctx = { em, hidden, acts: actsOf(ds[0]), consts: cell.constants(em, ds.map((d) => dirWeights[d]), hidden, linearBeforeReset), linearBeforeReset, inputForget };
    let state: State = { h: initial(h0Name, ds), c: initial(c0Name, ds) };
    for (let k = 0; k < steps; k++) {
      const ts = ds.map((d) => (reverse(d) ? steps - 1 - k : k));
      const xs = ds.map((d, j) => perStep[d][ts[j]]);
      const next = cell.step(ctx, xs.length === 1 ? xs[0] : em.concat(xs, 0), state);
      let out = next.h!;
      if (!lensF) state = next;
      else {
        const live = em.compare('Less', ds.length === 1 ? em.scalar(ts[0]) : em.constFloat(ts, [ds.length, 1, 1]), lensF);
        const keep = (fresh: string | undefined, old: string | undefined) => fresh && em.where(live, fresh, old ?? em.scalar(0));
        out = keep(next.h, undefined)!;
        state = { h: keep(next.h, state.h), c: keep(next.c, state.c) };
      }
      if (!yName) continue;
      const perDirection = ds.length === 1 ? [out] : em.split(out, 0, [1, 1]);
      ds.forEach((d, j) => { outputs[d][ts[j]] = perDirection[j]; });
    }
    hs.push(state.h!);
    if (state.c) cs.push(state.c);
  }
  const emit = (name: string | undefined, value: () => string) => { if (name) em.rename(value(), name); };
  emit(yName, () => em.concat(outputs.map((o) => em.unsqueeze(em.concat(o, 0), [1])), 1));
  emit(hName, () => em.concat(hs, 0));
  emit(cName, () => em.concat(cs, 0));
  return em;
}
