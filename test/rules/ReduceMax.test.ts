import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gradcheck, onesSeedGradient } from '../support/gradcheck';
import { reduceCases } from '../support/reduce-cases';

reduceCases('ReduceMax');
test('ReduceMax over the last axis, opset 13', () =>
  gradcheck({ op: 'ReduceMax', opset: 13, inputs: [{ shape: [2, 3], data: [1, -3, 2, 0.5, 0.2, -1] }], attrs: { axes: [1] } }));
test('ReduceMax empty axes with noop_with_empty_axes (the identity), opset 18', () =>
  gradcheck({ op: 'ReduceMax', opset: 18, inputs: [{ shape: [2, 3, 4] }, { shape: [0], value: [], int64: true }], attrs: { noop_with_empty_axes: 1 } }));
// Ties share dY evenly (README "Ties in ReduceMax/ReduceMin"; torch.amax at [3, 1, 3, 2] in float64 gives [0.5, 0, 0.5, 0]).
test('ReduceMax ties share dY evenly, opset 13', async () => {
  const got = await onesSeedGradient({ op: 'ReduceMax', opset: 13, inputs: [{ shape: [1, 4] }], attrs: { axes: [1], keepdims: 0 } }, [3, 1, 3, 2]);
  assert.equal(Array.from(got), [0.5, 0, 0.5, 0]);
});

test.run();
