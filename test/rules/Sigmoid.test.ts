import { test } from 'uvu';
import { elementwise, gradcheck } from '../support/gradcheck';

const SATURATED = [-30, -20, -17, -12, 12, 16, 17, 20, 30];
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

test('Sigmoid, opset 8', () => gradcheck({ op: 'Sigmoid', opset: 8, inputs: [{ shape: [2, 3, 4] }] }));
test('Sigmoid, opset 13', () => gradcheck({ op: 'Sigmoid', opset: 13, inputs: [{ shape: [3, 5] }] }));
test('Sigmoid saturated: σ′ keeps its digits where σ rounds to 1 (Y·(1 − Y) gave 0 past 17)', () => gradcheck({
  op: 'Sigmoid', opset: 13, inputs: [{ shape: [1, SATURATED.length], data: SATURATED }], tol: 1e-5,
  exact: elementwise((x) => sigmoid(x) * sigmoid(-x)),
}));

test.run();
