import { OpCase } from './gradcheck';

/** Softmax over rows of 4, in float64. */
export function softmaxRows(x: Float32Array): number[] {
  return Array.from({ length: x.length / 4 }, (_, k) => k * 4).flatMap((o) => {
    const row = Array.from(x.subarray(o, o + 4));
    const top = Math.max(...row);
    const e = row.map((v) => Math.exp(v - top));
    return e.map((v) => v / e.reduce((a, b) => a + b, 0));
  });
}

/**
 * A (Log)Softmax case over two rows of logits with a confident class (gaps of 25 and 17), whose loss
 * weights explain that class in row 0 and mix the classes in row 1; `slot` gives the exact gradient
 * at position i from the float64 probabilities p, the weights r and the positions of i's row.
 */
export function confidentCase(op: string, slot: (p: number[], r: Float32Array, i: number, row: number[]) => number): OpCase {
  return {
    op, opset: 13, inputs: [{ shape: [2, 4], data: [30, 0, 5, -3, -1, 2, 19, 0.5] }], tol: 1e-4, weights: [1, 0, 0, 0, 0.3, -0.5, 1, 0.4],
    exact: (x, r) => softmaxRows(x).map((_, i, p) => slot(p, r, i, [0, 1, 2, 3].map((j) => i - (i % 4) + j))),
  };
}
