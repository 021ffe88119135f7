import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gradcheck, onesSeedGradient } from '../support/gradcheck';

test('Pow with a constant scalar exponent, negative bases, opset 8', () =>
  gradcheck({ op: 'Pow', opset: 8, inputs: [{ shape: [2, 3, 4] }, { shape: [], value: [3] }] }));
test('Pow with a constant broadcast exponent including 0, opset 15', () =>
  gradcheck({ op: 'Pow', opset: 15, inputs: [{ shape: [2, 3], range: [0.5, 2] }, { shape: [3], value: [0.5, 2, 0] }] }));
test('Pow with base and exponent both activations, broadcast, opset 13', () =>
  gradcheck({ op: 'Pow', opset: 13, inputs: [{ shape: [2, 3], range: [0.5, 2] }, { shape: [3], range: [-1.5, 1.5] }] }));
test('Pow with a constant base, opset 13', () =>
  gradcheck({ op: 'Pow', opset: 13, inputs: [{ shape: [3], value: [0.5, 1.5, 2] }, { shape: [2, 3] }] }));
// x^0 = 1 everywhere: its gradient is 0 also at x = 0 (0·x^(−1) would be NaN) and for x < 0 (torch.pow(x, 0.) in
// float64 gives [0, 0, 0] at [0, 1, −2]).
test('Pow with a constant exponent 0 at x = 0 and x < 0: gradient 0, not NaN, opset 13', async () => {
  const got = await onesSeedGradient({ op: 'Pow', opset: 13, inputs: [{ shape: [1, 3] }, { shape: [1], value: [0] }] }, [0, 1, -2]);
  assert.equal(Array.from(got), [0, 0, 0]);
});

test.run();
