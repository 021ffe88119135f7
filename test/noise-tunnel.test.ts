import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { noisyCopies } from '../runtime/drivers/noise-tunnel';
import { uniform } from '../runtime/random';
import { readNpy } from '../runtime/node/npy-file';
import { runCli, tempDir } from './support/cli-harness';
import { loadFixture, relL2, tensorValues } from './support/fixtures';
import { rejects } from './support/rejects';
import { tinyModel } from './support/tiny-model';

const out = tempDir('noise-tunnel');

test('noise: σ is the given fraction of each row\'s range, seeded, normal', () => {
  const per = 20000;
  const data = new Float32Array(2 * per);
  for (let i = 0; i < per; i++) { data[i] = (i % 7) - 3; data[per + i] = (i % 3) * 0.01; } // ranges 6 and 0.02
  const x = { data, dims: [2, per] };
  const noisy = noisyCopies(x, 2, 0.1, 9);
  assert.equal(noisy, noisyCopies(x, 2, 0.1, 9), 'same seed, same noise');
  assert.not.equal(noisy, noisyCopies(x, 2, 0.1, 10), 'another seed, other noise');
  for (const [row, range] of [[0, 6], [1, 0.02]]) {
    for (let s = 0; s < 2; s++) {
      const o = (row * 2 + s) * per;
      let sum = 0, sq = 0, within = 0;
      for (let i = 0; i < per; i++) {
        const z = (noisy[o + i] - data[row * per + i]) / (0.1 * range);
        sum += z; sq += z * z;
        if (Math.abs(z) < 1) within++;
      }
      assert.ok(Math.abs(sum / per) < 0.03, `row ${row} sample ${s}: mean ${sum / per}`);
      assert.ok(Math.abs(Math.sqrt(sq / per) - 1) < 0.03, `row ${row} sample ${s}: std ${Math.sqrt(sq / per)}`);
      assert.ok(Math.abs(within / per - 0.6827) < 0.01, `row ${row}: P(|z| < 1) = ${within / per}`);
    }
  }
});

test('stdevs (Captum\'s σ in the input\'s units): the same draws as noiseStd at σ / range, for every row alike; one of the two; the CLI\'s --stdevs', async () => {
  const data = Float32Array.from({ length: 2 * 50 }, (_, i) => (i < 50 ? (i % 5) - 2 : (i % 3) * 0.01)); // ranges 4 and 0.02
  const x = { data, dims: [2, 50] };
  const absolute = noisyCopies(x, 3, { stdevs: 0.3 }, 5);
  const relative = [noisyCopies(x, 3, 0.3 / 4, 5), noisyCopies(x, 3, 0.3 / 0.02, 5)];
  for (const [row, copies] of [[0, relative[0]], [1, relative[1]]] as const) {
    const at = (a: Float32Array) => Array.from(a.subarray(row * 150, (row + 1) * 150));
    assert.ok(at(absolute).every((v, i) => Math.abs(v - at(copies)[i]) < 1e-5), `row ${row}: σ = 0.3 for every row`);
  }
  const fx = loadFixture('mlp');
  const ex = await Explainer.load(fx.model);
  const row = { data: fx.input.data.slice(0, fx.input.data.length / fx.input.dims[0]), dims: [1, ...fx.input.dims.slice(1)] };
  const range = Math.max(...row.data) - Math.min(...row.data);
  const options = { noiseTunnel: 'smoothgrad' as const, samples: 4, seed: 2, target: 1 };
  const a = await ex.attribute(row, { ...options, stdevs: 0.5 });
  const b = await ex.attribute(row, { ...options, noiseStd: 0.5 / range });
  assert.ok(relL2(a.attributions.data, b.attributions.data) < 1e-5, `stdevs vs noiseStd: ${relL2(a.attributions.data, b.attributions.data)}`);
  await rejects(() => ex.attribute(row, { ...options, stdevs: 0.5, noiseStd: 0.1 }), /--noise-std and --stdevs both set the noise/);
  await rejects(() => ex.attribute(row, { target: 1, stdevs: 0.5 }), /--stdevs sets the noise tunnel: it needs --noise-tunnel/);
  const cli = await runCli(['attribute', fx.model, '--input', path.join(path.dirname(fx.model), 'input.npy'), '--noise-tunnel', 'smoothgrad', '--stdevs', '0.5', '--samples', '2']);
  assert.is(cli.code, 0, cli.err.join('|'));
});

/** Attributions of `method` on every noisy copy (row-major: row r's samples together), computed without the noise tunnel. */
async function perCopy(ex: Explainer, x: { data: Float32Array; dims: number[] }, method: string, targets: number[], samples: number, noiseStd: number, seed: number) {
  const noisy = noisyCopies(x, samples, noiseStd, seed);
  const r = await ex.attribute({ data: noisy, dims: [x.dims[0] * samples, ...x.dims.slice(1)] }, { method, target: targets.flatMap((t) => Array(samples).fill(t)) });
  return r.attributions.data;
}

