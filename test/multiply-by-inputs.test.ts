import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { readNpy } from '../runtime/node/npy-file';
import { quadrature } from '../runtime/drivers/integrated-gradients-quadrature';
import { relL2 } from './support/fixtures';
import { rejects } from './support/rejects';
import { runCli } from './support/cli-harness';

// Captum's multiply_by_inputs=False ("global attribution"): the attribution without its factor x − x⁰ (A − A⁰ at a
// layer). A CNN with biases (models/lrp-composites), two rows, a baseline of both signs.
const DIR = path.resolve(__dirname, '../../models/lrp-composites');
const MODEL = path.join(DIR, 'model.onnx');
const x = (() => { const a = readNpy(path.join(DIR, 'input.npy')); return { data: Float32Array.from(a.data as Float32Array), dims: a.dims }; })();
const baseline = { data: x.data.map((_, i) => 0.3 * Math.sin(i)), dims: x.dims };
const target = [3, 1];
const times = (a: ArrayLike<number>, b: ArrayLike<number>) => Float32Array.from(a, (v, i) => v * b[i]);
const minus = (a: ArrayLike<number>, b: ArrayLike<number>) => Float32Array.from(a, (v, i) => v - b[i]);
const rowSums = (a: ArrayLike<number>, rows: number) => Array.from({ length: rows }, (_, r) => Array.from(a).slice((r * a.length) / rows, ((r + 1) * a.length) / rows).reduce((s, v) => s + v, 0));

test('deeplift, integrated-gradients, gradient-shap, neuron-conductance: the unmultiplied attribution times x − x⁰ is the attribution; the delta is Captum\'s Σ attribution − (f(x) − f(x⁰))', async () => {
  const ex = await Explainer.load(MODEL);
  const layer = ex.model.graph!.node!.find((n) => n.op_type === 'Relu')!.output![0];
  const cases: [string, object][] = [
    ['deeplift', { baseline }], ['integrated-gradients', { baseline, steps: 8 }],
    // One baseline row and no noise: every draw's x̃ − b is x − b.
    ['gradient-shap', { baseline: { data: baseline.data.slice(0, 768), dims: [1, 3, 16, 16] }, samples: 3, seed: 2 }],
    ['neuron-conductance', { baseline, layer, neuron: 5, steps: 8 }],
  ];
  for (const [method, options] of cases) {
    const [m, g] = await Promise.all([true, false].map((multiplyByInputs) => ex.attribute(x, { method, target, multiplyByInputs, ...options })));
    assert.ok(relL2(times(g.attributions.data, minus(x.data, method === 'gradient-shap' ? x.data.map((_, i) => baseline.data[i % 768]) : baseline.data)), m.attributions.data) < 1e-6, method);
    if (!m.delta) continue;
    // f(x) − f(x⁰) per row (per draw for gradient-shap) from the multiplied run, then Captum's delta of the unmultiplied attributions.
    const rows = m.delta.length / 2;
    const explained = m.delta.map((d, j) => rowSums(m.attributions.data, 2)[Math.floor(j / rows)] - d);
    if (method !== 'gradient-shap') g.delta!.forEach((d, r) => assert.ok(Math.abs(d - (rowSums(g.attributions.data, 2)[r] - explained[r])) < 1e-5, `${method} row ${r}: delta ${d}`));
  }
});

