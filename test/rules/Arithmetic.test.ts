import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

for (const op of ['Add', 'Sub', 'Mul']) {
  test(`${op} with broadcasting on both operands`, () => gradcheck({ op, opset: 13, inputs: [{ shape: [2, 3, 1] }, { shape: [1, 4] }] }));
  test(`${op} activation with a constant at opset 9`, () => gradcheck({ op, opset: 9, inputs: [{ shape: [2, 3] }, { shape: [3], value: [0.5, -1, 2] }] }));
}

test('Div with broadcasting, divisor away from 0', () =>
  gradcheck({ op: 'Div', opset: 13, inputs: [{ shape: [2, 3] }, { shape: [3], range: [0.5, 2] }] }));

test.run();
