import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gradcheck, onesSeedGradient } from '../support/gradcheck';

/** n distinct values 0.05 apart (no near-ties for finite differences); n not a multiple of 37. */
const distinct = (n: number) => Array.from({ length: n }, (_, i) => ((i * 37) % n) * 0.05 - n * 0.025);

test('GlobalMaxPool 2D, opset 12 (first match via CumSum)', () =>
  gradcheck({ op: 'GlobalMaxPool', opset: 12, inputs: [{ shape: [1, 3, 4, 5], data: distinct(60) }] }));
test('GlobalMaxPool 2D, opset 9 (plain equality)', () =>
  gradcheck({ op: 'GlobalMaxPool', opset: 9, inputs: [{ shape: [2, 3, 4, 5], data: distinct(120) }] }));
test('GlobalMaxPool 1D and 3D, opset 13', async () => {
  await gradcheck({ op: 'GlobalMaxPool', opset: 13, inputs: [{ shape: [1, 3, 7], data: distinct(21) }] });
  await gradcheck({ op: 'GlobalMaxPool', opset: 13, inputs: [{ shape: [1, 2, 3, 4, 2], data: distinct(48) }] });
});

for (const opset of [9, 10, 13]) {
  test(`GlobalMaxPool ties go to the first position of each channel (row-major, as torch's max pooling), opset ${opset}`, async () => {
    // A ReLU-dead channel (all zeros), one with a tie at positions 1 and 2, one with its maximum last.
    const data = [0, 0, 0, 0, 1, 3, 3, 2, -1, -2, -3, 4];
    const got = await onesSeedGradient({ op: 'GlobalMaxPool', opset, inputs: [{ shape: [1, 3, 2, 2] }] }, data);
    assert.equal(Array.from(got), [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
  });
}

test.run();
