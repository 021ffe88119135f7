import { test } from 'uvu';
import { deeplift } from '../../rules/methods/deeplift';
import { gradcheck } from '../support/gradcheck';
import { sumcheck } from '../support/sumcheck';
import { rng } from '../support/gradcheck';

const [N, C, H, W, HO, WO] = [2, 2, 4, 5, 3, 3];

/**
 * Grid coordinates whose pixel positions stay 0.15 or more away from integers (the kinks of
 * linear sampling, the jumps of nearest), some outside the image; normalised for align_corners.
 */
function grid(align: boolean, seed: number): number[] {
  const r = rng(seed);
  const out: number[] = [];
  for (let k = 0; k < N * HO * WO; k++) {
    for (const size of [W, H]) {
      const pixel = Math.floor(r() * (size + 1)) - 1 + 0.15 + 0.7 * r();
      out.push(align ? (2 * pixel) / (size - 1) - 1 : (2 * pixel + 1) / size - 1);
    }
  }
  return out;
}

for (const [mode, padding, align, opset] of [
  ['bilinear', 'zeros', 0, 16], ['bilinear', 'zeros', 1, 16], ['bilinear', 'border', 0, 16], ['linear', 'border', 1, 20], ['nearest', 'zeros', 0, 16], ['nearest', 'border', 1, 20],
  ['bilinear', 'reflection', 0, 16], ['linear', 'reflection', 1, 20], ['nearest', 'reflection', 0, 16],
  ['bicubic', 'zeros', 0, 16], ['bicubic', 'border', 1, 16], ['cubic', 'reflection', 0, 20], ['cubic', 'reflection', 1, 20],
] as const) {
  test(`GridSample ${mode}, ${padding} padding, align_corners ${align}, opset ${opset}: input and grid gradients = central differences`, () =>
    gradcheck({
      op: 'GridSample', opset, attrs: { mode, padding_mode: padding, align_corners: align },
      inputs: [{ shape: [N, C, H, W] }, { shape: [N, HO, WO, 2], data: grid(align === 1, 5 + opset + align) }], h: 1e-3,
    }));
}

test('DeepLIFT through GridSample with a constant grid sums to delta (bilinear zeros, bicubic reflection)', async () => {
  await sumcheck(deeplift, { op: 'GridSample', opset: 16, attrs: { align_corners: 0 }, inputs: [{ shape: [N, C, H, W] }, { shape: [N, HO, WO, 2], value: grid(false, 9) }] });
  await sumcheck(deeplift, { op: 'GridSample', opset: 16, attrs: { align_corners: 0, mode: 'bicubic', padding_mode: 'reflection' }, inputs: [{ shape: [N, C, H, W] }, { shape: [N, HO, WO, 2], value: grid(false, 10) }] });
});

test.run();
