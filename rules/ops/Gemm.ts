import { attrFloat, attrInt } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/**
 * Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A, B' likewise: dA' = α·dY·B'ᵀ, dB' = α·A'ᵀ·dY, and a
 * transposed operand gets the transposed product. Emitted as MatMul (Gemm with a C input aborts
 * the WebGPU EP for wider outputs, and before opset 11 Gemm needs C).
 */
export const Gemm: RuleEntry = {
  opType: 'Gemm', since: 1, category: 'weighted',
  rule: {
    broadcastInputs: [2],
    backward({ em, node, needsGrad }, [dY]) {
      const [a, b] = node.input!;
      const alpha = attrFloat(node, 'alpha', 1);
      const beta = attrFloat(node, 'beta', 1);
      const tA = attrInt(node, 'transA', 0);
      const tB = attrInt(node, 'transB', 0);
      const t = (x: string) => em.transpose(x, [1, 0]);
      const scaled = (x: string, s: number) => (s === 1 ? x : em.mul(x, em.scalar(s)));
      const dA = !needsGrad(0) ? null : scaled(tA ? em.matmul(tB ? t(b) : b, t(dY!)) : em.matmul(dY!, tB ? b : t(b)), alpha);
      const dB = !needsGrad(1) ? null : scaled(tB ? em.matmul(t(dY!), tA ? t(a) : a) : em.matmul(tA ? a : t(a), dY!), alpha);
      const dC = needsGrad(2) ? scaled(dY!, beta) : null;
      return [dA, dB, dC];
    },
  },
};
