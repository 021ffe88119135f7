import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { EXPORTERS, loadFixture, relL2 } from './support/fixtures';

/**
 * Models in the forms tf2onnx, paddle2onnx and onnxruntime's QDQ quantiser emit
 * (models/make_exporters.py): onnxruntime's outputs equal the PyTorch float64 evaluation of the
 * same graph, gradients equal its autograd, and DeepLIFT sums to f(x) − f(x⁰).
 */
const SWEEP = ['tf_mobilenet', 'tf_resize', 'paddle_op9', 'paddle_resize_op11', 'convtranspose_head', 'qdq_cnn', 'tf_speech', 'logmel_topdb', 'logmel_clip'];

function rowSums(a: Float32Array, n: number): number[] {
  const per = a.length / n;
  return Array.from({ length: n }, (_, r) => a.subarray(r * per, (r + 1) * per).reduce((s, v) => s + v, 0));
}

for (const name of SWEEP) {
  test(`${name}: outputs and gradients match PyTorch, DeepLIFT sums to delta`, async () => {
    const fx = loadFixture(name, EXPORTERS);
    const ex = await Explainer.load(fx.model);
    const target = fx.meta.target;
    const g = await ex.attribute(fx.input, { method: 'gradient', target });
    const out = relL2(g.outputs[ex.outputNames[0]].data, fx.ref('output.npy')!);
    assert.ok(out <= 1e-5, `outputs: rel L2 ${out}`);
    const grad = relL2(g.attributions.data, fx.ref('grad.npy')!);
    assert.ok(grad <= 1e-4, `gradient: rel L2 ${grad}`);
    const n = fx.input.dims[0];
    for (const baseline of [undefined, { data: fx.input.data.map((_, i) => Math.sin(i) * 0.5), dims: fx.input.dims }]) {
      const d = await ex.attribute(fx.input, { method: 'deeplift', target, baseline });
      const sums = rowSums(d.attributions.data, n);
      d.delta!.forEach((delta, row) => {
        const change = sums[row] - delta;
        assert.ok(Math.abs(delta) <= 1e-5 * Math.max(1, Math.abs(change)), `${baseline ? 'random' : 'zero'} baseline, row ${row}: delta ${delta} for f(x) − f(x⁰) = ${change}`);
      });
    }
  });
}

test.run();
