import { attrInt } from './attributes';
import { Emitter } from './emitter';
import { ExplainError, shortList } from './errors';
import { ancestors, GraphView, subgraphReads, TensorFacts, valueDependent, valueDescendants, valueShaped } from './graph-view';
import { FLOAT8_TYPES, isFloatType, NodeProto } from './proto';
import { gradientRules, RuleTable } from '../rules/registry';
import { QUANTIZED_CLAMPS, QUANTIZED_MOVES } from './quantized-moves';
import { sameType } from '../rules/ops/Cast';
import { BackwardRule, RuleContext, RuleOptions } from '../rules/types';
import { lookupTable } from './lookup-table';
import { MAX_WRITTEN_NODES } from './static-loops';

export interface WalkSpec {
  view: GraphView;
  facts: TensorFacts;
  em: Emitter;
  table: RuleTable;
  options: RuleOptions;
  /** Names of the inputs attributions are computed for. */
  wrt: string[];
  /** Tensor the seed is applied to, and the seed's name. */
  from: string;
  seed: string;
  /** Reference-pass name of a forward tensor (methods with a baseline). */
  ref?: (name: string) => string;
  /** The run found every step on the path at the same value on both passes (checkStepsKept): none is refused. */
  stepsKept?: boolean;
}

/** Why a control-flow node that reads the input stays in the graph, and what export avoids it. */
const CONTROL_FLOW: Record<string, [string, string]> = lookupTable({
  If: ['an If is inlined only when its condition is constant, computed from shapes or from a fed input without a batch axis', 'the branch taken'],
  Loop: [`a Loop is unrolled only when its iterations are known (a known trip count and a condition that stays true, or a condition computed from counters and constants) and the graph written out stays within ${MAX_WRITTEN_NODES.toLocaleString('en')} nodes`, 'the loop written out'],
  Scan: [`a Scan is unrolled only over a known length (at most 1,024) that is not the batch axis, where the graph written out stays within ${MAX_WRITTEN_NODES.toLocaleString('en')} nodes`, 'the loop written out'],
});

/**
 * Tensors that depend on the given inputs through float-valued (or quantized) tensors, not through
 * steps; and not through the `held` tensors (taken as constants).
 */
export function differentiable(view: GraphView, facts: TensorFacts, wrt: string[], held = new Set<string>()): Set<string> {
  const diff = new Set(wrt);
  for (const n of view.nodes) {
    const entry = gradientRules.entry(n.op_type ?? '', view.opset, n.domain ?? '');
    if (!(n.input ?? []).some((i, k) => diff.has(i) && !entry?.fixedInputs?.includes(k))) continue;
    // Steps with float outputs (Hardmax) pass no gradient, as ArgMax's integers do not.
    if (entry?.category === 'constant') continue;
    const quantizer = entry?.quantizer;
    // A quantized (integer) value that is only moved, or clamped, keeps its gradient; so does a value
    // rounded to float8 by a Cast.
    const moves = !n.domain && ((QUANTIZED_MOVES.has(n.op_type ?? '') && (n.input ?? []).some((i, k) => diff.has(i) && (k === 0 || n.op_type === 'Concat')))
      || (QUANTIZED_CLAMPS.has(n.op_type ?? '') && diff.has(n.input![0]))
      || (n.op_type === 'Cast' && (sameType(n, (t) => facts.dtypes.get(t)) || FLOAT8_TYPES.has(attrInt(n, 'to', 0)))));
    // A contrib op we have no rule for may compute quantized values (com.microsoft's QLinear and
    // Nhwc ops): its integers stay on the path, so a gradient that reaches them names the node
    // instead of silently passing nothing (standard ops without a rule are steps: NonZero, IsNaN).
    const unknown = !entry && !!n.domain && n.domain !== 'ai.onnx';
    for (const o of n.output ?? []) if (o && !held.has(o) && (quantizer || moves || unknown || isFloatType(facts.dtypes.get(o)))) diff.add(o);
  }
  return diff;
}

/**
 * The tensors differentiable with respect to `wrt` and the ancestors of `from`; fails saying why
 * where `from` has no gradient (a step between them, a subgraph that reads them). Path methods
 * check the model itself before walking their renamed copy of it, so the error names its tensors.
 */
