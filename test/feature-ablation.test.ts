import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { shuffled, uniform } from '../runtime/random';
import { loadFixture, relL2 } from './support/fixtures';

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
    [{ baseline: same }, /feature-permutation fills with other rows' values: it takes no baseline or fill/],
    [{ featureMask: { data: new Int32Array(n * per), dims: [n, per] } }, /the feature mask must be shared by the rows/],
  ] as [object, RegExp][]) {
    await ex.attribute(fx.input, { method: 'feature-permutation', ...options }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, re));
  }
  await ex.attribute({ data: fx.input.data.slice(0, per), dims: [1, per] }, { method: 'feature-permutation' }).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /needs two rows or more \(the input has 1\)/));
});

test.run();
