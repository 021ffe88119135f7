import { Emitter } from '../../rewriter/emitter';
import { attrFloat, hasAttr } from '../../rewriter/attributes';
import type { NodeProto } from '../../rewriter/proto';
import { gradientOf } from '../registry';
import { BackwardRule, RuleContext } from '../types';

/** The standard ops that apply a weight operand to an activation (their layer's bias may be an Add after them). */
export const WEIGHTED = new Set(['MatMul', 'Gemm', 'Conv', 'ConvTranspose', 'Einsum']);

/** z + ε·sign(z) with sign(0) = +1, as Captum. */
export function stabilize(em: Emitter, z: string, epsilon: number): string {
  const sign = em.sub(em.mul(em.mask('GreaterOrEqual', z, em.scalar(0)), em.scalar(2)), em.scalar(1));
  return em.add(z, em.mul(sign, em.scalar(epsilon)));
}

/**
 * An Add of a constant (a bias), or a Sub of one from it, to the output of a weighted op with constant weights that nothing
 * else reads — torch's Linear on inputs of rank ≥ 3 and tf2onnx's Dense export as MatMul + Add: part
 * of that layer, as Gemm's C and Conv's bias are (in z for the ε rule, left out by α-β and z⁺). Not
 * where the relevance enters at the layer's output (the explained tensor: the Add lies past it), nor
 * where the constant broadcasts that output to a larger shape.
 */
export function isBiasAdd(ctx: RuleContext, node: NodeProto): boolean {
  const { view } = ctx;
  if (!['Add', 'Sub'].includes(node.op_type!) || node.domain || node.input!.length !== 2) return false;
  const [a, b] = node.input!;
  const fixed = (t: string) => !ctx.valueDependent(t);
  const x = fixed(b) ? a : fixed(a) && node.op_type === 'Add' ? b : undefined;
  if (x === undefined || fixed(x) || x === ctx.from) return false;
  const p = view.producer.get(x);
  return !!p && !p.domain && WEIGHTED.has(p.op_type!) && p.input!.some((t) => fixed(t))
    && (view.consumers.get(x) ?? []).length === 1 && ctx.shape(x).join() === ctx.shape(node.output![0]).join();
}

/**
 * The bias that comes after this weighted node: a bias Add (isBiasAdd), or the bias of a BiasGelu
 * or FastGelu that alone reads it (onnxruntime's fusion of a Linear's bias into its GELU). `z` is
 * the layer's output with it; `bias()` emits the bias as added (negated for a Sub).
 */
export function biasAfter(ctx: RuleContext, node: NodeProto): { z: string; bias: () => string } | undefined {
  const consumers = ctx.view.consumers.get(node.output![0]) ?? [];
  if (consumers.length !== 1) return undefined;
  const [next] = consumers;
  const y = node.output![0];
  if (isBiasAdd(ctx, next)) {
    const c = next.input!.find((t) => t !== y)!;
    return { z: next.output![0], bias: () => (next.op_type === 'Sub' ? ctx.em.neg(c) : c) };
  }
  const [x, bias] = next.input!;
  const fusedBias = next.domain === 'com.microsoft' && (next.op_type === 'BiasGelu' || next.op_type === 'FastGelu') && x === y && bias && !ctx.valueDependent(bias);
  return fusedBias ? { z: ctx.em.add(x, bias), bias: () => bias } : undefined;
}

/** A layer's op run again on other operands: its output z (bias left out) and s ↦ (∂z/∂x)ᵀ·s, i.e. W′ᵀs, back at the activation operand. */
interface LayerPass { z: string; back(s: string): string }

/** A layer with constant weights: its activation operand `a`, its weight operand `w`, and `run(x, w′)`, the op again on x with weights w′ and no bias. */
interface LayerForm { a: string; w: string; run(x: string, weights: string): LayerPass }

/**
 * The node as a layer with constant weights; undefined where it has no such form: contrib ops (no
 * copies of them are made), weights computed from the input, a gradient wanted at another operand
 * (a bias computed from the input), Einsum of other than two operands.
 */
