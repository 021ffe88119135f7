import { attrInt } from '../../rewriter/attributes';
import { globalMaxPoolGather } from '../ops/GlobalMaxPool';
import { maxPoolGather } from '../ops/MaxPool';
import { reduceExtremumStuck } from '../ops/ReduceMax';
import { topKGather } from '../ops/TopK';
import { normAxis } from '../op-forms';
import { gradientOf } from '../registry';
import { BackwardRule, RuleContext, RuleEntry } from '../types';
import { delta, maximum, minimum } from './delta';
import { lookupTable } from '../../rewriter/lookup-table';

/** The selection node as the reference pass runs it (its inputs and outputs renamed to their reference tensors). */
function onReference(ctx: RuleContext): RuleContext {
  const { node } = ctx;
  const ref = { ...node, input: node.input!.map((x) => ctx.ref(x)), output: node.output!.map((y) => ctx.ref(y)) };
  return ctx.withNode(ref, Object.fromEntries([...node.input!, ...node.output!].map((t) => [ctx.ref(t), t])));
}

/** The op's gradient (a routing to the winners) of signal g, on x's winners or the reference's. */
function route(ctx: RuleContext, g: string, onRef: boolean): (string | null | undefined)[] {
  return gradientOf(ctx).backward(onRef ? onReference(ctx) : ctx, [g]);
}

/** Per selection op, the values of an X-shaped tensor at each output's winner on x. */
const GATHER: Record<string, (ctx: RuleContext, v: string) => string> = lookupTable({ MaxPool: maxPoolGather, GlobalMaxPool: globalMaxPoolGather, TopK: topKGather });

/** Per output, 1 where x's winner moved less than |δy| (δy = change), else 0; reductions split δy among tied winners: any of them. */
function stuckWinner(ctx: RuleContext, opType: string, dx: string, change: string): string {
  if (opType === 'ReduceMax' || opType === 'ReduceMin') return reduceExtremumStuck(ctx, dx, change);
  const gather = GATHER[opType] ?? ctx.fail(`the max rule knows no winners of ${opType}`);
  return ctx.em.mask('Less', ctx.em.op('Abs', [gather(ctx, dx)]), ctx.em.op('Abs', [change]));
}

/**
 * TopK's shares of δy (`[amount, on the reference's winners]`): a winner that moved less than its
 * share, possible for k > 1 where the reference's j-th winner is one of x's earlier ones that did
 * not move (x = [3, 1, 0.5], x⁰ = [3, 0, 5], k = 2: δy₂ = −4 at position 0, δx = 0), passes it to
 * the position of largest |δx| along the axis (split among ties), which moved at least as much:
 * sorting is 1-Lipschitz in the max norm, |δy_j| ≤ max |δx| (dx: δx of TopK's input).
 */
function topKRouted(ctx: RuleContext, dY: string, shares: [string, boolean][], dx: string): string {
  const { em, node } = ctx;
  const abs = (t: string) => em.op('Abs', [t]);
  const short = shares.map(([amount, onRef]) => em.mask('Less', abs(topKGather(onRef ? onReference(ctx) : ctx, dx)), abs(amount)));
  const kept = shares.map(([amount, onRef], k) => route(ctx, em.mul(dY, em.mul(amount, em.sub(em.scalar(1), short[k]))), onRef)[0]!);
  const axis = normAxis(ctx, attrInt(node, 'axis', -1), ctx.shape(node.input![0]).length);
  const moved = abs(dx);
  const largest = em.mask('Equal', moved, em.reduce('ReduceMax', moved, [axis]));
  const passed = em.reduceSum(em.mul(dY, em.sum(shares.map(([amount], k) => em.mul(amount, short[k])))), [axis]);
  return em.sum([...kept, em.mul(passed, em.div(largest, em.reduceSum(largest, [axis])))]);
}

/**
 * Max rule (DeepLIFT eq. 11) for the selection ops (MaxPool, ReduceMax, TopK, ...): the input that wins on x gets
 * all of δy, so m = route(dY·δy)/δx. Where that winner's |δx| is smaller than |δy| (only possible
 * when y < y⁰) its multiplier would exceed 1 — infinite at δx = 0 (a window of zeros after ReLU
 * whose reference is larger), and amplifying float32 rounding of δx otherwise — so that window's δy
 * goes to the reference's winner instead, whose |δx| ≥ |δy| (for TopK's later ranks, see
 * topKRouted); Σ C = δy stays exact. The gradient where x barely moved.
 * shapley: the rule of SHAP/Captum, where the reference's winner also gets its share:
 * x's winner gets max(y, y⁰) − y⁰ and x⁰'s winner y − max(y, y⁰) — min for a minimum (ReduceMin,
 * TopK with largest = 0), so that each share is at most its winner's |δx|.
 */
export function maxRule({ opType, rule: gradient }: RuleEntry): BackwardRule {
  return {
    broadcastInputs: gradient.broadcastInputs,
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const y = node.output![0];
      const y0 = ctx.ref(y);
      // δx of the selected input (the others are indices or axes), for the winners' moves and the multipliers.
      const x = node.input![0];
      const dx0 = delta(em, x, ctx.ref(x));
      let shares: [string, boolean][];
      if (ctx.options.maxpoolRule === 'shapley') {
        const smallest = opType === 'ReduceMin' || (opType === 'TopK' && attrInt(node, 'largest', 1) === 0);
        const upper = (smallest ? minimum : maximum)(em, y, y0);
        shares = [[em.sub(upper, y0), false], [em.sub(y, upper), true]];
      } else {
        const change = em.sub(y, y0);
        const stuck = stuckWinner(ctx, opType, dx0.dx, change);
        shares = [[em.mul(change, em.sub(em.scalar(1), stuck)), false], [em.mul(change, stuck), true]];
      }
      const routed = opType === 'TopK' ? [topKRouted(ctx, dY!, shares, dx0.dx)] : node.input!.map((_, i) => {
        const parts = shares.map(([amount, onRef]) => route(ctx, em.mul(dY!, amount), onRef)[i]).filter((g): g is string => !!g);
        return parts.length ? em.sum(parts) : null;
      });
      const plain = route(ctx, dY!, false);
      return node.input!.map((t, i) => {
        if (!ctx.needsGrad(i) || !routed[i]) return null;
        const { moved, dx } = i === 0 ? dx0 : delta(em, t, ctx.ref(t));
        return em.where(moved, em.div(routed[i]!, dx), plain[i]!);
      });
    },
  };
}
