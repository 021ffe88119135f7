import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';
import { reduceCases } from '../support/reduce-cases';

reduceCases('ReduceMax');
test('ReduceMax over the last axis, opset 13', () =>
  gradcheck({ op: 'ReduceMax', opset: 13, inputs: [{ shape: [2, 3], data: [1, -3, 2, 0.5, 0.2, -1] }], attrs: { axes: [1] } }));

test.run();
