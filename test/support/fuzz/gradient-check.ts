/**
 * An independent check of a mutated model that onnx-explain accepted: its gradient (the API's
 * default method and target) against central differences of the model itself, run by onnxruntime
 * as it is, with only the explained tensor added to its outputs, along a seeded direction v (a few features, each ± its size),
 * at three step sizes. A kink crossed within the step (ReLU, MaxPool's switch, Clip) shows as
 * one-sided slopes or step sizes that disagree: such a case is inconclusive, not a problem. Models
 * whose forward is a step function (quantized activations, rounding) or half precision are not checked.
 */
import * as ort from 'onnxruntime-node';
import * as fs from 'fs';
import { DataType, decodeModel, encodeModel, ModelProto } from '../../../rewriter/proto';
import { Explainer } from '../../../runtime';
import { readNpy } from '../../../runtime/node/npy-file';
import { rng } from '../gradcheck';

const STEPS = /^(QuantizeLinear|DynamicQuantizeLinear|QLinear.*|ConvInteger|MatMulInteger|DynamicQuantizeMatMul|Round|Floor|Ceil|Sign)$/;
const HALF = new Set([10, 16]);
/** Central-difference step sizes as fractions of h, largest first. */
export const STEPS_OF_H = [1, 1 / 4, 1 / 16];

/** 'agrees', or why the case could not be compared ('skipped: …'), or the mismatch ('differs: …'). */
export type GradientCheck = 'agrees' | `skipped: ${string}` | `differs: ${string}`;

export async function gradientCheck(modelFile: string, inputFile: string, seed: number): Promise<GradientCheck> {
  const model = decodeModel(fs.readFileSync(modelFile));
  const graph = model.graph!;
  if ((graph.node ?? []).some((n) => STEPS.test(n.op_type ?? '')) || (graph.initializer ?? []).some((t) => HALF.has(t.data_type ?? 0))) return 'skipped: steps or half precision';
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !weights.has(i.name));
  if (inputs.length !== 1 || inputs[0].type?.tensor_type?.elem_type !== DataType.FLOAT) return 'skipped: not one float32 input';
  const read = readNpy(inputFile);
  const x = { data: Float32Array.from(read.data as Float32Array), dims: read.dims };
  if (x.data.some((e) => !(Math.abs(e) < 1e4))) return 'skipped: huge input values';
  // Max pooling over equal values has no gradient, only the first-maximum convention; a direction
  // can move the tied values so that both one-sided slopes agree and still differ from it (seed 1542).
  if (x.data.every((e) => e === x.data[0])) return 'skipped: a constant input (tied maxima)';
  let ex: Explainer;
  let r;
  try {
    ex = await Explainer.load(modelFile, { warn: () => undefined });
    r = await ex.attribute(x, { method: 'gradient' });
  } catch {
    return 'skipped: the gradient is refused (the case ran another method)';
  }
  const from = ex.resolveOutput(undefined).from;
  // A few random features, each moved in proportion to its size (down to 1 % of the largest): a
  // small move of every hidden unit, so few kinks are crossed, also where the values span decades
  // (a power spectrogram's small bins crossed a top_db clip at a step sized by the largest, seed 1990).
  const random = rng(seed);
  const largest = x.data.reduce((m, e) => Math.max(m, Math.abs(e)), 1);
  const v = new Float32Array(x.data.length);
  for (let k = 0; k < 32; k++) {
    const i = Math.floor(random() * v.length);
    v[i] = (random() < 0.5 ? -1 : 1) * Math.max(Math.abs(x.data[i]), largest / 100) / largest;
  }
  const gv = r.attributions.data.reduce((s, g, i) => s + g * v[i], 0);
  const h = 1e-3 * largest;
  let values: number[];
  try {
    values = await explainedValues(model, from, inputs[0].name!, x, r.targets, [0, ...STEPS_OF_H.flatMap((k) => [h * k, -h * k])].map((t) => Float32Array.from(x.data, (e, i) => e + t * v[i])));
  } catch {
    return 'skipped: the model as it is does not run at this shape (a declared batch other than 1)';
  }
  return slopeVerdict(gv, values, h, x.dims[0], from);
}

/**
 * The verdict on gradient · v from the explained value at 0 and at ±h·k for each k of STEPS_OF_H
 * (values = [f(0), f(h), f(−h), f(h/4), f(−h/4), …]) over `rows` rows.
 */
export function slopeVerdict(gv: number, values: number[], h: number, rows: number, from: string): GradientCheck {
  const f0 = values[0];
  const central = STEPS_OF_H.map((k, j) => (values[1 + 2 * j] - values[2 + 2 * j]) / (2 * h * k));
  const finest = h * STEPS_OF_H[STEPS_OF_H.length - 1];
  const [plus, minus] = values.slice(-2);
  // 2 % apart, beyond float32's rounding of f over the smallest step.
  const rounding = (16 * 2 ** -23 * (Math.abs(f0) + rows)) / finest;
  const close = (a: number, b: number) => Math.abs(a - b) <= 2e-2 * Math.max(Math.abs(a), Math.abs(b)) + rounding;
  if (central.some((c) => close(c, gv))) return 'agrees';
  // Conclusive only where the two smallest steps agree and no kink lies within the smallest (the
  // one-sided slopes agree): a kink makes central differences average two slopes, and strong
  // curvature on small features (a log of values far below the step, seed 1896) moves them with h.
  const smooth = close((plus - f0) / finest, (f0 - minus) / finest) && close(central[central.length - 2], central[central.length - 1]);
  if (!smooth) return 'skipped: a kink within the step, or central differences that still move with it';
  return `differs: gradient · v ${gv.toPrecision(6)} but central differences ${central.map((c, j) => `${c.toPrecision(6)} (h·${STEPS_OF_H[j]})`).join(', ')} of '${from}', h = ${h.toPrecision(2)}`;
}

/**
 * Σ over rows of the explained tensor at each row's target, for each of the inputs `points`, run by
 * onnxruntime on the model as it is, one row at a time: what onnx-explain explains for row r is
 * the model seeing row r (a graph that mixes rows is run row by row there too).
 */
async function explainedValues(model: ModelProto, from: string, input: string, x: { dims: number[] }, targets: number[], points: Float32Array[]): Promise<number[]> {
  ort.env.logLevel = 'fatal';
  const session = await ort.InferenceSession.create(encodeModel({ ...model, graph: { ...model.graph, output: [{ name: from }] } }), { logSeverityLevel: 4 });
  const n = x.dims[0];
  try {
    const values = [];
    for (const data of points) {
      const per = data.length / n;
      let total = 0;
      for (let k = 0; k < n; k++) {
        const out = (await session.run({ [input]: new ort.Tensor('float32', data.slice(k * per, (k + 1) * per), [1, ...x.dims.slice(1)]) }))[from].data as Float32Array;
        total += out[targets[k]];
      }
      values.push(total);
    }
    return values;
  } finally {
    await session.release();
  }
}
