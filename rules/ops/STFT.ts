import { RuleEntry } from '../types';

/**
 * STFT is linear in the signal x [N, L, C] (C = 1 real, 2 complex): frame f, bin k is
 * Σ_n (a + ib)[f·s + n]·w[n]·e^{−2πi·kn/F}, so re = Σ w(a·cos θ + b·sin θ), im = Σ w(b·cos θ − a·sin θ).
 * dX is the transposed convolution of dY (bins and parts as 2·bins channels over the frames) with
 * that kernel at stride s, then zeros for the samples after the last frame. The window defaults
 * to ones of frame_length. A real signal may come as [N, L] (onnxruntime reads it as [N, L, 1]; torch's
 * dynamo export of torch.stft writes it so).
 */
export const STFT: RuleEntry = {
  opType: 'STFT', since: 17, category: 'linear',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [x, stepT, windowT, lengthT] = node.input!;
      if ([2, 3].some((i) => node.input![i] && ctx.needsGrad(i))) ctx.fail('a window or frame length computed from the input is not supported');
      const [, length, parts = 1] = ctx.shape(x);
      const [, frames, bins] = ctx.shape(node.output![0]);
      const step = ctx.requireConstant(stepT, 'frame_step').values[0];
      const window = windowT ? ctx.requireConstant(windowT, 'the window').values : undefined;
      const size = lengthT ? ctx.requireConstant(lengthT, 'frame_length').values[0] : window?.length ?? ctx.fail('needs a window or a frame_length');
      const w = window ?? new Array<number>(size).fill(1);
      const kernel = new Float32Array(2 * bins * parts * size);
      for (let k = 0; k < bins; k++) {
        for (let n = 0; n < size; n++) {
          const [c, s] = [w[n] * Math.cos((2 * Math.PI * k * n) / size), w[n] * Math.sin((2 * Math.PI * k * n) / size)];
          const at = (out: number, part: number) => ((2 * k + out) * parts + part) * size + n;
          kernel[at(0, 0)] = c;
          kernel[at(1, 0)] = -s;
          if (parts === 2) [kernel[at(0, 1)], kernel[at(1, 1)]] = [s, c];
        }
      }
      const channels = em.transpose(em.reshape(dY!, [0, frames, 2 * bins]), [0, 2, 1]);
      const samples = em.op('ConvTranspose', [channels, em.constFloat(kernel, [2 * bins, parts, size])], { strides: [step], pads: [0, 0], dilations: [1], group: 1 });
      const tail = length - ((frames - 1) * step + size);
      const dX = em.transpose(em.pad(samples, [0, 0, 0, 0, 0, tail]), [0, 2, 1]);
      return [ctx.shape(x).length === 2 ? em.reshape(dX, [0, length]) : dX, null, null, null];
    },
  },
};
