import { STEP_MOVES } from '../../rewriter/backward';
import { ExplainError } from '../../rewriter/errors';
import { OrtTensor } from '../backend';
import type { AttributeOptions, Explainer } from '../explainer';
import { tensorsAt } from './forward';

/**
 * DeepLIFT through steps computed from the input (a mask, as Keras' Masking writes it): exact where
 * every step keeps its value on the input's and the reference's passes, so the baseline decides.
 * Runs both and fails naming the first step operand and row that differ. `rowLabel` names an
 * expanded row as the caller's user knows it (DeepLiftShap's input row and baseline row, a noisy copy).
 */
export async function checkStepsKept(ex: Explainer, x: OrtTensor, options: AttributeOptions, steps: { reads: string[]; said: string }, rowLabel: (row: number) => string = (row) => `row ${row}`): Promise<void> {
  const run = await tensorsAt(ex, x.dims.slice(1), steps.reads, options.onehotAxis, options.feeds);
  const { facts, batchDynamic } = await ex.prepare(x.dims.slice(1), options.onehotAxis, options.feeds);
  const x0 = ex.baselineFor(options.baseline, x, false);
  // Joint attribution's reference pass takes every explained input to its baseline.
  const side = ex.sideFeeds(x, options.feeds);
  const sideRef = Object.fromEntries(ex.explained.slice(1).map((i) => [i.name, ex.baselineFor(options.baselines?.[i.name], side[i.name], false, i.name)]));
  const [atX, atRef] = [await run(x, side), await run(x0, { ...ex.sideFeeds(x0, options.feeds), ...sideRef })];
  for (const t of steps.reads) {
    const [a, b] = [atX[t].data, atRef[t].data];
    const k = Array.prototype.findIndex.call(a, (v: number, i: number) => v !== b[i]);
    if (k < 0) continue;
    // The row of flat index k: along the tensor's own batch axis (a time-major mask is [T, N, …]),
    // none where it has none; a model of batch 1 ran row by row, its rows joined on axis 0.
    const dims = atX[t].dims;
    const axis = batchDynamic ? facts.batchAxis.get(t) ?? -1 : 0;
    const inner = dims.slice(axis + 1).reduce((p, d) => p * d, 1);
    const row = batchDynamic ? Math.floor(k / inner) % dims[axis] : Math.floor(k / (a.length / x.dims[0]));
    const where = axis >= 0 ? ` on ${rowLabel(row)}` : ' (it is shared by the batch\'s rows)';
    const which = t === steps.reads[0] ? ', which' : `; '${t}', another,`;
    throw new ExplainError(`${ex.label}: ${steps.said}${which} differs between the input's and the reference's passes${where}, and ${STEP_MOVES}: give a baseline on which it keeps its value (for a mask, one that masks what the input masks), or use integrated-gradients or gradient`);
  }
}
