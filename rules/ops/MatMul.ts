import { Emitter } from '../../rewriter/emitter';
import { RuleEntry } from '../types';

/** Swaps the last two axes. */
export function swapLast(em: Emitter, x: string, rank: number): string {
  return em.transpose(x, [...Array.from({ length: rank - 2 }, (_, k) => k), rank - 1, rank - 2]);
}

/**
 * numpy matmul's gradients of A (rank ra) and B (rank rb) where `needs` asks: dA = dY·Bᵀ,
 * dB = Aᵀ·dY on the last two axes. A 1-D A acts as [1, K] and a 1-D B as [K, 1]; dY gets the axes
 * they drop back, and each gradient is squeezed to the operand's matrix axes. Batch axes stay
 * broadcast; the walk sums them.
 */
export function matmulBack(em: Emitter, dY: string, [a, b]: string[], [ra, rb]: number[], needs: (i: number) => boolean): (string | null)[] {
  const r = Math.max(ra, rb, 2);
  const g = em.unsqueeze(dY, [...(ra === 1 ? [r - 2] : []), ...(rb === 1 ? [r - 1] : [])]);
  const dA = needs(0) ? em.squeeze(em.matmul(g, rb === 1 ? em.unsqueeze(b, [0]) : swapLast(em, b, rb)), ra === 1 ? [r - 2] : []) : null;
  const dB = needs(1) ? em.squeeze(em.matmul(ra === 1 ? em.unsqueeze(a, [1]) : swapLast(em, a, ra), g), rb === 1 ? [r - 1] : []) : null;
  return [dA, dB];
}

export const MatMul: RuleEntry = {
  opType: 'MatMul', since: 1, category: 'weighted',
  rule: {
    broadcastInputs: 'all',
    backward(ctx, [dY]) {
      const inputs = ctx.node.input!;
      return matmulBack(ctx.em, dY!, inputs, inputs.map((t) => ctx.shape(t).length), ctx.needsGrad);
    },
  },
};
