import { Emitter } from '../../rewriter/emitter';
import { RuleEntry } from '../types';

/**
 * cos x from WebGPU-native ops (Sin and Cos are not on the measured list): r = x − 2πk with
 * k = round(x/2π) = ⌊x/2π + ½⌋, then the Taylor series
 * of cos r on |r| ≤ π to r²⁰ (truncation error π²²/22! < 1e-10).
 */
export function cosine(em: Emitter, x: string): string {
  const k = em.floor(em.add(em.mul(x, em.scalar(1 / (2 * Math.PI))), em.scalar(0.5)));
  const r = em.sub(x, em.mul(k, em.scalar(2 * Math.PI)));
  const r2 = em.mul(r, r);
  // Horner: Σ_n (−1)ⁿ r²ⁿ/(2n)!, n = 0..10.
  let acc = em.scalar(1);
  for (let n = 10; n >= 1; n--) acc = em.add(em.scalar(1), em.mul(em.mul(r2, em.scalar(-1 / ((2 * n) * (2 * n - 1)))), acc));
  return acc;
}

/** dX = −dY·sin x = dY·cos(x + π/2). */
export const Cos: RuleEntry = {
  opType: 'Cos', since: 7, category: 'activation',
  rule: { backward: ({ em, node }, [dY]) => [em.mul(dY!, cosine(em, em.add(node.input![0], em.scalar(Math.PI / 2))))] },
};
