import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttributeOptions, Explainer, patchMask } from '../runtime';
import { twinCnn } from './support/twin-cnn';
import { shuffled, uniform } from '../runtime/random';
import { loadFixture, relL2 } from './support/fixtures';
import { rng } from './support/gradcheck';
import { tinyModel } from './support/tiny-model';

/** Feature ablation by brute force: per row and group id, replace the group, one forward, the score drop on each of its features. */
async function bruteAblation(ex: Explainer, x: { data: Float32Array; dims: number[] }, groupOf: (r: number, i: number) => number, targets: number[], fill: number): Promise<Float32Array> {
  const row = x.dims.slice(1);
  const per = row.reduce((a, b) => a * b, 1);
  const out = new Float32Array(x.data.length);
  for (let r = 0; r < x.dims[0]; r++) {
    const xr = x.data.slice(r * per, (r + 1) * per);
    const score = async (v: Float32Array) => (await ex.forward({ data: v, dims: [1, ...row] }))[ex.outputNames[0]].data[targets[r]];
    const base = await score(xr);
    const ids = new Set(Array.from({ length: per }, (_, i) => groupOf(r, i)));
    for (const id of ids) {
      const diff = base - (await score(Float32Array.from(xr, (v, i) => (groupOf(r, i) === id ? fill : v))));
      for (let i = 0; i < per; i++) if (groupOf(r, i) === id) out[r * per + i] = diff;
    }
  }
  return out;
}

test('feature ablation with 4×4 superpixels shared by channels and rows ([1,1,16,16] mask) equals brute force', async () => {
  const fx = loadFixture('resnet_bn');
  const ex = await Explainer.load(fx.model);
  const mask = Float64Array.from({ length: 256 }, (_, i) => Math.floor(Math.floor(i / 16) / 4) * 4 + Math.floor((i % 16) / 4));
  const r = await ex.attribute(fx.input, { method: 'feature-ablation', target: fx.meta.target, featureMask: { data: mask, dims: [1, 1, 16, 16] }, fill: 0.25, internalBatchSize: 5 });
  const want = await bruteAblation(ex, fx.input, (_r, i) => mask[i % 256], fx.meta.target, 0.25);
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `rel L2 ${relL2(r.attributions.data, want)}`);
  assert.ok(want.some((v) => Math.abs(v) > 1e-3));
  // Broadcast by numpy's rules, as Captum takes it: [16, 16] for the [N, 3, 16, 16] input (refused), and one id per column.
  const lower = await ex.attribute(fx.input, { method: 'feature-ablation', target: fx.meta.target, featureMask: { data: mask, dims: [16, 16] }, fill: 0.25, internalBatchSize: 5 });
  assert.equal(Array.from(lower.attributions.data), Array.from(r.attributions.data));
  const columns = Int32Array.from({ length: 16 }, (_, i) => i >> 2);
  const byColumn = await ex.attribute(fx.input, { method: 'feature-ablation', target: fx.meta.target, featureMask: { data: columns, dims: [16] }, fill: 0.25 });
  const want2 = await bruteAblation(ex, fx.input, (_r, i) => columns[i % 16], fx.meta.target, 0.25);
  assert.ok(relL2(byColumn.attributions.data, want2) < 1e-5, `per-column mask rel L2 ${relL2(byColumn.attributions.data, want2)}`);
});

test('feature ablation with one mask per row (int64 ids, sparse and negative) and a mask without the batch axis', async () => {
  const fx = loadFixture('mlp');
  const ex = await Explainer.load(fx.model);
  const ids = BigInt64Array.from({ length: 60 }, (_, i) => BigInt((i * 7) % 5 === 0 ? -3 : Math.floor((i % 20) / (3 + Math.floor(i / 20))) * 10));
  const r = await ex.attribute(fx.input, { method: 'feature-ablation', target: fx.meta.target, featureMask: { data: ids, dims: [3, 20] } });
  const want = await bruteAblation(ex, fx.input, (row, i) => Number(ids[row * 20 + i]), fx.meta.target, 0);
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `per-row mask rel L2 ${relL2(r.attributions.data, want)}`);
  const shared = Int32Array.from({ length: 20 }, (_, i) => i % 4);
  const s = await ex.attribute(fx.input, { method: 'feature-ablation', target: fx.meta.target, featureMask: { data: shared, dims: [20] } });
  const want2 = await bruteAblation(ex, fx.input, (_row, i) => shared[i], fx.meta.target, 0);
  assert.ok(relL2(s.attributions.data, want2) < 1e-5, `row-shape mask rel L2 ${relL2(s.attributions.data, want2)}`);
});

