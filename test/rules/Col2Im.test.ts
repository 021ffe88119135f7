import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const blocks = (channels: number, offsets: number, count: number) => ({ shape: [2, channels * offsets, count] });
const ints = (value: number[]) => ({ shape: [value.length], value, int64: true });

test('Col2Im overlapping 2×2 blocks, stride 1 (F.fold), opset 18', () => gradcheck({ op: 'Col2Im', opset: 18, inputs: [blocks(3, 4, 16), ints([5, 5]), ints([2, 2])] }));
test('Col2Im with strides, pads and dilations', () => gradcheck({
  op: 'Col2Im', opset: 18, inputs: [blocks(2, 6, 12), ints([6, 7]), ints([2, 3])], attrs: { strides: [2, 1], pads: [1, 0, 1, 0], dilations: [1, 2] },
}));
test('Col2Im of one spatial axis', () => gradcheck({ op: 'Col2Im', opset: 18, inputs: [blocks(2, 3, 4), ints([8]), ints([3])], attrs: { strides: [2], pads: [1, 0] } }));

test.run();
