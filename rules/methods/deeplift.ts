import { Method } from '../../rewriter/augment';
import { bilinear } from '../deeplift/bilinear';
import { deepliftCast } from '../deeplift/cast';
import { deepliftDiv } from '../deeplift/Div';
import { elementwise } from '../deeplift/elementwise';
import { deepliftGather, deepliftGatherElements, deepliftGatherND, deepliftGridSample, deepliftScatter, deepliftScatterElements } from '../deeplift/gather';
import { deepliftLRN } from '../deeplift/LRN';
import { deepliftMul } from '../deeplift/Mul';
import { deepliftQuantize } from '../deeplift/quantize';
import { maxRule } from '../deeplift/max';
import { deepliftBatchNormalization, deepliftInstanceNormalization, deepliftLayerNormalization } from '../deeplift/normalization';
import { deepliftGroupNormalization, deepliftLpNormalization, deepliftSkipLayerNormalization } from '../deeplift/norms';
import { deepliftLpPool } from '../deeplift/lp-pool';
import { deepliftReduceL1, deepliftReduceL2, deepliftReduceLogSum, deepliftReduceProd, deepliftReduceSumSquare } from '../deeplift/reduction';
import { rescale } from '../deeplift/rescale';
import { deepliftLogSoftmax, deepliftReduceLogSumExp, deepliftSoftmax } from '../deeplift/Softmax';
import { DequantizeLinear } from '../ops/DequantizeLinear';
import { Mul } from '../ops/Mul';
import { categoryTable, opKey } from '../registry';
import { BackwardRule, RuleEntry } from '../types';
import { lookupTable } from '../../rewriter/lookup-table';

/** Exact decompositions of the ops whose category has no common DeepLIFT rule (normalisations, reductions, Div, Mul by a reciprocal, quantizers and float8 casts, gathers at computed indices). */
const EXACT: Record<string, BackwardRule> = lookupTable({
  Div: deepliftDiv,
  Softmax: deepliftSoftmax,
  LogSoftmax: deepliftLogSoftmax,
  LRN: deepliftLRN,
  LayerNormalization: deepliftLayerNormalization,
  InstanceNormalization: deepliftInstanceNormalization,
  // Linear in inference mode; in training mode (batch statistics) a normalisation.
  BatchNormalization: deepliftBatchNormalization,
  ReduceLogSumExp: deepliftReduceLogSumExp,
  ReduceLogSum: deepliftReduceLogSum,
  ReduceSumSquare: deepliftReduceSumSquare,
  ReduceL1: deepliftReduceL1,
  ReduceL2: deepliftReduceL2,
  ReduceProd: deepliftReduceProd,
  LpPool: deepliftLpPool,
  GlobalLpPool: deepliftLpPool,
  GroupNormalization: deepliftGroupNormalization,
  LpNormalization: deepliftLpNormalization,
  'com.microsoft.SkipLayerNormalization': deepliftSkipLayerNormalization,
  QuantizeLinear: deepliftQuantize,
  Cast: deepliftCast,
  // Linear in q given its scale (δu/δq = s with a constant scale; deepliftQuantize with a computed one).
  DequantizeLinear: DequantizeLinear.rule,
  Gather: deepliftGather,
  GatherElements: deepliftGatherElements,
  GatherND: deepliftGatherND,
  ScatterND: deepliftScatter,
  ScatterElements: deepliftScatterElements,
  MaxUnpool: deepliftScatter,
  GridSample: deepliftGridSample,
  'com.microsoft.GridSample': deepliftGridSample,
  // The product rule, or Div's product split for a Mul by a reciprocal (RMSNorm).
  Mul: deepliftMul(bilinear(Mul)),
});

const exact = (e: RuleEntry): BackwardRule | undefined => EXACT[opKey(e.opType, e.domain)];

/**
 * DeepLIFT (Shrikumar et al. 2016): multipliers through the chain rule, one rule per op category.
 * Linear and shape ops keep their gradient (m = w); attribution = m·(x − x⁰).
 */
export const deeplift: Method<'deeplift'> = {
  name: 'deeplift',
  reference: true,
  multipliesByInputs: true,
  table: categoryTable({
    shape: (e) => exact(e) ?? e.rule,
    linear: (e) => exact(e) ?? e.rule,
    constant: 'gradient',
    weighted: (e) => exact(e) ?? bilinear(e),
    product: (e) => exact(e) ?? bilinear(e),
    rectifier: () => rescale,
    activation: (e) => exact(e) ?? rescale,
    elementwise: (e) => elementwise(opKey(e.opType, e.domain)),
    selection: maxRule,
    reduction: exact,
    normalization: exact,
  }),
  attribution: (em, { grad, input, baseline }) => em.mul(grad, em.sub(input, baseline!)),
  explained: (em, { from, fromRef }) => em.sub(from, fromRef!),
};
