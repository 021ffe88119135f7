import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter, float } from '../rewriter/emitter';
import { deeplift } from '../rules/methods/deeplift';
import { gradcheckModel, rng } from './support/gradcheck';
import { sumcheckModel } from './support/sumcheck';
import { tinyGraph, tinyModel } from './support/tiny-model';
import { Explainer } from '../runtime';

/** Random weights in [-1, 1]. */
function weights(em: Emitter, dims: number[], seed: number): string {
  const r = rng(seed);
  return em.constFloat(Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1), dims);
}

/**
 * A graph from one input x of `dims`: DeepLIFT sums to f(x) − f(x⁰) within 1e-5 (random x and x⁰
 * in [-2, 2], so operands swap winners between the passes), and the gradient matches central
 * finite differences.
 */
function check(name: string, dims: number[], opset: number, body: (em: Emitter, x: string) => string, data?: number[]): void {
  const graph = tinyGraph(dims, opset, body, [{ domain: 'com.microsoft', version: 1 }]);
  test(`DeepLIFT sums to delta: ${name}`, async () => {
    for (const seed of [11, 12, 13]) await sumcheckModel(deeplift, { model: graph.model, input: graph.xs[0], output: 'y', label: `${name} (seed ${seed})`, seed });
  });
  test(`gradient vs finite differences: ${name}`, () => gradcheckModel(graph, { op: name, opset, inputs: [{ shape: dims, data }] }));
}

check('tf2onnx NHWC LeakyRelu clipped by Max(x, per-channel constant)', [1, 4, 4, 3], 13, (em, x) => {
  const act = em.op('LeakyRelu', [x], { alpha: float(0.2) });
  const clipped = em.op('Max', [act, em.constFloat([-0.3, 0.1, -0.05], [3])]);
  return em.matmul(clipped, weights(em, [3, 2], 1));
});
check('Max(constant, x) broadcasting x to a larger output', [1, 2, 3], 13, (em, x) =>
  em.op('Max', [em.constFloat([-0.5, 0, 0.5, 1], [1, 4, 1, 1]), x]));
check('Min(x, constant), opset 9', [2, 6], 9, (em, x) => em.op('Min', [x, em.constFloat([0.3, -0.2, 1, 0, 0.5, -1], [6])]));
check('Pow(x, broadcast constant exponents)', [2, 6], 13, (em, x) => em.op('Pow', [x, em.constFloat([2, 3, 1, 2, 3, 4], [6])]));
check('Max of two activations', [2, 5], 13, (em, x) =>
  em.op('Max', [em.matmul(x, weights(em, [5, 4], 2)), em.op('Relu', [em.matmul(x, weights(em, [5, 4], 3))])]));
check('Max of three operands, one a constant', [2, 5], 13, (em, x) =>
  em.op('Max', [em.matmul(x, weights(em, [5, 4], 4)), em.constFloat([0.2, -0.1, 0, 0.4], [4]), em.op('Tanh', [em.matmul(x, weights(em, [5, 4], 5))])]));
check('Min of three operands, two activations and a constant', [2, 5], 13, (em, x) =>
  em.op('Min', [em.matmul(x, weights(em, [5, 4], 14)), em.op('Tanh', [em.matmul(x, weights(em, [5, 4], 15))]), em.constFloat([0.2, -0.1, 0, 0.4], [4])]));
check('Min of two activations with broadcasting', [2, 5], 12, (em, x) =>
  em.op('Min', [em.matmul(x, weights(em, [5, 4], 6)), em.reduceSum(x, [1], true)]));
