import { test } from 'uvu';
import { floats } from '../../rewriter/emitter';
import { gradcheck } from '../support/gradcheck';

const x = { shape: [1, 2, 3, 4] };

test('Upsample nearest, scales attribute, opset 7', () =>
  gradcheck({ op: 'Upsample', opset: 7, inputs: [x], attrs: { scales: floats([1, 1, 2, 3]) } }));
test('Upsample linear, scales attribute, opset 7', () =>
  gradcheck({ op: 'Upsample', opset: 7, inputs: [x], attrs: { mode: 'linear', scales: floats([1, 1, 2, 1.5]) } }));
test('Upsample nearest and linear, scales input, opset 9', async () => {
  await gradcheck({ op: 'Upsample', opset: 9, inputs: [x, { shape: [4], value: [1, 1, 2.5, 2] }] });
  await gradcheck({ op: 'Upsample', opset: 9, inputs: [x, { shape: [4], value: [1, 1, 2, 1.75] }], attrs: { mode: 'linear' } });
});

test.run();
