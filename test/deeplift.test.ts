import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { fixtureNames, loadFixture, relL2 } from './support/fixtures';

function rowSums(a: Float32Array, n: number): number[] {
  const per = a.length / n;
  return Array.from({ length: n }, (_, r) => a.subarray(r * per, (r + 1) * per).reduce((s, v) => s + v, 0));
}

for (const name of fixtureNames()) {
  test(`${name}: DeepLIFT sums to f(x) − f(x⁰) (zero and random baselines)`, async () => {
    const fx = loadFixture(name);
    const ex = await Explainer.load(fx.model);
    const x = fx.input;
    const n = x.dims[0];
    const baselines = [undefined, { data: x.data.map((v, i) => Math.sin(i) * 0.5), dims: x.dims }];
    for (const baseline of baselines) {
      const r = await ex.attribute(x, { method: 'deeplift', target: fx.meta.target, baseline });
      const sums = rowSums(r.attributions.data, n);
      r.delta!.forEach((d, row) => {
        const change = sums[row] - d;
        assert.ok(Math.abs(d) <= 1e-5 * Math.max(1, Math.abs(change)), `row ${row}: delta ${d} for f(x)−f(x0) = ${change}`);
      });
      assert.ok(r.attributions.data.every(Number.isFinite), 'finite');
    }
  });
}

test('inputs equal to the baseline give exactly zero attribution and no NaN', async () => {
  for (const name of ['cnn_maxpool', 'transformer', 'mobilenet', 'misc_ops_op13']) {
    const fx = loadFixture(name);
    const ex = await Explainer.load(fx.model);
    const r = await ex.attribute(fx.input, { method: 'deeplift', target: fx.meta.target, baseline: fx.input });
    assert.ok(r.attributions.data.every((v) => v === 0), `${name}: all zero`);
    assert.ok(r.delta!.every((d) => d === 0), `${name}: delta 0`);
  }
});

for (const name of ['mlp', 'resnet_bn', 'fig1']) {
  test(`${name}: DeepLIFT rescale multipliers match the PyTorch hook reference`, async () => {
    const fx = loadFixture(name);
    const ex = await Explainer.load(fx.model);
    const r = await ex.attribute(fx.input, { method: 'deeplift', target: fx.meta.target });
    assert.ok(relL2(r.attributions.data, fx.ref('deeplift.npy')!) <= 1e-4, `rel L2 ${relL2(r.attributions.data, fx.ref('deeplift.npy')!)}`);
  });
}

test.run();
