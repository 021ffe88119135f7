import { attrInt } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/**
 * Reverses the first L_b steps of each batch entry b: its own inverse, a per-entry permutation of
 * the time axis. dX[b, t] = Σ_s M[b, t, s]·dY[b, s] with M[b, t, s] = [s = src_b(t)],
 * src_b(t) = L_b − 1 − t for t < L_b, else t: built from seq_lens at run time in float ops
 * (ReverseSequence itself does not run on WebGPU).
 */
export const ReverseSequence: RuleEntry = {
  opType: 'ReverseSequence', since: 10, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [x, lens] = node.input!;
      const xs = ctx.shape(x);
      const timeMajor = attrInt(node, 'time_axis', 0) === 0;
      const steps = xs[timeMajor ? 0 : 1];
      const rest = xs.slice(2);
      const t = em.constFloat(Array.from({ length: steps }, (_, k) => k), [steps]);
      const length = em.unsqueeze(em.cast(lens, em.floatType), [1]);
      const inside = em.mask('Less', t, length);
      const src = em.add(t, em.mul(inside, em.sub(em.sub(length, em.scalar(1)), em.mul(t, em.scalar(2)))));
      const m = em.mask('Equal', em.unsqueeze(src, [2]), t);
      const batchFirst = timeMajor ? em.transpose(dY!, [1, 0, ...rest.map((_, k) => k + 2)]) : dY!;
      const size = rest.reduce((a, d) => a * d, 1);
      const moved = em.reshape(em.matmul(m, em.reshape(batchFirst, [-1, steps, size])), [-1, steps, ...rest]);
      return [timeMajor ? em.transpose(moved, [1, 0, ...rest.map((_, k) => k + 2)]) : moved, null];
    },
  },
};