export function gradientPath(spec: Pick<WalkSpec, 'view' | 'facts' | 'wrt' | 'from'>): { diff: Set<string>; onPath: Set<string> } {
  const { view, facts } = spec;
  const diff = differentiable(view, facts, spec.wrt);
  const onPath = ancestors(view, spec.from);
  const control = view.nodes.find((n) => (n.output ?? []).some((o) => onPath.has(o)) && subgraphReads(n).some((t) => diff.has(t)));
  const [why, fix] = CONTROL_FLOW[control?.op_type ?? ''] ?? CONTROL_FLOW.Scan;
  const inside = control && `${view.nodeLabel(control)} reads the input inside its subgraphs, which are not differentiated (${why})`;
  if (!diff.has(spec.from)) throw new ExplainError(`${view.label}: ${noGradient(spec, diff, onPath, inside)}`);
  // Joint attribution: each input reaches `from` (autograd, and so Captum, refuses an input it never used).
  for (const w of spec.wrt.length > 1 ? spec.wrt : []) {
    const own = differentiable(view, facts, [w]);
    if (!own.has(spec.from)) throw new ExplainError(`${view.label}: ${noGradient({ ...spec, wrt: [w] }, own, onPath, inside)}`);
  }
  if (inside) throw new ExplainError(`${view.label}: ${inside}; export the model with ${fix}`);
  return { diff, onPath };
}

/**
 * Emits the backward pass from `seed` (applied to `from`) to each `wrt` input: visits the nodes
 * on the path in reverse topological order, asks each node's rule for its input gradients,
 * sums broadcast gradients back to operand shapes and accumulates fan-out with Add.
 */
export function emitBackward(spec: WalkSpec): Map<string, string> {
  const { view, facts, em, table } = spec;
  const { diff, onPath } = gradientPath(spec);
  const pending = new Map<string, string[]>([[spec.from, [spec.seed]]]);
  const gradOf = (name: string): string | null => {
    const list = pending.get(name);
    if (!list?.length) return null;
    const total = em.sum(list);
    pending.set(name, [total]);
    return total;
  };
  const nodes = pathNodes(view, diff, onPath);
  refuseValueShaped(view, facts, nodes.flatMap((n) => (n.output ?? []).filter((o) => onPath.has(o) && diff.has(o))));
  if (spec.ref && !spec.stepsKept) refuseSteps(spec, spec.ref, diff, nodes);
  // An empty tensor carries no gradient; passing one on would also reach MatMuls whose contracted
  // length is 0, which onnxruntime's CPU kernel leaves uninitialised instead of zero.
  const empty = (name: string) => !!facts.shapes.get(name)?.includes(0);
  for (const node of nodes.reverse()) {
    const dY = (node.output ?? []).map((o) => (o && !empty(o) ? gradOf(o) : null));
    if (dY.every((g) => g === null)) continue;
    const entry = table.entry(node.op_type ?? '', view.opset, node.domain);
    const needs = (node.input ?? []).map((i, k) => !!i && diff.has(i) && !entry?.fixedInputs?.includes(k));
    if (!needs.some(Boolean)) continue;
    const rule = entry?.rule;
    if (!rule) {
      // onnxruntime's layout for the saving CPU's vector width (graph optimisation level 'all').
      if (node.domain === 'com.microsoft.nchwc') throw new ExplainError(`${view.label}: no backward rule for ${view.nodeLabel(node)}: onnxruntime writes these blocked-layout nodes when it saves a model optimised at level 'all', for the CPU that saved it; explain the model as exported, or one saved at level 'extended' or below`);
      const [why, fix] = (!node.domain && CONTROL_FLOW[node.op_type ?? '']) || [];
      if (why) throw new ExplainError(`${view.label}: ${view.nodeLabel(node)} is on the path and stays in the graph, which is not differentiated (${why}); export the model with ${fix}, or use a method that only runs the model forward (occlusion, feature-ablation)`);
      if (node.domain === 'ai.onnx.ml' && /^TreeEnsemble/.test(node.op_type ?? '')) throw new ExplainError(`${view.label}: ${view.nodeLabel(node)} is a tree ensemble, piecewise constant in its input: no gradient or multiplier passes it; use a method that only runs the model forward (feature-ablation, shapley-value-sampling, kernel-shap, lime, occlusion)`);
      throw new ExplainError(`${view.label}: no backward rule for ${view.nodeLabel(node)}; supported ops: ${table.opTypes().join(', ')}. Re-export the model without this op, explain a tensor computed before it, or use a method that only runs the model forward (occlusion, feature-ablation)`);
    }
    const ctx = makeContext(spec, node, needs);
    const grads = backwardOf(rule, ctx, dY, () => `${view.label}: ${view.nodeLabel(node)}`);
    (node.input ?? []).forEach((input, i) => {
      const g = grads[i];
      // A rule that leaves out an input it was asked for would drop that input's share silently.
      if (needs[i] && g === undefined) throw new ExplainError(`${view.label}: ${view.nodeLabel(node)}: its input ${i} ('${input}') depends on the explained input, and its ${node.op_type} rule gives no gradient for that input`);
      if (!needs[i] || !g) return;
      const broadcast = rule.broadcastInputs === 'all' || rule.broadcastInputs?.includes(i);
      const shaped = broadcast ? unbroadcast(em, g, facts.shapes.get(node.output![0])!, ctx.shape(input)) : g;
      pending.set(input, [...(pending.get(input) ?? []), shaped]);
    });
  }
  const result = new Map<string, string>();
  for (const w of spec.wrt) result.set(w, gradOf(w) ?? em.mul(w, em.scalar(0)));
  return result;
}

