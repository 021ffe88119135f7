import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { gradcheck } from '../support/gradcheck';

test('Dropout with a ratio attribute, opset 8', () =>
  gradcheck({ op: 'Dropout', opset: 8, inputs: [{ shape: [2, 3, 4] }], attrs: { ratio: float(0.3) } }));
test('Dropout with a ratio input, opset 13', () =>
  gradcheck({ op: 'Dropout', opset: 13, inputs: [{ shape: [2, 3, 4] }, { shape: [], value: [0.3] }] }));

test.run();
