import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const cases: [number[], number[], number][] = [
  [[3, 4], [4, 5], 9],
  [[2, 3, 4], [4, 5], 13],
  [[2, 1, 3, 4], [3, 4, 5], 13],
  [[4], [4, 5], 13],
  [[3, 4], [4], 9],
  [[4], [4], 13],
  [[4], [2, 4, 5], 13],
  [[2, 3, 4], [4], 13],
];
for (const [a, b, opset] of cases) {
  test(`MatMul ${JSON.stringify(a)} × ${JSON.stringify(b)}, opset ${opset}`, () =>
    gradcheck({ op: 'MatMul', opset, inputs: [{ shape: a }, { shape: b }] }));
}
test('MatMul with constant weights', () =>
  gradcheck({ op: 'MatMul', opset: 13, inputs: [{ shape: [2, 3] }, { shape: [3, 2], value: [1, -2, 0.5, 3, -1, 0.25] }] }));

// A unit axis after a non-unit one beside a 1-D operand (the walk once summed dA over it).
for (const [a, b] of [[[2, 3, 1], [1]], [[2, 3, 1, 5], [5]], [[5], [2, 3, 5, 1]]] as [number[], number[]][]) {
  test(`MatMul ${JSON.stringify(a)} × ${JSON.stringify(b)}, opset 13`, () => gradcheck({ op: 'MatMul', opset: 13, inputs: [{ shape: a }, { shape: b }] }));
}

test.run();
