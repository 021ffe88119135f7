import { Method } from '../../rewriter/augment';
import { attrFloat, attrInt, hasAttr } from '../../rewriter/attributes';
import { GraphView } from '../../rewriter/graph-view';
import type { NodeProto } from '../../rewriter/proto';
import { multiplies, normAxis, reduceAxes } from '../op-forms';
import { categoryTable, gradientOf } from '../registry';
import { BackwardRule, RuleContext, RuleEntry } from '../types';
import { perChannel, statisticsAxes, trainingMode } from '../ops/BatchNormalization';
import { COMPOSITES, compositeRule, LrpLayerRule, ruleOverride } from './lrp-composites';
import { biasAfter, epsilonOf, flatRule, gammaRule, isBiasAdd, layerRule, shareOf, signParts, stabilize, stabilizerOf, wSquareRule, zBoxRule } from './lrp-layers';

/**
 * Add and Sub: a bias (isBiasAdd) passes R on to its layer's weighted op, which rules on the whole
 * layer, and a step of an element-wise function written out (shiftsFunction) to its activation; any
 * other is a layer of the ε rule.
 */
function additiveRule(entry: RuleEntry): BackwardRule {
  const epsilon = epsilonRule(entry);
  return {
    broadcastInputs: entry.rule.broadcastInputs,
    backward: (ctx, R) => {
      // z − max z (a softmax written out stably) shifts z by what does not change the softmax: z keeps the relevance
      // (as a share of z − max z, whose zero at the maximum left none to its class).
      const max = ctx.node.op_type === 'Sub' ? ctx.view.producer.get(ctx.node.input![1]) : undefined;
      if (max?.op_type === 'ReduceMax' && !max.domain && max.input![0] === ctx.node.input![0]) return [R[0], null];
      return (isBiasAdd(ctx, ctx.node) || shiftsFunction(ctx.view, ctx.node) ? passThrough : epsilon).backward(ctx, R);
    },
  };
}

/** Whether `t` is a constant of one value. */
const scalarConstant = (view: GraphView, t: string | undefined) => !!t && view.constant(t)?.values.length === 1;

/** Smooth element-wise functions whose written-out forms add constants to them: σ, softplus, ELU, tanh as 2σ(2x) − 1. */
const SMOOTH = new Set(['Exp', 'Sigmoid', 'Tanh', 'Erf', 'Log', 'Softplus', 'Reciprocal']);

/**
 * An Add or Sub of a scalar constant to a smooth function's value, past scalings by constants
 * (log(1 + eˣ), eˣ − 1, 2σ(2x) − 1): a step of one element-wise function, which relevance passes
 * as it passes the function's op, not a layer whose constant takes a share.
 */
function shiftsFunction(view: GraphView, node: NodeProto): boolean {
  const scalar = (t: string) => scalarConstant(view, t);
  const k = node.input!.length === 2 ? node.input!.findIndex(scalar) : -1;
  if (k < 0 || scalar(node.input![1 - k])) return false;
  let p = view.producer.get(node.input![1 - k]);
  const scaling = (n: NodeProto) => n.op_type === 'Neg' || (n.op_type === 'Mul' && n.input!.some(scalar)) || (n.op_type === 'Div' && scalar(n.input![1]));
  while (p && !p.domain && scaling(p)) p = view.producer.get(p.input!.find((t) => !scalar(t))!);
  return !!p && !p.domain && SMOOTH.has(p.op_type!);
}

/**
 * LRP-ε: R_i = a_i Σ_j w_ij R_j / (z_j + ε·sign z_j), i.e. a ⊙ gradient(R / z_stab) with z the
 * node's output (bias included). Products of n activations (attention) give each factor 1/n of the
 * relevance; a divisor that is an activation is treated as a constant, so the dividend keeps all of
 * it, and so is a gate multiplying a signal (LSTM and GRU gates, squeeze-and-excitation, Swish's
 * sigmoid): the signal keeps all of it (Arras et al. 2017, "signal-take-all"). An operand of Add or
 * Sub may be −Inf (an attention mask) where z is too and no relevance arrives: its share there is
 * 0, not ∞·0.
 */
