import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { gradcheck } from '../support/gradcheck';

test('Swish default alpha, opset 24', () => gradcheck({ op: 'Swish', opset: 24, inputs: [{ shape: [2, 3, 4], range: [-5, 5] }] }));
test('Swish alpha 1.702 (QuickGelu), opset 24', () => gradcheck({ op: 'Swish', opset: 24, inputs: [{ shape: [2, 3, 4], range: [-5, 5] }], attrs: { alpha: float(1.702) } }));

test.run();
