import { Method } from '../../rewriter/augment';
import { gradientRules } from '../registry';
import { BackwardRule } from '../types';

/** Guided backprop (FeatureVis Fig. 2): the signal passes Relu where x > 0 (⇔ y > 0) and the signal > 0. */
const guidedRelu: BackwardRule = {
  backward: ({ em, node }, [dY]) => [em.mul(em.op('Relu', [dY!]), em.mask('Greater', node.output![0], em.scalar(0)))],
};

/** Deconvnet (FeatureVis Fig. 2): Relu of the backward signal itself, whatever x was. */
const deconvRelu: BackwardRule = {
  backward: ({ em }, [dY]) => [em.op('Relu', [dY!])],
};

export const guidedBackprop: Method = {
  name: 'guided-backprop', reference: false,
  table: gradientRules.override([{ opType: 'Relu', since: 1, rule: guidedRelu }]),
  attribution: (_em, { grad }) => grad,
};

export const deconvnet: Method = {
  name: 'deconvnet', reference: false,
  table: gradientRules.override([{ opType: 'Relu', since: 1, rule: deconvRelu }]),
  attribution: (_em, { grad }) => grad,
};
