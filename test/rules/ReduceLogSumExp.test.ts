import { test } from 'uvu';
import { softmaxRows } from '../support/confident-rows';
import { gradcheck } from '../support/gradcheck';
import { reduceCases } from '../support/reduce-cases';

reduceCases('ReduceLogSumExp');

// e^(x − y) took y's rounding: 2.7·10⁻⁴ off at logits of 10⁴.
test('ReduceLogSumExp of large logits: its softmax to float precision', () => gradcheck({
  op: 'ReduceLogSumExp', opset: 13, attrs: { axes: [1] }, tol: 1e-5,
  inputs: [{ shape: [2, 4], data: [1e4, 1e4 + 0.5, 1e4 - 1, 1e4 + 2, -3e4, -3e4 + 1, -3e4 - 0.25, -3e4 + 0.125] }],
  exact: (x, r) => softmaxRows(x).map((p, i) => r[Math.floor(i / 4)] * p),
}));

test.run();
