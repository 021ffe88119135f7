import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('CastLike to a float tensor\'s type, opset 15', () => gradcheck({ op: 'CastLike', opset: 15, inputs: [{ shape: [2, 3] }, { shape: [1], value: [0] }] }));

test.run();
