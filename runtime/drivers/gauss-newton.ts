import { pseudoSolve } from '../least-squares';

/**
 * An augmented-Lagrangian subproblem f(x) = ‖x − x0‖² + Σ_j ψ_j(c_j(x)) linearised at x: its value and
 * gradient, and the gradient rows ∇c_j of the constraints whose penalty term is active (ψ_j'' = ρ).
 */
export interface Linearisation { value: number; grad: Float64Array; rows: Float64Array[]; rho: number }

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => { let s = 0; for (let i = 0; i < a.length; i++) s += a[i] * b[i]; return s; };

/**
 * Gauss–Newton on such a subproblem (Nocedal & Wright §10.3, applied to the penalty terms as squares):
 * the Hessian is taken as H = 2I + ρ·RᵀR (R: the active constraints' gradient rows), so the step
 * d = −H⁻¹∇f = −½[∇f − Rᵀ(2/ρ·I + RRᵀ)⁻¹R∇f] (Woodbury; a system of the active constraints' size)
 * is, for a large ρ, the least-norm step that satisfies the linearised constraints — the step
 * SLSQP takes — where a gradient step would trade a constraint against another. Backtracking
 * Armijo line search (c1 = 1e-4, halving); stops after `maxEvals` evaluations (a linearisation
 * or a value: one graph run each), at a gradient below `gradTol`, when the predicted decrease
 * is at f's rounding level, or when no step decreases f.
 */
export async function gaussNewton(
  value: (x: Float64Array) => Promise<number>, linearise: (x: Float64Array) => Promise<Linearisation>, x0: Float64Array, o: { maxEvals: number; gradTol: number },
): Promise<{ x: Float64Array; value: number; evals: number }> {
  let x = Float64Array.from(x0);
  let f = NaN;
  let evals = 0;
  while (evals < o.maxEvals) {
    const at = await linearise(x);
    evals++;
    f = at.value;
    if (Math.max(...at.grad.map(Math.abs)) <= o.gradTol) break;
    const r = at.rows;
    const rg = Float64Array.from(r, (row) => dot(row, at.grad));
    const gram = r.map((ri, i) => Float64Array.from(r, (rj, j) => dot(ri, rj) + (i === j ? 2 / at.rho : 0)));
    const u = r.length ? pseudoSolve(gram, rg, () => 0) : new Float64Array(0);
    const d = at.grad.map((g, k) => -0.5 * (g - r.reduce((s, row, i) => s + row[k] * u[i], 0)));
    const slope = dot(at.grad, d);
    // A predicted decrease at f's rounding level: converged.
    if (!(slope < -1e-12 * (1 + Math.abs(f)))) break;
    let t = 1;
    let accepted = false;
    for (let tries = 0; tries < 30 && evals < o.maxEvals; tries++, t /= 2) {
      const trial = x.map((v, k) => v + t * d[k]);
      const ft = await value(trial);
      evals++;
      if (ft <= f + 1e-4 * t * slope) {
        x = trial;
        f = ft;
        accepted = true;
        break;
      }
    }
    if (!accepted) break;
  }
  return { x, value: f, evals };
}
