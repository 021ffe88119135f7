import { ExplainError } from '../../rewriter/errors';

/** Captum's names for the integral approximations of integrated gradients. */
export const IG_METHODS = ['gausslegendre', 'riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid'] as const;
export type IgMethod = (typeof IG_METHODS)[number];

/** numpy.linspace(a, b, n): n evenly spaced values, the last exactly b. */
function linspace(a: number, b: number, n: number): number[] {
  const step = (b - a) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? b : a + i * step));
}

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

/**
 * Captum's α nodes and step weights (captum/attr/_utils/approximation_methods.py): Gauss–Legendre
 * mapped to [0, 1] (α = (1 + x)/2, weight w/2); Riemann sums with steps 1/n at α = linspace(0,
 * 1 − 1/n) (left), linspace(1/n, 1) (right), linspace(1/(2n), 1 − 1/(2n)) (middle), and
 * "trapezoid" at α = linspace(0, 1) with steps 1/n halved at both ends — those weights sum to
 * (n − 1)/n, not 1, as Captum's do.
 */
export function quadrature(method: IgMethod, n: number): { alphas: number[]; weights: number[] } {
  if (!IG_METHODS.includes(method)) throw new ExplainError(`--ig-method: '${method}' is not one of ${IG_METHODS.join(', ')}`);
  const min = method === 'gausslegendre' ? 1 : 2;
  if (!Number.isInteger(n) || n < min) throw new ExplainError(`--steps: ${n} steps; ${method} needs an integer ≥ ${min}`);
  if (method === 'gausslegendre') {
    const { nodes, weights } = leggauss(n);
    return { alphas: nodes.map((x) => 0.5 * (1 + x)), weights: weights.map((w) => 0.5 * w) };
  }
  const weights = Array(n).fill(1 / n);
  if (method === 'riemann_trapezoid') {
    weights[0] /= 2;
    weights[n - 1] /= 2;
  }
  const alphas = {
    riemann_left: () => linspace(0, 1 - 1 / n, n),
    riemann_right: () => linspace(1 / n, 1, n),
    riemann_middle: () => linspace(1 / (2 * n), 1 - 1 / (2 * n), n),
    riemann_trapezoid: () => linspace(0, 1, n),
  }[method]();
  return { alphas, weights };
}
