import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const x = { shape: [2, 3, 4] };

test('Softmax default axis 1 over the flattened axes [1, 2], opset 11', () => gradcheck({ op: 'Softmax', opset: 11, inputs: [x] }));
test('Softmax axis 0 over all axes, opset 8', () => gradcheck({ op: 'Softmax', opset: 8, inputs: [x], attrs: { axis: 0 } }));
test('Softmax axis -1, opset 11', () => gradcheck({ op: 'Softmax', opset: 11, inputs: [x], attrs: { axis: -1 } }));
test('Softmax default axis -1, opset 13', () => gradcheck({ op: 'Softmax', opset: 13, inputs: [x] }));
test('Softmax axis 1 alone, opset 13', () => gradcheck({ op: 'Softmax', opset: 13, inputs: [x], attrs: { axis: 1 } }));


/** Rows of logits with a confident class (gaps of 25 and 17), softmax in float64. */
const confident = [30, 0, 5, -3, -1, 2, 19, 0.5];
const WEIGHTS = [1, 0, 0, 0, 0.3, -0.5, 1, 0.4];
const softmaxRows = (x: Float32Array) => [0, 4].flatMap((o) => {
  const row = Array.from(x.subarray(o, o + 4));
  const top = Math.max(...row);
  const e = row.map((v) => Math.exp(v - top));
  return e.map((v) => v / e.reduce((a, b) => a + b, 0));
});
// p_k(1 − p_k) cancelled at the confident class (0 for p_k > 1 − 6·10⁻⁸).
test('Softmax with a confident class explained: ∂(Σ r·p)/∂x_i = p_i·Σ_j p_j(r_i − r_j) to float precision', () => gradcheck({
  op: 'Softmax', opset: 13, inputs: [{ shape: [2, 4], data: confident }], tol: 1e-4,
  // The confident class of each row explained, and a mix.
  weights: WEIGHTS,
  exact: (x, r) => {
    const p = softmaxRows(x);
    return p.map((pi, i) => {
      const o = i - (i % 4);
      return pi * [0, 1, 2, 3].reduce((a, j) => a + p[o + j] * (r[i] - r[o + j]), 0);
    });
  },
}));

test.run();
