import { attrFloat, attrInt } from '../../rewriter/attributes';
import { Emitter } from '../../rewriter/emitter';
import { RuleContext, RuleEntry } from '../types';

/** LRN's attributes and a channel-window sum (a ones-kernel Conv over the channel axis). */
export function lrnParts(ctx: RuleContext) {
  const { em, node } = ctx;
  const x = node.input![0];
  const shape = ctx.shape(x);
  const size = attrInt(node, 'size', 1);
  const alpha = attrFloat(node, 'alpha', 1e-4);
  const beta = attrFloat(node, 'beta', 0.75);
  const bias = attrFloat(node, 'bias', 1);
  const before = Math.floor((size - 1) / 2);
  const after = Math.ceil((size - 1) / 2);
  const ones = em.constFloat(Array(size).fill(1), [1, 1, size, 1]);
  // Σ over channels c − before … c + after (spec); `adjoint` swaps the sides (the transposed sum).
  const windowSum = (v: string, adjoint = false) => {
    const pads = adjoint ? [after, 0, before, 0] : [before, 0, after, 0];
    const summed = em.op('Conv', [em.reshape(v, [-1, 1, shape[1], shape.slice(2).reduce((a, b) => a * b, 1)]), ones], { strides: [1, 1], dilations: [1, 1], pads, group: 1 });
    return ctx.reshapeLike(summed, x);
  };
  // d = bias + α/size · Σ x² (the denominator's base).
  const base = (v: string) => em.add(em.scalar(bias), em.mul(em.scalar(alpha / size), windowSum(em.mul(v, v))));
  return { x, size, alpha, beta, windowSum, base };
}

/** d^p for a positive base d. */
export function power(em: Emitter, d: string, p: number): string {
  return em.op('Pow', [d, em.scalar(p)]);
}

/**
 * y = x·d^−β, d = bias + α/size·Σ_window x²:
 * dX = dY·d^−β − (2αβ/size)·x·Σ_adjoint(dY·x·d^−β−1).
 */
export const LRN: RuleEntry = {
  opType: 'LRN', since: 1, category: 'normalization',
  rule: {
    backward(ctx, [dY]) {
      const { em } = ctx;
      const { x, size, alpha, beta, windowSum, base } = lrnParts(ctx);
      const d = base(x);
      const direct = em.mul(dY!, power(em, d, -beta));
      const spread = windowSum(em.mul(em.mul(dY!, x), power(em, d, -beta - 1)), true);
      return [em.sub(direct, em.mul(em.scalar((2 * alpha * beta) / size), em.mul(x, spread)))];
    },
  },
};
