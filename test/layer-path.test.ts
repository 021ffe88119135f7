import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttrType, DataType, encodeModel, valueInfo } from '../rewriter/proto';
import { Explainer, loadModel } from '../runtime';
import { quadrature } from '../runtime/drivers/integrated-gradients-quadrature';
import { loadFixture, relL2, tensorValues } from './support/fixtures';
import { rejects } from './support/rejects';

const fx = loadFixture('mlp');
const [N, F] = fx.input.dims;
const target = fx.meta.target;
const layer = '/body/body.1/Relu_output_0';
const baseline = { data: Float32Array.from({ length: F }, (_, i) => Math.cos(i) * 0.4), dims: [1, F] };

/** The points b + α(x − b) of every row for each α, step-major (rows k·N + r). */
function points(alphas: number[]): { data: Float32Array; dims: number[] } {
  const data = new Float32Array(alphas.length * N * F);
  alphas.forEach((a, k) => { for (let j = 0; j < N * F; j++) data[k * N * F + j] = baseline.data[j % F] + a * (fx.input.data[j] - baseline.data[j % F]); });
  return { data, dims: [alphas.length * N, F] };
}

test('internal-influence = Σ w_k · the layer gradient at each point of the input path (explicit gradient runs), for two quadratures', async () => {
  const ex = await Explainer.load(fx.model);
  for (const [igMethod, steps] of [['gausslegendre', 12], ['riemann_left', 7]] as const) {
    const { alphas, weights } = quadrature(igMethod, steps);
    const g = await ex.attribute(points(alphas), { method: 'gradient', layer, target: alphas.flatMap(() => target) });
    const size = g.attributions.data.length / (steps * N);
    const want = Float32Array.from({ length: N * size }, (_, i) => weights.reduce((s, w, k) => s + w * g.attributions.data[k * N * size + i], 0));
    const r = await ex.attribute(fx.input, { method: 'internal-influence', layer, target, baseline, steps, igMethod, internalBatchSize: 5 });
    assert.equal(r.attributions.dims, [N, size]);
    assert.ok(relL2(r.attributions.data, want) < 1e-6, `${igMethod}: rel L2 ${relL2(r.attributions.data, want)}`);
  }
});

test('layer-conductance = Σ ∂f/∂A(x_k)·(A(x_{k+1}) − A(x_k)) over steps + 1 nodes (explicit runs); its delta is Σ − (f(x) − f(b)) and shrinks with the steps', async () => {
  const ex = await Explainer.load(fx.model);
  const steps = 10;
  const { alphas } = quadrature('gausslegendre', steps + 1);
  const g = await ex.attribute(points(alphas), { method: 'gradient', layer, target: alphas.flatMap(() => target) });
  const values = await tensorValues(ex, points(alphas), layer);
  const block = values.length / (steps + 1);
  const want = new Float32Array(block);
  for (let k = 0; k < steps; k++) for (let i = 0; i < block; i++) want[i] += g.attributions.data[k * block + i] * (values[(k + 1) * block + i] - values[k * block + i]);
  const r = await ex.attribute(fx.input, { method: 'layer-conductance', layer, target, baseline, steps });
  assert.ok(relL2(r.attributions.data, want) < 1e-6, `rel L2 ${relL2(r.attributions.data, want)}`);
  const logits = await tensorValues(ex, fx.input, 'output');
  const atBaseline = await tensorValues(ex, baseline, 'output');
  const classes = logits.length / N;
  const size = block / N;
  target.forEach((t, row) => {
    const sum = want.subarray(row * size, (row + 1) * size).reduce((a, v) => a + v, 0);
    assert.ok(Math.abs(r.delta![row] - (sum - (logits[row * classes + t] - atBaseline[t]))) < 1e-5, `row ${row}: delta`);
  });
  const fine = await ex.attribute(fx.input, { method: 'layer-conductance', layer, target, baseline, steps: 200 });
  const worst = (d: Float32Array) => Math.max(...Array.from(d, Math.abs));
  assert.ok(worst(fine.delta!) < worst(r.delta!) && worst(fine.delta!) < 1e-3, `|delta| ${worst(r.delta!)} at 10 steps, ${worst(fine.delta!)} at 200`);
});

test('internal-influence and layer-conductance without --layer are one-line errors', async () => {
  const ex = await Explainer.load(fx.model);
  await rejects(() => ex.attribute(fx.input, { method: 'layer-conductance' }), /^method 'layer-conductance' attributes to a layer: give --layer NAME \('onnx-explain info' lists them\)$/);
});


