import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { backend } from '../runtime/backend';
import { fixtureNames, loadFixture, relL2 } from './support/fixtures';
import { tinyModel } from './support/tiny-model';

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

test('guided backprop selects at Relu (as PyTorch\'s threshold backward): an infinite signal where y = 0 gives 0, not NaN', async () => {
  // y = Σ w·√relu(x): the signal into Relu is w/(2√relu(x)), infinite where x ≤ 0.
  const w = [0.5, -1, 2, 1.5];
  const ex = await Explainer.load(tinyModel([4], 13, (em, x) => em.reduceSum(em.mul(em.op('Sqrt', [em.op('Relu', [x])]), em.constFloat(w, [4])), [1], true)));
  const x = [-1, 4, 0, 0.25];
  const { attributions } = await ex.attribute({ data: Float32Array.from(x), dims: [1, 4] }, { method: 'guided-backprop', target: 0 });
  const expected = x.map((v, i) => (v > 0 ? Math.max(0, w[i] / (2 * Math.sqrt(v))) : 0));
  assert.equal(Array.from(attributions.data), expected);
});

test('rows run in chunks of internalBatchSize, by default as many as fit the memory budget: the same attributions and deltas', async () => {
  const fx = loadFixture('resnet_bn');
  const ex = await Explainer.load(fx.model);
  const n = fx.input.dims[0];
  const per = fx.input.data.length / n;
  const baseline = { data: Float32Array.from({ length: n * per }, (_, i) => Math.sin(i) * 0.1), dims: fx.input.dims };
  for (const method of ['gradient', 'deeplift']) {
    const options = { method, target: fx.meta.target, ...(method === 'deeplift' ? { baseline } : {}) };
    const whole = await ex.attribute(fx.input, options);
    let runs = 0;
    const progress = (_: number, total: number) => { runs = total; };
    const chunked = await ex.attribute(fx.input, { ...options, internalBatchSize: 2, progress });
    assert.is(runs, Math.ceil(n / 2), `${method}: runs of 2 rows`);
    assert.equal(Array.from(chunked.attributions.data), Array.from(whole.attributions.data), `${method}: attributions`);
    if (method === 'deeplift') assert.equal(Array.from(chunked.delta!), Array.from(whole.delta!));
    const saved = backend().memoryBudget;
    backend().memoryBudget = 1;
    try {
      const oneByOne = await ex.attribute(fx.input, { ...options, progress });
      assert.is(runs, n, `${method}: a budget below one row's tensors runs one row at a time`);
      assert.ok(relL2(oneByOne.attributions.data, whole.attributions.data) < 1e-6, method);
    } finally {
      backend().memoryBudget = saved;
    }
  }
});

test.run();
