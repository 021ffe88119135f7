import { attrFloat, attrInt } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/**
 * Y = α·A'·B' with A' = transA ? Aᵀ : A (last two axes), B' likewise: dA' = α·dY·B'ᵀ and
 * dB' = α·A'ᵀ·dY, transposed back for a transposed operand. Batch axes broadcast as MatMul's (a
 * tied LM head's weight [V, H] against hidden states [B, S, H]); the walk sums them.
 */
export const MsFusedMatMul: RuleEntry = {
  opType: 'FusedMatMul', domain: 'com.microsoft', since: 1, category: 'weighted',
  rule: {
    broadcastInputs: 'all',
    backward(ctx, [dY]) {
      const { em, node, needsGrad } = ctx;
      const [a, b] = node.input!;
      const [sa, sb, sy] = [ctx.shape(a), ctx.shape(b), ctx.shape(node.output![0])];
      if (attrInt(node, 'transBatchA', 0) || attrInt(node, 'transBatchB', 0)) ctx.fail('transBatchA/transBatchB are not supported');
      if (sa.length < 2 || sb.length < 2) ctx.fail('operands of rank 1 are not supported');
      const swap = (x: string, rank: number) => em.transpose(x, [...Array.from({ length: rank - 2 }, (_, k) => k), rank - 1, rank - 2]);
      const [tA, tB] = [attrInt(node, 'transA', 0), attrInt(node, 'transB', 0)];
      const alpha = attrFloat(node, 'alpha', 1);
      const g = alpha === 1 ? dY! : em.mul(dY!, em.scalar(alpha));
      const dA = needsGrad(0) ? em.matmul(g, tB ? b : swap(b, sb.length)) : null;
      const dB = needsGrad(1) ? em.matmul(tA ? a : swap(a, sa.length), g) : null;
      return [dA && tA ? swap(dA, sy.length) : dA, dB && tB ? swap(dB, sy.length) : dB];
    },
  },
};
