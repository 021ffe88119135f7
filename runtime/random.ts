import { ExplainError } from '../rewriter/errors';

/** A seed as numpy's takes one: an integer from 0 to 2³² − 1 (`uniform` keeps 32 bits: a larger one would repeat a smaller one). */
export function checkSeed(where: string, seed: unknown): void {
  if (seed !== undefined && !(Number.isInteger(seed) && (seed as number) >= 0 && (seed as number) <= 0xffffffff)) throw new ExplainError(`${where}: seed ${String(seed)} is not an integer from 0 to 4294967295`);
}

/** A small deterministic generator of uniform numbers in [0, 1) (Numerical Recipes LCG), for seeded noise. */
export function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** n seeded standard normal numbers (Box–Muller over `uniform`). */
export function normals(n: number, seed: number): Float32Array {
  const u = uniform(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const t = 2 * Math.PI * u();
    out[i] = r * Math.cos(t);
    if (i + 1 < n) out[i + 1] = r * Math.sin(t);
  }
  return out;
}

/** A random order of 0 … n − 1: Fisher–Yates from the end, position i swapped with ⌊u·(i + 1)⌋. */
export function shuffled(n: number, next: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const k = Math.floor(next() * (i + 1));
    [order[i], order[k]] = [order[k], order[i]];
  }
  return order;
}
