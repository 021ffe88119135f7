import { Emitter } from '../../rewriter/emitter';
import { RuleEntry } from '../types';

/** Swaps the last two axes. */
export function swapLast(em: Emitter, x: string, rank: number): string {
  return em.transpose(x, [...Array.from({ length: rank - 2 }, (_, k) => k), rank - 1, rank - 2]);
}

/**
 * The walk reads a broadcast gradient against the output's axes. With a 1-D operand on one side the
 * other operand has one axis more than the output; its (already operand-shaped) gradient is then
 * summed wrongly over axis k when the operand's axis k+1 is 1 and axis k is not.
 */
function walkMisreads(out: number[], operand: number[]): boolean {
  const lead = out.length - operand.length;
  return lead < 0 && out.some((d, k) => operand[k - lead] === 1 && d !== 1 && operand[k] !== 1);
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
      const sy = ctx.shape(node.output![0]);
      const ra = sa.length;
      const rb = sb.length;
      const r = Math.max(ra, rb, 2);
      const g = em.unsqueeze(dY!, [...(ra === 1 ? [r - 2] : []), ...(rb === 1 ? [r - 1] : [])]);
      let dA: string | null = null;
      let dB: string | null = null;
      if (needsGrad(0)) {
        if (walkMisreads(sy, sa)) ctx.fail(`gradient of A ${JSON.stringify(sa)} with a 1-D B is not supported when A has a unit axis after a non-unit one`);
        const bT = rb === 1 ? em.unsqueeze(b, [0]) : swapLast(em, b, rb);
        dA = em.squeeze(em.matmul(g, bT), ra === 1 ? [r - 2] : []);
      }
      if (needsGrad(1)) {
        if (walkMisreads(sy, sb)) ctx.fail(`gradient of B ${JSON.stringify(sb)} with a 1-D A is not supported when B has a unit axis after a non-unit one`);
        const aT = ra === 1 ? em.unsqueeze(a, [1]) : swapLast(em, a, ra);
        dB = em.squeeze(em.matmul(aT, g), rb === 1 ? [r - 1] : []);
      }
      return [dA, dB];
    },
  },
};
