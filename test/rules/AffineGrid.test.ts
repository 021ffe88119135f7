import { test } from 'uvu';
import { deeplift } from '../../rules/methods/deeplift';
import { gradcheck } from '../support/gradcheck';
import { sumcheck } from '../support/sumcheck';

const size = { shape: [4], value: [2, 3, 4, 5], int64: true };

for (const align of [0, 1]) {
  test(`AffineGrid, align_corners ${align}, opset 20: dθ = central differences`, () =>
    gradcheck({ op: 'AffineGrid', opset: 20, attrs: { align_corners: align }, inputs: [{ shape: [2, 2, 3] }, size] }));
}
// A single step along an axis with align_corners sits at 1 in onnxruntime's kernel (torch puts it at 0).
for (const [dims, theta] of [[[2, 3, 1, 4], [2, 2, 3]], [[1, 2, 4, 1], [1, 2, 3]], [[2, 1, 2, 3, 2], [2, 3, 4]], [[1, 1, 1, 2, 1], [1, 3, 4]]]) {
  for (const align of [0, 1]) {
    test(`AffineGrid, align_corners ${align}, size [${dims}]: dθ = central differences`, () =>
      gradcheck({ op: 'AffineGrid', opset: 20, attrs: { align_corners: align }, inputs: [{ shape: theta }, { shape: [dims.length], value: dims, int64: true }] }));
  }
}
test('DeepLIFT through a 3-D AffineGrid sums to delta', () =>
  sumcheck(deeplift, { op: 'AffineGrid', opset: 20, inputs: [{ shape: [2, 3, 4] }, { shape: [5], value: [2, 1, 2, 3, 2], int64: true }] }).then(() => undefined));
test('DeepLIFT through AffineGrid (linear in θ) sums to delta', () =>
  sumcheck(deeplift, { op: 'AffineGrid', opset: 20, inputs: [{ shape: [2, 2, 3] }, size] }).then(() => undefined));

test.run();
