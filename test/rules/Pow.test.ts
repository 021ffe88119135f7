import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Pow with a constant scalar exponent, negative bases, opset 8', () =>
  gradcheck({ op: 'Pow', opset: 8, inputs: [{ shape: [2, 3, 4] }, { shape: [], value: [3] }] }));
test('Pow with a constant broadcast exponent including 0, opset 15', () =>
  gradcheck({ op: 'Pow', opset: 15, inputs: [{ shape: [2, 3], range: [0.5, 2] }, { shape: [3], value: [0.5, 2, 0] }] }));
test('Pow with base and exponent both activations, broadcast, opset 13', () =>
  gradcheck({ op: 'Pow', opset: 13, inputs: [{ shape: [2, 3], range: [0.5, 2] }, { shape: [3], range: [-1.5, 1.5] }] }));
test('Pow with a constant base, opset 13', () =>
  gradcheck({ op: 'Pow', opset: 13, inputs: [{ shape: [3], value: [0.5, 1.5, 2] }, { shape: [2, 3] }] }));

test.run();
