import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadModel } from '../runtime/node/model-file';
import { encodeModel } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { fixtureNames, loadFixture, relL2 } from './support/fixtures';

for (const name of fixtureNames()) {
  const fx = loadFixture(name);
  const grad = fx.ref('grad.npy');
  if (!grad) continue;
  test(`${name}: gradient, saliency and input×gradient match PyTorch autograd`, async () => {
    const ex = await Explainer.load(fx.model);
    const x = fx.input;
    const g = await ex.attribute(x, { method: 'gradient', target: fx.meta.target });
    assert.ok(relL2(g.attributions.data, grad) <= 1e-4, `gradient rel L2 ${relL2(g.attributions.data, grad)}`);
    const s = await ex.attribute(x, { method: 'saliency', target: fx.meta.target });
    assert.ok(relL2(s.attributions.data, grad.map(Math.abs)) <= 1e-4, 'saliency');
    const ixg = await ex.attribute(x, { method: 'input-x-gradient', target: fx.meta.target });
    assert.ok(relL2(ixg.attributions.data, grad.map((v, i) => v * x.data[i])) <= 1e-4, 'input×gradient');
    const out = fx.ref('output.npy')!;
    assert.ok(relL2(g.outputs[ex.outputNames[0]].data, out) <= 1e-5, 'augmented graph outputs equal the model outputs');
  });
}

// Models whose ops keep their meaning across opsets, re-declared at opsets 21 and 25 (ir 10; 25 is
// the newest onnxruntime 1.30 runs): the emitted forms (ReduceSum/ReduceMean axes as inputs, Split,
// Pad, Slice) must be valid there too.
for (const [name, opset] of ['resnet_bn', 'cnn_maxpool', 'mobilenet', 'mlp'].flatMap((n) => [[n, 21], [n, 25]] as const)) {
  test(`${name} re-declared at opset ${opset}: gradient and DeepLIFT still match`, async () => {
    const fx = loadFixture(name);
    const model = loadModel(fx.model);
    model.ir_version = 10;
    model.opset_import = [{ domain: '', version: opset }];
    const ex = await Explainer.load(encodeModel(model));
    const g = await ex.attribute(fx.input, { method: 'gradient', target: fx.meta.target });
    assert.ok(relL2(g.attributions.data, fx.ref('grad.npy')!) <= 1e-4, `rel L2 ${relL2(g.attributions.data, fx.ref('grad.npy')!)}`);
    const d = await ex.attribute(fx.input, { method: 'deeplift', target: fx.meta.target });
    assert.ok(d.delta!.every((v) => Math.abs(v) < 1e-5), `delta ${Array.from(d.delta!)}`);
  });
}

test.run();
