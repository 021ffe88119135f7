import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { normals, shuffled, uniform } from '../runtime/random';

// Users average results over seeds 0 … K (as with torch.manual_seed): the draws of nearby seeds, and
// the streams of one seed (the noise of each joint input, GradientShap's draws), must be unrelated.
// Started at the seed itself, the LCG's first uniforms of seeds 0–999 lay in [0.24, 0.63] and the
// streams seed and seed + 1 correlated at 0.84.
const SEEDS = 1000;

/** Pearson's correlation of two samples. */
function correlation(a: number[], b: number[]): number {
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const [ma, mb] = [mean(a), mean(b)];
  let ab = 0, aa = 0, bb = 0;
  a.forEach((x, k) => { ab += (x - ma) * (b[k] - mb); aa += (x - ma) ** 2; bb += (b[k] - mb) ** 2; });
  return ab / Math.sqrt(aa * bb);
}

test('the first uniform of seeds 0 … 999 is uniform on [0, 1): Kolmogorov–Smirnov statistic below its 1 % critical value', () => {
  const first = Array.from({ length: SEEDS }, (_, s) => uniform(s)()).sort((a, b) => a - b);
  const d = Math.max(...first.map((u, k) => Math.max((k + 1) / SEEDS - u, u - k / SEEDS)));
  assert.ok(d < 1.63 / Math.sqrt(SEEDS), `KS statistic ${d}`);
});

test('first normals of adjacent seeds, and of streams 0 and 1 of one seed, are uncorrelated (|r| < 4/√n)', () => {
  const first = (seed: number, stream: number) => normals(2, seed, stream)[0];
  const bound = 4 / Math.sqrt(SEEDS);
  const s0 = Array.from({ length: SEEDS }, (_, s) => first(s, 0));
  const adjacent = correlation(s0, Array.from({ length: SEEDS }, (_, s) => first(s + 1, 0)));
  const streams = correlation(s0, Array.from({ length: SEEDS }, (_, s) => first(s, 1)));
  assert.ok(Math.abs(adjacent) < bound, `seeds s, s + 1: r = ${adjacent}`);
  assert.ok(Math.abs(streams) < bound, `streams 0, 1: r = ${streams}`);
});

test('feature permutation\'s first shuffle of three rows over seeds 0 … 299: the six orders equally often (χ² below its 0.1 % critical value, 5 degrees of freedom)', () => {
  const counts = new Map<string, number>();
  for (let s = 0; s < 300; s++) {
    const order = shuffled(3, uniform(s)).join('');
    counts.set(order, (counts.get(order) ?? 0) + 1);
  }
  assert.is(counts.size, 6, `orders drawn: ${[...counts.keys()]}`);
  const chi2 = [...counts.values()].reduce((s, c) => s + (c - 50) ** 2 / 50, 0);
  assert.ok(chi2 < 20.52, `χ² ${chi2} (counts ${JSON.stringify([...counts])})`);
});

test.run();