/**
 * Tensors on the walk's path whose shapes follow from the values of inputs the probe did not run
 * with their given values (the walk is built for the probe's shapes) are refused.
 */
function refuseValueShaped(view: GraphView, facts: TensorFacts, path: string[]): void {
  const exact = new Set(facts.exactInputs ?? []);
  const shaped = valueShaped(view, view.inputs.map((i) => i.name ?? '').filter((i) => !exact.has(i)));
  const first = path.find((t) => shaped.has(t));
  if (!first) return;
  const start = shaped.get(first)!;
  const producer = view.producer.get(first)!;
  const via = producer === start ? '' : ` (through ${view.nodeLabel(start)})`;
  throw new ExplainError(`${view.label}: the shape of '${first}', an output of ${view.nodeLabel(producer)}, follows from the input's values${via}, and backward passes are built for shapes that follow from the input's shape alone; explain a tensor computed before it, or use a method that only runs the model forward (occlusion, feature-ablation)`);
}

/** An operand of `node` on the walk's path computed from the explained inputs only through `step`. */
interface StepRead { node: NodeProto; read: string; step: NodeProto }

/**
 * The float operands of `nodes` computed from the explained input only through a step (ArgMax or a
 * comparison cast to floats, Hardmax, a Where between constants) that `moves` between passes.
 */
function findSteps({ view, facts, wrt }: Pick<WalkSpec, 'view' | 'facts' | 'wrt'>, diff: Set<string>, nodes: NodeProto[], moves: (t: string) => boolean): StepRead[] {
  const fromValues = valueDescendants(view, wrt);
  const stepped = (t: string) => !!t && !diff.has(t) && moves(t) && fromValues.has(t);
  return nodes.flatMap((node) => {
    const fixed = gradientRules.entry(node.op_type ?? '', view.opset, node.domain ?? '')?.fixedInputs ?? [];
    return (node.input ?? []).filter((t, i) => !fixed.includes(i) && isFloatType(facts.dtypes.get(t)) && stepped(t)).map((read) => {
      let step = view.producer.get(read)!;
      while (!(step.input ?? []).some((t) => diff.has(t))) step = view.producer.get((step.input ?? []).find(stepped)!)!;
      return { node, read, step };
    });
  });
}

/** "Node reads 't', a step function of 'x' (through Step)": of several explained inputs, those the step reads (a one-hot of categorical columns, not the numeric ones). */
function stepRead({ view, wrt }: Pick<WalkSpec, 'view' | 'wrt'>, s: StepRead): string {
  const through = wrt.length > 1 ? wrt.filter((w) => valueDescendants(view, [w]).has(s.read)) : wrt;
  return `${view.nodeLabel(s.node)} reads '${s.read}', a step function of ${through.map((w) => `'${w}'`).join(', ')} (through ${view.nodeLabel(s.step)})`;
}

/** Why no multiplier passes a step that moves between the passes. */
export const STEP_MOVES = 'no multiplier passes through a step, so the attributions would not sum to f(x) − f(x⁰)';

