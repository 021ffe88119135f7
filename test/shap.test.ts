import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { noisyCopies } from '../runtime/drivers/noise-tunnel';
import { readNpy, writeNpy } from '../runtime/node/npy-file';
import { uniform } from '../runtime/random';
import { runCli, tempDir } from './support/cli-harness';
import { loadFixture, relL2, tensorValues } from './support/fixtures';
import { rng } from './support/gradcheck';

const out = tempDir('shap');
const fx = loadFixture('mlp');
const [N, F] = fx.input.dims;
const rand = rng(11);
const K = 3;
/** A baseline distribution of K rows. */
const dist = { data: Float32Array.from({ length: K * F }, () => rand() * 2 - 1), dims: [K, F] };
const row = (t: { data: Float32Array }, r: number) => ({ data: t.data.slice(r * F, (r + 1) * F), dims: [1, F] });

test('DeepLiftShap = the mean of DeepLIFT against each baseline row; each row sums to f(x) − mean f(b); one delta per input row and baseline', async () => {
  const ex = await Explainer.load(fx.model);
  const target = fx.meta.target;
  const each = await Promise.all(Array.from({ length: K }, (_, k) => ex.attribute(fx.input, { method: 'deeplift', target, baseline: row(dist, k) })));
  const want = Float32Array.from({ length: N * F }, (_, i) => each.reduce((s, r) => s + r.attributions.data[i], 0) / K);
  const logits = await tensorValues(ex, fx.input, 'output');
  const atBaselines = await tensorValues(ex, dist, 'output');
  const classes = logits.length / N;
  for (const internalBatchSize of [undefined, 2]) {
    const r = await ex.attribute(fx.input, { method: 'deeplift-shap', target, baseline: dist, internalBatchSize });
    assert.equal(r.attributions.dims, [N, F]);
    assert.ok(relL2(r.attributions.data, want) < 1e-6, `internalBatchSize ${internalBatchSize}: rel L2 ${relL2(r.attributions.data, want)}`);
    assert.is(r.delta!.length, N * K);
    for (const d of r.delta!) assert.ok(Math.abs(d) < 1e-5, `delta ${d}`);
    target.forEach((t, n) => {
      const sum = r.attributions.data.subarray(n * F, (n + 1) * F).reduce((a, v) => a + v, 0);
      const expected = logits[n * classes + t] - Array.from({ length: K }, (_, k) => atBaselines[k * classes + t]).reduce((a, v) => a + v, 0) / K;
      assert.ok(Math.abs(sum - expected) < 1e-5, `row ${n}: Σ ${sum} vs f(x) − mean f(b) ${expected}`);
    });
  }
});

test('GradientShap = a loop of gradients at b + α(x̃ − b) times (x̃ − b) over the seeded draws; deltas per draw; approaches integrated gradients', async () => {
  const ex = await Explainer.load(fx.model);
  const target = fx.meta.target;
  const [samples, noiseStd, seed] = [4, 0.1, 5];
  const noisy = noisyCopies(fx.input, samples, noiseStd, seed);
  const next = uniform(seed, 1);
  const want = new Float32Array(N * F);
  const deltas: number[] = [];
  const logits = await tensorValues(ex, { data: noisy, dims: [N * samples, F] }, 'output');
  const atBaselines = await tensorValues(ex, dist, 'output');
  const classes = atBaselines.length / K;
  for (let j = 0; j < N * samples; j++) {
    const [k, alpha] = [Math.floor(next() * K), next()];
    const n = Math.floor(j / samples);
    const point = Float32Array.from({ length: F }, (_, i) => dist.data[k * F + i] + alpha * (noisy[j * F + i] - dist.data[k * F + i]));
    const g = await ex.attribute({ data: point, dims: [1, F] }, { method: 'gradient', target: [target[n]] });
    let sum = 0;
    for (let i = 0; i < F; i++) {
      const a = g.attributions.data[i] * (noisy[j * F + i] - dist.data[k * F + i]);
      want[n * F + i] += a / samples;
      sum += a;
    }
    deltas.push(sum - (logits[j * classes + target[n]] - atBaselines[k * classes + target[n]]));
  }
  for (const internalBatchSize of [undefined, 3]) {
    const r = await ex.attribute(fx.input, { method: 'gradient-shap', target, baseline: dist, samples, noiseStd, seed, internalBatchSize });
    assert.ok(relL2(r.attributions.data, want) < 1e-6, `internalBatchSize ${internalBatchSize}: rel L2 ${relL2(r.attributions.data, want)}`);
    deltas.forEach((d, j) => assert.ok(Math.abs(r.delta![j] - d) < 1e-5, `draw ${j}: delta ${r.delta![j]} vs ${d}`));
  }
  // Without noise and with one baseline, the expectation over α is the path integral.
  const zero = { data: new Float32Array(F), dims: [1, F] };
  const ig = await ex.attribute(fx.input, { method: 'integrated-gradients', target, steps: 64 });
  const mc = await ex.attribute(fx.input, { method: 'gradient-shap', target, baseline: zero, samples: 2000 });
  assert.ok(relL2(mc.attributions.data, ig.attributions.data) < 0.02, `2000 draws vs integrated gradients: rel L2 ${relL2(mc.attributions.data, ig.attributions.data)}`);
});

