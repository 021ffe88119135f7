import { Method } from '../../rewriter/augment';
import { categoryTable, Decision } from '../registry';
import { BackwardRule, Category } from '../types';

/**
 * Guided backprop (FeatureVis Fig. 2): the signal passes Relu where x > 0 (⇔ y > 0) and the signal
 * > 0 — selected, not multiplied by a mask, so an infinite signal where y = 0 (Sqrt after Relu) gives 0 as PyTorch's.
 */
const guidedRelu: BackwardRule = {
  backward: ({ em, node }, [dY]) => {
    const zero = em.scalar(0);
    return [em.where(em.compare('Greater', node.output![0], zero), em.op('Relu', [dY!]), zero)];
  },
};

/** Deconvnet (FeatureVis Fig. 2): Relu of the backward signal itself, whatever x was. */
const deconvRelu: BackwardRule = {
  backward: ({ em }, [dY]) => [em.op('Relu', [dY!])],
};

/** Both methods differ from the gradient only at rectifiers (as Captum's, which override nn.ReLU). */
function atRectifiers(rule: BackwardRule): Record<Category, Decision> {
  return {
    shape: 'gradient', linear: 'gradient', weighted: 'gradient', product: 'gradient', activation: 'gradient',
    elementwise: 'gradient', selection: 'gradient', reduction: 'gradient', normalization: 'gradient', constant: 'gradient',
    rectifier: () => rule,
  };
}

export const guidedBackprop: Method<'guided-backprop'> = {
  name: 'guided-backprop', reference: false,
  table: categoryTable(atRectifiers(guidedRelu)),
  attribution: (_em, { grad }) => grad,
};

export const deconvnet: Method<'deconvnet'> = {
  name: 'deconvnet', reference: false,
  table: categoryTable(atRectifiers(deconvRelu)),
  attribution: (_em, { grad }) => grad,
};
