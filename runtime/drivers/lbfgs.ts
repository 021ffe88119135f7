export interface Evaluation { value: number; grad: Float64Array }

export interface LbfgsOptions {
  /** Most objective evaluations (each one graph run). */
  maxEvals: number;
  /** Stop when max |gradient| falls below this. */
  gradTol: number;
  /** Pairs (s, y) kept (default 8). */
  memory?: number;
}

const dot = (a: Float64Array, b: Float64Array) => a.reduce((s, v, i) => s + v * b[i], 0);

/**
 * Limited-memory BFGS (Nocedal & Wright, Algorithm 7.4: two-loop recursion, H0 = sᵀy/yᵀy·I)
 * with a backtracking Armijo line search (c1 = 1e-4, halving, first trial step 1; the very first
 * iteration starts at 1/‖g‖; a failed search drops the pairs and retries along −g). Pairs with sᵀy ≤ 1e-12 are skipped (the objective is piecewise
 * smooth for ReLU networks, where the curvature condition can fail).
 */
export async function lbfgs(f: (x: Float64Array) => Promise<Evaluation>, x0: Float64Array, o: LbfgsOptions): Promise<{ x: Float64Array; value: number; evals: number }> {
  const m = o.memory ?? 8;
  let x = Float64Array.from(x0);
  let cur = await f(x);
  let evals = 1;
  const pairs: { s: Float64Array; y: Float64Array; rho: number }[] = [];
  while (evals < o.maxEvals && Math.max(...cur.grad.map(Math.abs)) > o.gradTol) {
    const q = Float64Array.from(cur.grad);
    const alphas: number[] = [];
    for (let k = pairs.length - 1; k >= 0; k--) {
      const a = pairs[k].rho * dot(pairs[k].s, q);
      alphas[k] = a;
      q.forEach((v, i) => { q[i] = v - a * pairs[k].y[i]; });
    }
    const last = pairs[pairs.length - 1];
    const gamma = last ? dot(last.s, last.y) / dot(last.y, last.y) : 1 / Math.sqrt(dot(cur.grad, cur.grad));
    q.forEach((v, i) => { q[i] = v * gamma; });
    for (let k = 0; k < pairs.length; k++) {
      const b = pairs[k].rho * dot(pairs[k].y, q);
      q.forEach((v, i) => { q[i] = v + pairs[k].s[i] * (alphas[k] - b); });
    }
    let direction = q.map((v) => -v);
    let slope = dot(cur.grad, direction);
    if (!(slope < 0)) {
      // Not a descent direction (stale pairs): restart from steepest descent.
      pairs.length = 0;
      direction = cur.grad.map((v) => -v / Math.sqrt(dot(cur.grad, cur.grad)));
      slope = dot(cur.grad, direction);
    }
    let step = 1;
    let trial: Evaluation | undefined;
    let xNew = x;
    for (let tries = 0; tries < 30 && evals < o.maxEvals; tries++) {
      xNew = x.map((v, i) => v + step * direction[i]);
      trial = await f(xNew);
      evals++;
      if (trial.value <= cur.value + 1e-4 * step * slope) break;
      trial = undefined;
      step /= 2;
    }
    if (!trial) {
      // No decrease along this direction: retry once from steepest descent, else stop.
      if (!pairs.length) break;
      pairs.length = 0;
      continue;
    }
    const s = xNew.map((v, i) => v - x[i]);
    const y = trial.grad.map((v, i) => v - cur.grad[i]);
    const sy = dot(s, y);
    if (sy > 1e-12) {
      pairs.push({ s, y, rho: 1 / sy });
      if (pairs.length > m) pairs.shift();
    }
    x = xNew;
    cur = trial;
  }
  return { x, value: cur.value, evals };
}
