import { test } from 'uvu';
import { Explainer } from '../../runtime';
import { rejects } from '../support/rejects';
import { tinyModel } from '../support/tiny-model';
import { float } from '../../rewriter/emitter';
import { gradcheck, OpCase } from '../support/gradcheck';

const floats = (v: number[]) => ({ shape: [v.length], value: v });
const ints = (v: number[]) => ({ shape: [v.length], value: v, int64: true });
const none = { shape: [0], omitted: true };
const x = { shape: [1, 2, 4, 5] };
const resize = (opset: number, inputs: OpCase['inputs'], attrs: OpCase['attrs'] = {}) => gradcheck({ op: 'Resize', opset, inputs: [x, ...inputs], attrs });

test('Resize nearest scales, opset 10', () => resize(10, [floats([1, 1, 2, 1.5])]));
test('Resize nearest downsampling, opset 10', () => resize(10, [floats([1, 1, 0.5, 0.6])]));
test('Resize linear scales, opset 10', () => resize(10, [floats([1, 1, 2, 1.5])], { mode: 'linear' }));
test('Resize nearest modes, opset 11', async () => {
  for (const nearest_mode of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']) {
    for (const coordinate_transformation_mode of ['half_pixel', 'asymmetric', 'align_corners', 'tf_half_pixel_for_nn', 'pytorch_half_pixel']) {
      await resize(11, [floats([]), floats([1, 1, 2.5, 1.6])], { mode: 'nearest', nearest_mode, coordinate_transformation_mode });
    }
  }
});
test('Resize linear coordinate modes with sizes, opset 11', async () => {
  for (const coordinate_transformation_mode of ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel']) {
    await resize(11, [floats([]), floats([]), ints([1, 2, 7, 3])], { mode: 'linear', coordinate_transformation_mode });
  }
});
test('Resize linear downsampling and a size-1 output, opset 13', async () => {
  await resize(13, [none, floats([1, 1, 0.6, 0.5])], { mode: 'linear' });
  await resize(13, [none, none, ints([1, 2, 1, 3])], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' });
});
test('Resize nearest with sizes, opset 13', () => resize(13, [none, none, ints([1, 2, 9, 4])], { mode: 'nearest', nearest_mode: 'floor', coordinate_transformation_mode: 'asymmetric' }));
test('Resize cubic (Keys weights, edge taps or exclude_outside) with every coordinate mode, upsampling and downsampling, opset 11 and 13', async () => {
  for (const coordinate_transformation_mode of ['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel']) {
    for (const [cubic_coeff_a, exclude_outside] of [[-0.75, 0], [-0.5, 1]]) {
      await resize(11, [floats([]), floats([1, 1, 2.5, 1.6])], { mode: 'cubic', coordinate_transformation_mode, cubic_coeff_a: float(cubic_coeff_a), exclude_outside });
    }
  }
  await resize(13, [none, floats([1, 1, 0.6, 0.7])], { mode: 'cubic', coordinate_transformation_mode: 'pytorch_half_pixel', cubic_coeff_a: float(-0.75) });
});
test('Resize with axes, opset 18', () => resize(18, [none, floats([1.5, 2])], { mode: 'linear', axes: [2, 3] }));
test('Resize keep_aspect_ratio_policy not_larger, opset 18', () =>
  resize(18, [none, none, ints([6, 8])], { mode: 'nearest', axes: [2, 3], keep_aspect_ratio_policy: 'not_larger' }));
test('Resize keep_aspect_ratio_policy not_smaller, opset 18', () =>
  resize(18, [none, none, ints([8, 8])], { mode: 'linear', axes: [2, 3], keep_aspect_ratio_policy: 'not_smaller' }));
test('Resize half_pixel_symmetric, opset 19', async () => {
  await resize(19, [none, floats([1, 1, 1.7, 0.8])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel_symmetric' });
  await resize(19, [none, floats([1, 1, 1.7, 0.8])], { mode: 'nearest', coordinate_transformation_mode: 'half_pixel_symmetric' });
});
test('Resize linear 3-D (trilinear) and 2-D inputs, opset 13', async () => {
  await gradcheck({ op: 'Resize', opset: 13, inputs: [{ shape: [1, 1, 3, 4, 2] }, none, floats([1, 1, 2, 0.75, 1.5])], attrs: { mode: 'linear' } });
  await gradcheck({ op: 'Resize', opset: 13, inputs: [{ shape: [3, 4] }, none, floats([1.5, 2])], attrs: { mode: 'linear', coordinate_transformation_mode: 'align_corners' } });
});
test('Resize antialias (Pillow-style filter as torchvision\'s antialiased resize exports), linear and cubic, downsampling and upsampling, with and without exclude_outside, opset 18', async () => {
  const big = { shape: [1, 2, 9, 11] };
  for (const mode of ['linear', 'cubic']) {
    for (const exclude_outside of [0, 1]) {
      for (const coordinate_transformation_mode of ['half_pixel', 'pytorch_half_pixel', 'align_corners']) {
        await gradcheck({ op: 'Resize', opset: 18, inputs: [big, none, floats([1, 1, 0.4, 0.55])], attrs: { mode, antialias: 1, exclude_outside, coordinate_transformation_mode } });
      }
      await gradcheck({ op: 'Resize', opset: 18, inputs: [x, none, floats([1, 1, 1.7, 0.6])], attrs: { mode, antialias: 1, exclude_outside } });
    }
  }
});


test('Resize of an axis of 70,000 to 140,000 values: its backward\'s interpolation matrix (9.8·10⁹ entries) is refused in one line naming the node', async () => {
  const model = tinyModel([1, 1, 70000], 13, (em, x) => em.op('Resize', [x, '', em.constFloat([1, 1, 1, 2], [4])], { mode: 'nearest' }));
  await rejects(() => Explainer.load(model).then((ex) => ex.attribute({ data: new Float32Array(70000), dims: [1, 1, 1, 70000] }, { target: 0 })),
    /node '.*' \(Resize, opset 13\): resizing axis 3 from 70000 to 140000 values needs a 140000×70000 interpolation matrix, more than the 67108864 entries the backward pass builds$/);
});

test.run();
