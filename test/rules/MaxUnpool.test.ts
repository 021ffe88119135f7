import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gradcheck } from '../support/gradcheck';

// Indices as MaxPool writes them: over the whole [1, 2, 4, 4] output, channel offsets included.
const indices = [0, 3, 9, 14, 16 + 5, 16 + 2, 16 + 12, 16 + 15];

test('MaxUnpool 2×2 stride 2 with MaxPool-style indices, opset 11', () =>
  gradcheck({ op: 'MaxUnpool', opset: 11, inputs: [{ shape: [1, 2, 2, 2] }, { shape: [1, 2, 2, 2], value: indices, int64: true }], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }));
test('MaxUnpool to an explicit output_shape, opset 11', () =>
  gradcheck({ op: 'MaxUnpool', opset: 11, inputs: [{ shape: [1, 2, 2, 2] }, { shape: [1, 2, 2, 2], value: indices.map((i) => i + Math.floor(i / 16) * 9), int64: true }, { shape: [4], value: [1, 2, 5, 5], int64: true }], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }));

test('MaxUnpool with overlapping windows (stride < kernel: an index may repeat) is refused naming the node', async () => {
  try {
    await gradcheck({ op: 'MaxUnpool', opset: 11, inputs: [{ shape: [1, 2, 2, 2] }, { shape: [1, 2, 2, 2], value: indices, int64: true }], attrs: { kernel_shape: [3, 3], strides: [2, 2] } });
  } catch (e) {
    assert.match(String(e), /MaxUnpool, opset 11\): its windows overlap \(kernel 3,3, strides 2,2\)/);
    return;
  }
  assert.unreachable('overlapping windows were explained');
});

test('MaxUnpool before opset 11 is refused naming the node', async () => {
  try {
    await gradcheck({ op: 'MaxUnpool', opset: 9, inputs: [{ shape: [1, 2, 2, 2] }, { shape: [1, 2, 2, 2], value: indices, int64: true }], attrs: { kernel_shape: [2, 2], strides: [2, 2] } });
  } catch (e) {
    assert.match(String(e), /MaxUnpool, opset 9\): its backward pass needs opset 11 or later/);
    return;
  }
  assert.unreachable('opset 9 was explained');
});

test.run();
