import { ExplainError } from '../../rewriter/errors';
import type { AttributeOptions, Explainer } from '../explainer';
import { OrtTensor } from '../backend';
import { exposeTensors } from '../../rewriter/augment';
import { tensorsAt } from './forward';
import { Driver } from './types';

function layerOf(ex: Explainer, options: AttributeOptions): string {
  if (options.layer === undefined) throw new ExplainError(`${ex.label}: method 'layer-activation' needs a layer (--layer NAME)`);
  return options.layer;
}

/** Captum's LayerActivation: the layer's values themselves (no target, no backward pass). */
export const layerActivation: Driver = {
  async attribute(ex: Explainer, x: OrtTensor, options: AttributeOptions) {
    const layer = layerOf(ex, options);
    const rowDims = x.dims.slice(1);
    ex.checkTensor(await ex.prepare(rowDims, options.onehotAxis), layer, 'layer');
    const values = await (await tensorsAt(ex, rowDims, [...new Set([...ex.outputNames, layer])], options.onehotAxis))(x);
    const outputs = Object.fromEntries(ex.outputNames.filter((name) => values[name]).map((name) => [name, values[name]]));
    return { attributions: values[layer], outputs, targets: [] };
  },
  async graph(ex: Explainer, rowDims: number[], options: AttributeOptions) {
    const layer = layerOf(ex, options);
    const prepared = await ex.prepare(rowDims, options.onehotAxis);
    ex.checkTensor(prepared, layer, 'layer');
    return exposeTensors(prepared.view.model, [layer]);
  },
};