test('with a layer: LayerDeepLiftShap = the mean of layer DeepLIFT per baseline; LayerGradientShap = a loop of layer gradients times A(x̃) − A(b)', async () => {
  const ex = await Explainer.load(fx.model);
  const target = fx.meta.target;
  const layer = '/body/body.1/Relu_output_0';
  const each = await Promise.all(Array.from({ length: K }, (_, k) => ex.attribute(fx.input, { method: 'deeplift', target, baseline: row(dist, k), layer })));
  const size = each[0].attributions.data.length;
  const d = await ex.attribute(fx.input, { method: 'deeplift-shap', target, baseline: dist, layer });
  assert.equal(d.attributions.dims, each[0].attributions.dims);
  assert.ok(relL2(d.attributions.data, Float32Array.from({ length: size }, (_, i) => each.reduce((s, r) => s + r.attributions.data[i], 0) / K)) < 1e-6);
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
  const [samples, seed] = [3, 8];
  const noisy = noisyCopies(fx.input, samples, 0, seed);
  const next = uniform(seed, 1);
  const per = size / N;
  const want = new Float32Array(size);
  const atX = await tensorValues(ex, { data: noisy, dims: [N * samples, F] }, layer);
  const atB = await tensorValues(ex, dist, layer);
  for (let j = 0; j < N * samples; j++) {
    const [k, alpha] = [Math.floor(next() * K), next()];
    const n = Math.floor(j / samples);
    const point = Float32Array.from({ length: F }, (_, i) => dist.data[k * F + i] + alpha * (noisy[j * F + i] - dist.data[k * F + i]));
    const g = await ex.attribute({ data: point, dims: [1, F] }, { method: 'gradient', target: [target[n]], layer });
    for (let i = 0; i < per; i++) want[n * per + i] += (g.attributions.data[i] * (atX[j * per + i] - atB[k * per + i])) / samples;
  }
  const r = await ex.attribute(fx.input, { method: 'gradient-shap', target, baseline: dist, samples, seed, layer });
  assert.ok(relL2(r.attributions.data, want) < 1e-6, `rel L2 ${relL2(r.attributions.data, want)}`);
  assert.ok(want.some((v) => Math.abs(v) > 1e-3));
});

test('CLI: --method gradient-shap / deeplift-shap with a baseline distribution file equals the API; a baseline of another row shape is one error line', async () => {
  const input = path.join(path.dirname(fx.model), 'input.npy');
  const baseline = path.join(out, 'dist.npy');
  writeNpy(baseline, dist.data, dist.dims);
  for (const [method, extra, options] of [
    ['gradient-shap', ['--samples', '3', '--seed', '2', '--noise-std', '0.05'], { samples: 3, seed: 2, noiseStd: 0.05 }],
    ['deeplift-shap', [], {}],
  ] as [string, string[], object][]) {
    const file = path.join(out, `${method}.npy`);
    const r = await runCli(['attribute', fx.model, '--input', input, '--method', method, '--baseline', baseline, '--target', fx.meta.target.join(','), '--out', file, ...extra]);
    assert.is(r.code, 0, r.err.join('|'));
    const api = await (await Explainer.load(fx.model)).attribute(fx.input, { method, baseline: dist, target: fx.meta.target, ...options });
    assert.ok(relL2(readNpy(file).data as Float32Array, api.attributions.data) < 1e-6, method);
    assert.is(r.out.filter((l) => /^row \d: convergence delta of its 3 samples: max \|δ\| \S+, mean \|δ\| \S+$/.test(l)).length, N, r.out.join('\n'));
  }
  const tunnel = await runCli(['attribute', fx.model, '--input', input, '--method', 'gradient-shap', '--noise-tunnel', 'smoothgrad']);
  assert.equal(tunnel.err, ["onnx-explain: error: --noise-tunnel: method 'gradient-shap' draws its own samples (--samples); it does not go inside the noise tunnel"]);
  const wrong = path.join(out, 'wrong.npy');
  writeNpy(wrong, new Float32Array(2 * (F + 1)), [2, F + 1]);
  const bad = await runCli(['attribute', fx.model, '--input', input, '--method', 'deeplift-shap', '--baseline', wrong]);
  assert.is(bad.code, 1);
  assert.equal(bad.err, [`onnx-explain: error: ${fx.model}: baseline has shape [2,${F + 1}]; expected K rows of the input's row shape [K, ${F}]`]);
});

test('gradient-shap\'s documented defaults: 5 draws per row and noiseStd 0 (a call without them equals one that gives them; 5 deltas per row)', async () => {
  const ex = await Explainer.load(fx.model);
  const options = { method: 'gradient-shap', target: fx.meta.target, seed: 3, baseline: dist } as const;
  const plain = await ex.attribute(fx.input, options);
  const given = await ex.attribute(fx.input, { ...options, samples: 5, noiseStd: 0 });
  assert.equal(plain.attributions.data, given.attributions.data);
  assert.is(plain.delta!.length, 5 * N);
  assert.not.equal(plain.attributions.data, (await ex.attribute(fx.input, { ...options, samples: 4 })).attributions.data);
});

test.run();
