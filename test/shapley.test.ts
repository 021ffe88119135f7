import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { kernelCoalitions } from '../runtime/drivers/shapley';
import { writeNpy } from '../runtime/node/npy-file';
import { weightedLasso, weightedLeastSquares } from '../runtime/least-squares';
import { shuffled, uniform } from '../runtime/random';
import { DataType, encodeModel, makeTensor, valueInfo } from '../rewriter/proto';
import { preloadScript, runCli, runCliProcess, tempDir, writeRawNpy } from './support/cli-harness';
import { tinyModel } from './support/tiny-model';
import { loadFixture, relL2, tensorValues } from './support/fixtures';

const out = tempDir('shapley');
const fx = loadFixture('mlp');
const [N, F] = fx.input.dims;
const target = fx.meta.target;
/** Four groups of the 20 features (ids 3, 0, 2, 1 in blocks of 5), the same for every row. */
const GROUPS = 4;
const maskIds = Array.from({ length: F }, (_, i) => [3, 0, 2, 1][Math.floor(i / 5)]);
const featureMask = { data: Int32Array.from(maskIds), dims: [F] };
const baseline = { data: Float32Array.from({ length: F }, (_, i) => Math.sin(i) * 0.3), dims: [1, F] };

/** Sum of the four groups' values of a row (each feature holds its group's φ). */
const groupSum = (d: Float32Array, row: number) => [0, 1, 2, 3].reduce((s, g) => s + d[row * F + maskIds.indexOf(g)], 0);

/** Each row's attributions sum to f(x) − f(0) of its target logit, by plain forward runs. */
async function assertSumsToChange(ex: Explainer, data: Float32Array, tol: number, what: string): Promise<void> {
  const logits = await tensorValues(ex, fx.input, 'output');
  const zero = await tensorValues(ex, { data: new Float32Array(N * F), dims: [N, F] }, 'output');
  const classes = logits.length / N;
  for (let row = 0; row < N; row++) {
    const sum = data.subarray(row * F, (row + 1) * F).reduce((a, v) => a + v, 0);
    const t = target[row];
    assert.ok(Math.abs(sum - (logits[row * classes + t] - zero[row * classes + t])) < tol, `row ${row}: Σφ ${sum} ${what}`);
  }
}

/** Every permutation of 0 … n − 1. */
function permutations(n: number): number[][] {
  if (n === 0) return [[]];
  return permutations(n - 1).flatMap((p) => Array.from({ length: n }, (_, k) => [...p.slice(0, k), n - 1, ...p.slice(k)]));
}

/** The explained logit of each row with the groups outside `kept` taken from the baseline, by plain forward runs. */
async function coalitionValue(ex: Explainer, kept: Set<number>[]): Promise<number[]> {
  const data = Float32Array.from({ length: N * F }, (_, j) => (kept[Math.floor(j / F)].has(maskIds[j % F]) ? fx.input.data[j] : baseline.data[j % F]));
  const logits = await tensorValues(ex, { data, dims: [N, F] }, 'output');
  const classes = logits.length / N;
  return target.map((t, r) => logits[r * classes + t]);
}

