import { attrFloat, hasAttr } from '../../rewriter/attributes';
import { Emitter } from '../../rewriter/emitter';
import { gradientOf } from '../registry';
import { BackwardRule, RuleContext } from '../types';
import { delta } from './delta';
import { rescale } from './rescale';
import { lookupTable } from '../../rewriter/lookup-table';

/** A tensor on the input pass and the reference pass. */
interface Pair { x: string; x0: string }

/**
 * One step of a pairwise extremum, acc' = acc + s·relu(s·(p − acc)) (s = 1: max(acc, p), s = −1:
 * min(acc, p)), decomposed exactly: linear parts and the rescale rule m = δrelu(d)/δd for the
 * relu, d = s·(p − acc) (its derivative at the midpoint where d barely moved). Then m_p = m and
 * m_acc = 1 − m, and m_acc·δacc + m_p·δp = δacc'. Symmetric: max(p, acc) gives the same multipliers.
 */
function extremumStep(em: Emitter, acc: Pair, p: Pair, s: number): { next: Pair; m: string } {
  const d = (a: string, b: string) => (s > 0 ? em.sub(b, a) : em.sub(a, b));
  const [dx, dx0] = [d(acc.x, p.x), d(acc.x0, p.x0)];
  const [r, r0] = [em.op('Relu', [dx]), em.op('Relu', [dx0])];
  const { moved, dx: dd } = delta(em, dx, dx0);
  const m = em.where(moved, em.div(em.sub(r, r0), dd), em.mask('Greater', em.add(dx, dx0), em.scalar(0)));
  const step = (a: string, relu: string) => (s > 0 ? em.add(a, relu) : em.sub(a, relu));
  return { next: { x: step(acc.x, r), x0: step(acc.x0, r0) }, m };
}

/**
 * Multipliers of a chain of extremum steps over operands ps (signs ss[k] for step k, combining
 * ps[k + 1]): forward on both passes, then the chain rule backward from g.
 */
function extremumChain(em: Emitter, ps: Pair[], ss: number[], g: string): string[] {
  let acc = ps[0];
  const ms: string[] = [];
  ps.slice(1).forEach((p, k) => {
    const { next, m } = extremumStep(em, acc, p, ss[k]);
    ms.push(m);
    acc = next;
  });
  const grads: string[] = [];
  let G = g;
  for (let k = ms.length - 1; k >= 0; k--) {
    grads[k + 1] = em.mul(G, ms[k]);
    G = em.mul(G, em.sub(em.scalar(1), ms[k]));
  }
  grads[0] = G;
  return grads;
}

const pair = (ctx: RuleContext, t: string): Pair => ({ x: t, x0: ctx.ref(t) });

/** Max/Min of activations: a fold of exact pairwise steps (constant operands take part with δ = 0). */
function extremum(s: number): BackwardRule {
  return {
    broadcastInputs: 'all',
    backward(ctx, [dY]) {
      const inputs = ctx.node.input!;
      const grads = extremumChain(ctx.em, inputs.map((t) => pair(ctx, t)), inputs.slice(1).map(() => s), dY!);
      return inputs.map((_, i) => (ctx.needsGrad(i) ? grads[i] : null));
    },
  };
}

/** Clip with input-dependent bounds: min(max(x, lo), hi), each bound a step when present. */
const clip: BackwardRule = {
  broadcastInputs: 'all',
  backward(ctx, [dY]) {
    const { em, node, opset } = ctx;
    const bound = (name: string, i: number): string | undefined => {
      if (opset >= 11) return node.input![i] || undefined;
      return hasAttr(node, name) ? em.scalar(attrFloat(node, name, 0)) : undefined;
    };
    const present = [[bound('min', 1), 1, 1], [bound('max', 2), -1, 2]].filter((b): b is [string, number, number] => !!b[0]);
    const grads = extremumChain(em, [pair(ctx, node.input![0]), ...present.map(([t]) => pair(ctx, t))], present.map(([, s]) => s), dY!);
    const out: (string | null)[] = [ctx.needsGrad(0) ? grads[0] : null, null, null];
    present.forEach(([, , i], k) => { if (ctx.needsGrad(i)) out[i] = grads[k + 1]; });
    return out;
  },
};

/**
 * Where(c, a, b) with c computed from the input (its values, or only its shape): where c keeps
 * its value on both passes, the selected branch gets m = 1. Where it flips (c ≠ c⁰), δy = a − b⁰
 * (or b − a⁰) goes whole to the branch that moved more, m = δy/δ(branch); only if both barely
 * moved does it keep the gradient's routing (δy is then not attributed).
 */
const where: BackwardRule = {
  broadcastInputs: 'all',
  backward(ctx, [dY]) {
    const { em, node } = ctx;
    const [c, a, b] = node.input!;
    const y = node.output![0];
    const [s, s0] = [em.cast(c, em.floatType), em.cast(ctx.ref(c), em.floatType)];
    const flip = em.op('Abs', [em.sub(s, s0)]);
    const dy = em.sub(y, ctx.ref(y));
    const [da, db] = [delta(em, a, ctx.ref(a)), delta(em, b, ctx.ref(b))];
    const useA = em.mask('GreaterOrEqual', em.op('Abs', [da.dx]), em.op('Abs', [db.dx]));
    const toA = em.compare('Greater', em.mul(em.mul(flip, useA), em.cast(da.moved, em.floatType)), em.scalar(0.5));
    const toB = em.compare('Greater', em.mul(em.mul(flip, em.sub(em.scalar(1), useA)), em.cast(db.moved, em.floatType)), em.scalar(0.5));
    const zero = em.scalar(0);
    const mA = em.where(toA, em.div(dy, da.dx), em.where(toB, zero, s));
    const mB = em.where(toB, em.div(dy, db.dx), em.where(toA, zero, em.sub(em.scalar(1), s)));
    return [null, ctx.needsGrad(1) ? em.mul(dY!, mA) : null, ctx.needsGrad(2) ? em.mul(dY!, mB) : null];
  },
};

const MULTI: Record<string, BackwardRule> = lookupTable({ Max: extremum(1), Min: extremum(-1), Clip: clip, Where: where });

/**
 * Element-wise ops: with one activation operand (Max(x, c), Pow(x, c), Clip with constant bounds)
 * the rescale rule; with several, the op's exact decomposition; Where by its condition.
 */
export function elementwise(opType: string): BackwardRule {
  return {
    broadcastInputs: 'all',
    backward(ctx, dY) {
      // Where with a condition that does not depend on the input selects linearly (δy = δa or δb):
      // the gradient's routing. Otherwise its own rule, also with one activation operand: rescale's
      // δy/δx would be NaN where a branch holds the same −Inf on both passes (masked attention scores).
      if (opType === 'Where') return (ctx.ref(ctx.node.input![0]) === ctx.node.input![0] ? gradientOf(ctx) : where).backward(ctx, dY);
      const active = ctx.node.input!.filter((_, i) => ctx.needsGrad(i)).length;
      if (active <= 1) return rescale.backward(ctx, dY);
      const multi = MULTI[opType] ?? ctx.fail(`DeepLIFT has no rule for ${opType} of ${active} activations (only one operand may depend on the explained input)`);
      return multi.backward(ctx, dY);
    },
  };
}
