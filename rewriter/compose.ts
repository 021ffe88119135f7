import { Emitter } from './emitter';
import { ExplainError } from './errors';
import { GraphView } from './graph-view';
import { upgradeOpset } from './opset-upgrade';
import { DataType, declaredDims, isFloatType, ModelProto, NodeProto, toNumber, ValueInfoProto, valueInfo } from './proto';

export interface ComposeSpec {
  generator: GraphView;
  classifier: GraphView;
  /** Row shape of the generator's output (batch excluded), e.g. probed; default: its declared shape. */
  generatedRow?: number[];
  /** Add a graph input `residual` (the classifier's input shape): the classifier then reads G(z) + residual. */
  residual?: boolean;
}

export interface Composed {
  model: ModelProto;
  /** The generator's input (the latent z). */
  latent: string;
  /** G(z) in the composed graph. */
  generated: string;
  /** The tensor the classifier reads (G(z), reshaped or transposed, plus the residual where asked). */
  classifierInput: string;
  /** Where G's row is channels-last and D's channels-first or back: D's row axis i is G's axis layout[i]. */
  layout?: number[];
  /** Classifier output names, renamed as in the composed graph. */
  outputs: string[];
  /** Maps a classifier tensor name to its name in the composed graph. */
  classifierName(name: string): string;
}

export const RESIDUAL = 'residual';
const CLASSIFIER_PREFIX = 'classifier/';

/** The model's one float input, or an error naming its inputs (and, for a generator, how to hold the others). */
export function soleFloatInput(view: GraphView, role: string): ValueInfoProto {
  const vi = view.inputs[0];
  if (view.inputs.length !== 1 || !isFloatType(vi.type?.tensor_type?.elem_type)) {
    const hold = role === 'generator' && view.inputs.length > 1 ? ` (a conditional generator's other inputs are held with --generator-feed NAME=FILE; API: generatorFeeds)` : '';
    throw new ExplainError(`${view.label}: the ${role} must have exactly one float input; it has ${view.inputs.map((i) => `'${i.name}'`).join(', ')}${hold}`);
  }
  return vi;
}

const declaredRow = (vi: ValueInfoProto): number[] => declaredDims(vi).slice(1);

const show = (row: number[]) => `[N, ${row.map((d) => (d < 0 ? '?' : d)).join(', ')}]`;
const count = (row: number[]) => row.reduce((a, b) => a * b, 1);

/**
 * One graph computing D(G(z)): the generator's nodes, then the classifier's nodes reading G's
 * output (reshaped where that keeps the values in place: a flat [N, 256] generator for a
 * [N, 1, 16, 16] classifier, or unit axes; transposed where one is channels-last and the other
 * channels-first, [N, 16, 16, 3] for [N, 3, 16, 16]). Classifier tensors whose names the generator
 * already uses get the prefix 'classifier/'. The one of the two with the earlier default-domain
 * opset is rebound to the other's first. Outputs: G(z) and the classifier's outputs.
 */
