import { Emitter } from './emitter';
import { ValueInfoProto, valueInfo, DataType } from './proto';

export interface AdamOptions {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Box the parameter is kept in after the step (broadcastable constants, e.g. per channel). */
  box?: { lo: { values: number[]; dims: number[] }; hi: { values: number[]; dims: number[] } };
}

export interface AdamSpec extends AdamOptions {
  /** The parameter tensor (a graph input) and its gradient (emitted). */
  param: string;
  grad: string;
  /** Climb the gradient (maximise) instead of descending it. */
  ascent: boolean;
  /** The state's names (default ADAM_IO). */
  names?: AdamNames;
}

/** Names of the Adam state: inputs m, v, the bias-corrected step size, and the updated tensors. */
export const ADAM_IO = { m: 'adam_m', v: 'adam_v', step: 'adam_step', next: 'next', nextM: 'next_m', nextV: 'next_v' };
export type AdamNames = typeof ADAM_IO;

/**
 * One Adam step (Kingma & Ba 2015, Algorithm 1, with the bias correction folded into the step
 * size α_t = α·√(1 − β2^t)/(1 − β1^t), which the driver feeds as `adam_step`):
 * m' = β1·m + (1 − β1)·g, v' = β2·v + (1 − β2)·g², θ' = θ ∓ α_t·m'/(√v' + ε), then θ' clamped
 * into the box. The outputs feed the next run's inputs, so the state never leaves the device.
 */
export function withAdam(em: Emitter, spec: AdamSpec | undefined, paramDims: (number | string)[]): { inputs: ValueInfoProto[]; outputs: { name: string; dims: (number | string)[] }[] } {
  if (!spec) return { inputs: [], outputs: [] };
  const { param, grad } = spec;
  const io = spec.names ?? ADAM_IO;
  const decay = (state: string, b: number, x: string) => em.add(em.mul(state, em.scalar(b)), em.mul(x, em.scalar(1 - b)));
  const m = decay(io.m, spec.beta1, grad);
  const v = decay(io.v, spec.beta2, em.mul(grad, grad));
  const move = em.mul(io.step, em.div(m, em.add(em.op('Sqrt', [v]), em.scalar(spec.epsilon))));
  let next = spec.ascent ? em.add(param, move) : em.sub(param, move);
  if (spec.box) next = clamp(em, next, spec.box);
  em.rename(next, io.next);
  em.rename(m, io.nextM);
  em.rename(v, io.nextV);
  return {
    inputs: [valueInfo(io.m, DataType.FLOAT, paramDims), valueInfo(io.v, DataType.FLOAT, paramDims), valueInfo(io.step, DataType.FLOAT, [1])],
    outputs: [io.next, io.nextM, io.nextV].map((name) => ({ name, dims: paramDims })),
  };
}

/**
 * x kept in [lo, hi]: one Clip when both bounds are single numbers (from opset 11: bounds as inputs;
 * the attribute form before it is not WebGPU-native); otherwise with two Relus,
 * hi − Relu(hi − lo − Relu(x − lo)) (Clip takes scalar bounds only; Max/Min are not WebGPU-native).
 */
function clamp(em: Emitter, x: string, box: NonNullable<AdamOptions['box']>): string {
  const { lo, hi } = box;
  if (lo.values.length === 1 && hi.values.length === 1 && em.opset >= 11) return em.op('Clip', [x, em.scalar(lo.values[0]), em.scalar(hi.values[0])]);
  const low = em.constFloat(lo.values, lo.dims);
  const high = em.constFloat(hi.values, hi.dims);
  return em.sub(high, em.op('Relu', [em.sub(high, em.add(low, em.op('Relu', [em.sub(x, low)])))]));
}
