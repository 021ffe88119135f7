import { ExplainError } from '../rewriter/errors';
import { TensorData } from './tensors';

/** One value per row from a scalar or a per-row list. */
export function perRow(v: number | number[] | undefined, n: number, what: string): number[] | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return Array(n).fill(v);
  if (v.length !== n) throw new ExplainError(`${what}: ${v.length} values given for ${n} input rows`);
  return [...v];
}

export function checkClass(t: number, classes: number, what: string, label: string, output: string): void {
  if (!Number.isInteger(t) || t < 0 || t >= classes) throw new ExplainError(`${label}: ${what} ${t} is out of range for output '${output}' with ${classes} classes (0..${classes - 1})`);
}

export function argmaxRows(t: TensorData, n: number): number[] {
  const per = t.data.length / n;
  return Array.from({ length: n }, (_, r) => {
    let best = 0;
    for (let k = 1; k < per; k++) if (t.data[r * per + k] > t.data[r * per + best]) best = k;
    return best;
  });
}

/**
 * The output seed per row: e_target (− e_contrast), optionally mean-normalised over the classes
 * (DeepLIFT §2.5: seed e_t − 1/n).
 */
export function classSeed(targets: number[], classes: number, contrast?: number[], softmaxNormalize = false): Float32Array {
  const n = targets.length;
  const seed = new Float32Array(n * classes);
  targets.forEach((t, r) => { seed[r * classes + t] += 1; });
  contrast?.forEach((c, r) => { seed[r * classes + c] -= 1; });
  if (softmaxNormalize) {
    for (let r = 0; r < n; r++) {
      const row = seed.subarray(r * classes, (r + 1) * classes);
      const mean = row.reduce((a, v) => a + v, 0) / classes;
      row.forEach((v, k) => { row[k] = v - mean; });
    }
  }
  return seed;
}
