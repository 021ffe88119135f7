import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const w = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 1.3) * 0.5);

test('Conv 2D with stride, pads and dilation', () =>
  gradcheck({ op: 'Conv', opset: 11, inputs: [{ shape: [1, 2, 7, 6] }, { shape: [3, 2, 3, 3], value: w(54) }, { shape: [3], value: [0.1, -0.2, 0.3] }], attrs: { strides: [2, 1], pads: [1, 0, 0, 1], dilations: [1, 2] } }));

test('Conv depthwise (group = C) with SAME_UPPER auto_pad', () =>
  gradcheck({ op: 'Conv', opset: 13, inputs: [{ shape: [1, 4, 6, 6] }, { shape: [4, 1, 3, 3], value: w(36) }], attrs: { group: 4, strides: [2, 2], auto_pad: 'SAME_UPPER' } }));

test('Conv grouped 1D', () =>
  gradcheck({ op: 'Conv', opset: 9, inputs: [{ shape: [1, 4, 9] }, { shape: [6, 2, 3], value: w(36) }], attrs: { group: 2, strides: [2] } }));

test('Conv 2D SAME_LOWER with even kernel', () =>
  gradcheck({ op: 'Conv', opset: 18, inputs: [{ shape: [1, 1, 5, 5] }, { shape: [2, 1, 2, 2], value: w(8) }], attrs: { auto_pad: 'SAME_LOWER' } }));

test('Conv depthwise with channel multiplier 2', () =>
  gradcheck({ op: 'Conv', opset: 13, inputs: [{ shape: [1, 3, 5, 5] }, { shape: [6, 1, 3, 3], value: w(54) }], attrs: { group: 3, pads: [1, 1, 1, 1], strides: [2, 2] } }));

test('Conv stride 1 (backward as a flipped Conv): dilation and asymmetric pads, depthwise, 1D; and other channel counts', async () => {
  await gradcheck({ op: 'Conv', opset: 13, inputs: [{ shape: [1, 4, 6, 5] }, { shape: [8, 4, 3, 2], value: w(192) }], attrs: { pads: [1, 0, 2, 1], dilations: [2, 1] } });
  await gradcheck({ op: 'Conv', opset: 11, inputs: [{ shape: [1, 4, 5, 5] }, { shape: [4, 1, 3, 3], value: w(36) }], attrs: { group: 4, pads: [1, 1, 1, 1] } });
  await gradcheck({ op: 'Conv', opset: 13, inputs: [{ shape: [1, 4, 9] }, { shape: [4, 4, 5], value: w(80) }], attrs: { pads: [2, 2] } });
  await gradcheck({ op: 'Conv', opset: 13, inputs: [{ shape: [1, 2, 6, 5] }, { shape: [3, 2, 3, 2], value: w(36) }], attrs: { pads: [1, 0, 2, 1], dilations: [2, 1] } });
});

test('Conv strided, group 1: odd and even sizes, 7×7 stem, unequal strides and asymmetric pads, 1D, SAME_UPPER with an even kernel', async () => {
  await gradcheck({ op: 'Conv', opset: 13, inputs: [{ shape: [1, 4, 7, 7] }, { shape: [4, 4, 3, 3], value: w(144) }], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } });
  await gradcheck({ op: 'Conv', opset: 13, inputs: [{ shape: [1, 4, 8, 6] }, { shape: [4, 4, 3, 3], value: w(144) }], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } });
  await gradcheck({ op: 'Conv', opset: 11, inputs: [{ shape: [1, 1, 11, 10] }, { shape: [8, 1, 7, 7], value: w(392) }], attrs: { strides: [2, 2], pads: [3, 3, 3, 3] } });
  await gradcheck({ op: 'Conv', opset: 13, inputs: [{ shape: [1, 4, 8, 9] }, { shape: [4, 4, 3, 3], value: w(144) }], attrs: { strides: [2, 3], pads: [0, 1, 2, 0] } });
  await gradcheck({ op: 'Conv', opset: 9, inputs: [{ shape: [1, 2, 12] }, { shape: [4, 2, 5], value: w(40) }], attrs: { strides: [2], pads: [2, 1] } });
  await gradcheck({ op: 'Conv', opset: 13, inputs: [{ shape: [1, 2, 9, 9] }, { shape: [4, 2, 4, 4], value: w(128) }], attrs: { strides: [2, 2], auto_pad: 'SAME_UPPER' } });
});

// Weights and bias as graph inputs: computed from the explained input (a Siamese tracker's
// cross-correlation with the template's features, dynamic filters), each gets its gradient.
test('Conv with weights and bias from the input: stride, asymmetric pads and dilation; groups; 1D; depthwise SAME_UPPER; batch 2; 3D', async () => {
  await gradcheck({ op: 'Conv', opset: 13, inputs: [{ shape: [1, 2, 7, 6] }, { shape: [3, 2, 3, 3] }, { shape: [3] }], attrs: { strides: [2, 1], pads: [1, 0, 0, 1], dilations: [1, 2] } });
  await gradcheck({ op: 'Conv', opset: 11, inputs: [{ shape: [2, 4, 9, 8] }, { shape: [6, 2, 3, 2] }], attrs: { group: 2, strides: [2, 3], pads: [1, 2, 0, 1], dilations: [2, 1] } });
  await gradcheck({ op: 'Conv', opset: 9, inputs: [{ shape: [1, 4, 11] }, { shape: [4, 4, 5], value: w(80) }, { shape: [4] }], attrs: { strides: [2] } });
  await gradcheck({ op: 'Conv', opset: 13, inputs: [{ shape: [1, 3, 6, 5] }, { shape: [3, 1, 3, 3] }], attrs: { group: 3, strides: [2, 2], auto_pad: 'SAME_UPPER' } });
  await gradcheck({ op: 'Conv', opset: 13, inputs: [{ shape: [1, 3, 8, 8], value: w(192) }, { shape: [2, 3, 4, 4] }], attrs: { strides: [3, 3] } });
  await gradcheck({ op: 'Conv', opset: 13, inputs: [{ shape: [1, 2, 4, 5, 4] }, { shape: [4, 1, 2, 3, 2] }], attrs: { group: 2, strides: [1, 2, 1], pads: [0, 1, 1, 1, 0, 0] } });
});

test.run();
