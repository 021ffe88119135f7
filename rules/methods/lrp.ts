import { Method } from '../../rewriter/augment';
import { Emitter } from '../../rewriter/emitter';
import { gradientRules } from '../registry';
import { BackwardRule, RuleContext, RuleEntry } from '../types';

/** Ops whose relevance follows the ε rule: linear in their activation inputs (bias inside z). */
const LINEAR = [
  'Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'Mul', 'Div', 'Add', 'Sub', 'Neg', 'Sum', 'Mean',
  'BatchNormalization', 'AveragePool', 'GlobalAveragePool', 'ReduceMean', 'ReduceSum', 'Resize', 'Upsample',
];

/** Element-wise nonlinearities and normalisations: relevance passes unchanged. */
const PASS = [
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'Clip',
  'Softplus', 'Erf', 'Exp', 'Log', 'Sqrt', 'Pow', 'Abs', 'Reciprocal', 'Softmax', 'LogSoftmax',
  'LayerNormalization', 'InstanceNormalization', 'LRN',
];

/** Ops with weights that the α-β and z⁺ rules split into positive and negative parts. */
const WEIGHTED = ['Conv', 'ConvTranspose', 'Gemm', 'MatMul'];

/** z + ε·sign(z) with sign(0) = +1, as Captum. */
function stabilize(em: Emitter, z: string, epsilon: number): string {
  const sign = em.sub(em.mul(em.mask('GreaterOrEqual', z, em.scalar(0)), em.scalar(2)), em.scalar(1));
  return em.add(z, em.mul(sign, em.scalar(epsilon)));
}

function gradientRule(ctx: RuleContext): BackwardRule {
  return gradientRules.lookup(ctx.node.op_type ?? '', ctx.opset)!;
}

/**
 * LRP-ε: R_i = a_i Σ_j w_ij R_j / (z_j + ε·sign z_j), i.e. a ⊙ gradient(R / z_stab) with z the
 * node's output (bias included). Products of two activations (attention, gates) split the
 * relevance half and half; a divisor that is an activation is treated as a constant.
 */
function epsilonRule(opType: string): BackwardRule {
  return {
    broadcastInputs: gradientRules.lookup(opType, 1000)?.broadcastInputs,
    backward(ctx, [R]) {
      const { em, node } = ctx;
      const s = em.div(R!, stabilize(em, node.output![0], ctx.options.epsilon ?? 1e-6));
      const grads = gradientRule(ctx).backward(ctx, [s]);
      const active = node.input!.filter((_, i) => ctx.needsGrad(i)).length;
      const product = ['Mul', 'MatMul', 'Gemm'].includes(opType) && active > 1;
      return node.input!.map((a, i) => {
        if (!ctx.needsGrad(i) || !grads[i] || (opType === 'Div' && i === 1)) return null;
        const r = em.mul(a, grads[i]!);
        return product ? em.mul(r, em.scalar(0.5)) : r;
      });
    },
  };
}

const passThrough: BackwardRule = {
  backward: (ctx, [R]) => ctx.node.input!.map((_, i) => (i === 0 ? R : null)),
};

/**
 * LRP-αβ on a layer with constant weights W (input 1): positive and negative parts of a and W
 * give z⁺ = f(a⁺,W⁺) + f(a⁻,W⁻) and z⁻ = f(a⁺,W⁻) + f(a⁻,W⁺) (bias left out), and
 * R_i = α·(share of z⁺) − β·(share of z⁻). Layers without such weights use the ε rule.
 */
function alphaBetaRule(opType: string, alpha: number, beta: number): BackwardRule {
  const fallback = epsilonRule(opType);
  return {
    backward(ctx, dY) {
      const { em, node } = ctx;
      const [a, w] = node.input!;
      if (!ctx.needsGrad(0) || node.input!.slice(1).some((_, i) => ctx.needsGrad(i + 1)) || !ctx.constant(w)) return fallback.backward(ctx, dY);
      const R = dY[0]!;
      const pos = (t: string) => em.op('Relu', [t]);
      const neg = (t: string) => em.sub(t, pos(t));
      const [aPos, aNeg, wPos, wNeg] = [pos(a), neg(a), pos(w), neg(w)];
      const rest = opType === 'Gemm' && ctx.opset < 11 ? [em.scalar(0)] : [];
      const eps = ctx.options.epsilon ?? 1e-6;
      // Relevance share of the pairs (x, W') whose forward outputs add up to z⁺ (or z⁻).
      const share = (pairs: [string, string][], scale: number): string | null => {
        if (scale === 0) return null;
        const terms = pairs.map(([x, weights]) => {
          const inputs = [x, weights, ...rest];
          const [z] = em.copyOf(node, inputs);
          return { x, ctx: ctx.withNode({ ...node, input: inputs, output: [z] }, { [x]: a, [weights]: w, [z]: node.output![0] }), z };
        });
        const s = em.div(R, stabilize(em, em.sum(terms.map((t) => t.z)), eps));
        const r = em.sum(terms.map((t) => em.mul(t.x, gradientRule(ctx).backward(t.ctx, [s])[0]!)));
        return em.mul(r, em.scalar(scale));
      };
      const plus = share([[aPos, wPos], [aNeg, wNeg]], alpha);
      const minus = share([[aPos, wNeg], [aNeg, wPos]], beta);
      return [plus && minus ? em.sub(plus, minus) : plus ?? (minus && em.neg(minus)), ...node.input!.slice(1).map(() => null)];
    },
  };
}

const entries = (ops: string[], rule: (op: string) => BackwardRule): RuleEntry[] => ops.map((opType) => ({ opType, since: 1, rule: rule(opType) }));

function lrpMethod(name: string, weighted: (op: string) => BackwardRule): Method {
  const table = gradientRules.override([
    ...entries(LINEAR.filter((op) => !WEIGHTED.includes(op)), epsilonRule),
    ...entries(WEIGHTED, weighted),
    ...entries(PASS, () => passThrough),
    // MaxPool: the winner takes the relevance (gradient routing); --lrp-maxpool epsilon: ε rule.
    ...entries(['MaxPool', 'GlobalMaxPool'], (op) => {
      const epsilon = epsilonRule(op);
      return { backward: (ctx, R) => (ctx.options.lrpMaxpool === 'epsilon' ? epsilon : gradientRule(ctx)).backward(ctx, R) };
    }),
  ]);
  return {
    name, table, reference: false,
    start: (em, { seed, from }) => em.mul(seed, from),
    attribution: (_em, { grad }) => grad,
    explained: (_em, { from }) => from,
  };
}

export const lrpEpsilon = lrpMethod('lrp-epsilon', epsilonRule);
export const lrpAlphaBeta = lrpMethod('lrp-alphabeta', (op) => ({
  backward: (ctx, R) => alphaBetaRule(op, ctx.options.alpha ?? 2, ctx.options.beta ?? 1).backward(ctx, R),
}));
export const lrpZPlus = lrpMethod('lrp-zplus', (op) => alphaBetaRule(op, 1, 0));