check('Clip(x, min = mean(x) − 0.3), a bound computed from the input', [1, 8], 13, (em, x) => {
  const lo = em.sub(em.reduceMean(x, [0, 1], false), em.scalar(0.3));
  return em.op('Clip', [x, lo, em.scalar(1.5)]);
});
check('Clip(x, min = mean(x) − 0.3) at opset 11, the first with bounds as inputs', [1, 8], 11, (em, x) => {
  const lo = em.sub(em.reduceMean(x, [0, 1], false), em.scalar(0.3));
  return em.op('Clip', [x, lo, em.scalar(1.5)]);
});
check('audio front-end: Clip(x, min = ReduceMax(x) − 0.8)', [1, 10], 13, (em, x) => {
  const peak = em.op('ReduceMax', [x], { keepdims: 0 });
  return em.op('Clip', [x, em.sub(peak, em.scalar(0.8))]);
});
check('Clip with both bounds computed from the input', [1, 8], 12, (em, x) => {
  const mean = em.reduceMean(x, [0, 1], false);
  return em.op('Clip', [em.mul(x, em.scalar(1.5)), em.sub(mean, em.scalar(0.4)), em.add(mean, em.scalar(0.6))]);
});
// Finite differences (step 1e-2) need inputs away from the thresholds at 0.2 and 0.
const awayFromSteps = Array.from({ length: 12 }, (_, i) => (i % 2 ? 1 : -1) * (0.35 + (i % 5) * 0.37));
check('Where(x > 0.2, x, 0.1·x): the condition flips between the passes', [2, 6], 13, (em, x) =>
  em.where(em.compare('Greater', x, em.scalar(0.2)), x, em.mul(x, em.scalar(0.1))), awayFromSteps);
check('Where(x > 0, 2x, −x + constant) of two activations', [1, 2, 6], 13, (em, x) =>
  em.where(em.compare('Greater', x, em.scalar(0)), em.mul(x, em.scalar(2)), em.add(em.neg(x), em.constFloat([0.5, -0.5, 1], [1, 3, 1, 1]))), awayFromSteps);
// b moves more than a (|δb| = 2|δx| > |δa| = ½|δx|): where the condition flips δy goes whole to b.
check('Where(x > 0, ½x, −2x + constant) of two activations, the second moving more', [1, 2, 6], 13, (em, x) =>
  em.where(em.compare('Greater', x, em.scalar(0)), em.mul(x, em.scalar(0.5)), em.add(em.mul(x, em.scalar(-2)), em.constFloat([0.5, -0.5, 1], [1, 3, 1, 1]))), awayFromSteps);
check('Where with a constant condition and broadcasting branches', [1, 2, 6], 13, (em, x) =>
  em.where(em.compare('Greater', em.constFloat([1, -1, 1], [1, 3, 1, 1]), em.scalar(0)), em.op('Sigmoid', [x]), em.matmul(x, weights(em, [6, 1], 7))));
// c / b with b computed from the input: Div's rule for its divisor (the numerator constant), on references that move b.
check('Div(constant, activation): the divisor computed from the input', [2, 6], 13, (em, x) =>
  em.div(em.constFloat([1, -2, 0.5, 3, -1, 2], [6]), em.add(em.op('Softplus', [em.matmul(x, weights(em, [6, 6], 13))]), em.scalar(0.5))));

/** The last emitted node moved to the contrib domain. */
function contrib(em: Emitter, out: string): string {
  em.nodes[em.nodes.length - 1].domain = 'com.microsoft';
  return out;
}

check('TopK values of an activation (constant k)', [2, 6], 11, (em, x) =>
  em.opN('TopK', [em.op('Tanh', [em.matmul(x, weights(em, [6, 6], 8))]), em.constInt([3])], 2, { axis: -1 })[0]);
check('Einsum of two activations (attention scores)', [1, 3, 4], 13, (em, x) =>
  em.op('Einsum', [em.matmul(x, weights(em, [4, 4], 9)), em.op('Sigmoid', [x])], { equation: 'bid,bjd->bij' }));
check('Einsum of three activations (causal linear attention: queries, summed keys·values, normaliser)', [1, 3, 4], 13, (em, x) => {
  const kv = em.op('CumSum', [em.op('Einsum', [em.op('Elu', [x]), x], { equation: 'bld,ble->blde' }), em.constInt([1])]);
  return em.op('Einsum', [em.op('Sigmoid', [x]), kv, em.reduceSum(x, [2], false)], { equation: 'bld,blde,bl->ble' });
});
check('Einsum of two activations, one with a subscript it alone sums away', [2, 3, 4], 13, (em, x) =>
  em.op('Einsum', [em.op('Tanh', [x]), em.reduceSum(em.matmul(x, weights(em, [4, 2], 12)), [1], false)], { equation: 'nih,nj->nij' }));