test('shuffled: every order of 4 about equally often (24 orders, 48,000 draws)', () => {
  const next = uniform(1);
  const counts = new Map<string, number>();
  for (let k = 0; k < 48000; k++) {
    const key = shuffled(4, next).join();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  assert.is(counts.size, 24);
  for (const [order, c] of counts) assert.ok(Math.abs(c - 2000) < 200, `${order}: ${c} of 48000`);
});

test('shapley-values equal the mean marginal contribution over all 24 orders of the 4 groups, by forward runs; each row sums to f(x) − f(baseline)', async () => {
  const ex = await Explainer.load(fx.model);
  const want = new Float64Array(N * GROUPS);
  const orders = permutations(GROUPS);
  for (const order of orders) {
    const kept = Array.from({ length: N }, () => new Set<number>());
    let before = await coalitionValue(ex, kept);
    for (const g of order) {
      kept.forEach((s) => s.add(g));
      const after = await coalitionValue(ex, kept);
      for (let r = 0; r < N; r++) want[r * GROUPS + g] += (after[r] - before[r]) / orders.length;
      before = after;
    }
  }
  const expected = Float32Array.from({ length: N * F }, (_, j) => want[Math.floor(j / F) * GROUPS + maskIds[j % F]]);
  for (const internalBatchSize of [undefined, 5]) {
    const r = await ex.attribute(fx.input, { method: 'shapley-values', target, featureMask, baseline, internalBatchSize });
    assert.ok(relL2(r.attributions.data, expected) < 1e-6, `internalBatchSize ${internalBatchSize}: rel L2 ${relL2(r.attributions.data, expected)}`);
  }
  const full = await coalitionValue(ex, Array.from({ length: N }, () => new Set([0, 1, 2, 3])));
  const empty = await coalitionValue(ex, Array.from({ length: N }, () => new Set<number>()));
  const r = await ex.attribute(fx.input, { method: 'shapley-values', target, featureMask, baseline });
  for (let row = 0; row < N; row++) {
    const sum = [0, 1, 2, 3].reduce((a, g) => a + r.attributions.data[row * F + maskIds.indexOf(g)], 0);
    assert.ok(Math.abs(sum - (full[row] - empty[row])) < 1e-5, `row ${row}: Σφ ${sum} vs ${full[row] - empty[row]}`);
  }
  assert.ok(want.some((v) => Math.abs(v) > 1e-3));
});

test('shapley-value-sampling: seeded, sums to f(x) − f(baseline) per order, approaches the exact values; without a mask each feature is a group', async () => {
  const ex = await Explainer.load(fx.model);
  const exact = await ex.attribute(fx.input, { method: 'shapley-values', target, featureMask, baseline });
  const a = await ex.attribute(fx.input, { method: 'shapley-value-sampling', target, featureMask, baseline, samples: 6, seed: 3 });
  const b = await ex.attribute(fx.input, { method: 'shapley-value-sampling', target, featureMask, baseline, samples: 6, seed: 3, internalBatchSize: 4 });
  assert.equal(Array.from(a.attributions.data), Array.from(b.attributions.data), 'same seed, same result whatever the batch');
  const other = await ex.attribute(fx.input, { method: 'shapley-value-sampling', target, featureMask, baseline, samples: 6, seed: 4 });
  assert.ok(relL2(a.attributions.data, other.attributions.data) > 1e-4, 'another seed, other orders');
  for (let row = 0; row < N; row++) assert.ok(Math.abs(groupSum(a.attributions.data, row) - groupSum(exact.attributions.data, row)) < 1e-5, `row ${row}: efficiency`);
  const many = await ex.attribute(fx.input, { method: 'shapley-value-sampling', target, featureMask, baseline, samples: 400 });
  assert.ok(relL2(many.attributions.data, exact.attributions.data) < 0.05, `400 orders vs exact: rel L2 ${relL2(many.attributions.data, exact.attributions.data)}`);
  // Without a mask: 20 single-feature groups.
  const single = await ex.attribute(fx.input, { method: 'shapley-value-sampling', target, samples: 2 });
  await assertSumsToChange(ex, single.attributions.data, 1e-5, 'without a mask');
});

test('CLI: shapley-values with --feature-mask and --baseline equals the API; too many groups and a stray --noise-std are one-line errors', async () => {
  const input = path.join(path.dirname(fx.model), 'input.npy');
  const [maskFile, baselineFile, file] = ['mask.npy', 'baseline.npy', 'shapley.npy'].map((f) => path.join(out, f));
  writeNpy(maskFile, Float32Array.from(maskIds), [F]);
  writeNpy(baselineFile, baseline.data, baseline.dims);
  const r = await runCli(['attribute', fx.model, '--input', input, '--method', 'shapley-values', '--feature-mask', maskFile, '--baseline', baselineFile, '--target', target.join(','), '--out', file]);
  assert.is(r.code, 0, r.err.join('|'));
  const api = await (await Explainer.load(fx.model)).attribute(fx.input, { method: 'shapley-values', target, featureMask, baseline });
  const { readNpy } = await import('../runtime/node/npy-file');
  assert.ok(relL2(readNpy(file).data as Float32Array, api.attributions.data) < 1e-6);
  const many = await runCli(['attribute', fx.model, '--input', input, '--method', 'shapley-values']);
  assert.equal(many.err, ['onnx-explain: error: shapley-values: 20 feature groups need 2^20 forward runs per row (at most 16 groups); give a coarser feature mask or use shapley-value-sampling']);
  const stray = await runCli(['attribute', fx.model, '--input', input, '--method', 'shapley-value-sampling', '--noise-std', '0.1']);
  assert.equal(stray.err, ['onnx-explain: error: --noise-std sets the noise tunnel: it needs --noise-tunnel']);
});

test('weighted least squares: exact fits recovered with any weights; minimum-norm coefficients where columns repeat (hand-computed), through the n × n form too', () => {
  const rows = [[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1], [1, 1, 1]];
  const y = rows.map((r) => 0.5 + 2 * r[0] - r[1] + 3 * r[2]);
  const beta = weightedLeastSquares(rows, y, [1, 5, 0.5, 1e6, 2]);
  [2, -1, 3].forEach((b, j) => assert.ok(Math.abs(beta[j] - b) < 1e-9, `β${j} ${beta[j]}`));
  // Columns 0 and 1 equal: y = 1 + 2·a is split evenly between them.
  const twins = weightedLeastSquares([[1, 1], [0, 0], [1, 1]], [3, 1, 3], [1, 1, 1]);
  assert.ok(Math.abs(twins[0] - 1) < 1e-9 && Math.abs(twins[1] - 1) < 1e-9, `${twins}`);
  // Two rows, three columns: β₁ + β₂ − β₃ = −2 at least norm is (−2/3, −2/3, 2/3).
  const wide = weightedLeastSquares([[1, 1, 0], [0, 0, 1]], [3, 5], [1, 1]);
  [-2 / 3, -2 / 3, 2 / 3].forEach((b, j) => assert.ok(Math.abs(wide[j] - b) < 1e-9, `β${j} ${wide[j]}`));
  // A constant y (the baseline equals the input) gives exact zeros, by both forms and by the Lasso
  // (a weighted mean of 0.1s is not 0.1 in floating point: fuzz seed 1432).
  for (const fit of [weightedLeastSquares(rows, rows.map(() => 0.1), [0.3, 0.7, 0.1, 0.9, 0.2]), weightedLeastSquares([[1, 0, 1], [0, 1, 0]], [0.1, 0.1], [0.3, 0.7]), weightedLasso(rows, rows.map(() => 0.1), [0.3, 0.7, 0.1, 0.9, 0.2], 0.01)]) {
    assert.equal(Array.from(fit), [0, 0, 0]);
  }
});

/** A linear model, logits = x·W + c: its Shapley values are the groups' sums of W[:, t]·(x − baseline). */
function linearModel(w: number[]): Uint8Array {
  return encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'linear',
      node: [{ op_type: 'MatMul', input: ['x', 'w'], output: ['xw'], name: 'mm' }, { op_type: 'Add', input: ['xw', 'c'], output: ['logits'], name: 'add' }],
      initializer: [makeTensor('w', [F, 5], w, DataType.FLOAT), makeTensor('c', [5], [0.1, -0.2, 0.3, 0, 0.5], DataType.FLOAT)],
      input: [valueInfo('x', DataType.FLOAT, ['N', F])], output: [valueInfo('logits', DataType.FLOAT, ['N', 5])],
    },
  });
}