export function compose(spec: ComposeSpec): Composed {
  const [g, d] = sameOpset(spec.generator, spec.classifier);
  const z = soleFloatInput(g, 'generator');
  const dIn = soleFloatInput(d, 'classifier');
  if ((g.graph.output ?? []).length !== 1) {
    throw new ExplainError(`${g.label}: the generator must have exactly one output; it has ${(g.graph.output ?? []).map((o) => `'${o.name}'`).join(', ')}`);
  }
  const gOut = g.graph.output![0];
  const gRow = spec.generatedRow ?? declaredRow(gOut);
  const dRow = declaredRow(dIn);
  const fits = gRow.length === dRow.length && gRow.every((v, k) => v === dRow[k] || dRow[k] < 0 || v < 0);
  const reshapable = !fits && gRow.every((v) => v > 0) && dRow.every((v) => v > 0) && count(gRow) === count(dRow);
  if (!fits && !reshapable) {
    throw new ExplainError(`generator ${g.label} output '${gOut.name}' has shape ${show(gRow)} but classifier ${d.label} input '${dIn.name}' takes ${show(dRow)}`);
  }
  // A reshape serves a flat output or unit axes; [H, W, 3] for [3, H, W] is transposed (a reshape would scramble the pixels).
  const rearranged = reshapable && !keepsOrder(gRow, dRow);
  const layout = rearranged ? layoutPermutation(gRow, dRow) : undefined;
  if (rearranged && !layout) {
    throw new ExplainError(`generator ${g.label} output '${gOut.name}' has shape ${show(gRow)} and classifier ${d.label} input '${dIn.name}' takes ${show(dRow)}: the same number of values in another arrangement, which neither a reshape nor a channels-last/first transpose reads; export the generator in the classifier's layout`);
  }

  const taken = new Set<string>([...g.producer.keys(), ...g.initializers.keys(), z.name!, ...g.nodes.map((n) => n.name ?? '')]);
  const renamed = new Map<string, string>();
  const rename = (name: string): string => {
    if (!name) return name;
    let r = renamed.get(name);
    if (r === undefined) {
      r = taken.has(name) ? CLASSIFIER_PREFIX + name : name;
      while (taken.has(r) && r !== name) r = CLASSIFIER_PREFIX + r;
      renamed.set(name, r);
    }
    return r;
  };

  const em = new Emitter(g.opset, DataType.FLOAT, 'compose');
  let fed = gOut.name!;
  if (layout) fed = em.transpose(fed, [0, ...layout.map((a) => a + 1)]);
  else if (reshapable) fed = em.reshape(fed, [-1, ...dRow]);
  const extraInputs: ValueInfoProto[] = [];
  if (spec.residual) {
    if (taken.has(RESIDUAL) || d.producer.has(RESIDUAL) || d.initializers.has(RESIDUAL)) throw new ExplainError(`${d.label}: a tensor is already named '${RESIDUAL}', which the composed graph needs`);
    fed = em.add(fed, RESIDUAL);
    extraInputs.push(valueInfo(RESIDUAL, DataType.FLOAT, ['N', ...(dRow.every((v) => v > 0) ? dRow : gRow)]));
  }
  // G's output itself where nothing comes between (no copy: JSEP has no Identity kernel).
  const classifierInput = fed === gOut.name ? fed : em.rename(fed, rename(dIn.name!));
  renamed.set(dIn.name!, classifierInput);

  const dNodes: NodeProto[] = d.nodes.map((n) => ({
    ...n,
    name: n.name ? rename(n.name) : n.name,
    input: (n.input ?? []).map(rename),
    output: (n.output ?? []).map(rename),
  }));
  const dInits = (d.graph.initializer ?? []).map((t) => ({ ...t, name: rename(t.name ?? '') }));
  const dOutputs = (d.graph.output ?? []).map((o) => ({ ...o, name: rename(o.name ?? '') }));
  const irVersion = Math.max(toNumber(g.model.ir_version), toNumber(d.model.ir_version));
  const model: ModelProto = {
    ...g.model,
    ir_version: irVersion,
    opset_import: mergeOpsets(g, d),
    producer_name: 'onnx-explain compose',
    graph: {
      name: 'composed',
      node: [...g.nodes, ...em.folded(), ...dNodes],
      initializer: [...(g.graph.initializer ?? []), ...em.initializers, ...dInits],
      input: [...(g.graph.input ?? []), ...extraInputs],
      output: [gOut, ...dOutputs],
    },
  };
  return {
    model, latent: z.name!, generated: gOut.name!, classifierInput, layout,
    outputs: dOutputs.map((o) => o.name!),
    classifierName: (name) => renamed.get(name) ?? name,
  };
}

/** Whether reading a row of shape `a` as shape `b` keeps every value in place: one of them flat, or the two equal but for unit axes. */
function keepsOrder(a: number[], b: number[]): boolean {
  const real = (row: number[]) => row.filter((v) => v !== 1).join(',');
  return a.length === 1 || b.length === 1 || real(a) === real(b);
}

/** The row permutation that reads a channels-last row as channels-first or back (to[i] = from[perm[i]]), if that is how the two differ. */
function layoutPermutation(from: number[], to: number[]): number[] | undefined {
  const k = from.length - 1;
  if (k < 1 || to.length !== from.length) return undefined;
  const lastToFirst = [k, ...Array.from({ length: k }, (_, i) => i)];
  const firstToLast = [...Array.from({ length: k }, (_, i) => i + 1), 0];
  return [lastToFirst, firstToLast].find((perm) => perm.every((a, i) => from[a] === to[i]));
}

/** The generator and the classifier bound to the later of their two default-domain opsets (opset-upgrade.ts). */
function sameOpset(g: GraphView, d: GraphView): [GraphView, GraphView] {
  const lift = (v: GraphView, to: number) => (v.opset < to ? new GraphView(upgradeOpset(v.model, to, v.label), v.label) : v);
  return [lift(g, d.opset), lift(d, g.opset)];
}

function mergeOpsets(a: GraphView, b: GraphView): { domain: string; version: number }[] {
  const all = new Map(a.opsets);
  for (const [domain, v] of b.opsets) all.set(domain, Math.max(v, all.get(domain) ?? 0));
  return [...all].map(([domain, version]) => ({ domain, version }));
}