check('Einsum of four activations (a degree-3 polynomial along the path)', [2, 5], 13, (em, x) =>
  em.op('Einsum', [x, em.op('Tanh', [x]), em.matmul(x, weights(em, [5, 5], 10)), em.op('Sigmoid', [x])], { equation: 'bi,bi,bj,bj->bij' }));
check('Conv of an activation by weights and bias computed from the input (a Siamese cross-correlation)', [1, 2, 7, 7], 13, (em, x) => {
  const features = em.op('Tanh', [em.op('Conv', [x, weights(em, [3, 2, 3, 3], 11)], { strides: [1, 1], pads: [1, 1, 1, 1], dilations: [1, 1], group: 1 })]);
  const template = em.reshape(em.slice(features, [0, 0, 1, 2], [1, 3, 4, 5], [0, 1, 2, 3]), [1, 3, 3, 3]);
  const bias = em.reshape(em.reduceSum(em.op('Sigmoid', [x]), [1, 2, 3], false), [1]);
  return em.op('Conv', [em.op('Relu', [features]), template, bias], { strides: [2, 1], pads: [1, 0, 0, 1], dilations: [1, 2], group: 1 });
});
check('grouped ConvTranspose of an activation by weights computed from the input', [1, 4, 3, 3], 13, (em, x) =>
  em.op('ConvTranspose', [em.op('Sigmoid', [x]), em.reshape(em.op('Tanh', [x]), [4, 1, 3, 3])], { strides: [2, 2], pads: [1, 1, 0, 0], dilations: [1, 1], group: 2, output_padding: [1, 0] }));
check('com.microsoft FusedMatMul of two activations', [2, 3, 4], 13, (em, x) =>
  contrib(em, em.op('FusedMatMul', [x, em.op('Tanh', [x])], { transB: 1, alpha: float(0.5) })));
check('com.microsoft SkipLayerNormalization of two activations (residual)', [2, 3, 4], 17, (em, x) =>
  contrib(em, em.op('SkipLayerNormalization', [x, em.op('Relu', [em.matmul(x, weights(em, [4, 4], 10))]), em.constFloat([1, 0.5, -1, 2], [4]), em.constFloat([0, 1, 0, 1], [4]), em.constFloat([0.3, -0.2, 0.5, -1], [4])], { epsilon: float(1e-5) })));


/**
 * A zero-bias stack where every LayerNorm sees a constant reference row (x⁰ = 0, so ρ⁰ = ε^−½),
 * as a random-init ConvNeXt from the zero baseline: the midpoint product split cancelled two
 * ε^−½-sized terms per LayerNorm (ConvNeXt-T: convergence delta 1e4). LayerNormalization (opset
 * 17) and the exporters' decomposition into ReduceMean, Sub, Pow, Sqrt and Div (opset 13).
 */
function layerNormStack(name: string, opset: number, norm: (em: Emitter, h: string) => string): void {
  test(`DeepLIFT sums to delta from a zero reference through stacked ${name}`, async () => {
    const graph = tinyGraph([2, 8], opset, (em, x) => {
      let h = x;
      for (let k = 0; k < 5; k++) h = em.matmul(norm(em, h), weights(em, [8, 8], 20 + k));
      return h;
    });
    for (const seed of [11, 12]) await sumcheckModel(deeplift, { model: graph.model, input: graph.xs[0], output: 'y', label: `${name} (seed ${seed})`, seed, x0: Array(16).fill(0) }, 1e-6);
  });
}
layerNormStack('LayerNormalization', 17, (em, h) =>
  em.op('LayerNormalization', [h, em.constFloat(Array(8).fill(1), [8]), em.constFloat(Array(8).fill(0), [8])], { axis: -1, epsilon: float(1e-6) }));
