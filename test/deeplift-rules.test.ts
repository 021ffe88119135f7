import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { float } from '../rewriter/emitter';
import { deeplift } from '../rules/methods/deeplift';
import { Explainer } from '../runtime';
import { OpCase, rng } from './support/gradcheck';
import { sumcheck } from './support/sumcheck';
import { tinyModel } from './support/tiny-model';

const cases: OpCase[] = [
  { op: 'Relu', opset: 13, inputs: [{ shape: [2, 6] }] },
  { op: 'LeakyRelu', opset: 13, inputs: [{ shape: [2, 6] }], attrs: { alpha: float(0.1) } },
  { op: 'PRelu', opset: 13, inputs: [{ shape: [2, 3, 2] }, { shape: [3, 1], value: [0.1, 0.2, 0.3] }] },
  { op: 'Elu', opset: 13, inputs: [{ shape: [2, 6] }] },
  { op: 'Selu', opset: 13, inputs: [{ shape: [2, 6] }] },
  { op: 'Sigmoid', opset: 13, inputs: [{ shape: [2, 6] }] },
  { op: 'Tanh', opset: 13, inputs: [{ shape: [2, 6] }] },
  { op: 'HardSigmoid', opset: 13, inputs: [{ shape: [2, 6] }] },
  { op: 'HardSwish', opset: 14, inputs: [{ shape: [2, 6] }] },
  { op: 'Clip', opset: 13, inputs: [{ shape: [2, 6] }, { shape: [], value: [-0.5] }, { shape: [], value: [1] }] },
  { op: 'Softplus', opset: 13, inputs: [{ shape: [2, 6] }] },
  { op: 'Erf', opset: 13, inputs: [{ shape: [2, 6] }] },
  { op: 'Exp', opset: 13, inputs: [{ shape: [2, 6] }] },
  { op: 'Abs', opset: 13, inputs: [{ shape: [2, 6] }] },
  { op: 'Pow', opset: 13, inputs: [{ shape: [2, 6] }, { shape: [], value: [3] }] },
  { op: 'Softmax', opset: 13, inputs: [{ shape: [2, 3, 4] }], attrs: { axis: 1 } },
  { op: 'Softmax', opset: 11, inputs: [{ shape: [2, 3, 4] }] },
  { op: 'MaxPool', opset: 11, inputs: [{ shape: [1, 2, 6, 6] }], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } },
  { op: 'GlobalMaxPool', opset: 13, inputs: [{ shape: [2, 3, 4, 4] }] },
  { op: 'LayerNormalization', opset: 17, inputs: [{ shape: [2, 3, 4] }, { shape: [4], value: [1, 0.5, -1, 2] }, { shape: [4], value: [0, 1, 0, 1] }] },
  { op: 'LRN', opset: 13, inputs: [{ shape: [2, 6, 2, 2] }], attrs: { size: 3, alpha: float(0.5), beta: float(0.75), bias: float(1.5) } },
  { op: 'InstanceNormalization', opset: 13, inputs: [{ shape: [2, 3, 4] }, { shape: [3], value: [1, 0.5, 2] }, { shape: [3], value: [0, 1, 0] }] },
  { op: 'LogSoftmax', opset: 13, inputs: [{ shape: [2, 3, 4] }], attrs: { axis: 1 } },
  { op: 'LogSoftmax', opset: 11, inputs: [{ shape: [2, 3, 4] }] },
  { op: 'ReduceMax', opset: 13, inputs: [{ shape: [2, 3, 4] }], attrs: { axes: [1], keepdims: 0 } },
  { op: 'ReduceMin', opset: 18, inputs: [{ shape: [2, 3, 4] }, { shape: [2], value: [1, 2], int64: true }] },
  { op: 'ReduceL1', opset: 13, inputs: [{ shape: [2, 3, 4] }], attrs: { axes: [2] } },
  { op: 'ReduceL2', opset: 18, inputs: [{ shape: [2, 3, 4] }, { shape: [1], value: [-1], int64: true }], attrs: { keepdims: 0 } },
  { op: 'ReduceSumSquare', opset: 13, inputs: [{ shape: [2, 3, 4] }], attrs: { axes: [1, 2] } },
  { op: 'ReduceLogSumExp', opset: 13, inputs: [{ shape: [2, 3, 4] }], attrs: { axes: [2], keepdims: 0 } },
  { op: 'ReduceLogSumExp', opset: 18, inputs: [{ shape: [2, 3, 4] }, { shape: [1], value: [1], int64: true }] },
  { op: 'Gelu', opset: 20, inputs: [{ shape: [2, 6] }] },
  { op: 'Gelu', opset: 20, inputs: [{ shape: [2, 6] }], attrs: { approximate: 'tanh' } },
  { op: 'Mish', opset: 18, inputs: [{ shape: [2, 6] }] },
  { op: 'Sin', opset: 13, inputs: [{ shape: [2, 6] }] },
  { op: 'Cos', opset: 13, inputs: [{ shape: [2, 6] }] },
  { op: 'CumSum', opset: 14, inputs: [{ shape: [2, 6] }, { shape: [], value: [1], int64: true }], attrs: { reverse: 1 } },
  { op: 'Trilu', opset: 14, inputs: [{ shape: [2, 3, 3] }] },
  { op: 'Tile', opset: 13, inputs: [{ shape: [1, 3, 2] }, { shape: [3], value: [1, 2, 2], int64: true }] },
  { op: 'DepthToSpace', opset: 13, inputs: [{ shape: [1, 8, 2, 2] }], attrs: { blocksize: 2, mode: 'CRD' } },
  { op: 'SpaceToDepth', opset: 13, inputs: [{ shape: [1, 2, 4, 4] }], attrs: { blocksize: 2 } },
  { op: 'GroupNormalization', opset: 21, inputs: [{ shape: [2, 6, 3] }, { shape: [6], value: [1, 0.5, -1, 2, 1.5, 0.3] }, { shape: [6], value: [0, 1, 0, -1, 0.2, 0] }], attrs: { num_groups: 3 } },
  { op: 'GroupNormalization', opset: 18, inputs: [{ shape: [2, 4, 3] }, { shape: [2], value: [1.5, -0.5] }, { shape: [2], value: [0.1, 0] }], attrs: { num_groups: 2 } },
  { op: 'LpNormalization', opset: 13, inputs: [{ shape: [2, 3, 4] }] },
  { op: 'LpNormalization', opset: 13, inputs: [{ shape: [2, 3, 4] }], attrs: { p: 1, axis: 1 } },
  { op: 'Einsum', opset: 13, inputs: [{ shape: [2, 3, 4] }, { shape: [4, 2], value: [0.5, -1, 2, 0.3, -0.7, 1.1, 0.2, 0.9] }], attrs: { equation: 'bsd,de->bse' } },
  { op: 'GatherElements', opset: 13, inputs: [{ shape: [1, 4, 3] }, { shape: [1, 2, 3], value: [0, 3, -1, 2, 2, 0], int64: true }], attrs: { axis: 1 } },
  { op: 'GatherND', opset: 12, inputs: [{ shape: [2, 5, 3] }, { shape: [2, 1], value: [4, -2], int64: true }], attrs: { batch_dims: 1 } },
  { op: 'Gelu', domain: 'com.microsoft', opset: 17, inputs: [{ shape: [2, 6] }] },
  { op: 'BiasGelu', domain: 'com.microsoft', opset: 17, inputs: [{ shape: [2, 3] }, { shape: [3], value: [0.5, -1, 0.2] }] },
  { op: 'FastGelu', domain: 'com.microsoft', opset: 17, inputs: [{ shape: [2, 3] }, { shape: [3], value: [0.5, -1, 0.2] }] },
  { op: 'QuickGelu', domain: 'com.microsoft', opset: 17, inputs: [{ shape: [2, 6] }] },
  { op: 'FusedMatMul', domain: 'com.microsoft', opset: 17, inputs: [{ shape: [2, 3] }, { shape: [4, 3], value: Array.from({ length: 12 }, (_, i) => Math.sin(i)) }], attrs: { transB: 1 } },
];

