import { ExplainError } from './errors';
import { computedFrom, nodeReads } from './graph-view';
import { DataType, ModelProto } from './proto';

/**
 * String inputs left out, with every node computed from them and the outputs those give: ML.NET's
 * exports take each column of the training data, so a multiclass model reads its string Label
 * (mapped to keys for a Label output) beside the float Features its scores come from; onnx-explain
 * feeds numeric tensors only. A model whose every output reads a string input is refused naming them.
 */
export function withoutStringInputs(model: ModelProto, label: string): ModelProto {
  const graph = model.graph!;
  const strings = (graph.input ?? []).filter((i) => i.type?.tensor_type?.elem_type === DataType.STRING);
  if (!strings.length) return model;
  const derived = computedFrom(graph, strings.map((i) => i.name ?? ''));
  const node = (graph.node ?? []).filter((n) => !nodeReads(n).some((t) => derived.has(t)));
  const output = (graph.output ?? []).filter((o) => !derived.has(o.name ?? ''));
  const names = strings.map((i) => `'${i.name}'`).join(', ');
  if (!output.length) throw new ExplainError(`${label}: every output is computed from the string input${strings.length > 1 ? 's' : ''} ${names}; onnx-explain feeds numeric tensors only`);
  return { ...model, graph: { ...graph, node, output, input: (graph.input ?? []).filter((i) => !strings.includes(i)) } };
}
