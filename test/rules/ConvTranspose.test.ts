import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

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
});

test.run();