test('feature ablation without a mask ablates each feature alone, as Captum', async () => {
  const fx = loadFixture('mlp');
  const ex = await Explainer.load(fx.model);
  const r = await ex.attribute(fx.input, { method: 'feature-ablation', target: fx.meta.target, fill: -1 });
  const want = await bruteAblation(ex, fx.input, (_row, i) => i, fx.meta.target, -1);
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `rel L2 ${relL2(r.attributions.data, want)}`);
});

test('feature ablation errors: a mask that does not broadcast, non-integer ids', async () => {
  const fx = loadFixture('mlp');
  const ex = await Explainer.load(fx.model);
  const cases: [object, RegExp][] = [
    [{ featureMask: { data: new Float32Array(21), dims: [21] } }, /feature mask of shape \[21\] does not broadcast to the input's shape \[3,20\]/],
    [{ featureMask: { data: new Float32Array(20).fill(0.5), dims: [1, 20] } }, /holds non-integer values/],
  ];
  for (const [options, message] of cases) {
    try {
      await ex.attribute(fx.input, { method: 'feature-ablation', ...options });
      assert.unreachable('no error');
    } catch (e) {
      assert.match((e as Error).message, message);
    }
  }
});

test('feature permutation: each group takes another row\'s values (seeded permutations, never the identity); equals a loop of forwards; one-line errors', async () => {
  const fx = loadFixture('mlp');
  const ex = await Explainer.load(fx.model);
  const [n, per] = fx.input.dims;
  const groupOf = (i: number) => Math.floor(i / 4);
  const featureMask = { data: Int32Array.from({ length: per }, (_, i) => groupOf(i)), dims: [per] };
  const r = await ex.attribute(fx.input, { method: 'feature-permutation', target: fx.meta.target, featureMask, seed: 9, internalBatchSize: 4 });
  // The documented draws: per group in id order, a shuffle of the rows from uniform(seed), again while the identity.
  const next = uniform(9);
  const score = async (v: Float32Array, row: number) => (await ex.forward({ data: v, dims: [1, per] }))[ex.outputNames[0]].data[fx.meta.target[row]];
  const want = new Float32Array(n * per);
  for (let g = 0; g < per / 4; g++) {
    let order: number[];
    do order = shuffled(n, next);
    while (order.every((v, i) => v === i));
    for (let row = 0; row < n; row++) {
      const xr = fx.input.data.slice(row * per, (row + 1) * per);
      const permuted = Float32Array.from(xr, (v, i) => (groupOf(i) === g ? fx.input.data[order[row] * per + i] : v));
      const diff = (await score(xr, row)) - (await score(permuted, row));
      for (let i = 0; i < per; i++) if (groupOf(i) === g) want[row * per + i] = diff;
    }
  }
  assert.ok(relL2(r.attributions.data, want) < 1e-5, `rel L2 ${relL2(r.attributions.data, want)}`);
  assert.ok(want.some((v) => Math.abs(v) > 1e-3));
  const same = { data: new Float32Array(n * per).fill(0.3), dims: [n, per] };
  const zero = await ex.attribute(same, { method: 'feature-permutation', target: fx.meta.target });
  assert.ok(zero.attributions.data.every((v) => v === 0), 'identical rows: permuting changes nothing');
  for (const [options, re] of [
    [{ baseline: same }, /baseline'?: method 'feature-permutation' takes no baseline/],
    [{ featureMask: { data: new Int32Array(n * per), dims: [n, per] } }, /the feature mask must be shared by the rows/],
  ] as [object, RegExp][]) {
    await ex.attribute(fx.input, { method: 'feature-permutation', ...options }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, re));
  }
  await ex.attribute({ data: fx.input.data.slice(0, per), dims: [1, per] }, { method: 'feature-permutation' }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /needs two rows or more \(the input has 1\)/));
});

