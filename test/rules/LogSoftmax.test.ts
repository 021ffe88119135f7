import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const x = { shape: [2, 3, 4] };

test('LogSoftmax default axis 1 over the flattened axes [1, 2], opset 11', () => gradcheck({ op: 'LogSoftmax', opset: 11, inputs: [x] }));
test('LogSoftmax axis 0 over all axes, opset 8', () => gradcheck({ op: 'LogSoftmax', opset: 8, inputs: [x], attrs: { axis: 0 } }));
test('LogSoftmax axis -1, opset 11', () => gradcheck({ op: 'LogSoftmax', opset: 11, inputs: [x], attrs: { axis: -1 } }));
test('LogSoftmax default axis -1, opset 13', () => gradcheck({ op: 'LogSoftmax', opset: 13, inputs: [x] }));
test('LogSoftmax axis 1 alone, opset 13', () => gradcheck({ op: 'LogSoftmax', opset: 13, inputs: [x], attrs: { axis: 1 } }));


/** Rows of logits with a confident class (gaps of 25 and 17), softmax in float64. */
const confident = [30, 0, 5, -3, -1, 2, 19, 0.5];
const WEIGHTS = [1, 0, 0, 0, 0.3, -0.5, 1, 0.4];
const softmaxRows = (x: Float32Array) => [0, 4].flatMap((o) => {
  const row = Array.from(x.subarray(o, o + 4));
  const top = Math.max(...row);
  const e = row.map((v) => Math.exp(v - top));
  return e.map((v) => v / e.reduce((a, b) => a + b, 0));
});
// 1 − p_k cancelled at the confident class.
test('LogSoftmax with a confident class explained: ∂(Σ r·log p)/∂x_i = r_i − p_i·Σ r to float precision', () => gradcheck({
  op: 'LogSoftmax', opset: 13, inputs: [{ shape: [2, 4], data: confident }], tol: 1e-4,
  // The confident class of each row explained, and a mix.
  weights: WEIGHTS,
  exact: (x, r) => {
    const p = softmaxRows(x);
    return p.map((pi, i) => {
      const o = i - (i % 4);
      const others = [0, 1, 2, 3].filter((j) => o + j !== i);
      // r_i − p_i·R = Σ_{j≠i} (p_j·r_i − p_i·r_j), as p_i = 1 − Σ_{j≠i} p_j.
      return others.reduce((a, j) => a + p[o + j] * r[i] - pi * r[o + j], 0);
    });
  },
}));

test.run();
