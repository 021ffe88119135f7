import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { canonicalForm } from '../../rewriter/canonical-form';
import { encodeModel } from '../../rewriter/proto';
import { Explainer } from '../../runtime';
import { gradcheck, gradcheckModel, OpCase, singleOpModel } from '../support/gradcheck';

const w = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 0.9) * 0.5);

test('ConvTranspose 2D with stride, pads, dilation and output_padding', () =>
  gradcheck({ op: 'ConvTranspose', opset: 11, inputs: [{ shape: [1, 2, 4, 3] }, { shape: [2, 3, 3, 3], value: w(54) }, { shape: [3], value: [0.1, 0.2, 0.3] }], attrs: { strides: [2, 2], pads: [1, 0, 0, 1], dilations: [1, 2], output_padding: [1, 0] } }));

test('ConvTranspose grouped 1D', () =>
  gradcheck({ op: 'ConvTranspose', opset: 13, inputs: [{ shape: [1, 4, 5] }, { shape: [4, 3, 3], value: w(36) }], attrs: { group: 2, strides: [3] } }));

test('ConvTranspose with output_shape', () =>
  gradcheck({ op: 'ConvTranspose', opset: 13, inputs: [{ shape: [1, 1, 3, 3] }, { shape: [1, 2, 3, 3], value: w(18) }], attrs: { strides: [2, 2], output_shape: [6, 6] } }));

test('ConvTranspose SAME_UPPER', () =>
  gradcheck({ op: 'ConvTranspose', opset: 13, inputs: [{ shape: [1, 1, 3, 3] }, { shape: [1, 1, 2, 2], value: w(4) }], attrs: { strides: [2, 2], auto_pad: 'SAME_UPPER' } }));

for (const autoPad of ['SAME_UPPER', 'SAME_LOWER']) {
  test(`ConvTranspose ${autoPad} with an odd total padding (onnxruntime's split)`, () =>
    gradcheck({ op: 'ConvTranspose', opset: 13, inputs: [{ shape: [1, 1, 3, 4] }, { shape: [1, 2, 3, 3], value: w(18) }], attrs: { strides: [2, 2], auto_pad: autoPad } }));
}

test('ConvTranspose with an output_shape one past the full extent (as an output_padding: the end positions hold only the bias)', () =>
  gradcheck({ op: 'ConvTranspose', opset: 13, inputs: [{ shape: [1, 1, 3, 3] }, { shape: [1, 2, 3, 3], value: w(18) }, { shape: [2], value: [0.1, -0.2] }], attrs: { strides: [2, 2], output_shape: [8, 7] } }));

test('ConvTranspose with weights and bias from the input: stride, pads, dilation and output_padding; groups; output_shape past the full extent', async () => {
  await gradcheck({ op: 'ConvTranspose', opset: 11, inputs: [{ shape: [1, 2, 4, 3] }, { shape: [2, 3, 3, 3] }, { shape: [3] }], attrs: { strides: [2, 2], pads: [1, 0, 0, 1], dilations: [1, 2], output_padding: [1, 0] } });
  await gradcheck({ op: 'ConvTranspose', opset: 13, inputs: [{ shape: [2, 4, 5] }, { shape: [4, 3, 3] }], attrs: { group: 2, strides: [3] } });
  await gradcheck({ op: 'ConvTranspose', opset: 13, inputs: [{ shape: [1, 1, 3, 3], value: w(9) }, { shape: [1, 2, 3, 3] }, { shape: [2] }], attrs: { strides: [2, 2], output_shape: [8, 7] } });
  await gradcheck({ op: 'ConvTranspose', opset: 13, inputs: [{ shape: [1, 2, 3, 3], value: w(18) }, { shape: [2, 1, 3, 3] }], attrs: { strides: [2, 2], output_shape: [8, 7], group: 2 } });
});

// onnx's shape inference sizes these one or more positions longer than the kernel writes; the
// reading gives explicit pads (odd totals, a total below zero, dilation, 1-D and 2-D).
const samePadded: [string, number[], number[], number[], number[]][] = [
  ['SAME_LOWER', [1, 1, 4], [1, 1, 2], [3], [2]],
  ['SAME_LOWER', [1, 1, 4], [1, 1, 3], [3], [1]],
  ['SAME_UPPER', [1, 1, 4], [1, 1, 3], [3], [1]],
  ['SAME_UPPER', [1, 1, 4], [1, 1, 1], [3], [1]],
  ['SAME_UPPER', [2, 2, 3, 4], [2, 1, 3, 2], [2, 3], [1, 2]],
];
for (const [autoPad, x, w0, strides, outputPadding] of samePadded) {
  test(`ConvTranspose ${autoPad} with output_padding [${outputPadding}], strides [${strides}], kernel [${w0.slice(2)}]: read with explicit pads, outputs unchanged`, async () => {
    const dilations = strides.length === 2 ? [1, 2] : [2];
    const c: OpCase = { op: 'ConvTranspose', opset: 13, inputs: [{ shape: x }, { shape: w0, value: w(w0.reduce((a, b) => a * b, 1)) }], attrs: { strides, dilations, output_padding: outputPadding, auto_pad: autoPad } };
    const base = singleOpModel(c);
    const read = canonicalForm(base.model, 'case');
    assert.is.not(read, base.model);
    const feeds = { x0: new ort.Tensor('float32', Float32Array.from({ length: x.reduce((a, b) => a * b, 1) }, (_, i) => Math.cos(i)), x) };
    const [kernel, reading] = await Promise.all([base.model, read].map(async (m) => (await (await ort.InferenceSession.create(encodeModel(m))).run(feeds)).y0));
    assert.equal(reading.dims, kernel.dims);
    assert.equal(Array.from(reading.data as Float32Array), Array.from(kernel.data as Float32Array));
    await gradcheckModel({ ...base, model: read }, c);
  });
}

test('ConvTranspose SAME with output_padding and weights of unknown shape is refused naming the disagreement', async () => {
  const { model } = singleOpModel({ op: 'ConvTranspose', opset: 13, inputs: [{ shape: [1, 1, 4] }, { shape: [1, 1, 2] }], attrs: { strides: [3], output_padding: [1], auto_pad: 'SAME_UPPER' } });
  const ex = await Explainer.load(encodeModel(model), { wrt: 'x0' });
  const message = await ex.attribute({ data: new Float32Array(4), dims: [1, 1, 4] }, { target: 0, feeds: { x1: { data: new Float32Array(2), dims: [1, 1, 2] } } }).then(() => 'accepted', (e: Error) => e.message);
  assert.match(message, /output_padding \[1\] and weights of unknown shape/);
});

test.run();
