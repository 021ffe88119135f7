import { Emitter } from '../../rewriter/emitter';
import { expOfNegativePart } from '../op-forms';
import { RuleEntry } from '../types';

/**
 * σ(x) = exp(min(x, 0))·r and σ′(x) = e·r², e = exp(−|x|), r = 1/(1 + e), each to float precision:
 * Y·(1 − Y) cancels once σ(x) rounds to 1 (0 past x ≈ 17), and onnxruntime's CPU Sigmoid is 0
 * below x = −18 (twice too large at −17). The walk drops the part a rule leaves unread.
 */
export function sigmoidParts(em: Emitter, x: string): { sigmoid: string; slope: string } {
  const e = em.op('Exp', [em.neg(em.op('Abs', [x]))]);
  const r = em.div(em.scalar(1), em.add(em.scalar(1), e));
  return {
    sigmoid: em.mul(expOfNegativePart(em, x), r),
    slope: em.mul(e, em.mul(r, r)),
  };
}

/** dX = dY·σ′(X). */
export const Sigmoid: RuleEntry = {
  opType: 'Sigmoid', since: 1, category: 'activation',
  rule: {
    backward: ({ em, node }, [dY]) => [em.mul(dY!, sigmoidParts(em, node.input![0]).slope)],
  },
};