test('integrated-gradients unmultiplied is Σ_k w_k ∂f/∂x at the quadrature\'s points (explicit gradients); input-x-gradient unmultiplied is the gradient', async () => {
  const ex = await Explainer.load(MODEL);
  const { alphas, weights } = quadrature('gausslegendre', 6);
  const sum = new Float32Array(x.data.length);
  for (const [k, a] of alphas.entries()) {
    const point = { data: baseline.data.map((b, i) => b + a * (x.data[i] - b)), dims: x.dims };
    const g = await ex.attribute(point, { method: 'gradient', target });
    g.attributions.data.forEach((v, i) => { sum[i] += weights[k] * v; });
  }
  const ig = await ex.attribute(x, { method: 'integrated-gradients', target, baseline, steps: 6, multiplyByInputs: false });
  assert.ok(relL2(ig.attributions.data, sum) < 1e-5, `rel L2 ${relL2(ig.attributions.data, sum)}`);
  const [ixg, grad] = await Promise.all([ex.attribute(x, { method: 'input-x-gradient', target, multiplyByInputs: false }), ex.attribute(x, { method: 'gradient', target })]);
  assert.equal(Array.from(ixg.attributions.data), Array.from(grad.attributions.data));
});

test('at a layer (LayerDeepLift, LayerIntegratedGradients) the unmultiplied attribution times A − A⁰ is the attribution; deeplift-shap averages the multipliers', async () => {
  const ex = await Explainer.load(MODEL);
  const layer = ex.model.graph!.node!.filter((n) => n.op_type === 'Relu')[1].output![0];
  const [a, a0] = await Promise.all([x, baseline].map((v) => ex.attribute(v, { method: 'layer-activation', layer })));
  const change = minus(a.attributions.data, a0.attributions.data);
  for (const [method, options] of [['deeplift', {}], ['integrated-gradients', { steps: 8 }]] as const) {
    const [m, g] = await Promise.all([true, false].map((multiplyByInputs) => ex.attribute(x, { method, target, baseline, layer, multiplyByInputs, ...options })));
    assert.ok(relL2(times(g.attributions.data, change), m.attributions.data) < 1e-6, method);
  }
  const rows = (k: number) => ({ data: Float32Array.from({ length: 2 * 768 }, (_, i) => baseline.data[(k * 768 + i) % baseline.data.length]), dims: x.dims });
  const dist = { data: baseline.data, dims: [2, 3, 16, 16] };
  const shap = await ex.attribute(x, { method: 'deeplift-shap', target, baseline: dist, multiplyByInputs: false });
  const each = await Promise.all([0, 1].map((k) => ex.attribute(x, { method: 'deeplift', target, baseline: rows(k), multiplyByInputs: false })));
  assert.ok(relL2(shap.attributions.data, each[0].attributions.data.map((v, i) => (v + each[1].attributions.data[i]) / 2)) < 1e-6);
});

test('multiplyByInputs is refused where a method has no such factor, and --no-multiply-by-inputs reports no convergence delta check', async () => {
  const ex = await Explainer.load(MODEL);
  await rejects(() => ex.attribute(x, { method: 'lrp-epsilon', target, multiplyByInputs: false }), /multiplyByInputs' applies to deeplift, deeplift-shap, integrated-gradients, gradient-shap, input-x-gradient and neuron-conductance, not to method 'lrp-epsilon'/);
  await rejects(() => ex.attribute(x, { method: 'deeplift', target, multiplyByInputs: 0 as unknown as boolean }), /multiplyByInputs 0 is not true or false/);
  const r = await runCli(['attribute', MODEL, '--input', path.join(DIR, 'input.npy'), '--method', 'deeplift', '--target', '3', '--baseline', '0.5', '--no-multiply-by-inputs']);
  assert.is(r.code, 0, r.err.join('\n'));
  assert.equal([r.err, r.warn], [[], []]);
  assert.ok(r.out.some((l) => l.startsWith('--no-multiply-by-inputs: the attributions are not multiplied')), r.out.join('\n'));
  assert.not.ok(r.out.some((l) => /convergence delta -?\d/.test(l)), 'no delta lines');
  const bad = await runCli(['attribute', MODEL, '--input', path.join(DIR, 'input.npy'), '--method', 'gradient', '--no-multiply-by-inputs']);
  assert.equal([bad.code, bad.err.length], [1, 1]);
  assert.match(bad.err[0], /^onnx-explain: error: --no-multiply-by-inputs applies to deeplift, .*not to method 'gradient'/);
});

test.run();
