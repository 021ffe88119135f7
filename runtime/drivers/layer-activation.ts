import { ExplainError } from '../../rewriter/errors';
import type { AttributeOptions, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { batchDims, checkFreeNames, extendModel } from '../../rewriter/augment';
import { Emitter } from '../../rewriter/emitter';
import { valueInfo } from '../../rewriter/proto';
import { perRow } from '../targets';
import { tensorsAt } from './forward';
import { Driver } from './types';

function layerOf(ex: Explainer, options: AttributeOptions): string {
  if (options.layer === undefined) throw new ExplainError(`${ex.label}: method 'layer-activation' needs a layer (--layer NAME)`);
  // No output is explained, but one options object may serve several methods: a named output
  // (and in attribute, a target) is checked and then ignored, as Captum's LayerActivation ignores its target.
  if (options.output !== undefined) ex.resolveOutput(options.output, options.explainSoftmax, options.method);
  if (options.contrast !== undefined) throw new ExplainError("method 'layer-activation' explains no output: a contrast class does not apply");
  if (options.baseline || options.baselines) throw new ExplainError("baseline: method 'layer-activation' takes no baseline");
  return options.layer;
}

/** Captum's LayerActivation: the layer's values themselves (no target, no backward pass). */
export const layerActivation: Driver = {
  async attribute(ex: Explainer, x: OrtTensor, options: AttributeOptions) {
    const layer = layerOf(ex, options);
    const rowDims = x.dims.slice(1);
    ex.checkTensor(await ex.prepare(rowDims, options.onehotAxis, options.feeds), layer, 'layer');
    if (options.target !== undefined) {
      const space = await ex.targetSpaceFor(rowDims, options);
      for (const t of perRow(options.target, x.dims[0], 'target')!) space.flat(t, 'target');
    }
    const values = await (await tensorsAt(ex, rowDims, [...new Set([...ex.outputNames, layer])], options.onehotAxis, options.feeds))(x);
    const outputs = Object.fromEntries(ex.outputNames.filter((name) => values[name]).map((name) => [name, values[name]]));
    return { attributions: values[layer], outputs, targets: [] };
  },
  /** The model that also outputs the layer's values as `attribution`, like every other method's graph. */
  async graph(ex: Explainer, rowDims: number[], options: AttributeOptions) {
    const layer = layerOf(ex, options);
    const { view, facts, batchDynamic } = await ex.prepare(rowDims, options.onehotAxis);
    ex.checkTensor({ view, facts, batchDynamic }, layer, 'layer');
    checkFreeNames(view, [ex.io.attribution]);
    const em = Emitter.joining(view, facts.dtypes.get(layer)!);
    em.rename(layer, ex.io.attribution);
    return extendModel(view, facts, batchDynamic, em, [], [valueInfo(ex.io.attribution, facts.dtypes.get(layer)!, batchDims(facts, layer))]);
  },
};
