import { ExplainError } from '../../rewriter/errors';
import type { AttributeOptions, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { batchDims, checkFreeNames, extendModel } from '../../rewriter/augment';
import { Emitter } from '../../rewriter/emitter';
import { valueInfo } from '../../rewriter/proto';
import { tensorsAt } from './forward';
import { Driver } from './types';

function layerOf(ex: Explainer, options: AttributeOptions): string {
  // No output is explained: a target, an output or a baseline is refused (method-options.ts), as Captum's LayerActivation takes none.
  if (options.layer === undefined) throw new ExplainError(`${ex.label}: method 'layer-activation' needs a layer (--layer NAME)`);
  return options.layer;
}

/** Captum's LayerActivation: the layer's values themselves (no target, no backward pass). */
export const layerActivation: Driver = {
  layer: 'attributed',
  async attribute(ex: Explainer, x: OrtTensor, options: AttributeOptions) {
    const layer = layerOf(ex, options);
    const rowDims = x.dims.slice(1);
    ex.checkTensor(await ex.prepare(rowDims, options.onehotAxis, options.feeds), layer, 'layer');
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
