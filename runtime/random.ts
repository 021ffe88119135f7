/** A small deterministic generator of uniform numbers in [0, 1) (Numerical Recipes LCG), for seeded noise. */
export function uniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}
