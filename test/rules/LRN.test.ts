import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { gradcheck } from '../support/gradcheck';

test('LRN, odd window (AlexNet settings)', () =>
  gradcheck({ op: 'LRN', opset: 13, inputs: [{ shape: [1, 6, 3, 2] }], attrs: { size: 5, alpha: float(0.5), beta: float(0.75), bias: float(2) } }));

test('LRN, window 3, opset 9', () =>
  gradcheck({ op: 'LRN', opset: 9, inputs: [{ shape: [2, 5, 3, 2] }], attrs: { size: 3, alpha: float(0.3), beta: float(0.6), bias: float(1) } }));

test.run();