for (const c of cases) {
  test(`DeepLIFT ${c.op} (opset ${c.opset}) sums to delta`, () => sumcheck(deeplift, c).then(() => undefined));
}

test('DeepLIFT on a node whose input equals the reference uses the gradient limit (no NaN)', () =>
  sumcheck(deeplift, { op: 'Sigmoid', opset: 13, inputs: [{ shape: [1, 4] }], input: [0, 1, 2, 3], baseline: [0, 1, 2, 3] }).then(() => undefined));

// onnx's test_softmax_large_number input; the reference is x scaled by 0.5 … 0.9 per element, so
// the reference's softmax is one-hot and its log-sum-exp ≈ 10³ below x's.
const large = [1, 2, 3, 4, 10000, 10001, 10002, 10003];
const scaled = large.map((v, i) => v * (0.5 + 0.05 * ((i * 7) % 9)));
for (const op of ['Softmax', 'LogSoftmax']) {
  test(`DeepLIFT ${op} sums to delta at logits of 10⁴ whose reference is 10³ away (float32 rounding of x − c not magnified)`, () =>
    sumcheck(deeplift, { op, opset: 13, inputs: [{ shape: [2, 4] }], input: large, baseline: scaled }).then(() => undefined));
}
// The same with the passes' roles swapped: the reference's logits are the large ones (the shift must be the larger pass's).
for (const op of ['Softmax', 'LogSoftmax']) {
  test(`DeepLIFT ${op} sums to delta at logits 10³ below a reference of 10⁴`, () =>
    sumcheck(deeplift, { op, opset: 13, inputs: [{ shape: [2, 4] }], input: scaled, baseline: large }).then(() => undefined));
}
test('DeepLIFT ReduceLogSumExp sums to delta at logits of 10⁴ against a reference 10³ below, and the other way round', async () => {
  for (const [input, baseline] of [[large, scaled], [scaled, large]]) {
    await sumcheck(deeplift, { op: 'ReduceLogSumExp', opset: 13, inputs: [{ shape: [2, 4] }], attrs: { axes: [1], keepdims: 1 }, input, baseline });
  }
});

