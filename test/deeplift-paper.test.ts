import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { loadFixture } from './support/fixtures';
import { tinyModel } from './support/tiny-model';
import type { Emitter } from '../rewriter/emitter';

const close = (a: ArrayLike<number>, b: number[], tol = 1e-6) => b.every((v, i) => Math.abs(a[i] - v) <= tol);

test('DeepLIFT 2016 Fig. 1: contributions −0.4/3 and −0.8/3 where the gradient is 0', async () => {
  // y = 0.4·relu(x1 + x2 + 1) at x = (−1, −2), reference (0, 0): the Relu is off, so ∂y/∂x = 0,
  // while δy = −0.4 splits over δx = (−1, −2) through the rescale multiplier 1/3.
  const bytes = tinyModel([2], 13, (em, x) => {
    const h = em.add(em.matmul(x, em.constFloat([1, 1], [2, 1])), em.scalar(1));
    return em.mul(em.op('Relu', [h]), em.scalar(0.4));
  });
  const ex = await Explainer.load(bytes);
  const input = { data: Float32Array.from([-1, -2]), dims: [1, 2] };
  const g = await ex.attribute(input, { method: 'gradient', target: 0 });
  assert.ok(close(g.attributions.data, [0, 0]), 'gradient is 0');
  const d = await ex.attribute(input, { method: 'deeplift', target: 0 });
  assert.ok(close(d.attributions.data, [-0.4 / 3, -0.8 / 3]), `got ${Array.from(d.attributions.data)}`);
  assert.ok(Math.abs(d.delta![0]) < 1e-7);
});

test('DeepLIFT 2017 Fig. 1 saturation network (PyTorch export): 1/3 and 2/3 where the gradient is 0', async () => {
  const fx = loadFixture('fig1');
  const ex = await Explainer.load(fx.model);
  const row = { data: fx.input.data.slice(0, 2), dims: [1, 2] };
  const g = await ex.attribute(row, { method: 'gradient', target: 0 });
  assert.ok(close(g.attributions.data, [0, 0]));
  const d = await ex.attribute(row, { method: 'deeplift', target: 0 });
  assert.ok(close(d.attributions.data, [1 / 3, 2 / 3]), `got ${Array.from(d.attributions.data)}`);
});

test('§2.5: a feature that feeds every class equally gets zero attribution with --softmax-normalize', async () => {
  // logits = W·x with column 0 equal for all classes: x0 raises every logit by the same amount.
  const W = [1, 1, 1, 0.5, 2, 0.3, -1, -0.7, 0.9];
  const bytes = tinyModel([3], 13, (em, x) => em.op('Softmax', [em.matmul(x, em.constFloat(W, [3, 3]))], { axis: 1 }));
  const ex = await Explainer.load(bytes);
  const input = { data: Float32Array.from([2, -1, 0.5]), dims: [1, 3] };
  const plain = await ex.attribute(input, { method: 'deeplift', target: 1 });
  assert.ok(Math.abs(plain.attributions.data[0] - 2) < 1e-6, 'without normalisation x0 gets w·δx = 2');
  const normalized = await ex.attribute(input, { method: 'deeplift', target: 1, softmaxNormalize: true });
  assert.ok(Math.abs(normalized.attributions.data[0]) < 1e-6, `got ${normalized.attributions.data[0]}`);
  assert.ok(Math.abs(normalized.attributions.data[1]) > 0.1, 'the other features still count');
});

test('§2.6: one-hot weight normalisation leaves the outputs unchanged and sums to delta', async () => {
  const fx = loadFixture('conv1d_onehot');
  const ex = await Explainer.load(fx.model);
  const plain = await ex.attribute(fx.input, { method: 'deeplift', target: fx.meta.target });
  const canon = await ex.attribute(fx.input, { method: 'deeplift', target: fx.meta.target, onehotAxis: 1 });
  const out = ex.outputNames[0];
  assert.ok(close(canon.outputs[out].data, Array.from(plain.outputs[out].data), 1e-5), 'outputs unchanged');
  assert.ok(canon.delta!.every((d) => Math.abs(d) < 1e-5), `delta ${Array.from(canon.delta!)}`);
  // With the zero reference meaning "no base preferred", the four bases at a position differ by
  // their weights' deviations from the mean, so attributions change.
  assert.ok(Array.from(canon.attributions.data).some((v, i) => Math.abs(v - plain.attributions.data[i]) > 1e-4));
});

