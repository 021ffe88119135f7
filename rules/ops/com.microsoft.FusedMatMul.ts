import { attrFloat, attrInt } from '../../rewriter/attributes';
import { RuleContext, RuleEntry } from '../types';
import { matmulBack, swapLast } from './MatMul';

/** transBatch's reading of an operand of rank r: axes [1, …, r − 2, 0, r − 1] (the first axis moved behind the batch axes). */
const batchFirst = (r: number) => [...Array.from({ length: r - 2 }, (_, k) => k + 1), 0, r - 1];
const inverse = (perm: number[]) => perm.map((_, k) => perm.indexOf(k));

/**
 * A 1-D operand (onnxruntime's MatMul+Mul fusion of h·w·s, w [K]): MatMul's gradients of the
 * operands as the product reads them, the other one transposed back where its trans flag says; a
 * 1-D operand's flag has nothing to swap.
 */
function vectorOperand(ctx: RuleContext, dY: string, ranks: number[]): (string | null)[] {
  const { em, node } = ctx;
  if (attrInt(node, 'transBatchA', 0) || attrInt(node, 'transBatchB', 0)) ctx.fail('transBatch with an operand of rank 1 is not supported');
  // onnxruntime 1.30 reads such an A [.., K, M] as [.., M, K] (its memory reshaped, not transposed).
  if (ranks[1] === 1 && ranks[0] > 1 && attrInt(node, 'transA', 0)) ctx.fail('transA with a 1-D B is not supported (onnxruntime reshapes A rather than transposing it)');
  const swapped = [attrInt(node, 'transA', 0), attrInt(node, 'transB', 0)].map((t, k) => t === 1 && ranks[k] > 1);
  const read = node.input!.map((t, k) => (swapped[k] ? swapLast(em, t, ranks[k]) : t));
  const alpha = attrFloat(node, 'alpha', 1);
  const grads = matmulBack(em, alpha === 1 ? dY : em.mul(dY, em.scalar(alpha)), read, ranks, ctx.needsGrad);
  return grads.map((g, k) => (g && swapped[k] ? swapLast(em, g, ranks[k]) : g));
}

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
      const [ra, rb] = [0, 1].map((k) => ctx.shape(node.input![k]).length);
      if (ra === 1 || rb === 1) return vectorOperand(ctx, dY!, [ra, rb]);
      const operand = (k: number, batched: number) => {
        const t = node.input![k];
        const s = ctx.shape(t);
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
