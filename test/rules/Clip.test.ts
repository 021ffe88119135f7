import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { gradcheck } from '../support/gradcheck';

// ±0.1..±1.9 in steps of 0.3: at least 0.1 from the bounds −0.55 and 1.15 used below.
const data = Array.from({ length: 24 }, (_, i) => (i % 2 ? 1 : -1) * (0.1 + (i % 7) * 0.3));
const x = { shape: [2, 3, 4], data };

test('Clip with min/max attributes, opset 10', () =>
  gradcheck({ op: 'Clip', opset: 10, inputs: [x], attrs: { min: float(-0.55), max: float(1.15) } }));
test('Clip with only a max attribute, opset 8', () => gradcheck({ op: 'Clip', opset: 8, inputs: [x], attrs: { max: float(1.15) } }));
test('Clip with both bound inputs, opset 13', () =>
  gradcheck({ op: 'Clip', opset: 13, inputs: [x, { shape: [], value: [-0.55] }, { shape: [], value: [1.15] }] }));
test('Clip with an omitted min input, opset 11', () =>
  gradcheck({ op: 'Clip', opset: 11, inputs: [x, { shape: [], omitted: true }, { shape: [], value: [1.15] }] }));
test('Clip with only a min input, opset 12', () => gradcheck({ op: 'Clip', opset: 12, inputs: [x, { shape: [], value: [-0.55] }] }));
test('Clip with bounds that need their gradient, opset 13', () =>
  gradcheck({ op: 'Clip', opset: 13, inputs: [x, { shape: [], data: [-0.55] }, { shape: [], data: [1.15] }] }));

test.run();
