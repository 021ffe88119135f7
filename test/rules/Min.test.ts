import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gradcheck, onesSeedGradient } from '../support/gradcheck';

// Random inputs: ties have probability 0, and differences below the step h are rare enough to not matter here.
test('Min of two same-shaped inputs, opset 8', () => gradcheck({ op: 'Min', opset: 8, inputs: [{ shape: [2, 3] }, { shape: [2, 3] }] }));
test('Min of three broadcast inputs, opset 8', () =>
  gradcheck({ op: 'Min', opset: 8, inputs: [{ shape: [2, 1, 4] }, { shape: [3, 1] }, { shape: [4] }] }));
test('Min with a constant, opset 13', () =>
  gradcheck({ op: 'Min', opset: 13, inputs: [{ shape: [2, 3] }, { shape: [3], value: [1, -0.3, 0.5] }] }));
test('Min of one input, opset 13', () => gradcheck({ op: 'Min', opset: 13, inputs: [{ shape: [2, 3] }] }));
// Ties share dY evenly between the tied inputs (README: as ReduceMax's ties; torch.minimum(x, [1, 2, 3]) at x = [1, 5, 3]
// in float64 gives [0.5, 0, 0.5]).
test('Min ties with a constant share dY evenly, opset 13', async () => {
  const got = await onesSeedGradient({ op: 'Min', opset: 13, inputs: [{ shape: [1, 3] }, { shape: [3], value: [1, 2, 3] }] }, [1, 5, 3]);
  assert.equal(Array.from(got), [0.5, 0, 0.5]);
});

test.run();