function reduce(a: Float32Array, n: number, samples: number, f: (vs: number[]) => number): Float32Array {
  const per = a.length / (n * samples);
  return Float32Array.from({ length: n * per }, (_, j) => {
    const row = Math.floor(j / per), i = j % per;
    return f(Array.from({ length: samples }, (_, s) => a[(row * samples + s) * per + i]));
  });
}
const mean = (vs: number[]) => vs.reduce((a, v) => a + v, 0) / vs.length;

test('SmoothGrad / smoothgrad_sq / VarGrad with a fixed seed = mean, mean square, variance of explicit noisy gradients, whatever internalBatchSize', async () => {
  const fx = loadFixture('cnn_maxpool');
  const ex = await Explainer.load(fx.model);
  const [samples, noiseStd, seed] = [4, 0.2, 42];
  const grads = await perCopy(ex, fx.input, 'gradient', fx.meta.target, samples, noiseStd, seed);
  const want = {
    smoothgrad: reduce(grads, 3, samples, mean),
    smoothgrad_sq: reduce(grads, 3, samples, (vs) => mean(vs.map((v) => v * v))),
    vargrad: reduce(grads, 3, samples, (vs) => mean(vs.map((v) => v * v)) - mean(vs) ** 2),
  };
  for (const [noiseTunnel, expected] of Object.entries(want)) {
    for (const internalBatchSize of [undefined, 5]) {
      const r = await ex.attribute(fx.input, { method: 'gradient', target: fx.meta.target, noiseTunnel: noiseTunnel as 'smoothgrad', samples, noiseStd, seed, internalBatchSize });
      assert.equal(r.attributions.dims, fx.input.dims);
      const err = relL2(r.attributions.data, expected);
      assert.ok(err < 1e-5, `${noiseTunnel} internalBatchSize ${internalBatchSize}: rel L2 ${err}`);
    }
  }
  const plain = await ex.attribute(fx.input, { method: 'gradient', target: fx.meta.target });
  assert.ok(relL2(want.smoothgrad, plain.attributions.data) > 1e-3, 'the noise changes the result');
});

test('noise tunnel around DeepLIFT (baseline kept clean) and around integrated gradients; one convergence delta per noisy sample', async () => {
  const fx = loadFixture('mlp');
  const ex = await Explainer.load(fx.model);
  const baseline = { data: new Float32Array(20).fill(0.05), dims: [1, 20] };
  const noisy = noisyCopies(fx.input, 3, 0.1, 1);
  const targets = fx.meta.target.flatMap((t) => [t, t, t]);
  // f(x̃) − f(x⁰) of each noisy copy's target logit, from plain forward runs.
  const logits = await tensorValues(ex, { data: noisy, dims: [9, 20] }, 'output');
  const atBaseline = await tensorValues(ex, baseline, 'output');
  const classes = logits.length / 9;
  for (const [method, extra] of [['deeplift', {}], ['integrated-gradients', { steps: 8 }]] as [string, object][]) {
    const each = await ex.attribute({ data: noisy, dims: [9, 20] }, { method, target: targets, baseline, ...extra });
    for (const internalBatchSize of [undefined, 4]) {
      const r = await ex.attribute(fx.input, { method, target: fx.meta.target, baseline, noiseTunnel: 'smoothgrad', samples: 3, noiseStd: 0.1, seed: 1, internalBatchSize, ...extra });
      assert.ok(relL2(r.attributions.data, reduce(each.attributions.data, 3, 3, mean)) < 1e-5, method);
      assert.is(r.delta!.length, 9, `${method}: N × samples deltas`);
      targets.forEach((t, k) => {
        const sum = each.attributions.data.subarray(k * 20, (k + 1) * 20).reduce((a, v) => a + v, 0);
        const want = sum - (logits[k * classes + t] - atBaseline[t]);
        assert.ok(Math.abs(r.delta![k] - want) < 1e-5 * Math.max(1, Math.abs(sum)), `${method} sample ${k}: delta ${r.delta![k]} vs explicit ${want}`);
        if (method === 'deeplift') assert.ok(Math.abs(r.delta![k]) < 1e-5, `deeplift sample ${k}: ${r.delta![k]}`);
      });
    }
  }
  const plain = await ex.attribute(fx.input, { method: 'gradient', target: fx.meta.target, noiseTunnel: 'smoothgrad', samples: 3 });
  assert.is(plain.delta, undefined, 'no delta for methods without one');
  const cli = await runCli(['attribute', fx.model, '--input', path.join(path.dirname(fx.model), 'input.npy'), '--method', 'integrated-gradients', '--steps', '8', '--noise-tunnel', 'smoothgrad', '--samples', '3', '--target', fx.meta.target.join(','), '--no-cache']);
  assert.is(cli.code, 0, cli.err.join('|'));
  assert.is(cli.out.filter((l) => /^row \d: convergence delta of its 3 samples: max \|δ\| \S+, mean \|δ\| \S+$/.test(l)).length, 3, cli.out.join('\n'));
});