/**
 * With a reference pass, every change between the passes must reach the inputs through multipliers.
 * A float operand computed through a step carries none: where the run cannot check that it keeps its
 * value on both passes (stepsKept), it is refused, naming the step.
 */
function refuseSteps(spec: WalkSpec, ref: (name: string) => string, diff: Set<string>, nodes: NodeProto[]): void {
  const [s] = findSteps(spec, diff, nodes, (t) => ref(t) !== t);
  if (s) throw new ExplainError(`${spec.view.label}: ${stepRead(spec, s)}: it may differ between the input's and the reference's passes, and ${STEP_MOVES}; use integrated-gradients or gradient`);
}

/**
 * Where `from` reads the explained input through steps on a gradient path (a path integral jumps
 * where it crosses one; DeepLIFT needs them kept on both passes): the operands read, and what reads the first.
 */
export function stepsOnPath(spec: Pick<WalkSpec, 'view' | 'facts' | 'wrt' | 'from'>): { reads: string[]; said: string } | undefined {
  const { diff, onPath } = gradientPath(spec);
  const found = findSteps(spec, diff, pathNodes(spec.view, diff, onPath), () => true);
  return found.length ? { reads: [...new Set(found.map((s) => s.read))], said: stepRead(spec, found[0]) } : undefined;
}

/** The nodes on the walk's path: those with an output that `from` reads and that depends on the input. */
const pathNodes = (view: GraphView, diff: Set<string>, onPath: Set<string>) => view.nodes.filter((n) => (n.output ?? []).some((o) => onPath.has(o) && diff.has(o)));

/** The rule's gradients; a constant it builds beyond JavaScript's array limits (absurd sizes) fails naming the node. */
function backwardOf(rule: BackwardRule, ctx: RuleContext, dY: (string | null)[], where: () => string): ReturnType<BackwardRule['backward']> {
  try {
    return rule.backward(ctx, dY);
  } catch (e) {
    if (e instanceof RangeError) throw new ExplainError(`${where()}: its backward pass would build a constant larger than JavaScript arrays allow (${e.message})`);
    throw e;
  }
}

const TYPE_NAMES: Record<number, string> = { 1: 'float', 2: 'uint8', 3: 'int8', 6: 'int32', 7: 'int64', 9: 'boolean', 10: 'float16', 11: 'double', 16: 'bfloat16' };
const dataTypeName = (t: number | undefined) => (t === undefined ? 'not a float tensor' : TYPE_NAMES[t] ?? `of type ${t}`);

/** Why `from` has no gradient: the nodes that read the explained input's path but output no float tensor. */
function noGradient({ view, facts, wrt, from }: Pick<WalkSpec, 'view' | 'facts' | 'wrt' | 'from'>, diff: Set<string>, onPath: Set<string>, inside?: string): string {
  const cut = view.nodes.filter((n) => (n.output ?? []).some((o) => onPath.has(o)) && (n.input ?? []).some((i) => diff.has(i)) && !(n.output ?? []).some((o) => diff.has(o)));
  const head = `'${from}' has no gradient with respect to ${wrt.map((w) => `'${w}'`).join(', ')}`;
  if (!cut.length) return `${head}: ${inside ?? `it does not depend on ${wrt.length > 1 ? 'them' : 'it'}`}`;
  const entry = (n: NodeProto) => gradientRules.entry(n.op_type ?? '', view.opset, n.domain ?? '');
  const held = (n: NodeProto) => !!entry(n)?.fixedInputs;
  const types = [...new Set(cut.flatMap((n) => (n.output ?? []).map((o) => dataTypeName(facts.dtypes.get(o)))))].join('/');
  const via = shortList(cut.map((n) => view.nodeLabel(n)), 3);
  const why = cut.every(held) ? `which ${cut.length > 1 ? 'hold their' : 'holds its'} scale and zero point fixed`
    : cut.every((n) => entry(n)?.shapeOnly) ? `whose values follow from ${cut.length > 1 ? 'their inputs\' shapes' : 'its input\'s shape'} alone`
      : `whose output is ${types} (a step, not differentiable)`;
  return `${head}: it depends on it only through ${via}, ${why}${inside ? `; ${inside}` : ''}; explain a tensor computed before ${cut.length > 1 || inside ? 'these nodes' : 'that node'}`;
}

