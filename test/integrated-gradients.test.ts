import * as fs from 'fs';
import * as ort from 'onnxruntime-node';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter } from '../rewriter/emitter';
import { DataType, encodeModel, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { backend } from '../runtime/backend';
import { chunking } from '../runtime/drivers/integrated-gradients';
import { IgMethod, quadrature } from '../runtime/drivers/integrated-gradients-quadrature';
import { readNpy } from '../runtime/node/npy-file';
import { runCli, tempDir } from './support/cli-harness';
import { EXPORTERS, loadFixture, relL2, tensorValues } from './support/fixtures';
import { rng } from './support/gradcheck';
import { tinyModel } from './support/tiny-model';

const LEGGAUSS = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../models/layers/leggauss.json'), 'utf8'));
const out = tempDir('ig');

test('Gauss–Legendre nodes and weights equal numpy leggauss mapped to [0, 1], and integrate α^k exactly for k < 2n', () => {
  for (const [n, ref] of Object.entries(LEGGAUSS) as [string, { nodes: number[]; weights: number[] }][]) {
    const { alphas, weights } = quadrature('gausslegendre', Number(n));
    ref.nodes.forEach((x, i) => assert.ok(Math.abs(alphas[i] - 0.5 * (1 + x)) < 1e-14, `n=${n} node ${i}`));
    ref.weights.forEach((w, i) => assert.ok(Math.abs(weights[i] - 0.5 * w) < 1e-14, `n=${n} weight ${i}`));
    for (let k = 0; k < 2 * Number(n); k++) {
      const integral = alphas.reduce((a, x, i) => a + weights[i] * x ** k, 0);
      assert.ok(Math.abs(integral - 1 / (k + 1)) < 1e-13, `n=${n}: ∫α^${k} = ${integral}`);
    }
  }
});

test("Riemann rules: Captum's nodes, and trapezoid weights summing to (n − 1)/n", () => {
  const n = 4;
  assert.equal(quadrature('riemann_left', n).alphas, [0, 0.25, 0.5, 0.75]);
  assert.equal(quadrature('riemann_right', n).alphas, [0.25, 0.5, 0.75, 1]);
  assert.equal(quadrature('riemann_middle', n).alphas, [0.125, 0.375, 0.625, 0.875]);
  const trapezoid = quadrature('riemann_trapezoid', n);
  assert.ok(trapezoid.alphas.every((a, i) => Math.abs(a - i / 3) < 1e-15));
  assert.equal(trapezoid.weights, [0.125, 0.25, 0.25, 0.125]);
  assert.is(trapezoid.weights.reduce((a, b) => a + b), 0.75);
  for (const m of ['riemann_left', 'riemann_right', 'riemann_middle'] as IgMethod[]) assert.equal(quadrature(m, n).weights, [0.25, 0.25, 0.25, 0.25]);
});

/** y[:, 0] = Σ w·x³, y[:, 1] = Σ v·x² over 5 features. */
const W = [0.5, -1, 2, 0.25, 1.5];
const V = [1, 0.5, -0.5, 2, -1];
function cubicModel(): Uint8Array {
  return tinyModel([5], 13, (em, x) => {
    const cube = em.reduceSum(em.mul(em.mul(em.mul(x, x), x), em.constFloat(W, [1, 5])), [1], true);
    const square = em.reduceSum(em.mul(em.mul(x, x), em.constFloat(V, [1, 5])), [1], true);
    return em.concat([cube, square], 1);
  });
}

test('analytic model: Gauss–Legendre IG = w·(x³ − x⁰³) exactly; Riemann rules = their closed-form sums; delta as Captum', async () => {
  const ex = await Explainer.load(cubicModel());
  const rand = rng(3);
  const x = Float32Array.from({ length: 10 }, () => rand() * 4 - 2);
  const b = Float32Array.from({ length: 5 }, () => rand() * 2 - 1);
  const input = { data: x, dims: [2, 5] };
  const gl = await ex.attribute(input, { method: 'integrated-gradients', target: 0, steps: 2, baseline: { data: b, dims: [1, 5] } });
  const exact = Array.from(x, (v, i) => W[i % 5] * (v ** 3 - b[i % 5] ** 3));
  assert.ok(relL2(gl.attributions.data, exact) < 1e-6, `GL-2 vs exact integral: ${relL2(gl.attributions.data, exact)}`);
  for (const igMethod of ['riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid'] as IgMethod[]) {
    const steps = 7;
    const r = await ex.attribute(input, { method: 'integrated-gradients', target: 1, steps, igMethod, baseline: { data: b, dims: [1, 5] } });
    const { alphas, weights } = quadrature(igMethod, steps);
    // ∂/∂x_i Σ v·x² = 2 v_i x_i at the path point b + α(x − b).
    const want = Array.from(x, (v, i) => {
      const d = v - b[i % 5];
      return d * alphas.reduce((a, al, k) => a + weights[k] * 2 * V[i % 5] * (b[i % 5] + al * d), 0);
    });
    assert.ok(relL2(r.attributions.data, want) < 1e-6, `${igMethod}: ${relL2(r.attributions.data, want)}`);
    for (let row = 0; row < 2; row++) {
      const total = r.attributions.data.slice(row * 5, row * 5 + 5).reduce((a, v) => a + v, 0);
      const change = Array.from({ length: 5 }, (_, i) => V[i] * (x[row * 5 + i] ** 2 - b[i] ** 2)).reduce((a, v) => a + v);
      assert.ok(Math.abs(r.delta![row] - (total - change)) < 1e-5, `${igMethod} row ${row}: delta ${r.delta![row]} vs ${total - change}`);
    }
  }
});

/** Σ_k w_k ∂f/∂x(x⁰ + α_k(x − x⁰)) · (x − x⁰) from the plain gradient method, one α at a time. */
async function explicitIg(ex: Explainer, x: { data: Float32Array; dims: number[] }, b: Float32Array, targets: number[], igMethod: IgMethod, steps: number): Promise<Float32Array> {
  const { alphas, weights } = quadrature(igMethod, steps);
  const per = b.length;
  const total = new Float64Array(x.data.length);
  for (let k = 0; k < alphas.length; k++) {
    const point = Float32Array.from(x.data, (v, i) => b[i % per] + alphas[k] * (v - b[i % per]));
    const g = (await ex.attribute({ data: point, dims: x.dims }, { method: 'gradient', target: targets })).attributions.data;
    for (let i = 0; i < g.length; i++) total[i] += weights[k] * g[i];
  }
  return Float32Array.from(total, (v, i) => v * (x.data[i] - b[i % per]));
}

test('IG on cnn_maxpool and resnet_bn equals an explicit sum of gradients at the same α, whatever internalBatchSize', async () => {
  for (const name of ['cnn_maxpool', 'resnet_bn']) {
    const fx = loadFixture(name);
    const ex = await Explainer.load(fx.model);
    const rand = rng(5);
    const per = fx.input.data.length / fx.input.dims[0];
    const b = Float32Array.from({ length: per }, () => rand() - 0.5);
    for (const [igMethod, steps] of [['gausslegendre', 6], ['riemann_trapezoid', 5]] as [IgMethod, number][]) {
      const want = await explicitIg(ex, fx.input, b, fx.meta.target, igMethod, steps);
      for (const internalBatchSize of [undefined, 7, 2]) {
        const r = await ex.attribute(fx.input, { method: 'integrated-gradients', target: fx.meta.target, baseline: { data: b, dims: [1, ...fx.input.dims.slice(1)] }, steps, igMethod, internalBatchSize });
        const err = relL2(r.attributions.data, want);
        assert.ok(err < 1e-5, `${name} ${igMethod} internalBatchSize ${internalBatchSize}: rel L2 ${err}`);
        // Captum's delta: Σ attribution − (f(x) − f(x⁰)) of the target logit.
        const logits = ex.resolveOutput(undefined).from;
        const fxv = await tensorValues(ex, fx.input, logits);
        const fb = await tensorValues(ex, { data: Float32Array.from({ length: fx.input.data.length }, (_, i) => b[i % per]), dims: fx.input.dims }, logits);
        const classes = fxv.length / fx.input.dims[0];
        fx.meta.target.forEach((t, row) => {
          const total = r.attributions.data.slice(row * per, (row + 1) * per).reduce((a, v) => a + v, 0);
          const d = total - (fxv[row * classes + t] - fb[row * classes + t]);
          assert.ok(Math.abs(r.delta![row] - d) < 1e-4 * Math.max(1, Math.abs(d)), `${name} row ${row}: delta ${r.delta![row]} vs ${d}`);
        });
      }
    }
  }
});

test('Without internalBatchSize, IG runs as many rows as fit the memory budget: three times the forward\'s tensors per row', async () => {
  const fx = loadFixture('cnn_maxpool');
  const ex = await Explainer.load(fx.model);
  const one = { data: fx.input.data.slice(0, fx.input.data.length / fx.input.dims[0]), dims: [1, ...fx.input.dims.slice(1)] };
  // The forward's tensors at batch 1, as onnxruntime computes them (the model input included).
  let bytes = one.data.length * 4;
  for (const node of ex.view.nodes) for (const o of node.output ?? []) bytes += (await tensorValues(ex, one, o)).length * 4;
  const steps = 6;
  const want = await explicitIg(ex, fx.input, new Float32Array(one.data.length), fx.meta.target, 'gausslegendre', steps);
  const saved = backend().memoryBudget;
  try {
    for (const rows of [1, 4, 100]) {
      backend().memoryBudget = 3 * bytes * (rows + 0.5);
      let runs = 0;
      const r = await ex.attribute(fx.input, { method: 'integrated-gradients', target: fx.meta.target, steps, progress: (_, total) => { runs = total; } });
      const n = fx.input.dims[0];
      const chunk = chunking(n, steps, rows, true);
      assert.is(runs, Math.ceil(n / chunk.rows) * Math.ceil(steps / chunk.steps), `${rows} rows per run`);
      assert.ok(relL2(r.attributions.data, want) < 1e-5, `${rows} rows per run`);
    }
  } finally {
    backend().memoryBudget = saved;
  }
});

test('IG on a batch-1 export (rows one by one) and with a baseline per row', async () => {
  const fx = loadFixture('batch1_reshape');
  const ex = await Explainer.load(fx.model);
  const b = new Float32Array(fx.input.data.length).fill(0.1);
  const want = await explicitIg(ex, fx.input, b, fx.meta.target, 'gausslegendre', 4);
  const r = await ex.attribute(fx.input, { method: 'integrated-gradients', target: fx.meta.target, steps: 4, baseline: { data: b, dims: fx.input.dims } });
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `rel L2 ${relL2(r.attributions.data, want)}`);
});

