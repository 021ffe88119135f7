import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { readNpy } from '../runtime/node/npy-file';
import { runCli, tempDir } from './support/cli-harness';
import { loadFixture, relL2 } from './support/fixtures';
import { rng } from './support/gradcheck';
import { rejects } from './support/rejects';

/**
 * Captum's occlusion by brute force: every window start i·s (i < ceil((D − w)/s) + 1 per
 * dimension), one single-row forward per window and row, differences of the chosen score averaged
 * over the windows covering each feature.
 */
async function bruteOcclusion(ex: Explainer, x: { data: Float32Array; dims: number[] }, window: number[], stride: number[], targets: number[], fill: (r: number, i: number) => number, score: (out: Float32Array, t: number) => number): Promise<Float32Array> {
  const row = x.dims.slice(1);
  const per = row.reduce((a, b) => a * b, 1);
  const starts = row.map((d, k) => Array.from({ length: Math.ceil((d - window[k]) / stride[k]) + 1 }, (_, i) => i * stride[k]));
  const sum = new Float64Array(x.data.length);
  const count = new Float64Array(x.data.length);
  const combos: number[][] = starts.reduce<number[][]>((acc, list) => acc.flatMap((c) => list.map((s) => [...c, s])), [[]]);
  for (let r = 0; r < x.dims[0]; r++) {
    const xr = x.data.slice(r * per, (r + 1) * per);
    const base = score((await ex.forward({ data: xr, dims: [1, ...row] }))[ex.outputNames[0]].data, targets[r]);
    for (const s of combos) {
      const inside = (i: number) => {
        let rest = i;
        for (let k = row.length - 1; k >= 0; k--) {
          const c = rest % row[k];
          rest = Math.floor(rest / row[k]);
          if (c < s[k] || c >= s[k] + window[k]) return false;
        }
        return true;
      };
      const occluded = Float32Array.from(xr, (v, i) => (inside(i) ? fill(r, i) : v));
      const diff = base - score((await ex.forward({ data: occluded, dims: [1, ...row] }))[ex.outputNames[0]].data, targets[r]);
      for (let i = 0; i < per; i++) if (inside(i)) { sum[r * per + i] += diff; count[r * per + i] += 1; }
    }
  }
  return Float32Array.from(sum, (v, i) => (count[i] ? v / count[i] : 0));
}

const logit = (out: Float32Array, t: number) => out[t];

test('occlusion on resnet_bn (window 3,5,5 stride 3,4,4, fill 0) equals a brute-force loop of forwards', async () => {
  const fx = loadFixture('resnet_bn');
  const ex = await Explainer.load(fx.model);
  const r = await ex.attribute(fx.input, { method: 'occlusion', target: fx.meta.target, window: [3, 5, 5], stride: [3, 4, 4], internalBatchSize: 7 });
  const want = await bruteOcclusion(ex, fx.input, [3, 5, 5], [3, 4, 4], fx.meta.target, () => 0, logit);
  assert.equal(r.attributions.dims, fx.input.dims);
  assert.equal(r.targets, fx.meta.target);
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `rel L2 ${relL2(r.attributions.data, want)}`);
  assert.ok(want.some((v) => Math.abs(v) > 1e-3), 'the occlusion changes the score');
});

test('occlusion with a baseline fill, a single stride and a fixed-batch model equals brute force', async () => {
  const fx = loadFixture('batch1_reshape');
  const ex = await Explainer.load(fx.model);
  const rand = rng(5);
  const baseline = Float32Array.from({ length: fx.input.data.length }, () => rand() - 0.5);
  const r = await ex.attribute(fx.input, { method: 'occlusion', target: fx.meta.target, window: [2, 3, 3], stride: 2, baseline: { data: baseline, dims: fx.input.dims } });
  const want = await bruteOcclusion(ex, fx.input, [2, 3, 3], [2, 2, 2], fx.meta.target, (_r, i) => baseline[i], logit);
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `rel L2 ${relL2(r.attributions.data, want)}`);
});