test('kernelCoalitions: the ends first, then k groups with probability ∝ (G − 1)/(k(G − k)), every k-subset alike', () => {
  const [G, draws] = [8, 56000];
  const z = kernelCoalitions(G, draws + 2, uniform(4));
  assert.ok(z[0].every((v) => v === 1) && z[1].every((v) => v === 0));
  const sizes = new Float64Array(G + 1);
  const perGroup = new Float64Array(G);
  for (const c of z.slice(2)) {
    sizes[c.reduce((a, v) => a + v, 0)] += 1;
    c.forEach((v, g) => { perGroup[g] += v; });
  }
  const kernel = Array.from({ length: G - 1 }, (_, i) => (G - 1) / ((i + 1) * (G - i - 1)));
  const total = kernel.reduce((a, v) => a + v, 0);
  assert.is(sizes[0] + sizes[G], 0);
  kernel.forEach((p, i) => assert.ok(Math.abs(sizes[i + 1] / draws - p / total) < 0.01, `k = ${i + 1}: ${sizes[i + 1] / draws} vs ${p / total}`));
  const mean = perGroup.reduce((a, v) => a + v, 0) / G;
  perGroup.forEach((c, g) => assert.ok(Math.abs(c / mean - 1) < 0.03, `group ${g}: ${c} vs ${mean}`));
});

