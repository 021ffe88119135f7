import { attrInt } from '../../rewriter/attributes';
import { gatherBack, strides } from '../op-forms';
import { gatherNDBackAt } from '../computed-indices';
import { RuleEntry } from '../types';

/**
 * out[b, q, rest] = x[b, indices[b, q, :], rest] (b: the first batch_dims axes): constant
 * indices give each output's source; computed ones a one-hot at run time.
 */
export const GatherND: RuleEntry = {
  opType: 'GatherND', since: 11, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const [x, indices] = ctx.node.input!;
      const xs = ctx.shape(x);
      const b = attrInt(ctx.node, 'batch_dims', 0);
      const idx = ctx.constant(indices);
      if (!idx) return [gatherNDBackAt(ctx, dY!, indices), null];
      const r = idx.dims[idx.dims.length - 1];
      const xStrides = strides(xs);
      const slice = xs.slice(b + r).reduce((p, d) => p * d, 1);
      const tuples = idx.values.length / r;
      const perBatch = tuples / xs.slice(0, b).reduce((p, d) => p * d, 1);
      const source: number[] = [];
      for (let t = 0; t < tuples; t++) {
        const batch = Math.floor(t / perBatch);
        let base = 0;
        for (let k = b - 1, rem = batch; k >= 0; k--) { base += (rem % xs[k]) * xStrides[k]; rem = Math.floor(rem / xs[k]); }
        for (let k = 0; k < r; k++) {
          const v = idx.values[t * r + k];
          base += (v < 0 ? v + xs[b + k] : v) * xStrides[b + k];
        }
        for (let e = 0; e < slice; e++) source.push(base + e);
      }
      return [gatherBack(ctx, dY!, source), null];
    },
  },
};