test('occlusion of softmax probabilities (explainSoftmax) on cnn_maxpool, 2-D windows on conv1d_onehot: brute force', async () => {
  const fx = loadFixture('cnn_maxpool');
  const ex = await Explainer.load(fx.model);
  const r = await ex.attribute(fx.input, { method: 'occlusion', target: fx.meta.target, explainSoftmax: true, window: [1, 6, 6], stride: [1, 5, 5], fill: 0.5 });
  const want = await bruteOcclusion(ex, fx.input, [1, 6, 6], [1, 5, 5], fx.meta.target, () => 0.5, logit);
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `cnn_maxpool rel L2 ${relL2(r.attributions.data, want)}`);
  // Without explainSoftmax the logits are explained, and returned beside the probabilities: softmax(logits) = probabilities.
  const { output, from } = ex.resolveOutput(undefined);
  const plain = await ex.attribute(fx.input, { method: 'occlusion', target: fx.meta.target, window: [1, 6, 6], stride: [1, 5, 5] });
  assert.equal(Object.keys(plain.outputs).sort(), [output, from].sort());
  const z = plain.outputs[from].data;
  const classes = z.length / fx.input.dims[0];
  const softmax = Float32Array.from(z, (v, i) => {
    const row = z.subarray(i - (i % classes), i - (i % classes) + classes);
    return Math.exp(v) / row.reduce((a, b) => a + Math.exp(b), 0);
  });
  assert.ok(relL2(softmax, plain.outputs[output].data) < 1e-6, 'the returned logits are the Softmax input');
  const seq = loadFixture('conv1d_onehot');
  const ex2 = await Explainer.load(seq.model);
  const r2 = await ex2.attribute(seq.input, { method: 'occlusion', target: seq.meta.target, window: [4, 7], stride: [4, 3], internalBatchSize: 64 });
  const want2 = await bruteOcclusion(ex2, seq.input, [4, 7], [4, 3], seq.meta.target, () => 0, logit);
  assert.ok(relL2(r2.attributions.data, want2) < 1e-5, `conv1d rel L2 ${relL2(r2.attributions.data, want2)}`);
});

test('occlusion: one window over the whole row gives f(x)[t] − f(fill)[t] everywhere; the default target is the argmax', async () => {
  const fx = loadFixture('mlp');
  const ex = await Explainer.load(fx.model);
  const r = await ex.attribute(fx.input, { method: 'occlusion', window: [20] });
  const out = (await ex.forward(fx.input))[ex.outputNames[0]].data;
  const zero = (await ex.forward({ data: new Float32Array(20), dims: [1, 20] }))[ex.outputNames[0]].data;
  const classes = out.length / 3;
  r.targets.forEach((t, row) => {
    const rowOut = out.subarray(row * classes, (row + 1) * classes);
    assert.is(t, rowOut.indexOf(Math.max(...rowOut)));
    const want = rowOut[t] - zero[t];
    for (let i = 0; i < 20; i++) assert.ok(Math.abs(r.attributions.data[row * 20 + i] - want) < 1e-5);
  });
});

test('occlusion costs ceil(windows·rows ÷ batch) forward runs after the first; random fill is seeded and batch-independent', async () => {
  const fx = loadFixture('resnet_bn');
  const ex = await Explainer.load(fx.model);
  const progress: number[][] = [];
  const options = { method: 'occlusion', target: 1, window: [3, 4, 4], stride: [3, 4, 4], fill: 'random' as const, seed: 3 };
  const a = await ex.attribute(fx.input, { ...options, internalBatchSize: 10, progress: (done: number, total: number) => progress.push([done, total]) });
  // 16 windows × 3 rows = 48 perturbed rows: 5 runs of at most 10.
  assert.equal(progress, [[10, 48], [20, 48], [30, 48], [40, 48], [48, 48]]);
  const b = await ex.attribute(fx.input, { ...options, internalBatchSize: 3 });
  assert.ok(relL2(a.attributions.data, b.attributions.data) < 1e-6, 'same noise whatever the batch size');
  const c = await ex.attribute(fx.input, { ...options, seed: 4 });
  assert.ok(relL2(c.attributions.data, a.attributions.data) > 1e-3, 'another seed, other noise');
  const zero = await ex.attribute(fx.input, { ...options, fill: 0, seed: undefined });
  await rejects(() => ex.attribute(fx.input, { ...options, fill: 0 }), /option 'seed' seeds a random fill: method 'occlusion' draws nothing with option 'fill' 0 \(give option 'fill' random\)/);
  assert.ok(relL2(zero.attributions.data, a.attributions.data) > 1e-3, 'random fill differs from zero fill');
});