// A reference that permutes x along the axis keeps s = Σ exp(x) (exact in float32 for two terms), so log s takes
// its rescale limit 1/s: with L = log s, s = Σ e, e = exp(x) the chain gives Cᵢ = (e^{xᵢ} − e^{x⁰ᵢ})/s = pᵢ − p⁰ᵢ for
// log-sum-exp, and for −LogSoftmax's y₀ = L − x₀ (negated, so that it is not taken for a classifier's head),
// Cᵢ = pᵢ − p⁰ᵢ − [i = 0]·δx₀ (p: softmax, computed here in float64).
test('DeepLIFT ReduceLogSumExp and LogSoftmax with a permuted reference: log s at its limit 1/s, Cᵢ = pᵢ − p⁰ᵢ', async () => {
  const [x, x0] = [[0.25, 1.5], [1.5, 0.25]];
  const softmax = (v: number[]) => v.map((a) => Math.exp(a) / v.reduce((s, b) => s + Math.exp(b), 0));
  const [p, p0] = [softmax(x), softmax(x0)];
  const lse = p.map((pi, i) => pi - p0[i]);
  for (const [name, model, expected] of [
    ['ReduceLogSumExp', tinyModel([2], 13, (em, v) => em.op('ReduceLogSumExp', [v], { axes: [1], keepdims: 1 })), lse],
    ['−LogSoftmax', tinyModel([2], 13, (em, v) => em.neg(em.op('LogSoftmax', [v], { axis: 1 }))), lse.map((c, i) => c - (i === 0 ? x[0] - x0[0] : 0))],
  ] as const) {
    const ex = await Explainer.load(model);
    const r = await ex.attribute({ data: Float32Array.from(x), dims: [1, 2] }, { method: 'deeplift', target: 0, baseline: { data: Float32Array.from(x0), dims: [1, 2] } });
    r.attributions.data.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${name} x[${i}]: ${v}, expected ${expected[i]}`));
  }
});

// Relu, LeakyRelu, PRelu and max pooling are positively homogeneous, and so is DeepLIFT on them:
// scaling x and x⁰ by 10⁻⁹ (the activations of an untrained network in eval mode) scales every
// attribution by 10⁻⁹. A threshold on |δx| that is not relative takes the gradient at the midpoint
// there and loses δy wherever x and x⁰ lie on both sides of a kink.
const homogeneous = cases.filter((c) => ['Relu', 'LeakyRelu', 'PRelu', 'MaxPool'].includes(c.op));
for (const c of homogeneous) {
  test(`DeepLIFT ${c.op} attributions scale with x and x⁰ down to 10⁻⁹`, async () => {
    const rand = rng(5);
    const n = c.inputs[0].shape.reduce((a, b) => a * b, 1);
    const [x, x0] = [0, 1].map(() => Array.from({ length: n }, () => rand() * 4 - 2));
    const unit = await sumcheck(deeplift, { ...c, input: x, baseline: x0 });
    const tiny = await sumcheck(deeplift, { ...c, input: x.map((v) => v * 1e-9), baseline: x0.map((v) => v * 1e-9) });
    const scale = Math.max(...unit.map(Math.abs));
    unit.forEach((a, i) => assert.ok(Math.abs(tiny[i] * 1e9 - a) < 1e-5 * scale, `element ${i}: ${tiny[i]} at 10⁻⁹, ${a} at 1`));
  });
}

// Zero vectors along the normalised axis (a position whose post-ReLU channels are all 0, the zero
// baseline): onnxruntime's LpNormalization gives 0 for them, and F.normalize's ReduceL2 meets √0.
const zeroVectors = { input: [0, 0, 0, 1, -2, 0.5, 0, 0, 0, 0.3, 0.1, -1], baseline: [0, 0, 0, 0, 0, 0, 0.2, -0.4, 1, 0.6, 0.1, 0.2] };
for (const p of [1, 2]) {
  test(`DeepLIFT LpNormalization p = ${p} sums to delta with zero vectors in x, in x⁰ and in both`, () =>
    sumcheck(deeplift, { op: 'LpNormalization', opset: 13, inputs: [{ shape: [4, 3] }], attrs: { p, axis: 1 }, ...zeroVectors }).then(() => undefined));
}
test('DeepLIFT ReduceL2 sums to delta with zero vectors in x, in x⁰ and in both', () =>
  sumcheck(deeplift, { op: 'ReduceL2', opset: 13, inputs: [{ shape: [4, 3] }], attrs: { axes: [1], keepdims: 1 }, ...zeroVectors }).then(() => undefined));

// Sqrt (and Pow below 1) at x = x⁰ = 0 — post-ReLU zeros against the zero baseline — have an
// infinite gradient at the midpoint, which multiplies δx = 0.
for (const c of [{ op: 'Sqrt', opset: 13, inputs: [{ shape: [2, 3] }] }, { op: 'Pow', opset: 13, inputs: [{ shape: [2, 3] }, { shape: [], value: [0.5] }] }]) {
  test(`DeepLIFT ${c.op} sums to delta where x = x⁰ = 0 (infinite slope)`, () =>
    sumcheck(deeplift, { ...c, input: [0, 1, 0, 2, 0.5, 0], baseline: [0, 0, 0, 0.5, 0, 0] }).then(() => undefined));
}

// x's winner did not move but y fell (a row of post-ReLU zeros, ties among them, against a reference
// with a larger maximum): its multiplier would be δy/0, so δy goes to the reference's winner.
const stuckRows = { input: [0.5, 0, 0, 0, 0, 0], baseline: [0.5, 1, 0, 0, 0.3, 0] };
for (const c of [
  { op: 'ReduceMax', opset: 13, inputs: [{ shape: [2, 3] }], attrs: { axes: [1], keepdims: 0 }, ...stuckRows },
  { op: 'ReduceMax', opset: 18, inputs: [{ shape: [2, 3] }, { shape: [1], value: [1], int64: true }], ...stuckRows },
  { op: 'ReduceMin', opset: 13, inputs: [{ shape: [2, 3] }], attrs: { axes: [1] }, input: stuckRows.input.map((v) => -v), baseline: stuckRows.baseline.map((v) => -v) },
  { op: 'TopK', opset: 11, inputs: [{ shape: [2, 3] }, { shape: [1], value: [1], int64: true }], outputs: 2, ...stuckRows },
]) {
  test(`DeepLIFT ${c.op} (opset ${c.opset}) sums to delta where x's winner did not move and y fell`, () => sumcheck(deeplift, c).then(() => undefined));
}

test('DeepLIFT max rule stays well-conditioned when the winner on x barely moved but y fell', async () => {
  // Window 0: x = (1, 0), x⁰ = (1 − 1e-5, 3): x's winner has δx = 1e-5 while δy = −2, a multiplier
  // of −2e5 under eq. 11 as such; the window's δy goes to the reference's winner (δx = −3).
  const a = await sumcheck(deeplift, {
    op: 'MaxPool', opset: 13, inputs: [{ shape: [1, 1, 1, 4] }], attrs: { kernel_shape: [1, 2], strides: [1, 2] },
    input: [1, 0, 0.5, 2], baseline: [1 - 1e-5, 3, 0, 1],
  });
  assert.ok(Math.abs(a[0]) < 1e-6 && Math.abs(a[1]) > 0.1, `attributions ${Array.from(a)}`);
});

test('DeepLIFT ReduceProd sums to delta over one, several and all axes, with zeros among the factors', async () => {
  await sumcheck(deeplift, { op: 'ReduceProd', opset: 13, inputs: [{ shape: [2, 3, 4] }], attrs: { axes: [2], keepdims: 0 } });
  await sumcheck(deeplift, { op: 'ReduceProd', opset: 13, inputs: [{ shape: [2, 3, 5] }], attrs: { axes: [1, 2] } });
  await sumcheck(deeplift, { op: 'ReduceProd', opset: 18, inputs: [{ shape: [1, 4, 3] }, { shape: [1], value: [1], int64: true }] });
  await sumcheck(deeplift, { op: 'ReduceProd', opset: 13, inputs: [{ shape: [1, 5] }], attrs: { axes: [1] }, input: [0.5, 0, 2, -1.5, 1], baseline: [1, 0.3, 0, 0.7, -2] });
});

test('DeepLIFT ReduceProd of two factors is the product rule m₁ = (x₂ + x₂⁰)/2; of three, the mean of both telescoping orders', async () => {
  const [x, b] = [[1.5, -2, 0.5], [0.5, 1, 2]];
  // sumcheck seeds the output with a random r: compare each share of Σ attribution = r·δy.
  const shares = (a: Float32Array, expected: number[]) => {
    const total = a.reduce((t, v) => t + v, 0);
    const dy = expected.reduce((t, v) => t + v, 0);
    expected.forEach((e, i) => assert.ok(Math.abs(a[i] / total - e / dy) < 1e-5, `factor ${i}: share ${a[i] / total}, expected ${e / dy}`));
  };
  const two = await sumcheck(deeplift, { op: 'ReduceProd', opset: 13, inputs: [{ shape: [1, 2] }], attrs: { axes: [1] }, input: x.slice(0, 2), baseline: b.slice(0, 2) });
  shares(two, [((x[1] + b[1]) / 2) * (x[0] - b[0]), ((x[0] + b[0]) / 2) * (x[1] - b[1])]);
  const three = await sumcheck(deeplift, { op: 'ReduceProd', opset: 13, inputs: [{ shape: [1, 3] }], attrs: { axes: [1] }, input: x, baseline: b });
  const m = [(x[1] * x[2] + b[1] * b[2]) / 2, (x[0] * b[2] + b[0] * x[2]) / 2, (x[0] * x[1] + b[0] * b[1]) / 2];
  shares(three, m.map((mk, k) => mk * (x[k] - b[k])));
});

/** DeepLIFT attributions of class `target` on one row x [1, ...row] against the baseline x⁰, and the delta. */
async function deepliftRow(ex: Explainer, row: number[], x: number[], x0: number[], target = 0): Promise<{ a: number[]; delta: number }> {
  const dims = [1, ...row];
  const r = await ex.attribute({ data: Float32Array.from(x), dims }, { method: 'deeplift', target, baseline: { data: Float32Array.from(x0), dims } });
  return { a: Array.from(r.attributions.data), delta: r.delta![0] };
}

const within = (got: number[], want: number[], tol: number) =>
  assert.ok(got.every((v, i) => Math.abs(v - want[i]) <= tol * Math.max(1, Math.abs(want[i]))), `got ${got}, expected ${want}`);

// A baseline that permutes x (with signs flipped) has the same sum of squares S: δn/δS is 0/0 and the rule takes its
// limit dn/dS = 1/(2√S), so a_i = (x_i² − x⁰_i²)/(2‖x‖) (δ(x²) = x² − x⁰² is exact). Their sum is δn = 0, which a
// wrong limit keeps: only the values can tell.
test('DeepLIFT ReduceL2 where x⁰ permutes x (equal norms): a_i = (x_i² − x⁰_i²)/(2‖x‖)', async () => {
  const ex = await Explainer.load(tinyModel([6], 13, (em, x) => em.op('ReduceL2', [x], { axes: [1], keepdims: 1 })));
  const [x, x0] = [[3, 4, 0, 1, -2, 2], [4, -3, 0, -2, 2, 1]];
  const norm = Math.hypot(...x);
  const { a } = await deepliftRow(ex, [6], x, x0);
  within(a, x.map((v, i) => (v * v - x0[i] * x0[i]) / (2 * norm)), 1e-5);
});

// LpPool as y = S^{1/p}, S = Σ_window |x|^p. Window 0 of x⁰ permutes x's (S = S⁰): δy/δS is 0/0 and its limit is
// dy/dS = S^{1/p − 1}/p, so a_i = S^{1/p − 1}/p · (|x_i|^p − |x⁰_i|^p); window 1 (not explained) gets nothing.
for (const p of [2, 3]) {
  test(`DeepLIFT LpPool p = ${p} where x⁰ permutes a window (equal S): a_i = S^{1/p − 1}/p · (|x_i|^p − |x⁰_i|^p)`, async () => {
    const ex = await Explainer.load(tinyModel([1, 6], 11, (em, x) => em.op('Flatten', [em.op('LpPool', [x], { kernel_shape: [3], strides: [3], p })], { axis: 1 })));
    const [x, x0] = [[1, -2, 3, 0.5, -1, 2], [3, 1, -2, 1, 1, 1]];
    const S = x.slice(0, 3).reduce((s, v) => s + Math.abs(v) ** p, 0);
    const want = x.map((v, i) => (i < 3 ? (S ** (1 / p - 1) / p) * (Math.abs(v) ** p - Math.abs(x0[i]) ** p) : 0));
    const { a } = await deepliftRow(ex, [1, 6], x, x0);
    within(a, want, 1e-5);
  });
}

test('DeepLIFT LpPool without a p attribute is p = 2 (ONNX\'s default): a_i = (y − y⁰)/(S − S⁰) · (x_i² − x⁰_i²)', async () => {
  const ex = await Explainer.load(tinyModel([1, 6], 11, (em, x) => em.op('Flatten', [em.op('LpPool', [x], { kernel_shape: [3], strides: [3] })], { axis: 1 })));
  const [x, x0] = [[1, 2, 2, 3, 0, -4], [0.5, -1, 1, 1, 2, 1]];
  for (const w of [0, 1]) {
    const sq = (t: number[]) => t.slice(3 * w, 3 * w + 3).reduce((s, v) => s + v * v, 0);
    const [S, S0] = [sq(x), sq(x0)];
    const m = (Math.sqrt(S) - Math.sqrt(S0)) / (S - S0);
    const { a, delta } = await deepliftRow(ex, [1, 6], x, x0, w);
    within(a, x.map((v, i) => (Math.floor(i / 3) === w ? m * (v * v - x0[i] * x0[i]) : 0)), 1e-5);
    assert.ok(Math.abs(delta) < 1e-5, `window ${w}: delta ${delta}`);
  }
});

// A baseline that permutes x has x's mean and variance v, so the rule takes the limit dρ/dv = −½ρ³ of
// ρ = (v + ε)^−½. Moving one baseline element by δ (the one below the mean, upward: v⁰ < v, the side whose product
// split c·ρ the limit uses; it flips where v⁰ > v) takes the quotient δρ/δv, whose attributions must converge to the
// limit's as δ → 0 (error O(δ)).
for (const op of ['LayerNormalization', 'InstanceNormalization'] as const) {
  test(`DeepLIFT ${op} where x⁰ permutes x (equal mean and variance): the limit is where the secant at x⁰ + δ·e_k converges`, async () => {
    const n = 6;
    const gamma = op === 'LayerNormalization' ? [1, 0.5, -1, 2, 1.5, -0.3] : [1.5];
    const V = [0.7, -0.4, 0.9, 0.3, -0.8, 0.5];
    const ex = await Explainer.load(tinyModel([1, n], 17, (em, x) => {
      const norm = op === 'LayerNormalization'
        ? em.op(op, [x, em.constFloat(gamma, [n]), em.constFloat(gamma.map(() => 0.1), [n])], { axis: -1, epsilon: float(1e-5) })
        : em.op(op, [x, em.constFloat(gamma, [1]), em.constFloat([0.1], [1])], { epsilon: float(1e-5) });
      return em.matmul(em.op('Flatten', [norm], { axis: 1 }), em.constFloat(V, [n, 1]));
    }));
    const [x, x0] = [[5, -10, 20, 3, -7, 11], [20, 5, -10, 11, 3, -7]];
    const limit = (await deepliftRow(ex, [1, n], x, x0)).a;
    const errors: number[] = [];
    for (const d of [1e-1, 1e-2]) {
      const moved = x0.map((v, i) => (i === 5 ? v + d : v));
      const secant = (await deepliftRow(ex, [1, n], x, moved)).a;
      errors.push(Math.max(...secant.map((v, i) => Math.abs(v - limit[i]))));
    }
    const scale = Math.max(...limit.map(Math.abs));
    assert.ok(errors[1] < 1e-3 * scale && errors[1] < errors[0], `limit ${limit}: max |secant − limit| ${errors} at δ = 0.1, 0.01`);
  });
}

test.run();