test('with a layer (Captum\'s LayerFeatureAblation and LayerFeaturePermutation): the layer\'s values replaced for the rest of the model, skip connections kept; equals a loop in plain arithmetic', async () => {
  const [n, d, k, c] = [3, 4, 6, 3];
  const r = rng(11);
  const w1 = Array.from({ length: d * k }, () => r() - 0.5);
  const w2 = Array.from({ length: k * c }, () => r() - 0.5);
  const w3 = Array.from({ length: d * c }, () => r() - 0.5);
  let layer = '';
  const ex = await Explainer.load(tinyModel([d], 13, (em, x) => {
    layer = em.op('Relu', [em.add(em.matmul(x, em.constFloat(w1, [d, k])), em.constFloat([0.3, -0.1, 0.2, 0.1, -0.2, 0.4], [k]))]);
    return em.add(em.matmul(layer, em.constFloat(w2, [k, c])), em.matmul(x, em.constFloat(w3, [d, c])));
  }));
  const x = Float32Array.from({ length: n * d }, () => 2 * r() - 1);
  const targets = [0, 2, 1];
  const h = (row: number) => Array.from({ length: k }, (_, j) => Math.max(0, [0.3, -0.1, 0.2, 0.1, -0.2, 0.4][j] + Array.from({ length: d }, (_, i) => x[row * d + i] * w1[i * k + j]).reduce((a, b) => a + b, 0)));
  const score = (row: number, hv: number[]) => hv.reduce((a, v, j) => a + v * w2[j * c + targets[row]], 0) + Array.from({ length: d }, (_, i) => x[row * d + i] * w3[i * c + targets[row]]).reduce((a, b) => a + b, 0);
  const groupOf = (j: number) => Math.floor(j / 2);
  const featureMask = { data: Int32Array.from({ length: k }, (_, j) => groupOf(j)), dims: [k] };
  const ablated = await ex.attribute({ data: x, dims: [n, d] }, { method: 'feature-ablation', layer, target: targets, featureMask, fill: 0.5, internalBatchSize: 2 });
  assert.equal(ablated.attributions.dims, [n, k]);
  const want = new Float32Array(n * k);
  for (let row = 0; row < n; row++) for (let j = 0; j < k; j++) want[row * k + j] = score(row, h(row)) - score(row, h(row).map((v, i) => (groupOf(i) === groupOf(j) ? 0.5 : v)));
  assert.ok(relL2(ablated.attributions.data, want) < 1e-5, `ablation: rel L2 ${relL2(ablated.attributions.data, want)}`);
  const permuted = await ex.attribute({ data: x, dims: [n, d] }, { method: 'feature-permutation', layer, target: targets, featureMask, seed: 4 });
  const next = uniform(4);
  for (let g = 0; g < k / 2; g++) {
    let order: number[];
    do order = shuffled(n, next);
    while (order.every((v, i) => v === i));
    for (let row = 0; row < n; row++) {
      const diff = score(row, h(row)) - score(row, h(row).map((v, j) => (groupOf(j) === g ? h(order[row])[j] : v)));
      for (let j = 0; j < k; j++) if (groupOf(j) === g) want[row * k + j] = diff;
    }
  }
  assert.ok(relL2(permuted.attributions.data, want) < 1e-5, `permutation: rel L2 ${relL2(permuted.attributions.data, want)}`);
  assert.ok(want.some((v) => Math.abs(v) > 1e-3));
  await ex.attribute({ data: x, dims: [n, d] }, { method: 'feature-ablation', layer: 'nope' }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /layer 'nope': no such tensor/));
  // The explained tensor as its own layer (as Captum's LayerFeatureAblation at the output): each
  // of its values ablated to 0 takes the target's value away, the others nothing.
  const itself = await ex.attribute({ data: x, dims: [n, d] }, { method: 'feature-ablation', layer: 'y', target: targets });
  assert.equal(itself.attributions.dims, [n, c]);
  assert.ok(relL2(itself.attributions.data, targets.flatMap((t, row) => Array.from({ length: c }, (_, j) => (j === t ? score(row, h(row)) : 0)))) < 1e-6);
});

