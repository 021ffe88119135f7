import { Method } from '../../rewriter/augment';
import { bilinear } from '../deeplift/bilinear';
import { deepliftDiv } from '../deeplift/Div';
import { deepliftLRN } from '../deeplift/LRN';
import { maxRule } from '../deeplift/max';
import { deepliftInstanceNormalization, deepliftLayerNormalization } from '../deeplift/normalization';
import { rescale } from '../deeplift/rescale';
import { deepliftSoftmax } from '../deeplift/Softmax';
import { gradientRules } from '../registry';
import { BackwardRule, RuleEntry } from '../types';

/** Element-wise nonlinearities: rescale rule m = δy/δx. */
const RESCALED = [
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Clip',
  'Softplus', 'Erf', 'Exp', 'Log', 'Sqrt', 'Pow', 'Abs', 'Reciprocal',
];

const entry = (opType: string, rule: BackwardRule): RuleEntry => ({ opType, since: 1, rule });

/**
 * DeepLIFT (Shrikumar et al. 2016): multipliers through the chain rule. Linear ops keep their
 * gradient (m = w); these entries override the nonlinear ones. Attribution = m·(x − x⁰).
 */
export const deeplift: Method = {
  name: 'deeplift',
  reference: true,
  table: gradientRules.override([
    ...RESCALED.map((op) => entry(op, rescale)),
    ...['Mul', 'MatMul', 'Gemm'].map((op) => entry(op, bilinear(op))),
    ...['MaxPool', 'GlobalMaxPool', 'Max', 'Min'].map((op) => entry(op, maxRule(op, op !== 'Min' && op !== 'Max'))),
    entry('Div', deepliftDiv),
    entry('Softmax', deepliftSoftmax),
    entry('LRN', deepliftLRN),
    entry('LayerNormalization', deepliftLayerNormalization),
    entry('InstanceNormalization', deepliftInstanceNormalization),
  ]),
  attribution: (em, { grad, input, baseline }) => em.mul(grad, em.sub(input, baseline!)),
  explained: (em, { from, fromRef }) => em.sub(from, fromRef!),
};
