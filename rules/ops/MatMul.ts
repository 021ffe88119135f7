import { Emitter } from '../../rewriter/emitter';
import { RuleEntry } from '../types';

/** Swaps the last two axes. */
export function swapLast(em: Emitter, x: string, rank: number): string {
  return em.transpose(x, [...Array.from({ length: rank - 2 }, (_, k) => k), rank - 1, rank - 2]);
}

/**
 * numpy matmul: dA = dY·Bᵀ, dB = Aᵀ·dY on the last two axes. A 1-D A acts as [1, K] and a 1-D B as
 * [K, 1]; dY gets the axes they drop back, and each gradient is squeezed to the operand's matrix
 * axes. Batch axes stay broadcast; the walk sums them.
 */
export const MatMul: RuleEntry = {
  opType: 'MatMul', since: 1, category: 'weighted',
  rule: {
    broadcastInputs: 'all',
    backward(ctx, [dY]) {
      const { em, node, needsGrad } = ctx;
      const [a, b] = node.input!;
      const sa = ctx.shape(a);
      const sb = ctx.shape(b);
      const ra = sa.length;
      const rb = sb.length;
      const r = Math.max(ra, rb, 2);
      const g = em.unsqueeze(dY!, [...(ra === 1 ? [r - 2] : []), ...(rb === 1 ? [r - 1] : [])]);
      let dA: string | null = null;
      let dB: string | null = null;
      if (needsGrad(0)) {
        const bT = rb === 1 ? em.unsqueeze(b, [0]) : swapLast(em, b, rb);
        dA = em.squeeze(em.matmul(g, bT), ra === 1 ? [r - 2] : []);
      }
      if (needsGrad(1)) {
        const aT = ra === 1 ? em.unsqueeze(a, [1]) : swapLast(em, a, ra);
        dB = em.squeeze(em.matmul(aT, g), rb === 1 ? [r - 1] : []);
      }
      return [dA, dB];
    },
  },
};