test('patchMask: square patches numbered row-major, the last ones cropped at the border; bad sizes refused', () => {
  const m = patchMask(5, 7, 2);
  assert.equal(m.dims, [1, 1, 5, 7]);
  assert.equal(Array.from(m.data), [
    0, 0, 1, 1, 2, 2, 3,
    0, 0, 1, 1, 2, 2, 3,
    4, 4, 5, 5, 6, 6, 7,
    4, 4, 5, 5, 6, 6, 7,
    8, 8, 9, 9, 10, 10, 11,
  ]);
  assert.throws(() => patchMask(4, 4, 0), /patch mask: 4×4 pixels in patches of 0 must be positive integers/);
  assert.throws(() => patchMask(4, 4, 1.5), /patches of 1\.5/);
});

test('a channels-last image with patchMask(…, true) [1, H, W, 1]: its twin\'s channels-first attributions, transposed', async () => {
  const [h, w] = [6, 5];
  const data = Float32Array.from({ length: 3 * h * w }, (_, i) => Math.cos(i * 0.7));
  const hwc = Float32Array.from({ length: 3 * h * w }, (_, i) => data[(i % 3) * h * w + Math.floor(i / 3)]);
  const first = await (await Explainer.load(twinCnn(false))).attribute({ data, dims: [1, 3, h, w] }, { method: 'feature-ablation', target: 0, featureMask: patchMask(h, w, 2) });
  const last = await (await Explainer.load(twinCnn(true))).attribute({ data: hwc, dims: [1, h, w, 3] }, { method: 'feature-ablation', target: 0, featureMask: patchMask(h, w, 2, true) });
  assert.equal(patchMask(h, w, 2, true).dims, [1, h, w, 1]);
  last.attributions.data.forEach((v, i) => assert.ok(Math.abs(v - first.attributions.data[(i % 3) * h * w + Math.floor(i / 3)]) < 1e-6, `feature ${i}`));
});

test('on y = Σ x each feature\'s attribution is x minus what replaced it: a per-row baseline row by row (feature ablation, occlusion, shapley-values, kernel-shap), a random fill inside each row\'s range, the other row\'s value for every group of a two-row permutation (never the identity order)', async () => {
  const ex = await Explainer.load(tinyModel([6], 13, (em, x) => em.matmul(x, em.constFloat(Array(6).fill(1), [6, 1]))));
  const x = { data: Float32Array.of(1, 2, 3, 4, 5, 6, -1, -2, -3, -4, -5, -6), dims: [2, 6] };
  const baseline = { data: Float32Array.of(0, 0, 0, 0, 0, 0, 7, 7, 7, 7, 7, 7), dims: [2, 6] };
  const minus = (a: ArrayLike<number>, b: ArrayLike<number>) => Float32Array.from(a, (v, i) => v - b[i]);
  const methods: AttributeOptions[] = [{ method: 'feature-ablation' }, { method: 'occlusion', window: [1] }, { method: 'shapley-values' }, { method: 'kernel-shap', samples: 200 }];
  for (const options of methods) {
    const r = await ex.attribute(x, { ...options, target: 0, baseline });
    assert.ok(relL2(r.attributions.data, minus(x.data, baseline.data)) < 1e-6, `${options.method}: ${Array.from(r.attributions.data)}`);
  }
  const near = { data: Float32Array.of(10, 10.2, 10.5, 10.7, 10.9, 11, -3, 2, -1, 0, 1, -2), dims: [2, 6] };
  for (const options of methods.slice(0, 2)) {
    const r = await ex.attribute(near, { ...options, target: 0, fill: 'random', seed: 5 });
    const fill = minus(near.data, r.attributions.data);
    fill.forEach((f, i) => assert.ok(i < 6 ? f >= 10 - 1e-4 && f <= 11 + 1e-4 : f >= -3 - 1e-4 && f <= 2 + 1e-4, `${options.method}: fill ${f} of feature ${i} outside its row's range`));
    assert.ok(new Set(Array.from(fill, (f) => f.toFixed(3))).size > 6, `${options.method}: fills vary`);
  }
  for (const seed of [0, 1, 2, 3]) {
    const r = await ex.attribute(x, { method: 'feature-permutation', target: 0, seed });
    assert.ok(relL2(r.attributions.data, minus(x.data, [...x.data.slice(6), ...x.data.slice(0, 6)])) < 1e-6, `seed ${seed}: ${Array.from(r.attributions.data)}`);
  }
});

test.run();