test('occlusion errors name the cause', async () => {
  const fx = loadFixture('resnet_bn');
  const ex = await Explainer.load(fx.model);
  const cases: [object, RegExp][] = [
    [{}, /occlusion needs a window per input dimension .*3 values/],
    [{ window: [3, 5] }, /window \[3,5\] has 2 values; the input's row shape \[3,16,16\] has 3/],
    [{ window: [3, 17, 5] }, /does not fit the row shape \[3,16,16\] \(dimension 1: 1\.\.16\)/],
    [{ window: [3, 4, 4], stride: [1, 5, 1] }, /stride \[1,5,1\] exceeds the window \[3,4,4\] on dimension 1/],
    [{ window: [3, 4, 4], stride: [1, 1] }, /stride \[1,1\] has 2 values/],
    [{ window: [3, 4, 4], fill: 'grey' }, /fill: 'grey' is not a number or 'random'/],
    [{ window: [3, 4, 4], fill: 0, baseline: fx.input }, /fill and baseline are exclusive/],
    [{ window: [3, 4, 4], internalBatchSize: 0 }, /internalBatchSize: 0 is not a positive integer/],
  ];
  for (const [options, message] of cases) {
    try {
      await ex.attribute(fx.input, { method: 'occlusion', ...options });
      assert.unreachable(`no error for ${JSON.stringify(options)}`);
    } catch (e) {
      assert.instance(e, Error);
      assert.match((e as Error).message, message);
    }
  }
});

test('CLI: occlusion to .npy equals the API; method-specific flags with another method are one-line errors', async () => {
  const fx = loadFixture('resnet_bn');
  const dir = tempDir('occlusion');
  const out = path.join(dir, 'occ.npy');
  const inputFile = path.join(path.dirname(fx.model), 'input.npy');
  const r = await runCli(['attribute', fx.model, '--input', inputFile, '--method', 'occlusion', '--window', '3,5,5', '--stride', '3,4,4', '--target', '2', '--out', out]);
  assert.is(r.code, 0, r.err.join('|'));
  const api = await (await Explainer.load(fx.model)).attribute(fx.input, { method: 'occlusion', window: [3, 5, 5], stride: [3, 4, 4], target: 2 });
  assert.ok(relL2(readNpy(out).data as Float32Array, api.attributions.data) < 1e-6);
  for (const [args, message] of [
    [['--method', 'gradient', '--window', '3,5,5'], /--window applies to occlusion, not to method 'gradient'/],
    [['--method', 'occlusion', '--window', '3,5,5', '--feature-mask', inputFile], /--feature-mask applies to feature-ablation, feature-permutation, shapley-values, shapley-value-sampling, kernel-shap and lime, not to method 'occlusion'/],
    [['--method', 'deeplift', '--no-relu'], /--no-relu applies to cam and grad-cam, not to method 'deeplift'/],
    // Occlusion at a layer used to run at the input and print "at layer" (found by the release fuzz, seed 1205).
    [['--method', 'occlusion', '--window', '3,5,5', '--layer', '/body/body.1/Relu_output_0'], /--layer: method 'occlusion' perturbs the input and attributes to it, not to a layer/],
    [['--method', 'kernel-shap', '--layer='], /--layer: method 'kernel-shap' perturbs the input and attributes to it, not to a layer/],
  ] as [string[], RegExp][]) {
    const e = await runCli(['attribute', fx.model, '--input', inputFile, ...args]);
    assert.is(e.code, 1);
    assert.equal(e.err.length, 1);
    assert.match(e.err[0], message);
  }
});

test.run();