/** Sums a gradient of the broadcast output shape back to the operand's shape. */
function unbroadcast(em: Emitter, g: string, outShape: number[], inShape: number[]): string {
  const lead = outShape.length - inShape.length;
  // An operand of more axes than the output (MatMul's other operand 1-D: A [N, 3, 1, 5] · b [5] →
  // [N, 3, 1]) shares the output's batch axes unbroadcast; its gradient is already its own shape.
  if (lead < 0) return g;
  const axes: number[] = [];
  outShape.forEach((d, k) => {
    if (k < lead || (inShape[k - lead] === 1 && d !== 1)) axes.push(k);
  });
  if (axes.length === 0) return g;
  const summed = em.reduceSum(g, axes, true);
  return em.squeeze(summed, Array.from({ length: lead }, (_, k) => k));
}

/** valueDependent per view, computed once for all the nodes of a walk. */
const dependents = new WeakMap<GraphView, Set<string>>();
const dependentsOf = (view: GraphView): Set<string> => {
  if (!dependents.has(view)) dependents.set(view, valueDependent(view));
  return dependents.get(view)!;
};

function makeContext(spec: WalkSpec, node: NodeProto, needs: boolean[], aliases = new Map<string, string>()): RuleContext {
  const { view, facts, em } = spec;
  const shape = (alias: string): number[] => {
    const name = aliases.get(alias) ?? alias;
    const s = facts.shapes.get(name) ?? view.constantDims(name);
    return s ?? fail(`shape of '${name}' is unknown`);
  };
  const batchAxis = (name: string) => facts.batchAxis.get(aliases.get(name) ?? name) ?? -1;
  const constant = (name: string) => {
    const c = view.constant(name);
    if (c) return c;
    const v = facts.values.get(name);
    return v ? { dims: facts.shapes.get(name) ?? [v.length], values: v } : undefined;
  };
  const fail = (reason: string): never => {
    throw new ExplainError(`${view.label}: ${view.nodeLabel(node)}: ${reason}`);
  };
  return {
    em, view, node, opset: view.opset, options: spec.options, batchBroadcasts: facts.batchBroadcasts, from: spec.from,
    valueDependent: (name) => dependentsOf(view).has(aliases.get(name) ?? name),
    needsGrad: (i) => needs[i] ?? false,
    shape, batchAxis, constant,
    dtype: (name) => facts.dtypes.get(aliases.get(name) ?? name) ?? view.initializers.get(name)?.data_type ?? undefined,
    isConstant: (name) => view.isConstant(name) || facts.values.has(name),
    requireConstant: (name, what) => constant(name) ?? fail(`${what} ('${name}') must be a constant`),
    reshapeLike: (x, like, layoutOf) => {
      const b = batchAxis(like);
      // Only where every batch axis holds the batch alone (not folded into attention heads).
      const from = layoutOf === undefined || !facts.batchBroadcasts ? undefined : { dims: shape(layoutOf), b: batchAxis(layoutOf) };
      if (from && b >= 0 && from.b >= 0 && from.b !== b) {
        // Only unit axes move (Squeeze, Unsqueeze, Y[L, 1, N, H] → [L, N, H]): Squeeze then Unsqueeze keep the batch's symbol.
        const units = (dims: number[], batch: number) => dims.flatMap((d, k) => (d === 1 && k !== batch ? [k] : []));
        const core = (dims: number[], batch: number) => dims.flatMap((d, k) => (k === batch ? ['N'] : d === 1 ? [] : [String(d)])).join();
        if (core(from.dims, from.b) === core(shape(like), b)) return em.unsqueeze(em.squeeze(x, units(from.dims, from.b)), units(shape(like), b));
      }
      return em.reshape(x, shape(like).map((d, k) => (k === b ? (from?.b === b ? 0 : -1) : d)));
    },
    broadcastShape: (like) => {
      const b = batchAxis(like);
      return shape(like).map((d, k) => (k === b ? 1 : d));
    },
    ref: (name) => {
      if (!spec.ref) fail('this method has no reference pass');
      return spec.ref!(name);
    },
    withNode: (standIn, map) => makeContext(spec, standIn, needs, new Map([...aliases, ...Object.entries(map)])),
    fail,
  };
}