test('kernel-shap: a linear model\'s Shapley values exactly; on the MLP it approaches shapley-values and sums to f(x) − f(∅); fewer coalitions than groups stay finite and sum', async () => {
  const w = Array.from({ length: F * 5 }, (_, i) => Math.cos(i * 0.7));
  const linear = await Explainer.load(linearModel(w));
  const r = await linear.attribute(fx.input, { method: 'kernel-shap', target, featureMask, baseline, samples: 40, seed: 2 });
  const want = Float32Array.from({ length: N * F }, (_, j) => {
    const [row, i] = [Math.floor(j / F), j % F];
    let sum = 0;
    for (let k = 0; k < F; k++) if (maskIds[k] === maskIds[i]) sum += w[k * 5 + target[row]] * (fx.input.data[row * F + k] - baseline.data[k]);
    return sum;
  });
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `linear: rel L2 ${relL2(r.attributions.data, want)}`);
  const ex = await Explainer.load(fx.model);
  const exact = await ex.attribute(fx.input, { method: 'shapley-values', target, featureMask, baseline });
  const many = await ex.attribute(fx.input, { method: 'kernel-shap', target, featureMask, baseline, samples: 2000 });
  assert.ok(relL2(many.attributions.data, exact.attributions.data) < 0.05, `2000 coalitions vs exact: rel L2 ${relL2(many.attributions.data, exact.attributions.data)}`);
  for (let row = 0; row < N; row++) assert.ok(Math.abs(groupSum(many.attributions.data, row) - groupSum(exact.attributions.data, row)) < 1e-4, `row ${row}: Σφ`);
  const few = await ex.attribute(fx.input, { method: 'kernel-shap', target, samples: 10 });
  await assertSumsToChange(ex, few.attributions.data, 1e-3, 'with 10 coalitions of 20 features');
});

test('a random fill is one baseline row per input row for the Shapley methods: shapley-values, shapley-value-sampling and kernel-shap give that row\'s exact values (each coalition drew its own fill, and the empty one\'s single draw biased every feature alike)', async () => {
  const w = [1, -2, 0.5, 3, -1, 2];
  const linear = await Explainer.load(tinyModel([6], 13, (em, v) => em.matmul(v, em.constFloat(w, [6, 1]))));
  const x = { data: Float32Array.of(0, 1, 0.2, 0.9, 0.4, 0.6, -3, 2, 0.5, -1, 1.5, 0), dims: [2, 6] };
  const options = { target: 0, fill: 'random' as const, seed: 3 };
  const exact = (await linear.attribute(x, { ...options, method: 'shapley-values' })).attributions.data;
  // The row each input row's coalitions are filled from: x − φ/w, inside that row's range, not a constant.
  const fill = Array.from(exact, (phi, i) => x.data[i] - phi / w[i % 6]);
  for (const r of [0, 1]) {
    const row = Array.from(x.data.subarray(6 * r, 6 * r + 6));
    const drawn = fill.slice(6 * r, 6 * r + 6);
    drawn.forEach((b) => assert.ok(b >= Math.min(...row) - 1e-5 && b <= Math.max(...row) + 1e-5, `fill ${b} outside row ${r}'s range`));
    assert.ok(new Set(drawn.map((b) => b.toFixed(4))).size === 6, `row ${r}: fills vary`);
  }
  // Not the numbers that draw the orders and coalitions (stream 0 of the seed), which they were.
  const orders = uniform(3);
  const [lo, hi] = [Math.min(...x.data.subarray(0, 6)), Math.max(...x.data.subarray(0, 6))];
  assert.ok(fill.slice(0, 6).some((b) => Math.abs(b - (lo + (hi - lo) * orders())) > 1e-3), 'the fill has a stream of its own');
  for (const [method, samples] of [['shapley-value-sampling', 5], ['kernel-shap', 40]] as const) {
    const got = (await linear.attribute(x, { ...options, method, samples })).attributions.data;
    got.forEach((v, i) => assert.ok(Math.abs(v - exact[i]) < 1e-5, `${method}: feature ${i} ${v} vs ${exact[i]}`));
  }
  // A product x0·x1 + x2 against the closed form from that fill row b: φ0 = ½(x0·b1 − b0·b1) + ½(x0·x1 − b0·x1), φ2 = x2 − b2.
  const product = await Explainer.load(tinyModel([6], 13, (em, v) => {
    const [a, b, c] = em.split(v, 1, [1, 1, 4]);
    return em.add(em.mul(a, b), em.reduceSum(em.slice(c, [0], [1], [1]), [1]));
  }));
  const phi = (await product.attribute(x, { ...options, method: 'shapley-values' })).attributions.data;
  for (const r of [0, 1]) {
    const [x0, x1, x2] = x.data.subarray(6 * r, 6 * r + 3);
    const [b0, b1, b2] = fill.slice(6 * r, 6 * r + 3);
    const want = [0.5 * (x0 * b1 - b0 * b1) + 0.5 * (x0 * x1 - b0 * x1), 0.5 * (b0 * x1 - b0 * b1) + 0.5 * (x0 * x1 - x0 * b1), x2 - b2, 0, 0, 0];
    want.forEach((v, i) => assert.ok(Math.abs(phi[6 * r + i] - v) < 1e-5, `row ${r} feature ${i}: ${phi[6 * r + i]} vs ${v}`));
  }
});

