import { test } from 'uvu';
import * as assert from 'uvu/assert';
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

test('MatMul [2,3,1] × [1] fails cleanly (the walk would misread dA)', async () => {
  const err = await gradcheck({ op: 'MatMul', opset: 13, inputs: [{ shape: [2, 3, 1] }, { shape: [1] }] }).then(() => undefined, (e: Error) => e);
  assert.match(err?.message ?? '', /with a 1-D B is not supported/);
});

test.run();
