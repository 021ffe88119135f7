import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gaussNewton, Linearisation } from '../runtime/drivers/gauss-newton';

// f(x) = ‖x − x0‖² + ρ/2·‖Cx − d‖²: the constraints are linear, so Gauss–Newton's Hessian is exact.
const x0 = Float64Array.of(0.3, -1.2, 2.0, 0.5);
const C = [Float64Array.of(1, 2, -1, 0.5), Float64Array.of(0, -1, 3, 1)];
const d = Float64Array.of(1.5, -2);
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);

function problem(rho: number) {
  const residual = (x: Float64Array) => C.map((row, j) => dot(row, x) - d[j]);
  const value = async (x: Float64Array) => dot(x.map((v, k) => v - x0[k]), x.map((v, k) => v - x0[k])) + (rho / 2) * residual(x).reduce((s, r) => s + r * r, 0);
  const linearise = async (x: Float64Array): Promise<Linearisation> => {
    const r = residual(x);
    const grad = x.map((v, k) => 2 * (v - x0[k]) + rho * C.reduce((s, row, j) => s + r[j] * row[k], 0));
    return { value: await value(x), grad, rows: C, rho };
  };
  return { value, linearise };
}

/** Solves the 4 × 4 system (2I + ρCᵀC) x = 2x0 + ρCᵀd by Gaussian elimination. */
function closedForm(rho: number): Float64Array {
  const n = x0.length;
  const m = Array.from({ length: n }, (_, i) => Float64Array.from({ length: n + 1 }, (_, k) => (k === n
    ? 2 * x0[i] + rho * C.reduce((s, row, j) => s + row[i] * d[j], 0)
    : (i === k ? 2 : 0) + rho * C.reduce((s, row) => s + row[i] * row[k], 0))));
  for (let i = 0; i < n; i++) {
    for (let r = i + 1; r < n; r++) {
      const f = m[r][i] / m[i][i];
      for (let k = i; k <= n; k++) m[r][k] -= f * m[i][k];
    }
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) x[i] = (m[i][n] - dot(m[i].subarray(i + 1, n), x.subarray(i + 1))) / m[i][i];
  return x;
}

test('Gauss–Newton: with linear constraints one step lands on the closed-form minimiser of ‖x − x0‖² + ρ/2‖Cx − d‖²', async () => {
  for (const rho of [0.5, 10, 1e4]) {
    const { value, linearise } = problem(rho);
    const r = await gaussNewton(value, linearise, Float64Array.of(5, 5, -5, 1), { maxEvals: 40, gradTol: 1e-9 });
    const want = closedForm(rho);
    r.x.forEach((v, k) => assert.ok(Math.abs(v - want[k]) < 1e-9 * (1 + rho), `ρ ${rho}: x[${k}] ${v} vs ${want[k]}`));
    assert.ok(r.evals <= 3, `ρ ${rho}: ${r.evals} evaluations`);
  }
});

test('Gauss–Newton: for a large penalty the step is the least-norm move onto Cx = d (the projection of x0)', async () => {
  const { value, linearise } = problem(1e9);
  const r = await gaussNewton(value, linearise, Float64Array.from(x0), { maxEvals: 40, gradTol: 1e-9 });
  // x0 + Cᵀ(CCᵀ)⁻¹(d − Cx0), with the 2 × 2 Gram matrix inverted by hand.
  const [g00, g01, g11] = [dot(C[0], C[0]), dot(C[0], C[1]), dot(C[1], C[1])];
  const det = g00 * g11 - g01 * g01;
  const [e0, e1] = C.map((row, j) => d[j] - dot(row, x0));
  const u = [(g11 * e0 - g01 * e1) / det, (g00 * e1 - g01 * e0) / det];
  x0.forEach((v, k) => {
    const want = v + u[0] * C[0][k] + u[1] * C[1][k];
    assert.ok(Math.abs(r.x[k] - want) < 1e-6, `x[${k}] ${r.x[k]} vs ${want}`);
  });
});

test.run();