test('--onehot-axis on a model whose input does not feed a Conv is refused with a clear error', async () => {
  const fx = loadFixture('mlp');
  const ex = await Explainer.load(fx.model);
  await ex.attribute(fx.input, { method: 'deeplift', target: 0, onehotAxis: 1 }).then(
    () => assert.unreachable('should fail'),
    (e: Error) => assert.match(e.message, /must feed exactly one Conv/),
  );
});

test('contrast seed e_A − e_B gives the difference of the two attributions', async () => {
  const fx = loadFixture('resnet_bn');
  const ex = await Explainer.load(fx.model);
  const a = await ex.attribute(fx.input, { method: 'deeplift', target: 1 });
  const b = await ex.attribute(fx.input, { method: 'deeplift', target: 4 });
  const ab = await ex.attribute(fx.input, { method: 'deeplift', target: 1, contrast: 4 });
  assert.ok(close(ab.attributions.data, Array.from(a.attributions.data, (v, i) => v - b.attributions.data[i]), 1e-5));
});

test('attention with the batch folded into the heads axis: a one-row baseline still works and sums to delta', async () => {
  // x [N, 4, 6] → heads [N·2, 4, 3] (Reshape/Transpose/Reshape) → softmax(q·kᵀ)·v → [N, 24] → Gemm.
  const bytes = tinyModel([4, 6], 13, (em, x) => {
    const heads = em.reshape(em.transpose(em.reshape(x, [-1, 4, 2, 3]), [0, 2, 1, 3]), [-1, 4, 3]);
    const scores = em.op('Softmax', [em.matmul(heads, em.transpose(heads, [0, 2, 1]))], { axis: -1 });
    const mixed = em.reshape(em.matmul(scores, heads), [-1, 24]);
    return em.op('Gemm', [mixed, em.constFloat(Array.from({ length: 24 * 3 }, (_, i) => Math.sin(i)), [24, 3])]);
  });
  const ex = await Explainer.load(bytes);
  const input = { data: Float32Array.from({ length: 3 * 24 }, (_, i) => Math.cos(i * 0.9)), dims: [3, 4, 6] };
  const r = await ex.attribute(input, { method: 'deeplift', target: [0, 1, 2] });
  assert.ok(r.delta!.every((d) => Math.abs(d) < 1e-5), `delta ${Array.from(r.delta!)}`);
  const one = { data: Float32Array.from(Array.from({ length: 24 }, (_, i) => 0.1 * i)), dims: [1, 4, 6] };
  const s = await ex.attribute(input, { method: 'deeplift', target: [0, 1, 2], baseline: one });
  assert.ok(s.delta!.every((d) => Math.abs(d) < 1e-5), `delta ${Array.from(s.delta!)}`);
});

test('§2.5 with a contrast: the seed e_t − e_c already sums to zero, so normalising leaves it: on y = x·W, a_i = x_i·(W_it − W_ic)', async () => {
  const W = [0.5, -1, 2, 1.5, 0.25, -0.75, -2, 1, 0.5, 0.3, 0.6, -0.9];
  const ex = await Explainer.load(tinyModel([4], 13, (em, x) => em.matmul(x, em.constFloat(W, [4, 3]))));
  const x = [0.5, -1, 2, 0.3];
  const r = await ex.attribute({ data: Float32Array.from(x), dims: [1, 4] }, { method: 'deeplift', target: 0, contrast: 2, softmaxNormalize: true });
  assert.ok(close(r.attributions.data, x.map((v, i) => v * (W[i * 3] - W[i * 3 + 2]))), `${Array.from(r.attributions.data)}`);
});