layerNormStack('decomposed LayerNorms', 13, (em, h) => {
  const c = em.sub(h, em.op('ReduceMean', [h], { axes: [-1] }));
  const v = em.op('ReduceMean', [em.op('Pow', [c, em.scalar(2)])], { axes: [-1] });
  return em.op('Div', [c, em.op('Sqrt', [em.add(v, em.scalar(1e-6))])]);
});
// RMSNorm (Llama, T5) as torch.onnx writes x·rsqrt(mean(x²) + ε): Mul by Div(1, Sqrt(·)), by Reciprocal, or by Pow(·, −½).
for (const [form, rsqrt] of [
  ['Div(1, Sqrt)', (em: Emitter, v: string) => em.div(em.scalar(1), em.op('Sqrt', [v]))],
  ['Reciprocal(Sqrt)', (em: Emitter, v: string) => em.op('Reciprocal', [em.op('Sqrt', [v])])],
  ['Pow(v, -0.5)', (em: Emitter, v: string) => em.op('Pow', [v, em.scalar(-0.5)])],
] as const) {
  layerNormStack(`RMSNorms, x·${form}`, 13, (em, h) => {
    const v = em.add(em.op('ReduceMean', [em.op('Pow', [h, em.scalar(2)])], { axes: [-1] }), em.scalar(1e-6));
    return em.mul(em.constFloat([1, 0.5, 2, 1, 1.5, 0.8, 1, 1.2], [8]), em.mul(h, rsqrt(em, v)));
  });
}
// The reciprocal as Mul's first operand (torch.rsqrt(v) * x): the same product split.
layerNormStack('RMSNorms, Div(1, Sqrt)·x (the reciprocal first)', 13, (em, h) => {
  const v = em.add(em.op('ReduceMean', [em.op('Pow', [h, em.scalar(2)])], { axes: [-1] }), em.scalar(1e-6));
  return em.mul(em.constFloat([1, 0.5, 2, 1, 1.5, 0.8, 1, 1.2], [8]), em.mul(em.div(em.scalar(1), em.op('Sqrt', [v])), h));
});
// tf2onnx's LayerNorm (tf.nn.batch_normalization): x·s + (β − μ·s) with s = γ·rsqrt(v + ε).
layerNormStack('LayerNorms as x·s + (β − μ·s), s = γ·Reciprocal(Sqrt(v + ε))', 13, (em, h) => {
  const mean = em.op('ReduceMean', [h], { axes: [-1] });
  const v = em.op('ReduceMean', [em.op('Pow', [em.sub(h, mean), em.scalar(2)])], { axes: [-1] });
  const s = em.mul(em.constFloat([1, 0.5, 2, 1, 1.5, 0.8, 1, 1.2], [8]), em.op('Reciprocal', [em.op('Sqrt', [em.add(v, em.scalar(1e-6))])]));
  return em.add(em.mul(h, s), em.sub(em.constFloat([0.1, 0, -0.2, 0.3, 0, 0.1, -0.1, 0], [8]), em.mul(mean, s)));
});

// The same with γ as Mul's second operand (s = rsqrt(v + ε)·γ).
layerNormStack('LayerNorms as x·s + (β − μ·s), s = Reciprocal(Sqrt(v + ε))·γ', 13, (em, h) => {
  const mean = em.op('ReduceMean', [h], { axes: [-1] });
  const v = em.op('ReduceMean', [em.op('Pow', [em.sub(h, mean), em.scalar(2)])], { axes: [-1] });
  const s = em.mul(em.op('Reciprocal', [em.op('Sqrt', [em.add(v, em.scalar(1e-6))])]), em.constFloat([1, 0.5, 2, 1, 1.5, 0.8, 1, 1.2], [8]));
  return em.add(em.mul(h, s), em.sub(em.constFloat([0.1, 0, -0.2, 0.3, 0, 0.1, -0.1, 0], [8]), em.mul(mean, s)));
});

