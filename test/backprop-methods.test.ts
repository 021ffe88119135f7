import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { fixtureNames, loadFixture, relL2 } from './support/fixtures';

for (const name of fixtureNames()) {
  const fx = loadFixture(name);
  for (const [method, file] of [['guided-backprop', 'guided.npy'], ['deconvnet', 'deconv.npy']]) {
    const ref = fx.ref(file);
    if (!ref) continue;
    test(`${name}: ${method} matches the PyTorch hook reference`, async () => {
      const ex = await Explainer.load(fx.model);
      const r = await ex.attribute(fx.input, { method, target: fx.meta.target });
      assert.ok(relL2(r.attributions.data, ref) <= 1e-4, `rel L2 ${relL2(r.attributions.data, ref)}`);
    });
  }
}

// DeepLIFT paper §3.4: with ε → 0, LRP-ε equals input × gradient on nets of linear layers, Relu and MaxPool.
for (const name of ['mlp', 'cnn_maxpool', 'resnet_bn', 'conv1d_onehot', 'batch1_reshape']) {
  test(`${name}: LRP-ε (ε → 0) equals input × gradient and conserves relevance`, async () => {
    const fx = loadFixture(name);
    const ex = await Explainer.load(fx.model);
    const lrp = await ex.attribute(fx.input, { method: 'lrp-epsilon', epsilon: 1e-12, target: fx.meta.target });
    const ixg = fx.ref('grad.npy')!.map((g, i) => g * fx.input.data[i]);
    assert.ok(relL2(lrp.attributions.data, ixg) <= 1e-3, `rel L2 ${relL2(lrp.attributions.data, ixg)}`);
  });
}

test.run();
