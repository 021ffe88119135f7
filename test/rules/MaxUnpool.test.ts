import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter } from '../../rewriter/emitter';
import { DataType, encodeModel, valueInfo } from '../../rewriter/proto';
import { Explainer } from '../../runtime';
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

// MATLAB's SegNet exports (opset 8) unpool with MaxPool's indices: such a model is read at opset 11.
test('a model of opset 9 with MaxPool → MaxUnpool is read at opset 11 and explained: the gradient of an unpooled maximum is 1 at its input, of another position 0', async () => {
  const em = new Emitter(9, DataType.FLOAT, 'segnet');
  const [pooled, where] = em.opN('MaxPool', ['x'], 2, { kernel_shape: [2, 2], strides: [2, 2] });
  em.rename(em.op('MaxUnpool', [pooled, where], { kernel_shape: [2, 2], strides: [2, 2] }), 'y');
  const ex = await Explainer.load(encodeModel({ ir_version: 4, opset_import: [{ domain: '', version: 9 }], graph: { name: 'segnet', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 1, 4, 4])], output: [{ name: 'y' }] } }));
  const x = { data: Float32Array.from({ length: 16 }, (_, i) => Math.sin(i * 2.3)), dims: [1, 1, 4, 4] };
  // The top-left window's maximum.
  const top = [0, 1, 4, 5].reduce((best, i) => (x.data[i] > x.data[best] ? i : best), 0);
  const at = (flat: number) => [0, Math.floor(flat / 4), flat % 4];
  const g = await ex.attribute(x, { target: [at(top)] });
  assert.equal(Array.from(g.attributions.data), Array.from({ length: 16 }, (_, i) => (i === top ? 1 : 0)));
  const other = [0, 1, 4, 5].find((i) => i !== top)!;
  assert.ok((await ex.attribute(x, { target: [at(other)] })).attributions.data.every((v) => v === 0));
});

test.run();
