import { test } from 'uvu';
import { deeplift } from '../../rules/methods/deeplift';
import { gradcheck } from '../support/gradcheck';
import { sumcheck } from '../support/sumcheck';

const x = { shape: [1, 2, 5, 6] };

test('LpPool p = 2, 3 and 1, overlapping strided windows with pads, opset 11', async () => {
  for (const p of [2, 3, 1]) await gradcheck({ op: 'LpPool', opset: 11, inputs: [x], attrs: { kernel_shape: [3, 2], strides: [2, 1], pads: [1, 0, 1, 1], p } });
});
test('LpPool with dilations and ceil_mode, opset 18', () => gradcheck({ op: 'LpPool', opset: 18, inputs: [x], attrs: { kernel_shape: [2, 2], strides: [2, 2], dilations: [1, 2], ceil_mode: 1, p: 2 } }));
test('LpPool: DeepLIFT sums to delta (p = 2 and 3)', async () => {
  for (const p of [2, 3]) await sumcheck(deeplift, { op: 'LpPool', opset: 11, inputs: [x], attrs: { kernel_shape: [3, 2], strides: [2, 1], pads: [1, 0, 1, 1], p } });
});

test.run();
