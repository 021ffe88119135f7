import { attrInt } from '../../rewriter/attributes';
import { FLOAT8_TYPES } from '../../rewriter/proto';
import { Cast } from '../ops/Cast';
import { BackwardRule } from '../types';
import { rescale } from './rescale';

/**
 * Cast under DeepLIFT: a cast to float8 rounds coarsely (three mantissa bits for E4M3), so it is an
 * element-wise function of x with the rescale rule, m = δy/δx, and summation to delta holds through
 * it; other casts keep their gradient (exact, or an identity).
 */
export const deepliftCast: BackwardRule = {
  broadcastInputs: 'all',
  backward: (ctx, dY) => (FLOAT8_TYPES.has(attrInt(ctx.node, 'to', 0)) ? rescale : Cast.rule).backward(ctx, dY),
};
