import { test } from 'uvu';
import { deeplift } from '../../rules/methods/deeplift';
import { gradcheck } from '../support/gradcheck';
import { sumcheck } from '../support/sumcheck';

const ints = (dims: number[], v: number[]) => ({ shape: dims, value: v, int64: true });

test('ScatterND of rows (tuples of length 1, one negative), opset 13: data where not written, updates gathered', () =>
  gradcheck({ op: 'ScatterND', opset: 13, inputs: [{ shape: [4, 3] }, ints([2, 1], [1, -1]), { shape: [2, 3] }] }));
// A negative index naming the same row as a later positive one (−1 and 3 of 4 rows): the later write wins, the
// first update gets no gradient.
test('ScatterND with a negative and a positive index naming the same row, opset 13: only the last write gets dY', () =>
  gradcheck({ op: 'ScatterND', opset: 13, inputs: [{ shape: [4, 3] }, ints([2, 1], [-1, 3]), { shape: [2, 3] }] }));
test('ScatterND of single elements (tuples of length 3), opset 11', () =>
  gradcheck({ op: 'ScatterND', opset: 11, inputs: [{ shape: [2, 3, 4] }, ints([3, 3], [0, 1, 2, 1, 2, 3, 1, 0, 0]), { shape: [3] }] }));
test('ScatterND with reduction add and a repeated tuple, opset 16', () =>
  gradcheck({ op: 'ScatterND', opset: 16, attrs: { reduction: 'add' }, inputs: [{ shape: [3, 4] }, ints([3, 1], [2, 0, 2]), { shape: [3, 4] }] }));
for (const reduction of ['max', 'min']) {
  test(`ScatterND with reduction ${reduction} and a repeated tuple, opset 18: dY to the values that win`, () =>
    gradcheck({ op: 'ScatterND', opset: 18, attrs: { reduction }, inputs: [{ shape: [3, 4] }, ints([3, 1], [2, 0, 2]), { shape: [3, 4] }], h: 1e-3 }));
}
test('DeepLIFT through ScatterND with constant updates sums to delta', () =>
  sumcheck(deeplift, { op: 'ScatterND', opset: 13, inputs: [{ shape: [4, 3] }, ints([1, 1], [2]), { shape: [1, 3], value: [0.5, -1, 2] }] }).then(() => undefined));

test.run();
