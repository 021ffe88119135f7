import { test } from 'uvu';
import { deeplift } from '../../rules/methods/deeplift';
import { gradcheck } from '../support/gradcheck';
import { sumcheck } from '../support/sumcheck';

const size = { shape: [4], value: [2, 3, 4, 5], int64: true };

for (const align of [0, 1]) {
  test(`AffineGrid, align_corners ${align}, opset 20: dθ = central differences`, () =>
    gradcheck({ op: 'AffineGrid', opset: 20, attrs: { align_corners: align }, inputs: [{ shape: [2, 2, 3] }, size] }));
}
test('DeepLIFT through AffineGrid (linear in θ) sums to delta', () =>
  sumcheck(deeplift, { op: 'AffineGrid', opset: 20, inputs: [{ shape: [2, 2, 3] }, size] }).then(() => undefined));

test.run();
