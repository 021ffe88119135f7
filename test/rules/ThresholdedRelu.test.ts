import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { gradcheck } from '../support/gradcheck';

// Kept away from the thresholds 1 and 0.4, where the derivative jumps.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.15 + (i % 7) * 0.31));

test('ThresholdedRelu default alpha, opset 10', () => gradcheck({ op: 'ThresholdedRelu', opset: 10, inputs: [{ shape: [2, 3, 4], data }] }));
test('ThresholdedRelu alpha 0.4, opset 13', () => gradcheck({ op: 'ThresholdedRelu', opset: 13, inputs: [{ shape: [2, 3, 4], data }], attrs: { alpha: float(0.4) } }));

// Before opset 10 the op was experimental; onnxruntime still runs it (its contrib kernel of opsets 1–9).
test('ThresholdedRelu alpha 0.4, opset 7 (experimental)', () => gradcheck({ op: 'ThresholdedRelu', opset: 7, inputs: [{ shape: [2, 3, 4], data }], attrs: { alpha: float(0.4) } }));

test.run();
