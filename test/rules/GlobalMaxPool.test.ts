import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

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

test.run();
