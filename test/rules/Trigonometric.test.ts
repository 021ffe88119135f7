import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

// The inverse and hyperbolic functions and Tan, inside their domains (away from the poles).
const cases: [string, number, [number, number]][] = [
  ['Tan', 7, [-1.2, 1.2]], ['Atan', 7, [-4, 4]], ['Asin', 7, [-0.9, 0.9]], ['Acos', 7, [-0.9, 0.9]],
  ['Sinh', 9, [-3, 3]], ['Cosh', 9, [-3, 3]], ['Asinh', 9, [-4, 4]], ['Acosh', 9, [1.2, 4]], ['Atanh', 9, [-0.9, 0.9]],
];
for (const [op, opset, range] of cases) {
  test(`${op}, opset ${opset}`, () => gradcheck({ op, opset, inputs: [{ shape: [2, 3, 4], range }] }));
  test(`${op}, opset 13`, () => gradcheck({ op, opset: 13, inputs: [{ shape: [3, 5], range }] }));
}

test.run();