function layerForm(ctx: RuleContext): LayerForm | undefined {
  const { em, node } = ctx;
  const opType = node.op_type!;
  // The constant weights are input 1 (x·W, Conv, Gemm) or, for MatMul and Einsum, input 0 (W·x).
  const ai = ['MatMul', 'Einsum'].includes(opType) && node.input!.length === 2 && ctx.needsGrad(1) && !ctx.needsGrad(0) && !ctx.valueDependent(node.input![0]!) ? 1 : 0;
  const [a, w] = [node.input![ai]!, node.input![1 - ai]!];
  if (node.domain || !WEIGHTED.has(opType) || (opType === 'Einsum' && node.input!.length !== 2)) return undefined;
  if (!ctx.needsGrad(ai) || node.input!.some((_, i) => i !== ai && ctx.needsGrad(i)) || ctx.valueDependent(w)) return undefined;
  // C, required below opset 11, as [1]: onnxruntime-web's WebGPU EP aborts on a 0-D one.
  const rest = opType === 'Gemm' && ctx.opset < 11 ? [em.constFloat([0], [1])] : [];
  return {
    a, w,
    run(x, weights) {
      const inputs = ai === 0 ? [x, weights, ...rest] : [weights, x];
      const [z] = em.copyOf(node, inputs);
      const standIn = ctx.withNode({ ...node, input: inputs, output: [z] }, { [x]: a, [weights]: w, [z]: node.output![0] });
      return { z, back: (s) => gradientOf(ctx).backward(standIn, [s])[ai]! };
    },
  };
}

/** Ops whose outputs are values of their (first, or every) input: non-negative where those are. */
const MOVES = new Set(['MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose', 'Identity', 'Slice', 'Split', 'Concat']);

/**
 * Whether every value of t is ≥ 0 by construction (a ReLU's output, pooled, moved or concatenated):
 * its negative part is zero, and the rules skip the forward and backward passes it would take.
 */
function nonNegative(ctx: RuleContext, t: string): boolean {
  const node = ctx.view.producer.get(t);
  if (!node || node.domain) return false;
  const op = node.op_type!;
  if (op === 'Relu' || op === 'Sigmoid' || op === 'Softmax' || op === 'Exp' || op === 'Abs') return true;
  if (op === 'Clip') {
    const min = node.input![1] ? ctx.view.constant(node.input![1])?.values : hasAttr(node, 'min') ? [attrFloat(node, 'min', 0)] : undefined;
    return !!min && min.length === 1 && min[0] >= 0;
  }
  if (!MOVES.has(op)) return false;
  const sources = op === 'Concat' ? node.input! : [node.input![0]];
  return sources.every((s) => nonNegative(ctx, s));
}

/** The layer's bias as its output broadcasts it: Conv's and ConvTranspose's B per channel, Gemm's β·C, or the bias after it (`after`, biasAfter's). */
function layerBias(ctx: RuleContext, after: ReturnType<typeof biasAfter>): string | undefined {
  const { em, node } = ctx;
  const b = node.input![2];
  if (b && (node.op_type === 'Conv' || node.op_type === 'ConvTranspose')) return em.reshape(b, [-1, ...ctx.shape(node.output![0]).slice(2).map(() => 1)]);
  if (b && node.op_type === 'Gemm') return attrFloat(node, 'beta', 1) === 1 ? b : em.mul(b, em.scalar(attrFloat(node, 'beta', 1)));
  return after?.bias();
}

/** A rule for layers with constant weights (layerForm), giving the activation's relevance; other nodes of the category get `fallback`. */
export function layerRule(fallback: BackwardRule, rule: (ctx: RuleContext, form: LayerForm, R: string) => string | null): BackwardRule {
  return {
    broadcastInputs: fallback.broadcastInputs,
    backward(ctx, dY) {
      const form = layerForm(ctx);
      if (!form) return fallback.backward(ctx, dY);
      const ra = rule(ctx, form, dY[0]!);
      return ctx.node.input!.map((t) => (t === form.a ? ra : null));
    },
  };
}

/** The ε rule's ε at weighted ops (and at max pooling under `lrpMaxpool: 'epsilon'`): Zennit's `epsilon`. */
export const epsilonOf = (ctx: RuleContext) => ctx.options.epsilon ?? 1e-6;

/** Every other share's stabiliser — z⁺, α-β, γ, flat, w², z^B, sums, averages, products, normalisations: Zennit's `stabilizer`, ε unless given. */
export const stabilizerOf = (ctx: RuleContext) => ctx.options.stabilizer ?? epsilonOf(ctx);

/** a⁺ and a⁻, a⁻ undefined where a is non-negative by construction: the passes of its pairs would give zeros and are left out. */
export function signParts(ctx: RuleContext, a: string): [string, string | undefined] {
  if (nonNegative(ctx, a)) return [a, undefined];
  const aPos = ctx.em.op('Relu', [a]);
  return [aPos, ctx.em.sub(a, aPos)];
}

/**
 * The relevance of the pairs (x, W′) of a layer (pairs without x left out) whose outputs, with
 * `bias`, add up to z′: Σ_k x_k ⊙ W′_kᵀs with s = R / (z′ + ε·sign z′), times `mask` where given.
 */