function epsilonRule({ opType, category, rule }: RuleEntry): BackwardRule {
  return {
    broadcastInputs: rule.broadcastInputs,
    backward(ctx, [R]) {
      const { em, node } = ctx;
      // c / u for a constant c is an element-wise function of u (a sigmoid written 1/(1 + e^−x)): the relevance passes to u.
      if (opType === 'Div' && !ctx.needsGrad(0) && ctx.needsGrad(1) && !ctx.valueDependent(node.input![0])) return passThrough.backward(ctx, [R]);
      const z = (category === 'weighted' && biasAfter(ctx, node)?.z) || node.output![0];
      const s = em.div(R!, stabilize(em, z, category === 'weighted' || category === 'selection' ? epsilonOf(ctx) : stabilizerOf(ctx)));
      const grads = gradientOf(ctx).backward(ctx, [s]);
      const multiplied = (i: number) => ctx.needsGrad(i) && multiplies(opType, i);
      const gated = opType === 'Mul' && node.input!.some((t, i) => multiplied(i) && !isGate(ctx.view, t));
      // A factor that is a reciprocal of an activation (x · rsqrt(var + ε), RMSNorm's form) divides as Div's divisor does.
      const reciprocal = (i: number) => opType === 'Mul' && multiplied(i) && isReciprocal(ctx, node.input![i]!) && node.input!.some((t, k) => k !== i && multiplied(k) && !isReciprocal(ctx, t));
      const divisor = (i: number) => (opType === 'Div' && i === 1) || (gated && isGate(ctx.view, node.input![i])) || reciprocal(i);
      // Σ_i a_i·∂z/∂a_i = n·z for a product of n activation factors.
      const isFactor = (i: number) => multiplied(i) && !divisor(i);
      const factors = ['weighted', 'product'].includes(category) ? node.input!.filter((_, i) => isFactor(i)).length : 1;
      return node.input!.map((a, i) => {
        if (!ctx.needsGrad(i) || !grads[i] || divisor(i)) return null;
        const r = em.mul(a, grads[i]!);
        if (opType === 'Add' || opType === 'Sub') return em.where(em.compare('Equal', grads[i]!, em.scalar(0)), em.scalar(0), r);
        return factors > 1 && isFactor(i) ? em.mul(r, em.scalar(1 / factors)) : r;
      });
    },
  };
}

/** 1/t, c/t, Reciprocal(t) or t^(−k) of an activation t. */
function isReciprocal(ctx: RuleContext, t: string): boolean {
  const node = ctx.view.producer.get(t);
  if (!node || node.domain) return false;
  if (node.op_type === 'Reciprocal') return true;
  if (node.op_type === 'Div') return !ctx.valueDependent(node.input![0]!) && ctx.valueDependent(node.input![1]!);
  if (node.op_type === 'Pow') return ctx.valueDependent(node.input![0]!) && ctx.view.constant(node.input![1]!)?.values.every((v) => v < 0) === true;
  return false;
}

