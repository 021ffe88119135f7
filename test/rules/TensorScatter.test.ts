import { test } from 'uvu';
import { deeplift } from '../../rules/methods/deeplift';
import { gradcheck } from '../support/gradcheck';
import { sumcheck } from '../support/sumcheck';

const writes = (v: number[]) => ({ shape: [v.length], value: v, int64: true });

test('TensorScatter (opset 24) at each row\'s write index: the cache where not written, the update at its positions', () =>
  gradcheck({ op: 'TensorScatter', opset: 24, inputs: [{ shape: [2, 2, 6, 3] }, { shape: [2, 2, 2, 3] }, writes([1, 4])] }));
test('TensorScatter without write indices (a prefill from position 0), axis 1', () =>
  gradcheck({ op: 'TensorScatter', opset: 24, attrs: { axis: 1 }, inputs: [{ shape: [2, 5, 3] }, { shape: [2, 3, 3] }] }));
test('TensorScatter in circular mode, wrapping past the cache\'s end', () =>
  gradcheck({ op: 'TensorScatter', opset: 24, attrs: { mode: 'circular' }, inputs: [{ shape: [2, 1, 5, 2] }, { shape: [2, 1, 3, 2] }, writes([4, 1])] }));
test('DeepLIFT through TensorScatter into a constant cache sums to delta', () =>
  sumcheck(deeplift, { op: 'TensorScatter', opset: 24, inputs: [{ shape: [2, 1, 6, 3], value: Array.from({ length: 36 }, (_, i) => Math.sin(i)) }, { shape: [2, 1, 2, 3] }, writes([3, 0])] }).then(() => undefined));

test.run();
