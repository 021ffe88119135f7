import type { AttributeOptions, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { perRow } from '../targets';
import { pickFeeds } from '../tensors';
import { OutputSeed } from './seed';

/**
 * What an inner run over expanded rows explains (noisy copies, path points, baseline draws: row i
 * copies input row `rows[i]`): each row's target, contrast and reduction weights, and the model's
 * other inputs, all picked from the input row's.
 */
export function expandedRows(ex: Explainer, x: OrtTensor, options: AttributeOptions, explained: OutputSeed, rows: number[]): AttributeOptions {
  const contrast = perRow(options.contrast, x.dims[0], 'contrast');
  return {
    target: rows.map((r) => explained.targets[r]),
    contrast: contrast && rows.map((r) => contrast[r]),
    reduceWeights: explained.space.weightsOfRows(rows) ?? options.reduceWeights,
    feeds: pickFeeds(ex.sideFeeds(x, options.feeds), rows),
  };
}
