import { test } from 'uvu';
import { confidentCase } from '../support/confident-rows';
import { gradcheck } from '../support/gradcheck';

const x = { shape: [2, 3, 4] };

test('Softmax default axis 1 over the flattened axes [1, 2], opset 11', () => gradcheck({ op: 'Softmax', opset: 11, inputs: [x] }));
test('Softmax axis 0 over all axes, opset 8', () => gradcheck({ op: 'Softmax', opset: 8, inputs: [x], attrs: { axis: 0 } }));
test('Softmax axis -1, opset 11', () => gradcheck({ op: 'Softmax', opset: 11, inputs: [x], attrs: { axis: -1 } }));
test('Softmax default axis -1, opset 13', () => gradcheck({ op: 'Softmax', opset: 13, inputs: [x] }));
test('Softmax axis 1 alone, opset 13', () => gradcheck({ op: 'Softmax', opset: 13, inputs: [x], attrs: { axis: 1 } }));

// p_k(1 − p_k) cancelled at the confident class (0 for p_k > 1 − 6·10⁻⁸).
test('Softmax with a confident class explained: ∂(Σ r·p)/∂x_i = p_i·Σ_j p_j(r_i − r_j) to float precision', () => gradcheck(confidentCase('Softmax',
  (p, r, i, row) => p[i] * row.reduce((a, j) => a + p[j] * (r[i] - r[j]), 0))));

test.run();