test('weighted Lasso: soft-thresholded coefficients on an orthogonal design (hand-computed), whatever the common weight', () => {
  // Centred columns (±½) are orthogonal with Σw·x²/Σw = ¼; ρ = (½, −¼) for y = 3 + 2a − b.
  const rows = [[1, 0], [0, 1], [1, 1], [0, 0]];
  const y = rows.map(([a, b]) => 3 + 2 * a - b);
  for (const [alpha, want] of [[0, [2, -1]], [0.1, [1.6, -0.6]], [0.3, [0.8, 0]]] as [number, number[]][]) {
    const beta = weightedLasso(rows, y, [7, 7, 7, 7], alpha);
    want.forEach((b, j) => assert.ok(Math.abs(beta[j] - b) < 1e-9, `α ${alpha}: β${j} ${beta[j]} vs ${b}`));
  }
});

test('weighted Lasso with one column per pixel of a 3×224×224 image (more than Math.max can take spread)', () => {
  const p = 3 * 224 * 224;
  const rows = [0, 1, 2].map((r) => Uint8Array.from({ length: p }, (_, j) => (j + r) % 2));
  const beta = weightedLasso(rows, [1, 2, 1], [1, 1, 1], 0.01);
  assert.is(beta.length, p);
  assert.ok(beta.every(Number.isFinite));
});

test('lime = the weighted Lasso of a loop of forwards over the documented coalitions (each group kept with probability ½, exp(−d²/2) cosine kernel)', async () => {
  const ex = await Explainer.load(fx.model);
  const samples = 30;
  const r = await ex.attribute(fx.input, { method: 'lime', target, featureMask, baseline, samples, seed: 6 });
  const next = uniform(6);
  const want = new Float32Array(N * F);
  for (let row = 0; row < N; row++) {
    const xr = fx.input.data.subarray(row * F, (row + 1) * F);
    const zs = Array.from({ length: samples }, () => Array.from({ length: GROUPS }, () => Number(next() < 0.5)));
    const perturbed = zs.map((z) => Float32Array.from(xr, (v, i) => (z[maskIds[i]] ? v : baseline.data[i])));
    const logits = await tensorValues(ex, { data: Float32Array.from(perturbed.flatMap((p) => Array.from(p))), dims: [samples, F] }, 'output');
    const classes = logits.length / samples;
    const y = zs.map((_, s) => logits[s * classes + target[row]]);
    const w = perturbed.map((p) => {
      let [dot, aa, bb] = [0, 0, 0];
      p.forEach((v, i) => { dot += v * xr[i]; aa += xr[i] * xr[i]; bb += v * v; });
      const d = 1 - dot / Math.max(Math.sqrt(aa * bb), 1e-8);
      return Math.exp(-d * d / 2);
    });
    const beta = weightedLasso(zs, y, w, 0.01);
    for (let i = 0; i < F; i++) want[row * F + i] = beta[maskIds[i]];
  }
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `rel L2 ${relL2(r.attributions.data, want)}`);
  assert.ok(want.some((v) => Math.abs(v) > 1e-2));
});

