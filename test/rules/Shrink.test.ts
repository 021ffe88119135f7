import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { gradcheck } from '../support/gradcheck';

// Kept away from ±λ (0.5 and 0.8), where the derivative jumps.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.15 + (i % 7) * 0.31));

test('Shrink default lambd, opset 9', () => gradcheck({ op: 'Shrink', opset: 9, inputs: [{ shape: [2, 3, 4], data }] }));
test('Shrink lambd 0.8 bias 0.3, opset 13', () => gradcheck({ op: 'Shrink', opset: 13, inputs: [{ shape: [2, 3, 4], data }], attrs: { lambd: float(0.8), bias: float(0.3) } }));

test.run();
