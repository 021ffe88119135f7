import { attrInt, attrInts, attrString } from './attributes';
import { ExplainError } from './errors';
import { GraphView } from './graph-view';
import { DataType, makeTensor, ModelProto } from './proto';

/**
 * DeepLIFT §2.6 weight normalisation for one-hot inputs: the Conv reading `input` gets
 * W'[f,c,…] = W[f,c,…] − mean_c W[f,·,…] and b' = b + Σ_k mean_c W[f,·,k]. Since Σ_c x[c,p] = 1 at
 * every position of a one-hot input, the model's outputs are unchanged; a zero reference then
 * means "no base preferred". Returns a copy; the original model is untouched.
 */
export function normalizeOneHotWeights(view: GraphView, input: string, axis: number): ModelProto {
  const consumers = view.consumers.get(input) ?? [];
  const conv = consumers[0];
  const where = `${view.label}: --onehot-axis ${axis}`;
  if (consumers.length !== 1 || conv.op_type !== 'Conv' || conv.input![0] !== input) {
    throw new ExplainError(`${where}: input '${input}' must feed exactly one Conv (found ${consumers.map((n) => n.op_type).join(', ') || 'none'})`);
  }
  if (axis !== 1) throw new ExplainError(`${where}: only the channel axis (1) of a Conv input can be one-hot normalised`);
  if (attrInt(conv, 'group', 1) !== 1) throw new ExplainError(`${where}: ${view.nodeLabel(conv)} is grouped; weight normalisation needs group = 1`);
  if ((attrInts(conv, 'pads') ?? []).some((p) => p !== 0) || !['NOTSET', 'VALID'].includes(attrString(conv, 'auto_pad', 'NOTSET'))) {
    throw new ExplainError(`${where}: ${view.nodeLabel(conv)} pads its input; padded positions are not one-hot, so outputs would change`);
  }
  const w = view.constant(conv.input![1]) ?? (() => { throw new ExplainError(`${where}: the Conv weights must be constant`); })();
  const [f, c] = w.dims;
  const k = w.values.length / (f * c);
  const weights = Float32Array.from(w.values);
  const shift = new Float32Array(f);
  for (let o = 0; o < f; o++) {
    for (let j = 0; j < k; j++) {
      let mean = 0;
      for (let ch = 0; ch < c; ch++) mean += weights[(o * c + ch) * k + j] / c;
      for (let ch = 0; ch < c; ch++) weights[(o * c + ch) * k + j] -= mean;
      shift[o] += mean;
    }
  }
  const bias = conv.input![2] ? view.constant(conv.input![2])?.values ?? [] : [];
  const base = `${conv.name || conv.output![0]}/onehot_normalized`;
  const wName = `${base}/W`;
  const bName = `${base}/B`;
  const graph = view.graph;
  return {
    ...view.model,
    graph: {
      ...graph,
      node: graph.node!.map((n) => (n === conv ? { ...n, input: [input, wName, bName] } : n)),
      initializer: [
        ...(graph.initializer ?? []),
        makeTensor(wName, w.dims, weights, DataType.FLOAT),
        makeTensor(bName, [f], Array.from(shift, (s, o) => s + (bias[o] ?? 0)), DataType.FLOAT),
      ],
    },
  };
}
