import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Softsign, opset 8', () => gradcheck({ op: 'Softsign', opset: 8, inputs: [{ shape: [2, 3, 4], range: [-4, 4] }] }));
test('Softsign, opset 13', () => gradcheck({ op: 'Softsign', opset: 13, inputs: [{ shape: [3, 5] }] }));

test.run();
