import { Emitter, float } from '../emitter';
import { ExplainError } from '../errors';
import { lookupTable } from '../lookup-table';

/** One activation function of an RNN, GRU or LSTM node, with its alpha and beta, and the node's cell clip. */
export interface Activation { name: string; alpha: number; beta: number; clip?: number }

/**
 * Which activations take alpha and beta, and their defaults when the node's lists run out
 * (onnxruntime's table; the ONNX spec leaves the defaults to the runtime).
 */
const ARGS: Record<string, { alpha?: number; beta?: number }> = lookupTable({
  sigmoid: {}, tanh: {}, relu: {}, softsign: {}, softplus: {},
  affine: { alpha: 0, beta: 0 }, scaledtanh: { alpha: 0, beta: 0 }, hardsigmoid: { alpha: 0.2, beta: 0.5 },
  leakyrelu: { alpha: 0.01 }, thresholdedrelu: { alpha: 0 }, elu: { alpha: 1 },
});

/** The node's `activations` with `activation_alpha` / `activation_beta` consumed in order, as the spec says, and its `clip`. */
export function parseActivations(names: string[], alphas: number[], betas: number[], where: string, clip?: number): Activation[] {
  let a = 0;
  let b = 0;
  return names.map((raw) => {
    const name = raw.toLowerCase();
    const args = ARGS[name];
    if (!args) throw new ExplainError(`${where}: unknown activation '${raw}' (expected one of Sigmoid, Tanh, Relu, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus)`);
    const alpha = args.alpha === undefined ? 0 : a < alphas.length ? alphas[a++] : args.alpha;
    const beta = args.beta === undefined ? 0 : b < betas.length ? betas[b++] : args.beta;
    return { name, alpha, beta, ...(clip === undefined ? {} : { clip }) };
  });
}

/** f(x) in standard ops; with a cell clip c, f(min(max(x, −c), c)) (the spec clips every activation's input). */
export function applyActivation(em: Emitter, f: Activation, input: string): string {
  const c = f.clip;
  const x = c === undefined ? input : em.opset >= 11 ? em.op('Clip', [input, em.scalar(-c), em.scalar(c)]) : em.op('Clip', [input], { min: float(-c), max: float(c) });
  switch (f.name) {
    case 'sigmoid': return em.op('Sigmoid', [x]);
    case 'tanh': return em.op('Tanh', [x]);
    case 'relu': return em.op('Relu', [x]);
    case 'softplus': return em.op('Softplus', [x]);
    case 'softsign': return em.div(x, em.add(em.op('Abs', [x]), em.scalar(1)));
    case 'affine': return em.add(em.mul(x, em.scalar(f.alpha)), em.scalar(f.beta));
    case 'scaledtanh': return em.mul(em.op('Tanh', [em.mul(x, em.scalar(f.beta))]), em.scalar(f.alpha));
    case 'hardsigmoid': return em.op('HardSigmoid', [x], { alpha: float(f.alpha), beta: float(f.beta) });
    case 'leakyrelu': return em.op('LeakyRelu', [x], { alpha: float(f.alpha) });
    case 'elu': return em.op('Elu', [x], { alpha: float(f.alpha) });
    default: return em.where(em.compare('Greater', x, em.scalar(f.alpha)), x, em.scalar(0)); // thresholdedrelu
  }
}