test('rewrite --method integrated-gradients saves one graph (inputs x, seed, baseline, alphas, weights) equal to the API', async () => {
  const fx = loadFixture('mlp');
  const file = path.join(out, 'ig.onnx');
  const r = await runCli(['rewrite', fx.model, '--method', 'integrated-gradients', '--steps', '8', '--out', file]);
  assert.is(r.code, 0, r.err.join('|'));
  // The caller feeds the quadrature: --ig-method would change nothing in the graph.
  const chosen = await runCli(['rewrite', fx.model, '--method', 'integrated-gradients', '--steps', '8', '--ig-method', 'riemann_middle', '--out', file]);
  assert.equal([chosen.code, chosen.err], [1, ["onnx-explain: error: rewrite: the saved integrated-gradients graph takes the quadrature's points and weights as inputs (--steps sets how many): --ig-method chooses them where it runs"]]);
  const s = await ort.InferenceSession.create(fs.readFileSync(file));
  assert.equal([...s.inputNames].sort(), ['alphas', 'baseline', 'input', 'seed', 'weights']);
  const { alphas, weights } = quadrature('riemann_middle', 8);
  const [n, classes] = [fx.input.dims[0], 5];
  const seed = new Float32Array(n * classes);
  fx.meta.target.forEach((t, row) => { seed[row * classes + t] = 1; });
  const got = await s.run({
    input: new ort.Tensor('float32', fx.input.data, fx.input.dims), seed: new ort.Tensor('float32', seed, [n, classes]),
    baseline: new ort.Tensor('float32', new Float32Array(20), [1, 20]),
    alphas: new ort.Tensor('float32', Float32Array.from(alphas), [8]), weights: new ort.Tensor('float32', Float32Array.from(weights), [8]),
  });
  const ex = await Explainer.load(fx.model);
  const api = await ex.attribute(fx.input, { method: 'integrated-gradients', target: fx.meta.target, steps: 8, igMethod: 'riemann_middle' });
  assert.ok(relL2(got.attribution.data as Float32Array, api.attributions.data) < 1e-6);
  const want = await explicitIg(ex, fx.input, new Float32Array(20), fx.meta.target, 'riemann_middle', 8);
  assert.ok(relL2(api.attributions.data, want) < 1e-5);
});

