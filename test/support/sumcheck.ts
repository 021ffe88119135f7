import * as ort from 'onnxruntime-node';
import * as assert from 'uvu/assert';
import { buildAugmented, Method } from '../../rewriter/augment';
import { GraphView } from '../../rewriter/graph-view';
import { encodeModel } from '../../rewriter/proto';
import { probeFacts } from '../../runtime/probe';
import { OpCase, rng, singleOpModel } from './gradcheck';

/**
 * Asserts a reference method's attributions on a one-node model (single graph input, output 0
 * seeded with random weights r) sum to Σ r·(y − y⁰): summation-to-delta. Returns the attributions.
 */
export async function sumcheck(method: Method, c: OpCase & { baseline?: number[]; input?: number[] }, tol = 1e-5): Promise<Float32Array> {
  const rand = rng(c.seed ?? 11);
  const { model, xs, ys } = singleOpModel(c);
  assert.is(xs.length, 1, 'sumcheck takes one graph input');
  const view = new GraphView(model, c.op);
  const { facts } = await probeFacts(model, xs, c.op);
  const aug = buildAugmented({ view, facts, batchDynamic: false, method, input: xs[0].name, from: ys[0], options: {} });
  const n = xs[0].dims.reduce((a, b) => a * b, 1);
  const x = Float32Array.from(c.input ?? Array.from({ length: n }, () => rand() * 4 - 2));
  const x0 = Float32Array.from(c.baseline ?? Array.from({ length: n }, () => rand() * 4 - 2));
  const yShape = facts.shapes.get(ys[0])!;
  const seed = Float32Array.from({ length: yShape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
  const session = await ort.InferenceSession.create(encodeModel(aug), { logSeverityLevel: 3 });
  const dims = xs[0].dims;
  const out = await session.run({ [xs[0].name]: new ort.Tensor('float32', x, dims), baseline: new ort.Tensor('float32', x0, dims), seed: new ort.Tensor('float32', seed, yShape) });
  const fwd = await ort.InferenceSession.create(encodeModel(model), { logSeverityLevel: 3 });
  const y = (await fwd.run({ [xs[0].name]: new ort.Tensor('float32', x, dims) }))[ys[0]].data as Float32Array;
  const y0 = (await fwd.run({ [xs[0].name]: new ort.Tensor('float32', x0, dims) }))[ys[0]].data as Float32Array;
  const attribution = out.attribution.data as Float32Array;
  const total = attribution.reduce((a, v) => a + v, 0);
  const change = seed.reduce((a, r, i) => a + r * (y[i] - y0[i]), 0);
  assert.ok(attribution.every(Number.isFinite), `${c.op}: non-finite attribution`);
  assert.ok(Math.abs(total - change) <= tol * Math.max(1, Math.abs(change)), `${c.op} opset ${c.opset}: Σ attribution ${total} ≠ Σ r·(y − y⁰) ${change}`);
  await session.release();
  await fwd.release();
  return attribution;
}
