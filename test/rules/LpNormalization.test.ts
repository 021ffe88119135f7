import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeModel } from '../../rewriter/proto';
import { Explainer } from '../../runtime';
import { centralDifferences } from '../support/central';
import { gradcheck, singleOpModel } from '../support/gradcheck';

test('LpNormalization p = 2, last axis, opset 13', () => gradcheck({ op: 'LpNormalization', opset: 13, inputs: [{ shape: [2, 3, 4] }] }));
test('LpNormalization p = 1, axis 1, opset 7', () => gradcheck({ op: 'LpNormalization', opset: 7, inputs: [{ shape: [2, 3, 4] }], attrs: { p: 1, axis: 1 } }));

for (const p of [1, 2]) {
  test(`LpNormalization p = ${p}: the gradient of a zero vector (y = 0 in onnxruntime) is 0, the other rows' central differences`, async () => {
    const bytes = encodeModel(singleOpModel({ op: 'LpNormalization', opset: 13, inputs: [{ shape: [3, 4] }], attrs: { p, axis: 1 } }).model);
    const x = Float32Array.from([0, 0, 0, 0, 0.5, -1, 2, 0.3, -0.7, 0.2, 0.1, 1.5]);
    const target = [1, 2, 3];
    const { attributions } = await (await Explainer.load(bytes)).attribute({ data: x, dims: [3, 4] }, { target });
    const session = await ort.InferenceSession.create(bytes);
    const f = async (v: Float32Array) => (await session.run({ x0: new ort.Tensor('float32', v, [3, 4]) })).y0.data as Float32Array;
    const fd = await centralDifferences(x, 1e-3, f, (i) => Math.floor(i / 4) * 4 + target[Math.floor(i / 4)]);
    Array.from(attributions.data).forEach((a, i) => {
      const expected = i < 4 ? 0 : fd[i];
      assert.ok(Math.abs(a - expected) < 1e-3, `element ${i}: ${a} where ${expected} is expected`);
    });
  });
}

test.run();
