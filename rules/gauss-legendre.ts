/** P_n(x) and P_n'(x) by the three-term recurrence (k+1)P_{k+1} = (2k+1)x P_k − k P_{k−1}. */
function legendre(n: number, x: number): [number, number] {
  let p0 = 1;
  let p1 = x;
  for (let k = 1; k < n; k++) [p0, p1] = [p1, ((2 * k + 1) * x * p1 - k * p0) / (k + 1)];
  return [p1, (n * (x * p1 - p0)) / (x * x - 1)];
}

/**
 * numpy.polynomial.legendre.leggauss(n): the n Gauss–Legendre nodes on [−1, 1] (ascending) and
 * weights 2/((1 − x²)P_n'(x)²), by Newton's method from x ≈ cos(π(i + 3/4)/(n + 1/2)),
 * symmetrised and scaled to sum to 2 as numpy does.
 */
export function leggauss(n: number): { nodes: number[]; weights: number[] } {
  const nodes = new Array<number>(n);
  const weights = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    let x = n === 1 ? 0 : -Math.cos((Math.PI * (i + 0.75)) / (n + 0.5));
    for (let it = 0; it < 100; it++) {
      const [p, dp] = legendre(n, x);
      const dx = p / dp;
      x -= dx;
      if (Math.abs(dx) < 1e-16) break;
    }
    const dp = n === 1 ? 1 : legendre(n, x)[1];
    nodes[i] = x;
    weights[i] = 2 / ((1 - x * x) * dp * dp);
  }
  const sym = nodes.map((x, i) => (x - nodes[n - 1 - i]) / 2);
  const w = weights.map((v, i) => (v + weights[n - 1 - i]) / 2);
  const total = w.reduce((a, v) => a + v, 0);
  return { nodes: sym, weights: w.map((v) => (v * 2) / total) };
}