test('§2.5 centres the seed over each softmax\'s classes: a Softmax over axis 1 of [N, C, P] (opset 13) subtracts 1/C at the target\'s position only, the opset-11 one (its input coerced to 2-D) 1/(C·P) everywhere, a Sigmoid LRP looks past over the row; a single score is refused', async () => {
  const W = [0.5, -1, 2, 1.5, 0.25, -0.75, -2, 1, 0.5, 0.3, 0.6, -0.9, 0.2, 0.4, -0.6, 1.1, -0.3, 0.7, 0.9, -1.2, 0.1, 0.8, -0.4, 0.35];
  const x = [0.5, -1, 2, 0.3];
  // a_i = x_i·Σ_q seed_q·W_iq: DeepLIFT of a linear map at the zero baseline; q = c·2 + p.
  const want = (seed: (q: number) => number) => x.map((v, i) => v * [0, 1, 2, 3, 4, 5].reduce((a, q) => a + seed(q) * W[i * 6 + q], 0));
  const target = (q: number) => (q === 2 ? 1 : 0);
  const perPosition = (q: number) => target(q) - (q % 2 === 0 ? 1 / 3 : 0);
  const logits = (em: Emitter, v: string) => em.reshape(em.matmul(v, em.constFloat(W, [4, 6])), [0, 3, 2]);
  const heads: [string, number, (em: Emitter, v: string) => string, (q: number) => number][] = [
    ['Softmax axis 1', 13, (em, v) => em.op('Softmax', [logits(em, v)], { axis: 1 }), perPosition],
    ['Softmax axis 1, coerced to 2-D', 11, (em, v) => em.op('Softmax', [logits(em, v)], { axis: 1 }), (q) => target(q) - 1 / 6],
    // MATLAB's softmax over channels last: the classes are axis 1 of the logits the seed goes on.
    ['Transposes around a Softmax on the last axis', 13, (em, v) => em.transpose(em.op('Softmax', [em.transpose(logits(em, v), [0, 2, 1])], { axis: -1 }), [0, 2, 1]), perPosition],
  ];
  for (const [head, opset, model, seed] of heads) {
    const ex = await Explainer.load(tinyModel([4], opset, model));
    const r = await ex.attribute({ data: Float32Array.from(x), dims: [1, 4] }, { method: 'deeplift', target: [[1, 0]], softmaxNormalize: true });
    assert.ok(close(r.attributions.data, want(seed), 1e-5), `${head}: ${Array.from(r.attributions.data)} vs ${want(seed)}`);
  }
  // A final Sigmoid, which LRP looks past to its logits, normalises no classes: the seed is centred over the row, as on its output.
  const sigmoid = await Explainer.load(tinyModel([4], 13, (em, v) => em.op('Sigmoid', [em.matmul(v, em.constFloat(W.slice(0, 12), [4, 3]))])));
  const lrp = await sigmoid.attribute({ data: Float32Array.from(x), dims: [1, 4] }, { method: 'lrp-epsilon', target: 1, softmaxNormalize: true, epsilon: 1e-9 });
  const overRow = x.map((v, i) => v * [0, 1, 2].reduce((a, q) => a + ((q === 1 ? 1 : 0) - 1 / 3) * W[i * 3 + q], 0));
  assert.ok(close(lrp.attributions.data, overRow, 1e-5), `LRP behind a Sigmoid: ${Array.from(lrp.attributions.data)} vs ${overRow}`);
  const single = await Explainer.load(tinyModel([4], 13, (em, v) => em.op('Sigmoid', [em.matmul(v, em.constFloat(W.slice(0, 4), [4, 1]))])));
  await single.attribute({ data: Float32Array.from(x), dims: [1, 4] }, { method: 'deeplift', softmaxNormalize: true }).then(
    () => assert.unreachable('a zero seed'),
    (e: Error) => assert.match(e.message, /softmaxNormalize \(DeepLIFT §2\.5\) centres the seed over a softmax's classes; 'y' \[N, 1\] has one value per row, so the seed would be zero/),
  );
});

test.run();
