import * as ort from 'onnxruntime-node';
import * as assert from 'uvu/assert';
import { buildAugmented, Method } from '../../rewriter/augment';
import { GraphView } from '../../rewriter/graph-view';
import { encodeModel, ModelProto } from '../../rewriter/proto';
import { InputSpec, probeFacts } from '../../runtime/probe';
import { OpCase, rng, singleOpModel } from './gradcheck';

/**
 * Asserts a reference method's attributions on a one-node model (single graph input, output 0
 * seeded with random weights r) sum to Σ r·(y − y⁰): summation-to-delta. Returns the attributions.
 */
export async function sumcheck(method: Method, c: OpCase & { baseline?: number[]; input?: number[] }, tol = 1e-5): Promise<Float32Array> {
  const { model, xs, ys } = singleOpModel(c);
  assert.is(xs.length, 1, 'sumcheck takes one graph input');
  return sumcheckModel(method, { model, input: xs[0], output: ys[0], label: `${c.op} opset ${c.opset}`, seed: c.seed, x: c.input, x0: c.baseline }, tol);
}

export interface SumcheckSpec {
  model: ModelProto;
  input: InputSpec;
  output: string;
  label: string;
  seed?: number;
  /** Input and baseline values (default: uniform in [-2, 2]). */
  x?: number[];
  x0?: number[];
}

/** summation-to-delta of `method` on any model with one float input. Returns the attributions. */
export async function sumcheckModel(method: Method, spec: SumcheckSpec, tol = 1e-5): Promise<Float32Array> {
  const rand = rng(spec.seed ?? 11);
  const { model, input, output, label } = spec;
  const view = new GraphView(model, label);
  const { facts } = await probeFacts(model, [input], label);
  const aug = buildAugmented({ view, facts, batchDynamic: false, method, input: input.name, from: output, options: {} });
  const n = input.dims.reduce((a, b) => a * b, 1);
  const x = Float32Array.from(spec.x ?? Array.from({ length: n }, () => rand() * 4 - 2));
  const x0 = Float32Array.from(spec.x0 ?? Array.from({ length: n }, () => rand() * 4 - 2));
  const yShape = facts.shapes.get(output)!;
  const seed = Float32Array.from({ length: yShape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
  const session = await ort.InferenceSession.create(encodeModel(aug), { logSeverityLevel: 3 });
  const dims = input.dims;
  const out = await session.run({ [input.name]: new ort.Tensor('float32', x, dims), baseline: new ort.Tensor('float32', x0, dims), seed: new ort.Tensor('float32', seed, yShape) });
  const fwd = await ort.InferenceSession.create(encodeModel(model), { logSeverityLevel: 3 });
  const y = (await fwd.run({ [input.name]: new ort.Tensor('float32', x, dims) }))[output].data as Float32Array;
  const y0 = (await fwd.run({ [input.name]: new ort.Tensor('float32', x0, dims) }))[output].data as Float32Array;
  const attribution = out.attribution.data as Float32Array;
  const total = attribution.reduce((a, v) => a + v, 0);
  const change = seed.reduce((a, r, i) => a + r * (y[i] - y0[i]), 0);
  assert.ok(attribution.every(Number.isFinite), `${label}: non-finite attribution`);
  assert.ok(Math.abs(total - change) <= tol * Math.max(1, Math.abs(change)), `${label}: Σ attribution ${total} ≠ Σ r·(y − y⁰) ${change}`);
  await session.release();
  await fwd.release();
  return attribution;
}
