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
function grid(align: boolean, seed: number, sizes = [W, H], points = N * HO * WO): number[] {
  const r = rng(seed);
  const out: number[] = [];
  for (let k = 0; k < points; k++) {
    for (const size of sizes) {
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

// 3-D sampling (opset 20): a volume [N, C, D, H, W] at a grid [N, Do, Ho, Wo, 3] of (x, y, z).
const [D, DO] = [3, 2];
for (const [mode, padding, align] of [['linear', 'zeros', 0], ['linear', 'border', 1], ['linear', 'reflection', 0], ['nearest', 'zeros', 1], ['nearest', 'reflection', 0]] as const) {
  test(`GridSample 3-D ${mode}, ${padding} padding, align_corners ${align}, opset 20: input and grid gradients = central differences`, () =>
    gradcheck({
      op: 'GridSample', opset: 20, attrs: { mode, padding_mode: padding, align_corners: align },
      inputs: [{ shape: [N, C, D, H, W] }, { shape: [N, DO, HO, WO, 3], data: grid(align === 1, 31 + align, [W, H, D], N * DO * HO * WO) }], h: 1e-3,
    }));
}

test('DeepLIFT through GridSample with a constant grid sums to delta (bilinear zeros, bicubic reflection, 3-D linear)', async () => {
  await sumcheck(deeplift, { op: 'GridSample', opset: 16, attrs: { align_corners: 0 }, inputs: [{ shape: [N, C, H, W] }, { shape: [N, HO, WO, 2], value: grid(false, 9) }] });
  await sumcheck(deeplift, { op: 'GridSample', opset: 16, attrs: { align_corners: 0, mode: 'bicubic', padding_mode: 'reflection' }, inputs: [{ shape: [N, C, H, W] }, { shape: [N, HO, WO, 2], value: grid(false, 10) }] });
  await sumcheck(deeplift, { op: 'GridSample', opset: 20, attrs: { align_corners: 0 }, inputs: [{ shape: [N, C, D, H, W] }, { shape: [N, DO, HO, WO, 3], value: grid(false, 11, [W, H, D], N * DO * HO * WO) }] });
});

test.run();
