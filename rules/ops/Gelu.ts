import { attrString } from '../../rewriter/attributes';
import { Emitter } from '../../rewriter/emitter';
import { RuleEntry } from '../types';
import { sigmoidParts } from './Sigmoid';

const TWO_SQRT_2_OVER_PI = 2 * Math.sqrt(2 / Math.PI);

/**
 * d/dx of x·Φ(x): Φ(x) + x·φ(x) (erf form); with approximate 'tanh', y = ½x(1 + tanh u) = x·σ(2u),
 * u = √(2/π)(x + 0.044715x³): σ(2u) + 2x·σ′(2u)·√(2/π)(1 + 3·0.044715x²) (σ and σ′ as
 * in Sigmoid, which keep their digits where tanh u rounds to ±1).
 */
export function geluGrad(em: Emitter, x: string, tanh: boolean): string {
  const x2 = em.mul(x, x);
  if (!tanh) {
    const cdf = em.mul(em.scalar(0.5), em.add(em.scalar(1), em.op('Erf', [em.mul(x, em.scalar(Math.SQRT1_2))])));
    const pdf = em.mul(em.scalar(1 / Math.sqrt(2 * Math.PI)), em.op('Exp', [em.mul(x2, em.scalar(-0.5))]));
    return em.add(cdf, em.mul(x, pdf));
  }
  const twoU = em.mul(em.scalar(TWO_SQRT_2_OVER_PI), em.add(x, em.mul(em.scalar(0.044715), em.mul(x2, x))));
  const s = sigmoidParts(em, twoU);
  const du = em.mul(em.scalar(TWO_SQRT_2_OVER_PI), em.add(em.scalar(1), em.mul(em.scalar(3 * 0.044715), x2)));
  return em.add(s.sigmoid, em.mul(x, em.mul(s.slope, du)));
}

export const Gelu: RuleEntry = {
  opType: 'Gelu', since: 20, category: 'activation',
  rule: { backward: ({ em, node }, [dY]) => [em.mul(dY!, geluGrad(em, node.input![0], attrString(node, 'approximate', 'none') === 'tanh'))] },
};
