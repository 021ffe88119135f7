import { globalMaxPoolGather } from '../ops/GlobalMaxPool';
import { maxPoolGather } from '../ops/MaxPool';
import { reduceExtremumStuck } from '../ops/ReduceMax';
import { topKGather } from '../ops/TopK';
import { gradientOf } from '../registry';
import { BackwardRule, RuleContext, RuleEntry } from '../types';
import { delta, maximum } from './delta';
import { lookupTable } from '../../rewriter/lookup-table';

/** The op's gradient (a routing to the winners) of signal g, optionally on the reference pass. */
function route(ctx: RuleContext, g: string, onReference: boolean): (string | null | undefined)[] {
  const { node } = ctx;
  const rule = gradientOf(ctx);
  if (!onReference) return rule.backward(ctx, [g]);
  const ref = { ...node, input: node.input!.map((x) => ctx.ref(x)), output: node.output!.map((y) => ctx.ref(y)) };
  const aliases = Object.fromEntries([...node.input!, ...node.output!].map((t) => [ctx.ref(t), t]));
  return rule.backward(ctx.withNode(ref, aliases), [g]);
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
 * Max rule (DeepLIFT eq. 11) for the selection ops (MaxPool, ReduceMax, TopK, ...): the input that wins on x gets
 * all of δy, so m = route(dY·δy)/δx. Where that winner's |δx| is smaller than |δy| (only possible
 * when y < y⁰) its multiplier would exceed 1 — infinite at δx = 0 (a window of zeros after ReLU
 * whose reference is larger), and amplifying float32 rounding of δx otherwise — so that window's δy
 * goes to the reference's winner instead, whose |δx| ≥ |δy|; Σ C = δy stays exact. The gradient
 * where x barely moved.
 * shapley: the rule of SHAP/Captum, where the reference's winner also gets its share:
 * x's winner gets max(y, y⁰) − y⁰ and x⁰'s winner y − max(y, y⁰).
 */
export function maxRule({ opType, rule: gradient }: RuleEntry): BackwardRule {
  return {
    broadcastInputs: gradient.broadcastInputs,
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const y = node.output![0];
      const y0 = ctx.ref(y);
      const shapley = ctx.options.maxpoolRule === 'shapley';
      let routed: (string | null | undefined)[];
      if (shapley) {
        const upper = maximum(em, y, y0);
        const onX = route(ctx, em.mul(dY!, em.sub(upper, y0)), false);
        const onRef = route(ctx, em.mul(dY!, em.sub(y, upper)), true);
        routed = onX.map((g, i) => (g && onRef[i] ? em.add(g, onRef[i]!) : g));
      } else {
        const x = node.input![0];
        const change = em.sub(y, y0);
        const stuck = stuckWinner(ctx, opType, delta(em, x, ctx.ref(x)).dx, change);
        const share = em.mul(dY!, change);
        const onX = route(ctx, em.mul(share, em.sub(em.scalar(1), stuck)), false)[0]!;
        routed = [em.add(onX, route(ctx, em.mul(share, stuck), true)[0]!)];
      }
      const plain = route(ctx, dY!, false);
      return node.input!.map((x, i) => {
        if (!ctx.needsGrad(i) || !routed[i]) return null;
        const { moved, dx } = delta(em, x, ctx.ref(x));
        return em.where(moved, em.div(routed[i]!, dx), plain[i]!);
      });
    },
  };
}