// The saved graph declared alphas [S] while the model's fixed batch holds one point per run: onnxruntime could not run it.
test('rewrite --method integrated-gradients of a model whose batch is fixed saves one point per run (alphas and weights [1]), as attribute runs it: the runs added equal the API', async () => {
  const fx = loadFixture('logmel_clip', EXPORTERS);
  const file = path.join(out, 'ig-fixed.onnx');
  const r = await runCli(['rewrite', fx.model, '--method', 'integrated-gradients', '--steps', '4', '--out', file]);
  assert.is(r.code, 0, r.err.join('|'));
  const s = await ort.InferenceSession.create(fs.readFileSync(file));
  const { alphas, weights } = quadrature('gausslegendre', 4);
  const sum = new Float32Array(fx.input.data.length);
  for (let k = 0; k < 4; k++) {
    const got = await s.run({
      spectrogram: new ort.Tensor('float32', fx.input.data, fx.input.dims), seed: new ort.Tensor('float32', Float32Array.from([1, 0, 0]), [1, 3]),
      baseline: new ort.Tensor('float32', new Float32Array(fx.input.data.length), fx.input.dims),
      alphas: new ort.Tensor('float32', Float32Array.of(alphas[k]), [1]), weights: new ort.Tensor('float32', Float32Array.of(weights[k]), [1]),
    });
    (got.attribution.data as Float32Array).forEach((v, i) => { sum[i] += v; });
  }
  const api = await (await Explainer.load(fx.model)).attribute(fx.input, { method: 'integrated-gradients', target: 0, steps: 4 });
  assert.ok(relL2(sum, api.attributions.data) < 1e-6, `rel L2 ${relL2(sum, api.attributions.data)}`);
});