test('lime whose Lasso zeroes every coefficient of a row (scores varying by 10⁻⁴, below Captum\'s α) says so in a warning, not silently', async () => {
  const model = tinyModel([4], 13, (em, x) => em.matmul(x, em.constFloat([1e-4, 2, -2e-4, -1, 3e-4, 1, 1e-4, 3], [4, 2])));
  const notes: string[] = [];
  const ex = await Explainer.load(model, { warn: (m) => notes.push(m) });
  const x = { data: Float32Array.of(1, 2, 3, 4, 0.5, -1, 2, 1), dims: [2, 4] };
  const small = await ex.attribute(x, { method: 'lime', target: 0, samples: 40 });
  assert.ok(small.attributions.data.every((v) => v === 0));
  assert.equal(notes, ["<bytes>: lime: the Lasso (α = 0.01, Captum's default) set every coefficient of rows 0, 1 to zero: the scores vary too little across its 40 samples for α; more --samples, or kernel-shap (no penalty)"]);
  notes.length = 0;
  const large = await ex.attribute(x, { method: 'lime', target: 1, samples: 40 });
  assert.ok(large.attributions.data.some((v) => v !== 0));
  assert.equal(notes, []);
  // x equal to its baseline: zeros with nothing to say (more samples cannot help there).
  const same = await ex.attribute(x, { method: 'lime', target: 1, samples: 40, baseline: x });
  assert.ok(same.attributions.data.every((v) => v === 0));
  assert.equal(notes, []);
});

test('lime builds its perturbed rows one internal batch at a time: peak memory does not grow with the samples (1,000 samples of a 224×224 image held 0.6 GB more than 50)', () => {
  const model = path.join(out, 'pooled224.onnx');
  fs.writeFileSync(model, tinyModel([3, 224, 224], 13, (em, x) => em.matmul(em.reduceMean(x, [2, 3], false), em.constFloat([0.5, -1, 2, 1.5, 0.25, -0.75], [3, 2]))));
  const input = path.join(out, 'x224.npy');
  writeNpy(input, Float32Array.from({ length: 3 * 224 * 224 }, (_, i) => Math.sin(i)), [1, 3, 224, 224]);
  const mask = path.join(out, 'patches.npy');
  writeRawNpy(mask, '<i4', [224, 224], new Uint8Array(Int32Array.from({ length: 224 * 224 }, (_, i) => Math.floor(Math.floor(i / 224) / 16) * 14 + Math.floor((i % 224) / 16)).buffer));
  const preload = preloadScript(out, 'max-rss.js', "process.on('exit', () => fs.writeFileSync(process.env.RSS_OUT, String(process.resourceUsage().maxRSS)));");
  const peak = (samples: number) => {
    const rss = path.join(out, `rss-${samples}`);
    const r = runCliProcess(['attribute', model, '--input', input, '--method', 'lime', '--feature-mask', mask, '--samples', String(samples), '--target', '0', '--no-cache', '--out', path.join(out, 'lime224.npy')], preload, { ...process.env, RSS_OUT: rss });
    assert.is(r.status, 0, r.stderr);
    return Number(fs.readFileSync(rss, 'utf8')) / 1024;
  };
  const [few, many] = [peak(50), peak(1000)];
  assert.ok(many - few < 150, `peak RSS ${few.toFixed(0)} MB with 50 samples, ${many.toFixed(0)} MB with 1,000`);
});

test('the sampling methods\' documented defaults: shapley-value-sampling 25 orders, kernel-shap 25 and lime 50 coalitions (a call without samples equals one that gives them)', async () => {
  const ex = await Explainer.load(fx.model);
  for (const [method, samples] of [['shapley-value-sampling', 25], ['kernel-shap', 25], ['lime', 50]] as const) {
    const options = { method, target, seed: 3, featureMask };
    const plain = (await ex.attribute(fx.input, options)).attributions.data;
    assert.equal(plain, (await ex.attribute(fx.input, { ...options, samples })).attributions.data, method);
    assert.not.equal(plain, (await ex.attribute(fx.input, { ...options, samples: samples - 1 })).attributions.data, `${method}: ${samples - 1} samples differ`);
  }
});

test.run();