export function shareOf(ctx: RuleContext, run: LayerForm['run'], pairs: [string | undefined, string][], R: string, { bias, mask }: { bias?: string; mask?: string } = {}): string {
  const { em } = ctx;
  const passes = pairs.filter((p): p is [string, string] => p[0] !== undefined).map(([x, weights]) => ({ x, ...run(x, weights) }));
  const s = em.div(R, stabilize(em, em.sum([...passes.map((p) => p.z), ...(bias ? [bias] : [])]), stabilizerOf(ctx)));
  const masked = mask ? em.mul(mask, s) : s;
  return em.sum(passes.map((p) => em.mul(p.x, p.back(masked))));
}

/**
 * LRP-γ (Montavon et al. 2019, eq. 4) in Zennit's generalised form for inputs of either sign: where
 * z > 0, R is shared by z↑ = (W + γW⁺)·a⁺ + (W + γW⁻)·a⁻ + b + γb⁺; where z < 0, by
 * z↓ = (W + γW⁻)·a⁺ + (W + γW⁺)·a⁻ + b + γb⁻ (equal to the original rule for a ≥ 0).
 */
export const gammaRule = (fallback: BackwardRule): BackwardRule => layerRule(fallback, (ctx, { a, w, run }, R) => {
  const { em } = ctx;
  const g = em.scalar(ctx.options.gamma ?? 0.25);
  const [aPos, aNeg] = signParts(ctx, a);
  const wPos = em.op('Relu', [w]);
  const up = em.add(w, em.mul(g, wPos));
  const down = em.add(w, em.mul(g, em.sub(w, wPos)));
  const after = biasAfter(ctx, ctx.node);
  const b = layerBias(ctx, after);
  const bPos = b && em.op('Relu', [b]);
  const z = after?.z ?? ctx.node.output![0];
  const where = (sign: 'Greater' | 'Less') => em.mask(sign, z, em.scalar(0));
  return em.add(
    shareOf(ctx, run, [[aPos, up], [aNeg, down]], R, { bias: b && em.add(b, em.mul(g, bPos!)), mask: where('Greater') }),
    shareOf(ctx, run, [[aPos, down], [aNeg, up]], R, { bias: b && em.add(b, em.mul(g, em.sub(b, bPos!))), mask: where('Less') }),
  );
});

/** R_i = Σ_j v_ij R_j / Σ_i′ v_i′j with weights v = f(w) and unit inputs, bias left out: the flat rule (v = 1) and the w² rule (v = w²). */
const unitInputRule = (fallback: BackwardRule, weightsOf: (em: Emitter, w: string) => string): BackwardRule => layerRule(fallback, (ctx, { a, w, run }, R) => {
  const pass = run(ctx.em.onesLike(a), weightsOf(ctx.em, w));
  return pass.back(ctx.em.div(R, stabilize(ctx.em, pass.z, stabilizerOf(ctx))));
});

/** The flat rule (Lapuschkin et al. 2019): relevance spread evenly over each output's receptive field. */
export const flatRule = (fallback: BackwardRule) => unitInputRule(fallback, (em, w) => em.onesLike(w));

/** The w² rule (Montavon et al. 2017, deep Taylor decomposition): shares by squared weights. */
export const wSquareRule = (fallback: BackwardRule) => unitInputRule(fallback, (em, w) => em.mul(w, w));

/**
 * The z^B rule (Montavon et al. 2017) for inputs bounded by l ≤ x ≤ h: shares of
 * z = W·x − W⁺·l − W⁻·h (the biases cancel, as in Zennit's ZBox). `boxLow` and `boxHigh` are
 * numbers or one value per entry of the layer input's axis 1 (its channels).
 */
export const zBoxRule = (fallback: BackwardRule): BackwardRule => layerRule(fallback, (ctx, { a, w, run }, R) => {
  const { em } = ctx;
  // −l and −h shaped as a: the passes are linear (no bias), so f(−l, W⁺) = −W⁺·l.
  const negated = (v: number | number[] | undefined, name: 'boxLow' | 'boxHigh') => {
    if (v === undefined) return ctx.fail(`the z^B rule needs boxLow and boxHigh (--box-low, --box-high): the lowest and highest values this layer's input can take (0 and 1 for pixels in [0, 1]; per channel (0 − mean)/std and (1 − mean)/std where the model reads normalised pixels)`);
    const shape = ctx.shape(a);
    if (typeof v === 'number') return em.add(em.zerosLike(a), em.scalar(-v));
    if (v.length !== shape[1]) return ctx.fail(`${name} gives ${v.length} values; the layer's input [${shape}] has ${shape[1]} on axis 1`);
    return em.add(em.zerosLike(a), em.constFloat(v.map((e) => -e), [1, v.length, ...shape.slice(2).map(() => 1)]));
  };
  const wPos = em.op('Relu', [w]);
  return shareOf(ctx, run, [[a, w], [negated(ctx.options.boxLow, 'boxLow'), wPos], [negated(ctx.options.boxHigh, 'boxHigh'), em.sub(w, wPos)]], R);
});