test('CLI: --steps, --ig-method, --internal-batch-size; errors for bad values', async () => {
  const fx = loadFixture('mlp');
  const input = path.join(path.dirname(fx.model), 'input.npy');
  const file = path.join(out, 'ig.npy');
  const r = await runCli(['attribute', fx.model, '--input', input, '--method', 'integrated-gradients', '--steps', '10', '--ig-method', 'riemann_left', '--internal-batch-size', '4', '--target', fx.meta.target.join(','), '--out', file]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.ok(r.out.some((l) => /^row 0: convergence delta /.test(l)));
  const api = await (await Explainer.load(fx.model)).attribute(fx.input, { method: 'integrated-gradients', steps: 10, igMethod: 'riemann_left', target: fx.meta.target });
  assert.ok(relL2(readNpy(file).data as Float32Array, api.attributions.data) < 1e-6);
  for (const [args, re] of [
    [['--steps', '1', '--ig-method', 'riemann_left'], /--steps: 1 steps; riemann_left needs an integer from 2 to 10000/],
    [['--steps', '0'], /--steps: 0 steps; gausslegendre needs an integer from 1 to 10000/],
    [['--ig-method', 'simpson'], /--ig-method: 'simpson' is not one of gausslegendre, riemann_left/],
    [['--internal-batch-size', '0'], /internalBatchSize: 0 is not a positive integer/],
  ] as [string[], RegExp][]) {
    const bad = await runCli(['attribute', fx.model, '--input', input, '--method', 'integrated-gradients', ...args]);
    assert.is(bad.code, 1, args.join(' '));
    assert.is(bad.err.length, 1);
    assert.match(bad.err[0], re);
  }
});


test('layer integrated gradients (Captum LayerIntegratedGradients): the layer is interpolated, a skip connection around it keeps x', async () => {
  // h = relu(x·W1), s = x·V (a path around h), y = (h ⊙ h ⊙ s)·W2: along the layer path with x fixed,
  // ∂y_t/∂h_j = 2 h_j s_j W2[j,t], so IG_j = W2[j,t]·s_j·(h_j² − h⁰_j²) exactly (Gauss–Legendre, n ≥ 1).
  const rand = rng(9);
  const W1 = Array.from({ length: 12 }, () => rand() * 2 - 1);
  const V = Array.from({ length: 12 }, () => rand() * 2 - 1);
  const W2 = Array.from({ length: 12 }, () => rand() * 2 - 1);
  const model = tinyModel([3], 13, (em, x) => {
    const h = em.op('Relu', [em.matmul(x, em.constFloat(W1, [3, 4]))]);
    const s = em.matmul(x, em.constFloat(V, [3, 4]));
    return em.matmul(em.mul(em.mul(h, h), s), em.constFloat(W2, [4, 3]));
  });
  const ex = await Explainer.load(model);
  const layer = ex.view.nodes.find((n) => n.op_type === 'Relu')!.output![0];
  const x = Float32Array.from({ length: 6 }, () => rand() * 2 - 1);
  const b = Float32Array.from({ length: 3 }, () => rand() * 0.5);
  const mm = (v: Float32Array | number[], w: number[], k: number, m: number) => Array.from({ length: m }, (_, j) => Array.from({ length: k }, (_, i) => v[i] * w[i * m + j]).reduce((a, c) => a + c));
  const targets = [2, 0];
  for (const internalBatchSize of [undefined, 3]) {
    const r = await ex.attribute({ data: x, dims: [2, 3] }, { method: 'integrated-gradients', layer, target: targets, steps: 3, baseline: { data: b, dims: [1, 3] }, internalBatchSize });
    assert.equal(r.attributions.dims, [2, 4]);
    const h0 = mm(b, W1, 3, 4).map((v) => Math.max(0, v));
    const want = targets.flatMap((t, row) => {
      const xr = x.subarray(row * 3, row * 3 + 3);
      const h = mm(xr, W1, 3, 4).map((v) => Math.max(0, v));
      const s = mm(xr, V, 3, 4);
      return h.map((hj, j) => W2[j * 3 + t] * s[j] * (hj * hj - h0[j] * h0[j]));
    });
    assert.ok(relL2(r.attributions.data, want) < 1e-5, `internalBatchSize ${internalBatchSize}: ${Array.from(r.attributions.data)} vs ${want}`);
  }
});

test('layer integrated gradients at one output of a node with an integer output (TopK\'s values, MaxPool\'s with Indices): the path reads the interpolated layer, not a copy of its node', async () => {
  // y = L·W with L = TopK(x, 2) values or MaxPool(x) (kernel 2, stride 2): linear after the layer, so
  // IG_j = (L_j − L⁰_j)·W[j,t] exactly, L⁰ being the layer at the zero baseline (0).
  const rand = rng(45);
  const W = Array.from({ length: 6 }, () => rand() * 2 - 1);
  const x = Float32Array.from({ length: 8 }, () => rand() * 2 - 1);
  const layers: [string, (em: Emitter, x: string) => string][] = [
    ['TopK', (em, v) => em.opN('TopK', [v, em.constInt([2], [1])], 2, { axis: -1 })[0]],
    ['MaxPool', (em, v) => em.reshape(em.opN('MaxPool', [em.reshape(v, [-1, 1, 4])], 2, { kernel_shape: [2], strides: [2], pads: [0, 0] })[0], [-1, 2])],
  ];
  for (const [op, layerOf] of layers) {
    const model = tinyModel([4], 13, (em, v) => em.matmul(layerOf(em, v), em.constFloat(W, [2, 3])));
    const ex = await Explainer.load(model);
    const layer = ex.view.nodes.find((n) => n.op_type === op)!.output![0];
    const values = op === 'TopK' ? [0, 1].map((row) => Array.from(x.subarray(row * 4, row * 4 + 4)).sort((a, b) => b - a).slice(0, 2)) : [0, 1].map((row) => [0, 2].map((k) => Math.max(x[row * 4 + k], x[row * 4 + k + 1])));
    const targets = [1, 2];
    const r = await ex.attribute({ data: x, dims: [2, 4] }, { method: 'integrated-gradients', layer, target: targets, steps: 4 });
    const want = targets.flatMap((t, row) => values[row].map((v, j) => v * W[j * 3 + t]));
    assert.ok(relL2(r.attributions.data, want) < 1e-6, `${op}: ${Array.from(r.attributions.data)} vs ${want}`);
  }
});

test('layer integrated gradients on a CNN equal the PyTorch reference (zero baseline, Gauss–Legendre 8)', async () => {
  const dir = path.resolve(__dirname, '../../models/layers/threshold_if');
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'meta.json'), 'utf8'));
  const a = readNpy(path.join(dir, 'input.npy'));
  const ex = await Explainer.load(path.join(dir, 'model.onnx'));
  const r = await ex.attribute({ data: Float32Array.from(a.data as Float32Array), dims: a.dims }, { method: 'integrated-gradients', output: meta.logits, layer: meta.layer, target: meta.targets, steps: 8 });
  const want = Float32Array.from(readNpy(path.join(dir, 'layer_ig.npy')).data as Float32Array);
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `rel L2 ${relL2(r.attributions.data, want)}`);
});

