import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deeplift } from '../../rules/methods/deeplift';
import { gradcheck } from '../support/gradcheck';
import { sumcheck } from '../support/sumcheck';

const ints = (dims: number[], v: number[]) => ({ shape: dims, value: v, int64: true });

test('ScatterElements along axis 1 (one negative index), opset 13: data where not written, updates gathered', () =>
  gradcheck({ op: 'ScatterElements', opset: 13, attrs: { axis: 1 }, inputs: [{ shape: [3, 4] }, ints([3, 2], [0, 2, 3, -3, 1, 0]), { shape: [3, 2] }] }));
// A repeated index (reduction none): the last write wins, the earlier update gets no gradient.
test('ScatterElements with a repeated index, reduction none, opset 13: only the last write gets dY', () =>
  gradcheck({ op: 'ScatterElements', opset: 13, inputs: [{ shape: [5] }, ints([3], [1, 3, 1]), { shape: [3] }] }));
test('ScatterElements along axis 0 with fewer indices than the axis is long, opset 11', () =>
  gradcheck({ op: 'ScatterElements', opset: 11, inputs: [{ shape: [4, 3] }, ints([2, 3], [3, 0, 1, 2, 3, 0]), { shape: [2, 3] }] }));
test('ScatterElements: indices narrower than the data off the scatter axis (torch.scatter\'s index may be), opset 13', () =>
  gradcheck({ op: 'ScatterElements', opset: 13, inputs: [{ shape: [4, 3] }, ints([2, 2], [3, 0, 1, 3]), { shape: [2, 2] }] }));
for (const reduction of ['add', 'max']) {
  test(`ScatterElements with narrower indices and reduction ${reduction}, opset 18`, () =>
    gradcheck({ op: 'ScatterElements', opset: 18, attrs: { axis: 1, reduction }, inputs: [{ shape: [3, 5] }, ints([2, 2], [4, 0, 1, 4]), { shape: [2, 2] }] }));
}
// Reduction mul (paddle2onnx's put_along_axis reduce='mul'): a position written twice, and updates that are 0 there
// and alone (the product of the others, zero-safe).
test('ScatterElements with reduction mul, a repeated index and zero updates, opset 16', async () => {
  await gradcheck({ op: 'ScatterElements', opset: 16, attrs: { axis: 1, reduction: 'mul' }, inputs: [{ shape: [2, 5] }, ints([2, 3], [4, 4, 0, 1, 2, 1]), { shape: [2, 3] }] });
  await gradcheck({ op: 'ScatterElements', opset: 16, attrs: { axis: 1, reduction: 'mul' }, inputs: [{ shape: [2, 5] }, ints([2, 3], [4, 4, 0, 1, 2, 1]), { shape: [2, 3], data: [0, 1.5, 0, -0.5, 0.7, 0] }] });
});
test('ScatterElements with reduction add and a repeated index (scatter_add), opset 16', () =>
  gradcheck({ op: 'ScatterElements', opset: 16, attrs: { axis: 1, reduction: 'add' }, inputs: [{ shape: [2, 5] }, ints([2, 3], [4, 4, 0, 1, 2, 1]), { shape: [2, 3] }] }));
for (const reduction of ['max', 'min']) {
  test(`ScatterElements with reduction ${reduction} (scatter_reduce a${reduction}) and a repeated index, opset 18: dY to the values that win`, () =>
    gradcheck({ op: 'ScatterElements', opset: 18, attrs: { axis: 1, reduction }, inputs: [{ shape: [2, 5] }, ints([2, 4], [4, 4, 0, 1, 2, 1, 3, 1]), { shape: [2, 4] }], h: 1e-3 }));
}
test('DeepLIFT refuses ScatterElements with reduction max in one line', () =>
  sumcheck(deeplift, { op: 'ScatterElements', opset: 18, attrs: { axis: 1, reduction: 'max' }, inputs: [{ shape: [2, 5] }, ints([2, 2], [4, 0, 1, 1]), { shape: [2, 2], value: [0.5, -1, 2, 0] }] }).then(
    () => assert.unreachable('accepted'),
    (e: Error) => assert.match(e.message, /DeepLIFT has no rule for its reduction max/)));
test('DeepLIFT refuses ScatterElements and ScatterND with reduction min in one line', async () => {
  for (const c of [
    { op: 'ScatterElements', opset: 18, attrs: { axis: 1, reduction: 'min' }, inputs: [{ shape: [2, 5] }, ints([2, 2], [4, 0, 1, 1]), { shape: [2, 2], value: [0.5, -1, 2, 0] }] },
    { op: 'ScatterND', opset: 18, attrs: { reduction: 'min' }, inputs: [{ shape: [3, 4] }, ints([1, 1], [2]), { shape: [1, 4], value: [0.5, -1, 2, 0] }] },
  ]) {
    await sumcheck(deeplift, c).then(
      () => assert.unreachable(`${c.op} accepted`),
      (e: Error) => assert.match(e.message, /DeepLIFT has no rule for its reduction min/));
  }
});
test('DeepLIFT through ScatterElements with constant updates sums to delta', () =>
  sumcheck(deeplift, { op: 'ScatterElements', opset: 13, attrs: { axis: 1 }, inputs: [{ shape: [3, 4] }, ints([3, 1], [2, 0, 3]), { shape: [3, 1], value: [0.5, -1, 2] }] }).then(() => undefined));

test.run();
