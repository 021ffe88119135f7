import { attrInt } from '../../rewriter/attributes';
import { matmulAlongAxis, normAxis } from '../op-forms';
import { RuleEntry } from '../types';

/** A [rows, size] matrix of entry(r, m, θ) with θ = 2π·(r·m mod n)/n, zero past the first n columns. */
function trigMatrix(rows: number, size: number, n: number, entry: (r: number, m: number, theta: number) => number): Float64Array {
  const a = new Float64Array(rows * size);
  for (let r = 0; r < rows; r++) {
    for (let m = 0; m < Math.min(n, size); m++) a[r * size + m] = entry(r, m, (2 * Math.PI * ((r * m) % n)) / n);
  }
  return a;
}

/**
 * DFT is linear in x [..., size (at axis), C] (C = 1 real, 2 complex): with n = dft_length (the
 * first n samples, zero-padded past size), part p of bin k is Σ_m Σ_c A_pc[k, m]·x_c[m], where
 * e^{σ·2πi·km/n}·scale gives A_re,re = A_im,im = cos, A_re,im = −σ·sin, A_im,re = σ·sin (σ = −1,
 * scale 1 forward; σ = +1, scale 1/n inverse). dx_c = Σ_p A_pcᵀ·dy_p along the axis.
 */
export const DFT: RuleEntry = {
  opType: 'DFT', since: 17, category: 'linear',
  rule: {
    backward(ctx, [dY]) {
      const { em, node, opset } = ctx;
      const [x, lengthT, axisT] = node.input!;
      const xs = ctx.shape(x);
      const rank = xs.length;
      const axis = normAxis(ctx, opset >= 20 ? (axisT ? ctx.requireConstant(axisT, 'axis').values[0] : -2) : attrInt(node, 'axis', 1), rank);
      if (axis === rank - 1 || axis === ctx.batchAxis(x)) ctx.fail(`axis ${axis} is the complex axis or the batch`);
      const inverse = attrInt(node, 'inverse', 0) === 1;
      const [size, parts] = [xs[axis], xs[rank - 1]];
      if (inverse && attrInt(node, 'onesided', 0)) {
        // numpy's irfft (onnxruntime's C2R): x holds bins 0…size−1 of a Hermitian spectrum of n, y is
        // real [.., n, 1]: y_t = (1/n)·Σ_k w_k·(Re x_k·cos θ − Im x_k·sin θ), θ = 2π·kt/n, w_k = 2 for the
        // bins whose mirror n − k is not given, else 1.
        const n = lengthT ? ctx.requireConstant(lengthT, 'dft_length').values[0] : 2 * (size - 1);
        const outLen = ctx.shape(node.output![0])[axis];
        const matrix = (c: number) => trigMatrix(outLen, size, n, (_t, k, theta) => ((k >= 1 && n - k >= size ? 2 : 1) / n) * (c === 0 ? Math.cos(theta) : -Math.sin(theta)));
        const dx = (c: number) => matmulAlongAxis(em, dY!, axis, rank, matrix(c), outLen, size);
        return [parts === 2 ? em.concat([dx(0), dx(1)], rank - 1) : dx(0), null, null];
      }
      const n = lengthT ? ctx.requireConstant(lengthT, 'dft_length').values[0] : size;
      const bins = ctx.shape(node.output![0])[axis];
      const [sigma, scale] = inverse ? [1, 1 / n] : [-1, 1];
      const matrix = (p: number, c: number) => trigMatrix(bins, size, n, (_k, _m, theta) => scale * (p === c ? Math.cos(theta) : (p === 1 ? sigma : -sigma) * Math.sin(theta)));
      const [re, im] = [0, 1].map((p) => em.slice(dY!, [p], [p + 1], [rank - 1]));
      const dx = (c: number) => em.add(matmulAlongAxis(em, re, axis, rank, matrix(0, c), bins, size), matmulAlongAxis(em, im, axis, rank, matrix(1, c), bins, size));
      return [parts === 2 ? em.concat([dx(0), dx(1)], rank - 1) : dx(0), null, null];
    },
  },
};
