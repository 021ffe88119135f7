import { ExplainError } from '../rewriter/errors';

/** A seed as numpy's takes one: an integer from 0 to 2³² − 1 (`uniform` keeps 32 bits: a larger one would repeat a smaller one). */
export function checkSeed(where: string, seed: unknown): void {
  if (seed !== undefined && !(Number.isInteger(seed) && (seed as number) >= 0 && (seed as number) <= 0xffffffff)) throw new ExplainError(`${where}: seed ${String(seed)} is not an integer from 0 to 4294967295`);
}

/** murmur3's 32-bit finaliser: a bijection that sends nearby integers to unrelated ones. */
function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A small deterministic generator of uniform numbers in [0, 1) (Numerical Recipes LCG), for seeded
 * noise: stream `stream` of seed `seed`. The LCG starts at a hash of both: started at the seed
 * itself, seeds s and s + 1 drew first numbers 3.9·10⁻⁴ apart and later ones shifted copies.
 */
export function uniform(seed: number, stream = 0): () => number {
  let s = mix32((mix32(seed) + Math.imul(stream, 0x9e3779b9)) >>> 0);
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** n seeded standard normal numbers (Box–Muller over `uniform`'s stream `stream`). */
export function normals(n: number, seed: number, stream = 0): Float32Array {
  const u = uniform(seed, stream);
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
