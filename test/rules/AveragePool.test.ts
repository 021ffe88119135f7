import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../../runtime';
import { gradcheck, refusal } from '../support/gradcheck';
import { tinyModel } from '../support/tiny-model';

const x = (shape: number[]) => ({ shape });

test('AveragePool 2D, opset 7', () =>
  gradcheck({ op: 'AveragePool', opset: 7, inputs: [x([1, 2, 6, 6])], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }));
test('AveragePool pads excluded from the count, opset 10', () =>
  gradcheck({ op: 'AveragePool', opset: 10, inputs: [x([1, 2, 7, 6])], attrs: { kernel_shape: [3, 3], strides: [2, 1], pads: [1, 1, 1, 0] } }));
test('AveragePool pads included in the count, opset 11', () =>
  gradcheck({ op: 'AveragePool', opset: 11, inputs: [x([1, 2, 7, 6])], attrs: { kernel_shape: [3, 3], strides: [2, 1], pads: [1, 1, 1, 0], count_include_pad: 1 } }));
test('AveragePool ceil_mode, exclude pad, opset 10', () =>
  gradcheck({ op: 'AveragePool', opset: 10, inputs: [x([1, 2, 7, 8])], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } }));
test('AveragePool ceil_mode with pads, include pad, opset 11', () =>
  gradcheck({ op: 'AveragePool', opset: 11, inputs: [x([1, 2, 7, 8])], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: 1 } }));
test('AveragePool ceil_mode with pads, exclude pad, opset 12', () =>
  gradcheck({ op: 'AveragePool', opset: 12, inputs: [x([1, 2, 7, 8])], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 } }));
test('AveragePool SAME_UPPER and SAME_LOWER, opset 11', async () => {
  await gradcheck({ op: 'AveragePool', opset: 11, inputs: [x([1, 2, 5, 6])], attrs: { kernel_shape: [2, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' } });
  await gradcheck({ op: 'AveragePool', opset: 11, inputs: [x([1, 2, 5, 6])], attrs: { kernel_shape: [2, 3], strides: [2, 2], auto_pad: 'SAME_LOWER', count_include_pad: 1 } });
});
test('AveragePool 1D and 3D, opset 13', async () => {
  await gradcheck({ op: 'AveragePool', opset: 13, inputs: [x([1, 3, 9])], attrs: { kernel_shape: [3], strides: [2], pads: [1, 1] } });
  await gradcheck({ op: 'AveragePool', opset: 13, inputs: [x([1, 2, 4, 5, 5])], attrs: { kernel_shape: [2, 3, 2], strides: [2, 2, 1], pads: [0, 1, 0, 0, 1, 1] } });
});
test('AveragePool dilations and ceil_mode, opset 19', async () => {
  await gradcheck({ op: 'AveragePool', opset: 19, inputs: [x([1, 2, 8, 7])], attrs: { kernel_shape: [2, 3], dilations: [2, 2], strides: [2, 2], pads: [1, 1, 0, 1], ceil_mode: 1 } });
  await gradcheck({ op: 'AveragePool', opset: 19, inputs: [x([1, 2, 8, 7])], attrs: { kernel_shape: [2, 3], dilations: [2, 2], strides: [2, 2], pads: [1, 1, 0, 1], ceil_mode: 1, count_include_pad: 1 } });
  await gradcheck({ op: 'AveragePool', opset: 19, inputs: [x([1, 2, 7, 8])], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1, count_include_pad: 1 } });
});

test('AveragePool ceil_mode whose last window onnxruntime drops (it would start in the end padding), opset 22', async () => {
  await gradcheck({ op: 'AveragePool', opset: 22, inputs: [x([1, 2, 8, 8])], attrs: { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], ceil_mode: 1, count_include_pad: 1 } });
  await gradcheck({ op: 'AveragePool', opset: 22, inputs: [x([1, 2, 16])], attrs: { kernel_shape: [1], strides: [2], auto_pad: 'SAME_LOWER', ceil_mode: 1 } });
});

// A kernel shorter than the stride's overhang: SAME's padding is negative. onnxruntime's AveragePool
// kernels stop before opset 19, and at 19–21 with ceil_mode its inference counts one window more.
test('AveragePool auto_pad SAME with negative padding: gradient where onnxruntime runs it (19 without ceil_mode, 22), refused elsewhere', async () => {
  const attrs = { kernel_shape: [1, 1], strides: [2, 3], auto_pad: 'SAME_UPPER' };
  await gradcheck({ op: 'AveragePool', opset: 19, inputs: [x([1, 2, 8, 8])], attrs });
  await gradcheck({ op: 'AveragePool', opset: 22, inputs: [x([1, 2, 8, 8])], attrs: { ...attrs, ceil_mode: 1 } });
  for (const [opset, ceil] of [[17, 0], [19, 1]]) {
    assert.match(await refusal({ op: 'AveragePool', opset, inputs: [x([1, 2, 8, 8])], attrs: { ...attrs, ceil_mode: ceil } }),
      /auto_pad SAME_UPPER with kernel 1 and stride 2 on axis 2 of size 8: SAME's padding is negative/);
  }
});

// torch.onnx's AvgPool2d(2, 2, padding=1, ceil_mode=True): an explicit Pad, then the pool with pads
// 0. onnxruntime's optimiser folds the Pad into the pool's pads, after which its kernel drops a last
// window that starts in that end padding while its shape inference keeps it (fuzz seed 1621):
// refused in one line on 9×9; on 8×8 no window starts there, and d(Σy)/dx = 1/4 everywhere.
// onnxruntime's Pad_Fusion (left out) folded the Pad into the pool, whose kernel then ran a window fewer than its shape inference counted.
test('Pad then AveragePool ceil_mode, also where the last window starts in the Pad\'s end padding: every pixel in one full window, gradient ¼', async () => {
  const padThenPool = (size: number) => tinyModel([1, size, size], 13, (em, x) =>
    em.op('AveragePool', [em.op('Pad', [x, em.constInt([0, 0, 1, 1, 0, 0, 1, 1])])], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceil_mode: 1 }));
  const run = async (size: number) => (await Explainer.load(padThenPool(size))).attribute({ data: new Float32Array(size * size).fill(0.5), dims: [1, 1, size, size] }, { reduce: 'sum' });
  for (const size of [8, 9]) {
    const g = await run(size);
    assert.ok(g.attributions.data.every((v) => Math.abs(v - 0.25) < 1e-7), `${size}: gradient ${Array.from(g.attributions.data)}`);
  }
});

test.run();
