import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { FIXTURE_ROOTS, loadFixture, relL2 } from './support/fixtures';

// models/make_siamese.py: Conv weights (and a Conv bias, a ConvTranspose kernel) computed from the
// explained input — a Siamese tracker's cross-correlation of the search features with the
// exemplar's, plain and depthwise — against PyTorch float64 autograd.
const fx = loadFixture('siamese', FIXTURE_ROOTS.multi);
const target = fx.meta.target;

test('Siamese cross-correlation (weights computed from the input): gradient equals PyTorch autograd', async () => {
  const ex = await Explainer.load(fx.model);
  const r = await ex.attribute(fx.input, { method: 'gradient', target });
  const e = relL2(r.attributions.data, fx.ref('grad.npy')!);
  assert.ok(e < 1e-5, `relative L2 error ${e}`);
});

test('Siamese cross-correlation: DeepLIFT (bilinear rule at the Convs of two activations) sums to f(x) − f(x⁰), zero and random baselines', async () => {
  const ex = await Explainer.load(fx.model);
  const baselines = [undefined, { data: fx.input.data.map((_, i) => Math.sin(i) * 0.5), dims: fx.input.dims }];
  for (const baseline of baselines) {
    const r = await ex.attribute(fx.input, { method: 'deeplift', target, baseline });
    const total = r.attributions.data.reduce((a, v) => a + v, 0);
    const change = total - r.delta![0];
    assert.ok(Math.abs(r.delta![0]) <= 1e-5 * Math.max(1, Math.abs(change)), `delta ${r.delta![0]} of f(x) − f(x⁰) = ${change}`);
  }
});

test.run();
