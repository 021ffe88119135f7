import { attrInt } from '../../rewriter/attributes';
import { normAxis } from '../op-forms';
import { RuleContext, RuleEntry } from '../types';

/** The one-to-one match of each y_j to its position in x, [.., k, n, ..] (see TopK below), and the axis. */
function topKPicks(ctx: RuleContext): { picks: string; axis: number } {
  const { em, node } = ctx;
  const [x, y] = [node.input![0], node.output![0]];
  const rank = ctx.shape(x).length;
  const axis = normAxis(ctx, attrInt(node, 'axis', -1), rank);
  const k = ctx.shape(y)[axis];
  const rows = em.unsqueeze(y, [axis + 1]);
  // Per y_j, how many of y_1 … y_j equal it, [.., k, 1, ..].
  const tieRank = () => {
    const earlier = Array.from({ length: k * k }, (_, i) => (i % k <= Math.floor(i / k) ? 1 : 0));
    const units = Array.from({ length: rank - 1 - axis }, () => 1);
    return em.reduceSum(em.mul(em.mask('Equal', rows, em.unsqueeze(y, [axis])), em.constFloat(earlier, [k, k, ...units])), [axis + 1]);
  };
  const hits = em.mask('Equal', rows, em.unsqueeze(x, [axis]));
  const picks = ctx.opset < 11 ? hits : em.mul(hits, em.mask('Equal', em.op('CumSum', [hits, em.constInt([axis + 1], [])]), tieRank()));
  return { picks, axis };
}

/** The values of an X-shaped tensor at each y_j's position in x (its own Values' shape). */
export function topKGather(ctx: RuleContext, v: string): string {
  const { picks, axis } = topKPicks(ctx);
  return ctx.em.reduceSum(ctx.em.mul(picks, ctx.em.unsqueeze(v, [axis])), [axis + 1], false);
}

/**
 * Values output: dX = Σ_j dY_j·P_ji along the axis, P the one-to-one match of each y_j to its
 * position in x, as the Indices output holds it: among the positions where x = y_j (the mask
 * Equal(y with a new axis after `axis`, x with one before it), [.., k, n, ..]) the r-th, r the rank
 * of j among the equal y's (ties come in index order, ONNX TopK-11). Tied values (zeros after a
 * ReLU under k-max pooling) then take one signal each, as a scatter at the indices does. Before opset 11
 * (no CumSum, no tie order) every tied position takes the signal.
 */
export const TopK: RuleEntry = {
  opType: 'TopK', since: 1, category: 'selection',
  rule: {
    backward(ctx, [dY]) {
      const { picks, axis } = topKPicks(ctx);
      return [ctx.em.reduceSum(ctx.em.mul(picks, ctx.em.unsqueeze(dY!, [axis + 1])), [axis], false), null];
    },
  },
};
