import type { Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { concatRows, splitRows, TensorData } from '../tensors';

/**
 * Runs the model (batch-freed where possible) with the named tensors — outputs or intermediate
 * tensors — as its outputs; the rows of x run as one batch, or one by one where the model fixes
 * batch 1.
 */
export async function tensorsAt(ex: Explainer, rowDims: number[], names: string[], onehotAxis?: number): Promise<(x: OrtTensor) => Promise<Record<string, TensorData>>> {
  const prepared = await ex.prepare(rowDims, onehotAxis);
  const model = prepared.view.model;
  const key = JSON.stringify(['tensors', rowDims, names, onehotAxis]);
  const session = await ex.session(key, async () => ({ ...model, graph: { ...model.graph, output: names.map((name) => ({ name })) } }));
  return async (x) => {
    const results = [];
    for (const rows of prepared.batchDynamic ? [x] : splitRows(x)) results.push(await session.run({ [ex.input.name]: rows }));
    return concatRows(results, names);
  };
}
