import { ExplainError } from '../../rewriter/errors';
import { leggauss } from '../../rules/gauss-legendre';

/** Captum's names for the integral approximations of integrated gradients. */
export const IG_METHODS = ['gausslegendre', 'riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid'] as const;
export type IgMethod = (typeof IG_METHODS)[number];

/** Steps at most: Gauss–Legendre's nodes cost O(n²), and past this no integral changes in float32. */
const MAX_STEPS = 10_000;

/** numpy.linspace(a, b, n): n evenly spaced values, the last exactly b. */
function linspace(a: number, b: number, n: number): number[] {
  const step = (b - a) / (n - 1);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? b : a + i * step));
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
  if (!Number.isInteger(n) || n < min || n > MAX_STEPS) throw new ExplainError(`--steps: ${n} steps; ${method} needs an integer from ${min} to ${MAX_STEPS}`);
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