test('layer integrated gradients where a Reshape after the layer reads a batch size taken before it (LeViT\'s B, N, C = t.shape): the path counts S·N rows there', async () => {
  // t = Tanh(x) [N, 4, 3]; B = Shape(t)[0] shapes a Reshape before the layer h = Relu(t'·W) and one
  // after it, y = Reshape(h, [B, 12])·W2: linear in h, so layer IG = (h − h⁰)·∂y/∂h exactly.
  const rand = rng(10);
  const [W, W2] = [Array.from({ length: 9 }, () => rand() * 2 - 1), Array.from({ length: 24 }, () => rand() * 2 - 1)];
  const model = tinyModel([4, 3], 13, (em, x) => {
    const t = em.op('Tanh', [x]);
    const batch = em.op('Gather', [em.op('Shape', [t]), em.constInt([0])], { axis: 0 });
    const rows = em.op('Reshape', [t, em.concat([batch, em.constInt([4, 3])], 0)]);
    const h = em.op('Relu', [em.matmul(rows, em.constFloat(W, [3, 3]))]);
    return em.matmul(em.op('Reshape', [h, em.concat([batch, em.constInt([12])], 0)]), em.constFloat(W2, [12, 2]));
  });
  const ex = await Explainer.load(model);
  const layer = ex.view.nodes.find((n) => n.op_type === 'Relu')!.output![0];
  const x = Float32Array.from({ length: 24 }, () => rand() * 2 - 1);
  const r = await ex.attribute({ data: x, dims: [2, 4, 3] }, { method: 'integrated-gradients', layer, target: [1, 0], steps: 4 });
  const activation = async (v: Float32Array) => (await ex.attribute({ data: v, dims: [2, 4, 3] }, { method: 'layer-activation', layer })).attributions.data;
  const [h, h0] = [await activation(x), await activation(new Float32Array(24))];
  const want = Array.from(h, (v, i) => (v - h0[i]) * W2[(i % 12) * 2 + (i < 12 ? 1 : 0)]);
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `${Array.from(r.attributions.data)} vs ${want}`);
});

