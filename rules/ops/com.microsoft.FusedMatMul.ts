import { attrFloat, attrInt } from '../../rewriter/attributes';
import { RuleEntry } from '../types';
import { swapLast } from './MatMul';

/** transBatch's reading of an operand of rank r: axes [1, …, r − 2, 0, r − 1] (the first axis moved behind the batch axes). */
const batchFirst = (r: number) => [...Array.from({ length: r - 2 }, (_, k) => k + 1), 0, r - 1];
const inverse = (perm: number[]) => perm.map((_, k) => perm.indexOf(k));

/**
 * Y = α·A'·B' with A' = transA ? Aᵀ : A (last two axes), B' likewise: dA' = α·dY·B'ᵀ and
 * dB' = α·A'ᵀ·dY, transposed back for a transposed operand. Batch axes broadcast as MatMul's (a
 * tied LM head's weight [V, H] against hidden states [B, S, H]); the walk sums them. transBatchA
 * (B) first moves A's first axis behind its batch axes, as onnxruntime's MatMul+Transpose fusion
 * writes a seq-first [L, N, d] operand; its gradient is moved back.
 */
export const MsFusedMatMul: RuleEntry = {
  opType: 'FusedMatMul', domain: 'com.microsoft', since: 1, category: 'weighted',
  rule: {
    broadcastInputs: 'all',
    backward(ctx, [dY]) {
      const { em, node, needsGrad } = ctx;
      const sy = ctx.shape(node.output![0]);
      const operand = (k: number, batched: number) => {
        const t = node.input![k];
        const s = ctx.shape(t);
        if (s.length < 2) ctx.fail('operands of rank 1 are not supported');
        if (!batched) return { t, s, back: (d: string) => d };
        const perm = batchFirst(s.length);
        const shape = perm.map((a) => s[a]);
        if (s.length !== sy.length || shape.slice(0, -2).some((d, j) => d !== sy[j])) ctx.fail(`transBatch${'AB'[k]} with broadcast batch axes is not supported`);
        return { t: em.transpose(t, perm), s: shape, back: (d: string) => em.transpose(d, inverse(perm)) };
      };
      const a = operand(0, attrInt(node, 'transBatchA', 0));
      const b = operand(1, attrInt(node, 'transBatchB', 0));
      const [tA, tB] = [attrInt(node, 'transA', 0), attrInt(node, 'transB', 0)];
      const alpha = attrFloat(node, 'alpha', 1);
      const g = alpha === 1 ? dY! : em.mul(dY!, em.scalar(alpha));
      const dA = needsGrad(0) ? em.matmul(g, tB ? b.t : swapLast(em, b.t, b.s.length)) : null;
      const dB = needsGrad(1) ? em.matmul(tA ? a.t : swapLast(em, a.t, a.s.length), g) : null;
      return [dA && a.back(tA ? swapLast(em, dA, sy.length) : dA), dB && b.back(tB ? swapLast(em, dB, sy.length) : dB)];
    },
  },
};
