import { ExplainError } from '../../rewriter/errors';
import { holdsRows, subgraphReads, TensorFacts } from '../../rewriter/graph-view';
import { isFloatType, valueInfo } from '../../rewriter/proto';
import type { Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { objectKey } from '../object-key';
import { typeName } from '../ort-types';
import { PooledSession } from '../session-pool';
import { concatRows, DenseInput, splitFeeds, TensorData, TensorInput } from '../tensors';

/**
 * The tensor of a layer of activations to rank or maximise (`use`) per input row, named `layer` by
 * the user: a tensor, or a node (its first output). Integers (a quantized layer) and tensors without
 * one row per input row are refused in one line.
 */
export function activationLayer(ex: Explainer, { facts, batchDynamic }: { facts: TensorFacts; batchDynamic: boolean }, layer: string, use: string): string {
  const at = facts.shapes.has(layer) ? layer : ex.view.nodes.find((n) => n.name === layer)?.output?.[0];
  if (!at || !facts.shapes.has(at)) {
    const some = ex.view.nodes.slice(0, 6).map((n) => n.output?.[0]).join(', ');
    throw new ExplainError(`${ex.label}: no tensor or node named '${layer}' (tensors are e.g. ${some}; onnx-explain info --layers lists the layers)`);
  }
  const dtype = facts.dtypes.get(at);
  if (!isFloatType(dtype)) throw new ExplainError(`${ex.label}: layer '${layer}' holds ${typeName(dtype ?? 0)} values, not activations to ${use} (onnx-explain info --layers lists the float layers)`);
  if (!holdsRows(facts, at, batchDynamic)) throw new ExplainError(`${ex.label}: layer '${layer}' has shape [${facts.shapes.get(at)}] at batch 1 with no batch on axis 0: no activations per input row to ${use}`);
  return at;
}

/**
 * Runs the model (batch-freed where possible) with the named tensors — outputs or intermediate
 * tensors — as its outputs; the rows of x run as one batch, or one by one where the model fixes
 * batch 1.
 */
export async function tensorsAt(ex: Explainer, rowDims: number[], names: string[], onehotAxis?: number, feeds: Record<string, TensorInput> = {}): Promise<(x: OrtTensor, side?: Record<string, OrtTensor>) => Promise<Record<string, TensorData>>> {
  const prepared = await ex.prepare(rowDims, onehotAxis, feeds);
  const model = prepared.view.model;
  const key = JSON.stringify(['tensors', objectKey(prepared), names]);
  const session = await ex.session(key, async () => ({ ...model, graph: { ...model.graph, output: names.map((name) => ({ name })) } }));
  return async (x, side = ex.sideFeeds(x, feeds)) => runRows(session, prepared.batchDynamic, { [ex.input.name]: x, ...side }, x.dims[0], names);
}

/** The feeds' rows as one batch, or one by one where the model fixes batch 1; the named outputs' rows joined. */
async function runRows(session: PooledSession, batchDynamic: boolean, all: Record<string, OrtTensor>, n: number, names: string[]): Promise<Record<string, TensorData>> {
  const results = [];
  for (const f of batchDynamic ? [all] : splitFeeds(all, n)) results.push(await session.run(f));
  return concatRows(results, names);
}

/** The graph input that takes a layer's values in tensorsFromLayer. */
export const LAYER_VALUES = 'layer_values';

/**
 * Runs the model with tensor `layer` fed (input LAYER_VALUES, one row per row of x) instead of
 * computed: every node that reads it reads the fed values, as Captum's forward hook replaces a
 * module's output in its Layer* perturbation methods. Returns the named tensors.
 */
export async function tensorsFromLayer(ex: Explainer, rowDims: number[], layer: string, names: string[], onehotAxis?: number, feeds: Record<string, DenseInput> = {}): Promise<(x: OrtTensor, side: Record<string, OrtTensor>, values: OrtTensor) => Promise<Record<string, TensorData>>> {
  const prepared = await ex.prepare(rowDims, onehotAxis, feeds);
  const { view, facts } = prepared;
  const reader = view.nodes.find((n) => subgraphReads(n).includes(layer));
  if (reader) throw new ExplainError(`${ex.label}: layer '${layer}' is read inside the subgraph of ${view.nodeLabel(reader)}, where its values cannot be replaced`);
  const model = view.model;
  const dims = facts.shapes.get(layer)!;
  // The layer itself, asked for (the explained tensor as the layer), is the values given.
  const computed = names.filter((name) => name !== layer);
  const given = (values: OrtTensor) => (computed.length < names.length ? { [layer]: { data: values.data as Float32Array, dims: [...values.dims] } } : {});
  if (!computed.length) return async (_x, _side, values) => given(values);
  const key = JSON.stringify(['from layer', objectKey(prepared), layer, computed]);
  const session = await ex.session(key, async () => ({
    ...model,
    graph: {
      ...model.graph,
      node: (model.graph!.node ?? []).map((n) => ((n.input ?? []).includes(layer) ? { ...n, input: n.input!.map((i) => (i === layer ? LAYER_VALUES : i)) } : n)),
      input: [...(model.graph!.input ?? []), valueInfo(LAYER_VALUES, facts.dtypes.get(layer)!, [prepared.batchDynamic ? 'N' : 1, ...dims.slice(1)])],
      output: computed.map((name) => ({ name })),
    },
  }));
  return async (x, side, values) => ({ ...(await runRows(session, prepared.batchDynamic, { [ex.input.name]: x, ...side, [LAYER_VALUES]: values }, x.dims[0], computed)), ...given(values) });
}