test('neuron-conductance: summed over every neuron of a layer that all paths cross, it is integrated gradients with the same quadrature (chain rule); multi-index and flat neurons agree; one-line errors', async () => {
  const ex = await Explainer.load(fx.model);
  const size = (await tensorValues(ex, { data: fx.input.data.slice(0, F), dims: [1, F] }, layer)).length;
  for (const [igMethod, steps] of [['riemann_trapezoid', 6], ['gausslegendre', 5]] as const) {
    const sum = new Float32Array(N * F);
    for (let j = 0; j < size; j++) {
      const r = await ex.attribute(fx.input, { method: 'neuron-conductance', layer, neuron: j, target, baseline, steps, igMethod });
      assert.equal(r.attributions.dims, [N, F]);
      r.attributions.data.forEach((v, i) => { sum[i] += v; });
    }
    const ig = await ex.attribute(fx.input, { method: 'integrated-gradients', target, baseline, steps, igMethod });
    assert.ok(relL2(sum, ig.attributions.data) < 1e-5, `${igMethod}: Σ_j conductance vs IG, rel L2 ${relL2(sum, ig.attributions.data)}`);
  }
  const flat = await ex.attribute(fx.input, { method: 'neuron-conductance', layer, neuron: 3, target, baseline, steps: 4 });
  const multi = await ex.attribute(fx.input, { method: 'neuron-conductance', layer, neuron: [3], target, baseline, steps: 4 });
  assert.equal(Array.from(multi.attributions.data), Array.from(flat.attributions.data));
  await rejects(() => ex.attribute(fx.input, { method: 'neuron-conductance', layer, target }), /method 'neuron-conductance' needs the neuron of layer '\/body\/body\.1\/Relu_output_0' \[N, \d+\]: give --neuron/);
  await rejects(() => ex.attribute(fx.input, { method: 'neuron-conductance', layer, neuron: size, target }), new RegExp(`--neuron ${size}: not an index of layer`));
  await rejects(() => ex.attribute(fx.input, { method: 'neuron-conductance', layer, neuron: [0, 1], target }), /--neuron 0:1: not a neuron of layer/);
});

test('internal-influence, layer-conductance and neuron-conductance on a model with an integer output beside the logits (an ArgMax label): the same attributions, the float outputs returned', async () => {
  const model = loadModel(fx.model);
  const logits = model.graph!.output![0].name!;
  model.graph!.node!.push({ op_type: 'ArgMax', input: [logits], output: ['label'], attribute: [{ name: 'axis', type: AttrType.INT, i: 1 }] });
  model.graph!.output!.push(valueInfo('label', DataType.INT64, ['N']));
  const [plain, labelled] = [await Explainer.load(fx.model), await Explainer.load(encodeModel(model))];
  for (const method of ['internal-influence', 'layer-conductance', 'neuron-conductance']) {
    const options = { method, layer, target, steps: 4, baseline, output: logits, ...(method === 'neuron-conductance' ? { neuron: 1 } : {}) };
    const [a, b] = [await plain.attribute(fx.input, options), await labelled.attribute(fx.input, options)];
    assert.equal(Array.from(b.attributions.data), Array.from(a.attributions.data), method);
    assert.equal(Object.keys(b.outputs), [logits]);
  }
});

test('neuron-conductance at a Softmax\'s output (an attention\'s probabilities) takes ∂A_j/∂x of the probabilities, not of their logits: summed over the neurons it is integrated gradients; per-row neurons are refused', async () => {
  const model = loadModel(fx.model);
  const nodes = model.graph!.node!;
  for (const n of nodes) n.input = n.input!.map((i) => (i === layer ? 'probabilities' : i));
  nodes.splice(nodes.findIndex((n) => n.output!.includes(layer)) + 1, 0, { op_type: 'Softmax', input: [layer], output: ['probabilities'], attribute: [{ name: 'axis', type: AttrType.INT, i: 1 }] });
  const ex = await Explainer.load(encodeModel(model));
  const size = (await tensorValues(ex, { data: fx.input.data.slice(0, F), dims: [1, F] }, 'probabilities')).length;
  const steps = 6;
  const sum = new Float32Array(N * F);
  for (let j = 0; j < size; j++) {
    const r = await ex.attribute(fx.input, { method: 'neuron-conductance', layer: 'probabilities', neuron: j, target, baseline, steps });
    r.attributions.data.forEach((v, i) => { sum[i] += v; });
  }
  const ig = await ex.attribute(fx.input, { method: 'integrated-gradients', target, baseline, steps, igMethod: 'riemann_trapezoid' });
  assert.ok(relL2(sum, ig.attributions.data) < 1e-5, `Σ_j conductance vs IG, rel L2 ${relL2(sum, ig.attributions.data)}`);
  await rejects(() => ex.attribute(fx.input, { method: 'neuron-conductance', layer: 'probabilities', neuron: [[1], [2]] as unknown as number[], target }), /^--neuron: one neuron of layer 'probabilities' \[N, \d+\] for every row, as Captum's neuron_selector; not one per row$/);
});

// Captum 0.8's defaults: InternalInfluence and LayerConductance n_steps = 50, method 'gausslegendre';
// NeuronConductance n_steps = 50, method 'riemann_trapezoid'. Options left out give the same numbers as these given.
test('layer path methods left without steps and igMethod use Captum\'s defaults (50 steps; Gauss–Legendre, neuron-conductance the trapezoid rule)', async () => {
  const ex = await Explainer.load(fx.model);
  for (const [method, igMethod, extra] of [
    ['internal-influence', 'gausslegendre', {}],
    ['layer-conductance', 'gausslegendre', {}],
    ['neuron-conductance', 'riemann_trapezoid', { neuron: 1 }],
  ] as const) {
    const byDefault = await ex.attribute(fx.input, { method, layer, target, baseline, ...extra });
    const given = await ex.attribute(fx.input, { method, layer, target, baseline, ...extra, steps: 50, igMethod });
    assert.equal(Array.from(byDefault.attributions.data), Array.from(given.attributions.data), method);
  }
});

test.run();