test('noise tunnel around DeepLiftShap: the mean of DeepLiftShap at the noisy copies against the whole distribution (K rows, here as many as the input\'s), K deltas per sample, whatever internalBatchSize', async () => {
  const fx = loadFixture('mlp');
  const ex = await Explainer.load(fx.model);
  const distribution = { data: Float32Array.from({ length: 60 }, (_, i) => Math.sin(i) * 0.3), dims: [3, 20] };
  const noisy = noisyCopies(fx.input, 3, 0.1, 1);
  const targets = fx.meta.target.flatMap((t) => [t, t, t]);
  const each = await ex.attribute({ data: noisy, dims: [9, 20] }, { method: 'deeplift-shap', target: targets, baseline: distribution });
  for (const internalBatchSize of [undefined, 2]) {
    const r = await ex.attribute(fx.input, { method: 'deeplift-shap', target: fx.meta.target, baseline: distribution, noiseTunnel: 'smoothgrad', samples: 3, noiseStd: 0.1, seed: 1, internalBatchSize });
    assert.ok(relL2(r.attributions.data, reduce(each.attributions.data, 3, 3, mean)) < 1e-5, `internalBatchSize ${internalBatchSize}`);
    assert.is(r.delta!.length, 27, 'N × samples × K deltas');
    assert.ok(r.delta!.every((d, k) => Math.abs(d - each.delta![k]) < 1e-6), 'in Captum\'s order (repeat_interleave)');
  }
});

