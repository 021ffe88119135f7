import { attrFloat, attrInt } from '../../rewriter/attributes';
import { Attrs, float } from '../../rewriter/emitter';
import { RuleEntry } from '../types';

/** Y = α·A'·B' + β·C with A' = transA ? Aᵀ : A, B' likewise. */
export const Gemm: RuleEntry = {
  opType: 'Gemm', since: 1,
  rule: {
    broadcastInputs: [2],
    backward({ em, node, needsGrad, opset }, [dY]) {
      const [a, b] = node.input!;
      // C is optional from opset 11; before, a broadcast scalar 0 stands in.
      const gemm = (x: string, y: string, attrs: Attrs) => em.op('Gemm', opset < 11 ? [x, y, em.scalar(0)] : [x, y], attrs);
      const alpha = attrFloat(node, 'alpha', 1);
      const beta = attrFloat(node, 'beta', 1);
      const tA = attrInt(node, 'transA', 0);
      const tB = attrInt(node, 'transB', 0);
      // dA' = α·dY·B'ᵀ, dB' = α·A'ᵀ·dY; a transposed operand gets the transposed product.
      const dA = !needsGrad(0) ? null : tA
        ? gemm(b, dY!, { alpha: float(alpha), transA: tB, transB: 1 })
        : gemm(dY!, b, { alpha: float(alpha), transB: tB ? 0 : 1 });
      const dB = !needsGrad(1) ? null : tB
        ? gemm(dY!, a, { alpha: float(alpha), transA: 1, transB: tA })
        : gemm(a, dY!, { alpha: float(alpha), transA: tA ? 0 : 1 });
      const dC = needsGrad(2) ? (beta === 1 ? dY : em.mul(dY!, em.scalar(beta))) : null;
      return [dA, dB, dC];
    },
  },
};
