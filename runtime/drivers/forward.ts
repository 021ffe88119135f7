import { ExplainError } from '../../rewriter/errors';
import { TensorFacts } from '../../rewriter/graph-view';
import { isFloatType } from '../../rewriter/proto';
import type { Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { typeName } from '../ort-types';
import { concatRows, DenseInput, splitFeeds, TensorData } from '../tensors';

/**
 * A layer of activations to rank or maximise (`use`): tensor `at`, named `layer` by the user;
 * integers (a quantized layer) are refused in one line.
 */
export function requireFloatLayer(ex: Explainer, facts: TensorFacts, at: string, use: string, layer = at): void {
  const dtype = facts.dtypes.get(at);
  if (!isFloatType(dtype)) throw new ExplainError(`${ex.label}: layer '${layer}' holds ${typeName(dtype ?? 0)} values, not activations to ${use} (onnx-explain info --layers lists the float layers)`);
}

/**
 * Runs the model (batch-freed where possible) with the named tensors — outputs or intermediate
 * tensors — as its outputs; the rows of x run as one batch, or one by one where the model fixes
 * batch 1.
 */
export async function tensorsAt(ex: Explainer, rowDims: number[], names: string[], onehotAxis?: number, feeds: Record<string, DenseInput> = {}): Promise<(x: OrtTensor, side?: Record<string, OrtTensor>) => Promise<Record<string, TensorData>>> {
  const prepared = await ex.prepare(rowDims, onehotAxis, feeds);
  const model = prepared.view.model;
  const key = JSON.stringify(['tensors', prepared.view.inputs.map((i) => i.name), rowDims, names, onehotAxis]);
  const session = await ex.session(key, async () => ({ ...model, graph: { ...model.graph, output: names.map((name) => ({ name })) } }));
  return async (x, side = ex.sideFeeds(x, feeds)) => {
    const all = { [ex.input.name]: x, ...side };
    const results = [];
    for (const f of prepared.batchDynamic ? [all] : splitFeeds(all, x.dims[0])) results.push(await session.run(f));
    return concatRows(results, names);
  };
}
