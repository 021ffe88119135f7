import { emitBackward } from './backward';
import { Emitter } from './emitter';
import { ExplainError } from './errors';
import { GraphView, TensorFacts } from './graph-view';
import { DataType, ModelProto, NodeProto, ValueInfoProto, valueInfo } from './proto';
import { RuleTable } from '../rules/registry';
import { RuleOptions } from '../rules/types';

/** What an attribution method adds on top of the backward walk. */
export interface Method {
  name: string;
  table: RuleTable;
  /** The graph also runs the model on a `baseline` input and rules may read ref(name). */
  reference: boolean;
  /** Turns the walk's result for the explained input into the attribution output. */
  attribution(em: Emitter, io: { grad: string; input: string; baseline?: string }): string;
  /** Turns the output seed into the signal the walk starts from (e.g. LRP's relevance = seed · logits). */
  start?(em: Emitter, io: { seed: string; from: string }): string;
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
  /** Further inputs whose plain backward result is output as `gradient:<name>`. */
  alsoWrt?: string[];
  /** Tensor the output seed is applied to (the chosen output, or its pre-softmax logits). */
  from: string;
  options: RuleOptions;
}

export const IO_NAMES = { seed: 'seed', baseline: 'baseline', attribution: 'attribution', delta: 'delta' };
const REF_PREFIX = 'ref/';

/** Copies of the forward nodes that depend on `input`, reading `baseline` instead. */
function referencePass(view: GraphView, input: string, baseline: string): { nodes: NodeProto[]; ref: (n: string) => string } {
  const renamed = new Map<string, string>([[input, baseline]]);
  const nodes: NodeProto[] = [];
  for (const n of view.nodes) {
    if (!(n.input ?? []).some((i) => renamed.has(i))) continue;
    for (const o of n.output ?? []) if (o) renamed.set(o, REF_PREFIX + o);
    nodes.push({ ...n, name: n.name ? REF_PREFIX + n.name : undefined, input: (n.input ?? []).map((i) => renamed.get(i) ?? i), output: (n.output ?? []).map((o) => (o ? renamed.get(o)! : o)) });
  }
  return { nodes, ref: (name) => renamed.get(name) ?? name };
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
export function batchDims(facts: TensorFacts, name: string, batch = 'N'): (number | string)[] {
  const s = facts.shapes.get(name)!;
  const b = facts.batchAxis.get(name) ?? -1;
  return s.map((d, k) => (k === b ? batch : d));
}

/**
 * The model with nodes appended (`extra`, then the emitter's): graph inputs are the model's plus
 * `inputs`, outputs the model's plus `outputs` (the batch axis dynamic where the model allows it).
 */
export function extendModel(view: GraphView, batchDynamic: boolean, em: Emitter, inputs: ValueInfoProto[], outputs: ValueInfoProto[], extra: NodeProto[] = []): ModelProto {
  const graph = view.graph;
  return {
    ...view.model,
    graph: {
      ...graph,
      node: [...view.nodes, ...extra, ...em.nodes],
      initializer: [...(graph.initializer ?? []), ...em.initializers],
      input: [...(graph.input ?? []).map((i) => (view.inputs.includes(i) ? withBatch(i, batchDynamic) : i)), ...inputs],
      output: [...(graph.output ?? []).map((o) => withBatch(o, batchDynamic)), ...outputs],
    },
  };
}

/**
 * The augmented model: the original graph, the reference pass when the method needs one, and the
 * backward pass from the `seed` input; outputs are the model outputs plus `attribution` (and `delta`).
 */
export function buildAugmented(spec: AugmentSpec): ModelProto {
  const { view, facts, method } = spec;
  checkFreeNames(view, Object.values(IO_NAMES));
  const floatType = facts.dtypes.get(spec.input) ?? DataType.FLOAT;
  const em = new Emitter(view.opset, floatType);
  const dims = (name: string, batch = 'N') => batchDims(facts, name, batch);
  const extraInputs: ValueInfoProto[] = [valueInfo(IO_NAMES.seed, facts.dtypes.get(spec.from) ?? floatType, dims(spec.from))];
  let refNodes: NodeProto[] = [];
  let ref: ((n: string) => string) | undefined;
  if (method.reference) {
    // Batch B of the baseline is N or 1: one shared reference row runs the reference pass once,
    // and its activations broadcast against the N rows in the rules (where the model keeps the
    // batch on an axis of its own; otherwise the baseline has N rows).
    extraInputs.push(valueInfo(IO_NAMES.baseline, floatType, dims(spec.input, facts.batchBroadcasts ? 'B' : 'N')));
    ({ nodes: refNodes, ref } = referencePass(view, spec.input, IO_NAMES.baseline));
  }
  const grads = emitBackward({
    view, facts, em, table: method.table, options: spec.options, wrt: [spec.input, ...(spec.alsoWrt ?? [])], from: spec.from, ref,
    seed: method.start ? method.start(em, { seed: IO_NAMES.seed, from: spec.from }) : IO_NAMES.seed,
  });
  const attribution = method.attribution(em, { grad: grads.get(spec.input)!, input: spec.input, baseline: method.reference ? IO_NAMES.baseline : undefined });
  em.rename(attribution, IO_NAMES.attribution);
  const outputs: ValueInfoProto[] = [valueInfo(IO_NAMES.attribution, floatType, dims(spec.input))];
  for (const w of spec.alsoWrt ?? []) {
    em.rename(grads.get(w)!, `gradient:${w}`);
    outputs.push(valueInfo(`gradient:${w}`, floatType, dims(w)));
  }
  if (method.explained) {
    const rowSum = (t: string, name: string) => em.reduceSum(t, facts.shapes.get(name)!.slice(1).map((_, k) => k + 1), false);
    const explained = method.explained(em, { from: spec.from, fromRef: ref?.(spec.from) });
    em.rename(em.sub(rowSum(IO_NAMES.attribution, spec.input), rowSum(em.mul(IO_NAMES.seed, explained), spec.from)), IO_NAMES.delta);
    outputs.push(valueInfo(IO_NAMES.delta, floatType, spec.batchDynamic ? ['N'] : [1]));
  }
  return extendModel(view, spec.batchDynamic, em, extraInputs, outputs, refNodes);
}