/** Ops that move or copy a gate's values (data input first): the classic SE block's Sigmoid → view → expand_as. */
const MOVES_GATE = new Set(['Split', 'Slice', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Expand', 'Tile', 'Transpose', 'Identity', 'Cast']);

/**
 * A gate: a Sigmoid or HardSigmoid output, a hard sigmoid written out (clipsToGate: hard-swish's
 * x · Clip(x + 3, 0, 6) / 6 as paddle2onnx and tf2onnx write it), a gate scaled by a positive constant,
 * moved or a part of one (the gates of an unrolled cell, activated as one block), or one minus a gate
 * (GRU's 1 − z).
 */
function isGate(view: GraphView, t: string): boolean {
  const node = view.producer.get(t);
  if (!node || node.domain) return false;
  if (node.op_type === 'Sigmoid' || node.op_type === 'HardSigmoid') return true;
  if (clipsToGate(view, node)) return true;
  if (MOVES_GATE.has(node.op_type!)) return isGate(view, node.input![0]);
  const positive = (t: string) => view.constant(t)?.values.every((v) => v > 0) === true;
  if (node.op_type === 'Div') return isGate(view, node.input![0]) && positive(node.input![1]);
  if (node.op_type === 'Mul' && node.input!.length === 2) return node.input!.some((t, i) => isGate(view, t) && positive(node.input![1 - i]));
  const one = (t: string) => view.constant(t)?.values.every((v) => v === 1) === true;
  // GELU's exported forms: x · (1 + erf(x/√2)) · ½ and x · (1 + tanh(…)) · ½; the 1 + erf / 1 + tanh factor is a gate.
  const squashed = (t: string) => ['Erf', 'Tanh'].includes(view.producer.get(t)?.op_type ?? '') && !view.producer.get(t)!.domain;
  if (node.op_type === 'Add' && node.input!.length === 2) return (one(node.input![0]) && squashed(node.input![1])) || (one(node.input![1]) && squashed(node.input![0]));
  return node.op_type === 'Sub' && one(node.input![0]) && isGate(view, node.input![1]);
}

/**
 * A hard sigmoid written out: an activation shifted by a constant, clipped to [0, b] for a constant
 * b > 0 — Clip(u + c, 0, b) (bounds as inputs from opset 11, attributes before), Min(Relu(u + c), b),
 * Min(Max(u + c, 0), b) or Max(Min(u + c, b), 0). Not a ReLU6 of an activation (MobileNet's
 * Clip(conv, 0, 6)), which is the signal a squeeze-and-excitation gate multiplies.
 */
function clipsToGate(view: GraphView, node: NodeProto): boolean {
  const shifted = (t: string | undefined) => {
    const n = t ? view.producer.get(t) : undefined;
    return !!n && !n.domain && (n.op_type === 'Add' || n.op_type === 'Sub') && n.input!.some((i) => scalarConstant(view, i));
  };
  if (node.op_type === 'Clip') {
    const bound = (name: string, i: number) => (node.input![i] ? view.constant(node.input![i])?.values : hasAttr(node, name) ? [attrFloat(node, name, 0)] : undefined);
    const [lo, hi] = [bound('min', 1), bound('max', 2)];
    return lo?.length === 1 && lo[0] === 0 && hi?.length === 1 && hi[0] > 0 && Number.isFinite(hi[0]) && shifted(node.input![0]);
  }
  // The one activation operand of a two-operand Min or Max with a constant c, and c.
  const bounded = (n: NodeProto | undefined, op: string) => {
    if (n?.op_type !== op || n.domain || n.input?.length !== 2) return undefined;
    const k = n.input.findIndex((t) => scalarConstant(view, t));
    return k < 0 ? undefined : { c: view.constant(n.input[k])!.values[0], u: n.input[1 - k] };
  };
  const upper = bounded(node, 'Min');
  if (upper) {
    const below = view.producer.get(upper.u);
    const u = below?.op_type === 'Relu' ? below.input![0] : bounded(below, 'Max')?.c === 0 ? bounded(below, 'Max')!.u : undefined;
    return upper.c > 0 && Number.isFinite(upper.c) && shifted(u);
  }
  const lower = bounded(node, 'Max');
  const inner = lower?.c === 0 ? bounded(view.producer.get(lower.u), 'Min') : undefined;
  return !!inner && inner.c > 0 && Number.isFinite(inner.c) && shifted(inner.u);
}

/**
 * Relevance passes unchanged to the one activation operand (element-wise functions,
 * normalisations). Several activation operands enter as a sum (SkipLayerNormalization's input and
 * skip): each gets its ε-share a_i·R/Σa.
 */
const passThrough: BackwardRule = {
  broadcastInputs: 'all',
  backward(ctx, [R]) {
    const { em, node } = ctx;
    const active = node.input!.map((_, i) => i).filter((i) => ctx.needsGrad(i));
    if (active.length === 1) return node.input!.map((_, i) => (i === active[0] ? R : null));
    const s = em.div(R!, stabilize(em, em.sum(active.map((i) => node.input![i])), stabilizerOf(ctx)));
    return node.input!.map((a, i) => (active.includes(i) ? em.mul(a, s) : null));
  },
};

/**
 * InstanceNormalization and LayerNormalization as the linear map they are with their σ held
 * constant (Ali et al. 2022's LN-rule): y = γ·(x − μ(x))/σ + β, so the ε rule gives
 * R_x = x/σ · (u − mean(u)) with u = γ·R/(y + ε·sign y), the means over the normalised axes.
 * Passing R through unchanged gave it to inputs near zero whose normalised value is not (the
 * centring moves them), and the layer before divided by them (relevance of 10¹⁷ through a
 * style-transfer net). Other normalisations pass the relevance through.
 */
function normalizationRule({ opType }: RuleEntry): BackwardRule {
  if (opType !== 'InstanceNormalization' && opType !== 'LayerNormalization' && opType !== 'BatchNormalization') return passThrough;
  return {
    backward(ctx, [R]) {
      const { em, node } = ctx;
      // (Training-mode BatchNormalization's mean and var inputs reach only its running statistics.)
      const affine = opType === 'BatchNormalization' ? [1, 2] : node.input!.slice(1).map((_, i) => i + 1);
      if (node.domain || !ctx.needsGrad(0) || affine.some((i) => ctx.needsGrad(i))) return passThrough.backward(ctx, [R]);
      const [x, scale] = node.input!;
      const rank = ctx.shape(x).length;
      const from = opType === 'InstanceNormalization' ? 2 : opType === 'LayerNormalization' ? normAxis(ctx, attrInt(node, 'axis', -1), rank) : 0;
      // BatchNormalization in training mode: the batch's statistics, per channel.
      const axes = opType === 'BatchNormalization' ? statisticsAxes(ctx) : Array.from({ length: rank - from }, (_, k) => k + from);
      const centred = em.sub(x, em.reduceMean(x, axes));
      const sigma = em.op('Sqrt', [em.add(em.reduceMean(em.mul(centred, centred), axes), em.scalar(attrFloat(node, 'epsilon', 1e-5)))]);
      // InstanceNormalization's scale is per channel (axis 1), LayerNormalization's over the normalised axes.
      const gamma = opType === 'InstanceNormalization' ? em.reshape(scale, [1, -1, ...axes.map(() => 1)]) : opType === 'BatchNormalization' ? perChannel(ctx, scale) : scale;
      const u = em.mul(gamma, em.div(R!, stabilize(em, node.output![0], stabilizerOf(ctx))));
      return [em.mul(em.div(x, sigma), em.sub(u, em.reduceMean(u, axes))), ...node.input!.slice(1).map(() => null)];
    },
  };
}

/** Element-wise ops of several activations (Max, Min, Where, Clip): the selected operand takes the relevance. */
function elementwiseRule({ rule }: RuleEntry): BackwardRule {
  return {
    broadcastInputs: 'all',
    backward: (ctx, R) => (ctx.node.input!.filter((_, i) => ctx.needsGrad(i)).length > 1 ? rule : passThrough).backward(ctx, R),
  };
}

/**
 * Nonlinear reductions z = f(x_1..x_n): each element gets its share of the first-order terms,
 * R_i = R·x_i ∂z/∂x_i / Σ_k x_k ∂z/∂x_k (the ε rule for ReduceL1/ReduceL2, whose terms sum to z).
 */
function reductionRule({ rule }: RuleEntry): BackwardRule {
  return {
    backward(ctx, [R]) {
      const { em, node } = ctx;
      const x = node.input![0];
      const ones = em.add(em.mul(node.output![0], em.scalar(0)), em.scalar(1));
      const terms = em.mul(x, rule.backward(ctx, [ones])[0]!);
      const total = em.reduceSum(terms, reduceAxes(ctx, ctx.shape(x).length), !!attrInt(node, 'keepdims', 1));
      const s = em.div(R!, stabilize(em, total, stabilizerOf(ctx)));
      return [em.mul(x, rule.backward(ctx, [s])[0]!), null];
    },
  };
}

/**
 * LRP-αβ on a layer with constant weights W (input 1): positive and negative parts of a and W
 * give z⁺ = f(a⁺,W⁺) + f(a⁻,W⁻) and z⁻ = f(a⁺,W⁻) + f(a⁻,W⁺) (bias left out), and
 * R_i = α·(share of z⁺) − β·(share of z⁻). Layers without such weights use the ε rule.
 */
function alphaBetaRule(entry: RuleEntry, alpha: number, beta: number): BackwardRule {
  return layerRule(epsilonRule(entry), (ctx, { a, w, run }, R) => {
    const { em } = ctx;
    const [aPos, aNeg] = signParts(ctx, a);
    const wPos = em.op('Relu', [w]);
    const wNeg = em.sub(w, wPos);
    const plus = alpha === 0 ? null : em.mul(shareOf(ctx, run, [[aPos, wPos], [aNeg, wNeg]], R), em.scalar(alpha));
    const minus = beta === 0 ? null : em.mul(shareOf(ctx, run, [[aPos, wNeg], [aNeg, wPos]], R), em.scalar(beta));
    return plus && minus ? em.sub(plus, minus) : plus ?? (minus && em.neg(minus));
  });
}

/** Each rule a layer with constant weights can be given, for one op of the weighted category. */
function layerRules(e: RuleEntry): Record<LrpLayerRule, BackwardRule> {
  const epsilon = epsilonRule(e);
  return {
    epsilon, zplus: alphaBetaRule(e, 1, 0), 'alpha2-beta1': alphaBetaRule(e, 2, 1),
    gamma: gammaRule(epsilon), flat: flatRule(epsilon), wsquare: wSquareRule(epsilon), zbox: zBoxRule(epsilon),
  };
}

/** A method's rule for the weighted ops: `lrpRules`' for a layer it names (as Captum's per-module rules), else `pick`'s. */
type LayerPick = (ctx: RuleContext, rules: Record<LrpLayerRule, BackwardRule>, e: RuleEntry) => BackwardRule;

function lrpMethod<N extends string>(name: N, pick: LayerPick): Method<N> {
  const table = categoryTable({
    shape: 'gradient',
    constant: 'gradient',
    // BatchNormalization in training mode normalises as InstanceNormalization does (over the batch too).
    linear: (e) => (['Add', 'Sub'].includes(e.opType) ? additiveRule(e) : e.opType !== 'BatchNormalization' ? epsilonRule(e) : {
      backward: (ctx, R) => (trainingMode(ctx.node, ctx.opset) && !R.slice(1).some(Boolean) ? normalizationRule(e) : epsilonRule(e)).backward(ctx, R),
    }),
    product: epsilonRule,
    weighted: (e) => {
      const rules = layerRules(e);
      return { broadcastInputs: e.rule.broadcastInputs, backward: (ctx, R) => { const named = ruleOverride(ctx); return (named ? rules[named] : pick(ctx, rules, e)).backward(ctx, R); } };
    },
    rectifier: () => passThrough,
    activation: () => passThrough,
    normalization: normalizationRule,
    elementwise: elementwiseRule,
    reduction: reductionRule,
    // The winner takes the relevance (gradient routing); --lrp-maxpool epsilon: the ε rule.
    selection: (e) => {
      const epsilon = epsilonRule(e);
      return { broadcastInputs: e.rule.broadcastInputs, backward: (ctx, R) => (ctx.options.lrpMaxpool === 'epsilon' ? epsilon : e.rule).backward(ctx, R) };
    },
  });
  return {
    name, table, reference: false, seedsLogit: true,
    start: (em, { seed, from }) => em.mul(seed, from),
    attribution: (_em, { grad }) => grad,
    explained: (_em, { from }) => from,
  };
}

export const lrpEpsilon = lrpMethod('lrp-epsilon', (_ctx, rules) => rules.epsilon);
export const lrpAlphaBeta = lrpMethod('lrp-alphabeta', (ctx, _rules, e) => alphaBetaRule(e, ctx.options.alpha ?? 2, ctx.options.beta ?? 1));
export const lrpZPlus = lrpMethod('lrp-zplus', (_ctx, rules) => rules.zplus);

/** Zennit's composites (lrp-composites.ts): a rule per kind of layer, the first layers' apart. */
const composite = <N extends string>(name: N) => lrpMethod(name, (ctx, rules) => rules[compositeRule(ctx, COMPOSITES[name])]);
export const lrpComposites = [
  composite('lrp-epsilon-plus'), composite('lrp-epsilon-plus-flat'), composite('lrp-epsilon-alpha2-beta1'),
  composite('lrp-epsilon-alpha2-beta1-flat'), composite('lrp-epsilon-gamma-box'),
] as const;
