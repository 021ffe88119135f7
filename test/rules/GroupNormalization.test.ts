import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

const x = { shape: [2, 6, 3, 2] };

test('GroupNormalization, per-channel scale, opset 21', () =>
  gradcheck({ op: 'GroupNormalization', opset: 21, inputs: [x, { shape: [6], value: [1, 0.5, -1, 2, 1.5, 0.3] }, { shape: [6], value: [0, 1, 0, -1, 0.2, 0] }], attrs: { num_groups: 3 } }));
test('GroupNormalization, per-group scale, opset 18', () =>
  gradcheck({ op: 'GroupNormalization', opset: 18, inputs: [x, { shape: [2], value: [1.5, -0.5] }, { shape: [2], value: [0.1, 0] }], attrs: { num_groups: 2 } }));
// No epsilon attribute: the spec's default 1e-5, which matters where the variance is small.
test('GroupNormalization without an epsilon attribute (default 1e-5), inputs within ±0.1, opset 18', () =>
  gradcheck({ op: 'GroupNormalization', opset: 18, h: 1e-3, inputs: [{ shape: [1, 4, 3], range: [-0.1, 0.1] }, { shape: [2], value: [1, 0.5] }, { shape: [2], value: [0, 0.2] }], attrs: { num_groups: 2 } }));

test.run();
