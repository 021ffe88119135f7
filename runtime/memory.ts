import { bytesPerValue, GraphProto } from '../rewriter/proto';
import { backend } from './backend';
import type { AttributeOptions, Explainer, Prepared } from './explainer';

/**
 * Model rows one run of a backward graph may take by default (input rows, integrated gradients'
 * points, the noise tunnel's and the Shap methods' samples, the layer path methods' points): the platform's
 * memory budget over three times the bytes of the forward's tensors per row (their probed shapes
 * at batch 1; the backward pass keeps the forward's activations and adds its own: measured 1.7×
 * on ResNet-18's integrated gradients, 3.2× on S3D's). At least 1.
 */
export async function rowsInMemory(ex: Explainer, rowDims: number[], options: AttributeOptions): Promise<number> {
  return Math.max(1, Math.floor(backend().memoryBudget / (3 * rowBytes(await ex.prepare(rowDims, options.onehotAxis, options.feeds)))));
}

/** Bytes of the forward's tensors per row, counted once per prepared graph (every backprop call asks). */
const counted = new WeakMap<Prepared, number>();

export function rowBytes(prepared: Prepared): number {
  let bytes = counted.get(prepared);
  if (bytes === undefined) {
    const { facts, view } = prepared;
    bytes = 0;
    for (const [name, dims] of facts.shapes) {
      if (!view.initializers.has(name)) bytes += dims.reduce((a, b) => a * Math.max(1, b), 1) * bytesPerValue(facts.dtypes.get(name));
    }
    counted.set(prepared, bytes);
  }
  return bytes;
}

/** Bytes of a graph's initializers. */
export function weightBytes(graph: GraphProto): number {
  return (graph.initializer ?? []).reduce((a, t) => a + (t.dims ?? []).reduce((p: number, d) => p * Number(d), 1) * bytesPerValue(t.data_type ?? undefined), 0);
}