// torch's pack_padded_sequence(enforce_sorted=False) sorts the rows by their lengths (TopK over the batch) and unsorts them
// after the cell: the path pass sorted its S·N rows, but the lengths' Cast to float was repeated in the first order (delta 3·10⁻²).
test('IG through rows sorted by a fed integer input (TopK over the batch, as packed sequences) and unsorted after: x·len per row, delta 0', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'packed');
  const n = em.op('Gather', [em.op('Shape', ['lengths']), em.constInt([0], [1])], { axis: 0 });
  const [sorted, perm] = em.opN('TopK', ['lengths', n], 2, { axis: 0, largest: 1, sorted: 1 });
  const inverse = em.opN('TopK', [em.op('Neg', [perm]), n], 2, { axis: 0, largest: 1, sorted: 1 })[1];
  const scaled = em.mul(em.op('Gather', ['x', perm], { axis: 0 }), em.unsqueeze(em.cast(sorted, DataType.FLOAT), [1]));
  em.rename(em.op('Gather', [em.op('Tanh', [scaled]), inverse], { axis: 0 }), 'y');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'packed', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3]), valueInfo('lengths', DataType.INT64, ['N'])], output: [{ name: 'y' }] } });
  const lengths = [2, 5, 3];
  const x = { data: Float32Array.from([0.3, -0.2, 0.5, 0.1, 0.25, -0.15, -0.4, 0.2, 0.35]), dims: [3, 3] };
  const r = await (await Explainer.load(model)).attribute(x, { method: 'integrated-gradients', target: 1, steps: 64, feeds: { lengths: { data: BigInt64Array.from(lengths.map(BigInt)), dims: [3] } } });
  // y[r, 1] = tanh(len_r · x[r, 1]): the attribution is that value (from 0) at column 1, 0 elsewhere.
  const want = [0, 1, 2].flatMap((row) => [0, Math.tanh(lengths[row] * x.data[row * 3 + 1]), 0]);
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `rel L2 ${relL2(r.attributions.data, want)}: ${Array.from(r.attributions.data)}`);
  r.delta!.forEach((d) => assert.ok(Math.abs(d) < 1e-5, `delta ${d}`));
});

test('chunking: at most internalBatchSize rows (points × input rows) per run, covering every row and point, for every size', () => {
  for (let n = 1; n <= 6; n++) for (const steps of [1, 2, 5, 7, 12, 50]) for (let limit = 1; limit <= 20; limit++) {
    const c = chunking(n, steps, limit, true);
    const what = `n ${n}, steps ${steps}, limit ${limit}: ${JSON.stringify(c)}`;
    assert.ok(c.rows >= 1 && c.rows <= n && c.steps >= 1 && c.steps <= steps && c.rows * c.steps <= limit, what);
    // Where a run holds every row, no fewer runs of points fit: ⌈steps / ⌊limit / n⌋⌉.
    if (limit >= n) assert.is(Math.ceil(steps / c.steps), Math.ceil(steps / Math.min(steps, Math.floor(limit / n))), what);
  }
  assert.equal(chunking(3, 50, undefined, true), { rows: 3, steps: 50 });
});

test.run();