test('CLI: --noise-tunnel vargrad --samples --noise-std --seed equals the API; bad values are one-line errors', async () => {
  const fx = loadFixture('mlp');
  const input = path.join(path.dirname(fx.model), 'input.npy');
  const file = path.join(out, 'vargrad.npy');
  const r = await runCli(['attribute', fx.model, '--input', input, '--method', 'saliency', '--noise-tunnel', 'vargrad', '--samples', '3', '--noise-std', '0.1', '--seed', '7', '--target', fx.meta.target.join(','), '--out', file]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.ok(r.out.some((l) => l.startsWith('attribution (vargrad of saliency): shape')), r.out.join('\n'));
  const api = await (await Explainer.load(fx.model)).attribute(fx.input, { method: 'saliency', noiseTunnel: 'vargrad', samples: 3, noiseStd: 0.1, seed: 7, target: fx.meta.target });
  assert.ok(relL2(readNpy(file).data as Float32Array, api.attributions.data) < 1e-6);
  for (const [args, re] of [
    [['--noise-tunnel', 'blur'], /--noise-tunnel: 'blur' is not one of smoothgrad, smoothgrad_sq, vargrad/],
    [['--noise-tunnel', 'smoothgrad', '--samples', '0'], /--samples: 0 is not an integer from 1 to 100000/],
    [['--noise-tunnel', 'smoothgrad', '--noise-std', '-1'], /--noise-std: -1 must be ≥ 0/],
  ] as [string[], RegExp][]) {
    const bad = await runCli(['attribute', fx.model, '--input', input, ...args]);
    assert.is(bad.code, 1, args.join(' '));
    assert.is(bad.err.length, 1);
    assert.match(bad.err[0], re);
  }
});

test('the documented defaults: samples 5 and noiseStd 0.15 (a call without them equals one that gives them; other values differ)', async () => {
  const fx = loadFixture('mlp');
  const ex = await Explainer.load(fx.model);
  const options = { method: 'gradient', target: fx.meta.target, noiseTunnel: 'smoothgrad', seed: 3 } as const;
  const plain = (await ex.attribute(fx.input, options)).attributions.data;
  assert.equal(plain, (await ex.attribute(fx.input, { ...options, samples: 5, noiseStd: 0.15 })).attributions.data);
  assert.not.equal(plain, (await ex.attribute(fx.input, { ...options, samples: 6, noiseStd: 0.15 })).attributions.data);
  assert.not.equal(plain, (await ex.attribute(fx.input, { ...options, samples: 5, noiseStd: 0.1 })).attributions.data);
});

test('the noise is the documented draw: x + σ_r·√(−2 ln(1 − u₁))·cos(2πu₂) from uniform(seed, stream), row by row and copy by copy', () => {
  const x = { data: Float32Array.of(0, 1, 2, 3, -4, 4, 0, 1), dims: [2, 4] };
  const [samples, noise, seed, stream] = [3, 0.5, 7, 2];
  const next = uniform(seed, stream);
  const want = new Float32Array(2 * samples * 4);
  for (let r = 0; r < 2; r++) for (let c = 0; c < samples; c++) for (let i = 0; i < 4; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    want[(r * samples + c) * 4 + i] = x.data[r * 4 + i] + noise * [3, 8][r] * z;
  }
  assert.equal(noisyCopies(x, samples, noise, seed, stream), want);
});

test('a row of one value gets σ = 0 from --noise-std (a fraction of its range): said once, and its smoothgrad is its gradient', async () => {
  const ex = await Explainer.load(tinyModel([3], 13, (em, v) => em.matmul(em.op('Tanh', [v]), em.constFloat([1, -2, 0.5, 1.5, 2, -1], [3, 2]))));
  const x = { data: Float32Array.from([0.4, 0.4, 0.4, 0.1, 0.9, -0.3]), dims: [2, 3] };
  const plain = await ex.attribute(x, { target: 0 });
  for (const method of ['gradient', 'gradient-shap']) {
    const noisy = await ex.attribute(x, method === 'gradient' ? { target: 0, noiseTunnel: 'smoothgrad' } : { method, target: 0, noiseStd: 0.2 });
    assert.ok(noisy.warnings?.some((w) => /--noise-std 0\.\d+: row 0 holds one value, so σ, the row's value range times --noise-std, is 0 there and no noise is added/.test(w)), `${method}: ${noisy.warnings}`);
    if (method === 'gradient') assert.equal(Array.from(noisy.attributions.data.slice(0, 3)), Array.from(plain.attributions.data.slice(0, 3)));
    assert.not.equal(Array.from(noisy.attributions.data.slice(3)), Array.from(plain.attributions.data.slice(3)), `${method}: row 1 is noisy`);
  }
});

test('drawBaselineFromDistrib: each noisy copy gets the baseline row ⌊u·K⌋ (stream 1 of the seed), as Captum\'s draw_baseline_from_distrib; equal to the copies explained one by one', async () => {
  const MODEL = path.resolve(__dirname, '../../models/lrp-composites/model.onnx');
  const ex = await Explainer.load(MODEL);
  const x = { data: Float32Array.from({ length: 2 * 768 }, (_, i) => Math.sin(0.3 * i)), dims: [2, 3, 16, 16] };
  const K = 3;
  const dist = { data: Float32Array.from({ length: K * 768 }, (_, i) => 0.4 * Math.cos(0.7 * i)), dims: [K, 3, 16, 16] };
  const [samples, seed, noiseStd, target] = [4, 7, 0.1, [3, 1]];
  const copies = noisyCopies(x, samples, noiseStd, seed);
  const next = uniform(seed, 1);
  const picks = Array.from({ length: 2 * samples }, () => Math.floor(next() * K));
  assert.ok(new Set(picks).size > 1, 'several baseline rows drawn');
  for (const method of ['deeplift', 'integrated-gradients']) {
    const steps = method === 'deeplift' ? undefined : 8;
    const r = await ex.attribute(x, { method, target, baseline: dist, noiseTunnel: 'smoothgrad', samples, seed, noiseStd, drawBaselineFromDistrib: true, steps });
    const expected = new Float32Array(2 * 768);
    for (let j = 0; j < 2 * samples; j++) {
      const row = Math.floor(j / samples);
      const one = await ex.attribute({ data: copies.slice(j * 768, (j + 1) * 768), dims: [1, 3, 16, 16] }, { method, target: target[row], baseline: { data: dist.data.slice(picks[j] * 768, (picks[j] + 1) * 768), dims: [1, 3, 16, 16] }, steps });
      one.attributions.data.forEach((v, i) => { expected[row * 768 + i] += v / samples; });
      assert.ok(Math.abs(r.delta![j] - one.delta![0]) < 1e-5, `${method} copy ${j}: delta ${r.delta![j]} vs ${one.delta![0]}`);
    }
    assert.ok(relL2(r.attributions.data, expected) < 1e-6, method);
  }
  await rejects(() => ex.attribute(x, { method: 'deeplift', target, baseline: dist, drawBaselineFromDistrib: true }), /--draw-baseline-from-distrib sets the noise tunnel: it needs --noise-tunnel/);
  await rejects(() => ex.attribute(x, { method: 'gradient', target, noiseTunnel: 'smoothgrad', drawBaselineFromDistrib: true }), /option 'drawBaselineFromDistrib' applies to deeplift, integrated-gradients, .*, not to method 'gradient'/);
  await rejects(() => ex.attribute(x, { method: 'deeplift', target, noiseTunnel: 'smoothgrad', drawBaselineFromDistrib: true }), /draws from a baseline distribution: give --baseline with K rows of shape \[3,16,16\]/);
});

test.run();
