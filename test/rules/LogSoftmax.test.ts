import { test } from 'uvu';
import { confidentCase } from '../support/confident-rows';
import { gradcheck } from '../support/gradcheck';

const x = { shape: [2, 3, 4] };

test('LogSoftmax default axis 1 over the flattened axes [1, 2], opset 11', () => gradcheck({ op: 'LogSoftmax', opset: 11, inputs: [x] }));
test('LogSoftmax axis 0 over all axes, opset 8', () => gradcheck({ op: 'LogSoftmax', opset: 8, inputs: [x], attrs: { axis: 0 } }));
test('LogSoftmax axis -1, opset 11', () => gradcheck({ op: 'LogSoftmax', opset: 11, inputs: [x], attrs: { axis: -1 } }));
test('LogSoftmax default axis -1, opset 13', () => gradcheck({ op: 'LogSoftmax', opset: 13, inputs: [x] }));
test('LogSoftmax axis 1 alone, opset 13', () => gradcheck({ op: 'LogSoftmax', opset: 13, inputs: [x], attrs: { axis: 1 } }));

// 1 − p_k cancelled at the confident class.
test('LogSoftmax with a confident class explained: ∂(Σ r·log p)/∂x_i = r_i − p_i·Σ r to float precision', () => gradcheck(confidentCase('LogSoftmax',
  // r_i − p_i·R = Σ_{j≠i} (p_j·r_i − p_i·r_j), as p_i = 1 − Σ_{j≠i} p_j.
  (p, r, i, row) => row.filter((j) => j !== i).reduce((a, j) => a + p[j] * r[i] - p[i] * r[j], 0))));

test.run();
