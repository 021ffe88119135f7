import { test } from 'uvu';
import { deeplift } from '../../rules/methods/deeplift';
import { rng } from '../support/gradcheck';
import { reduceCases } from '../support/reduce-cases';
import { sumcheck } from '../support/sumcheck';

reduceCases('ReduceLogSum', { shape: [2, 3, 4], range: [0.5, 2] });

test('DeepLIFT through ReduceLogSum sums to delta, also where a row\'s sum did not move (the limit 1/S)', async () => {
  const r = rng(3);
  const x = Array.from({ length: 24 }, () => 0.5 + 1.5 * r());
  // Row 0 unchanged (δS = 0); row 1 moved.
  const x0 = x.map((v, i) => (i < 12 ? v : 0.5 + 1.5 * r()));
  await sumcheck(deeplift, { op: 'ReduceLogSum', opset: 13, attrs: { axes: [1, 2] }, inputs: [{ shape: [2, 3, 4] }], input: x, baseline: x0 });
  await sumcheck(deeplift, { op: 'ReduceLogSum', opset: 18, attrs: { keepdims: 0 }, inputs: [{ shape: [2, 3, 4] }, { shape: [1], value: [2], int64: true }], input: x, baseline: x0 });
});

test.run();
