import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

test('Concat three inputs along axis 1, opset 11', () =>
  gradcheck({ op: 'Concat', opset: 11, inputs: [{ shape: [1, 2, 3] }, { shape: [1, 1, 3] }, { shape: [1, 3, 3] }], attrs: { axis: 1 } }));
test('Concat negative axis with a constant input, opset 13', () =>
  gradcheck({ op: 'Concat', opset: 13, inputs: [{ shape: [2, 3] }, { shape: [2, 2], value: [1, 2, 3, 4] }, { shape: [2, 1] }], attrs: { axis: -1 } }));
test('Concat, opset 7 (Slice attributes)', () =>
  gradcheck({ op: 'Concat', opset: 7, inputs: [{ shape: [1, 2, 2] }, { shape: [1, 2, 3] }], attrs: { axis: 2 } }));

test.run();