test('DeepLIFT of a product of three activations gives each factor its Shapley value', async () => {
  // y = Σ_i a_i·b_i·c_i with a, b, c the rows of x: a_i's share of δ(abc) is
  // δa·[(b⁰c⁰ + bc)/3 + (bc⁰ + b⁰c)/6], and so for b and c.
  const model = tinyModel([3, 4], 13, (em, x) => {
    const row = (k: number) => em.squeeze(em.slice(x, [k], [k + 1], [1]), [1]);
    return em.unsqueeze(em.op('Einsum', [row(0), row(1), row(2)], { equation: 'bi,bi,bi->b' }), [1]);
  });
  const x = [0.5, -1.2, 2, 0.3, 1.5, 0.7, -0.4, 1.1, -2, 0.9, 1.3, -0.6];
  const x0 = [0.1, 0.4, -0.3, 1, -0.5, 0.2, 0.6, -1, 0.8, -0.7, 0.25, 0.5];
  const ex = await Explainer.load(model);
  const r = await ex.attribute({ data: Float32Array.from(x), dims: [1, 3, 4] }, { method: 'deeplift', target: 0, baseline: { data: Float32Array.from(x0), dims: [1, 3, 4] } });
  const expected = x.map((_, k) => {
    const [f, i] = [Math.floor(k / 4), k % 4];
    const [p, q] = [0, 1, 2].filter((g) => g !== f).map((g) => [x[4 * g + i], x0[4 * g + i]]);
    return (x[k] - x0[k]) * ((q[1] * p[1] + q[0] * p[0]) / 3 + (p[0] * q[1] + p[1] * q[0]) / 6);
  });
  r.attributions.data.forEach((v, k) => assert.ok(Math.abs(v - expected[k]) <= 1e-6, `x[${k}]: ${v} ≠ Shapley ${expected[k]}`));
});

test('DeepLIFT through c / s where s keeps its value on both passes: the multiplier is the gradient −c/s² (the rescale rule\'s limit)', async () => {
  // s = x₁ + x₂ + 2 is 3.75 on both passes (exact in float32); δx = (−1, 1), so each input's attribution
  // is −δxᵢ/s² (its share of a δs that sums to 0): (1/3.75², −1/3.75²).
  const model = tinyModel([2], 13, (em, x) => em.div(em.scalar(1), em.add(em.reduceSum(x, [1], true), em.scalar(2))));
  const ex = await Explainer.load(model);
  const r = await ex.attribute({ data: Float32Array.from([0.5, 1.25]), dims: [1, 2] }, { method: 'deeplift', target: 0, baseline: { data: Float32Array.from([1.5, 0.25]), dims: [1, 2] } });
  const expected = [1 / 3.75 ** 2, -1 / 3.75 ** 2];
  r.attributions.data.forEach((v, k) => assert.ok(Math.abs(v - expected[k]) <= 1e-6, `x[${k}]: ${v} ≠ −δx/s² = ${expected[k]}`));
});

// The condition flips between the passes (c = x₀ > 0) while neither branch moves (h₁ = 2, h₂ = 3 on both): δy = −1 has
// no δx to go to and is not attributed (documented); no multiplier δy/δ(branch) = δy/0 may reach the attributions.
test('DeepLIFT through Where whose condition flips while neither branch moves: finite (zero) attributions', async () => {
  const model = tinyModel([3], 13, (em, x) => {
    const part = (a: number) => em.slice(x, [a], [a + 1], [1]);
    return em.where(em.compare('Greater', part(0), em.scalar(0)), part(1), part(2));
  });
  const ex = await Explainer.load(model);
  const r = await ex.attribute({ data: Float32Array.from([1, 2, 3]), dims: [1, 3] }, { method: 'deeplift', target: 0, baseline: { data: Float32Array.from([-1, 2, 3]), dims: [1, 3] } });
  assert.equal(Array.from(r.attributions.data), [0, 0, 0]);
});

// The graph builder itself (not only the Explainer's check of the path) refuses a float computed through a step
// (Cast(x > 0)) that may differ between the passes, where the run cannot check that it keeps its value (no stepsKept).
test('buildAugmented refuses DeepLIFT through x·Cast(x > 0), a step that may move between the passes', async () => {
  const graph = tinyGraph([1, 4], 13, (em, x) => em.mul(x, em.mask('Greater', x, em.scalar(0))));
  await sumcheckModel(deeplift, { model: graph.model, input: graph.xs[0], output: 'y', label: 'step' }).then(
    () => assert.unreachable('accepted'),
    (e: Error) => assert.match(e.message, /a step function of .*no multiplier passes through a step/));
});

test.run();
