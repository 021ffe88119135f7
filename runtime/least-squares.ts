/**
 * Weighted least squares with an intercept, as sklearn's LinearRegression(fit_intercept=True) with
 * sample_weight: the columns and y are centred on their weighted means, and the coefficients are
 * the minimum-norm solution of √w·X_c β = √w·y_c (scipy's lstsq: singular values below
 * ε·max(n, p)·σ_max dropped), computed from the smaller of XᵀWX (p × p) and √W X Xᵀ √W (n × n).
 */
export function weightedLeastSquares(rows: ArrayLike<number>[], y: ArrayLike<number>, w: ArrayLike<number>): Float64Array {
  const { n, p, xc, yc } = centred(rows, y, w);
  // A = √W X_c (n × p), b = √W y_c.
  const a = xc.map((r, i) => r.map((v) => Math.sqrt(w[i]) * v));
  const b = yc.map((v, i) => Math.sqrt(w[i]) * v);
  const tolerance = (eigenvalues: Float64Array) => (Number.EPSILON * Math.max(n, p)) ** 2 * Math.max(0, ...eigenvalues);
  if (p <= n) {
    // β = (AᵀA)⁺ Aᵀb.
    const gram = Array.from({ length: p }, () => new Float64Array(p));
    const atb = new Float64Array(p);
    for (const [i, r] of a.entries()) {
      for (let j = 0; j < p; j++) {
        const v = r[j];
        atb[j] += v * b[i];
        for (let k = j; k < p; k++) gram[j][k] += v * r[k];
      }
    }
    for (let j = 0; j < p; j++) for (let k = 0; k < j; k++) gram[j][k] = gram[k][j];
    return choleskySolve(gram, atb) ?? pseudoSolve(gram, atb, tolerance);
  }
  // β = Aᵀ (AAᵀ)⁺ b: the minimum-norm solution from the n × n system.
  const gram = Array.from({ length: n }, () => new Float64Array(n));
  for (let i = 0; i < n; i++) {
    for (let k = i; k < n; k++) {
      let dot = 0;
      for (let j = 0; j < p; j++) dot += a[i][j] * a[k][j];
      gram[i][k] = gram[k][i] = dot;
    }
  }
  // The centring leaves √w in AAᵀ's null space (Σ w_i·x_c,i = 0) with b ⊥ √w: adding c·√w√wᵀ changes
  // no solution and lets Cholesky take a system of full rank otherwise.
  const q = Float64Array.from({ length: n }, (_, i) => Math.sqrt(w[i]));
  const c = Math.max(0, ...gram.map((row, i) => row[i])) / Math.max(Number.MIN_VALUE, q.reduce((a, v) => a + v * v, 0));
  const shifted = gram.map((row, i) => row.map((v, k) => v + c * q[i] * q[k]));
  const u = choleskySolve(shifted, b) ?? pseudoSolve(gram, b, tolerance);
  const beta = new Float64Array(p);
  for (const [i, r] of a.entries()) for (let j = 0; j < p; j++) beta[j] += r[j] * u[i];
  return beta;
}

/**
 * M⁻¹v by Cholesky where the symmetric M is clearly positive definite (every pivot above 10⁻¹⁰ of
 * the largest diagonal entry; there the minimum-norm solution is the solution): O(size³/3), where
 * pseudoSolve's Jacobi sweeps took minutes at a thousand columns (KernelShap on a 32 × 32 image
 * without a mask). Undefined otherwise, for pseudoSolve.
 */
function choleskySolve(m: Float64Array[], v: Float64Array): Float64Array | undefined {
  const size = m.length;
  const floor = 1e-10 * Math.max(0, ...m.map((row, i) => row[i]));
  const l = Array.from({ length: size }, () => new Float64Array(size));
  for (let j = 0; j < size; j++) {
    let d = m[j][j];
    for (let k = 0; k < j; k++) d -= l[j][k] * l[j][k];
    if (!(d > floor)) return undefined;
    l[j][j] = Math.sqrt(d);
    for (let i = j + 1; i < size; i++) {
      let s = m[i][j];
      const [li, lj] = [l[i], l[j]];
      for (let k = 0; k < j; k++) s -= li[k] * lj[k];
      li[j] = s / l[j][j];
    }
  }
  // L y = v, then Lᵀ x = y.
  const y = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    let s = v[i];
    for (let k = 0; k < i; k++) s -= l[i][k] * y[k];
    y[i] = s / l[i][i];
  }
  const x = new Float64Array(size);
  for (let i = size - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < size; k++) s -= l[k][i] * x[k];
    x[i] = s / l[i][i];
  }
  return x;
}

/**
 * Weighted Lasso with an intercept, as sklearn's Lasso(alpha) with sample_weight: minimises
 * Σ w_i (y_i − b − x_i·β)² / (2 Σ w) + α‖β‖₁ by cyclic coordinate descent on the columns centred on
 * their weighted means, until no coefficient moves by more than 1e-12 of the largest (sklearn stops
 * earlier, at its duality-gap tolerance 1e-4).
 */
export function weightedLasso(rows: ArrayLike<number>[], y: ArrayLike<number>, w: ArrayLike<number>, alpha: number): Float64Array {
  const { n, p, xc, yc, total } = centred(rows, y, w);
  const beta = new Float64Array(p);
  const residual = Float64Array.from(yc);
  const scale = Float64Array.from({ length: p }, (_, j) => xc.reduce((s, r, i) => s + w[i] * r[j] * r[j], 0) / total);
  for (let sweep = 0; sweep < 100000; sweep++) {
    let moved = 0;
    for (let j = 0; j < p; j++) {
      if (scale[j] === 0) continue;
      let rho = 0;
      for (let i = 0; i < n; i++) rho += w[i] * xc[i][j] * (residual[i] + xc[i][j] * beta[j]);
      rho /= total;
      const next = (Math.sign(rho) * Math.max(Math.abs(rho) - alpha, 0)) / scale[j];
      if (next !== beta[j]) {
        for (let i = 0; i < n; i++) residual[i] -= xc[i][j] * (next - beta[j]);
        moved = Math.max(moved, Math.abs(next - beta[j]));
        beta[j] = next;
      }
    }
    // A reduce: β holds one entry per group, too many to spread into Math.max for an image without a mask.
    if (moved <= 1e-12 * beta.reduce((m, b) => Math.max(m, Math.abs(b)), 1e-300)) break;
  }
  return beta;
}

/**
 * Rows and y centred on their weighted means (the intercept's part of the fit). The means are taken
 * of the differences from the first row, so a constant column or y centres to exact zeros (a
 * baseline equal to the input gives exactly zero coefficients).
 */
function centred(rows: ArrayLike<number>[], y: ArrayLike<number>, w: ArrayLike<number>): { n: number; p: number; xc: Float64Array[]; yc: Float64Array; total: number } {
  const n = rows.length;
  const p = rows[0]?.length ?? 0;
  const total = Array.from(w).reduce((a, v) => a + v, 0);
  const mean = new Float64Array(p);
  let yMean = 0;
  rows.forEach((r, i) => {
    for (let j = 0; j < p; j++) mean[j] += (w[i] * (r[j] - rows[0][j])) / total;
    yMean += (w[i] * (y[i] - y[0])) / total;
  });
  for (let j = 0; j < p; j++) mean[j] += rows[0][j];
  yMean += y[0];
  return { n, p, total, xc: rows.map((r) => Float64Array.from({ length: p }, (_, j) => r[j] - mean[j])), yc: Float64Array.from({ length: n }, (_, i) => y[i] - yMean) };
}

/** M⁺v for a symmetric positive semi-definite M, by cyclic Jacobi eigen-decomposition; eigenvalues at or below tolerance(λ) are dropped. */
export function pseudoSolve(m: Float64Array[], v: Float64Array, tolerance: (eigenvalues: Float64Array) => number): Float64Array {
  const size = m.length;
  const a = m.map((row) => Float64Array.from(row));
  const vectors = Array.from({ length: size }, (_, i) => Float64Array.from({ length: size }, (_, j) => (i === j ? 1 : 0)));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let i = 0; i < size; i++) for (let j = i + 1; j < size; j++) off += a[i][j] * a[i][j];
    if (off < 1e-30 * Math.max(1e-300, a.reduce((s, row, i) => s + row[i] * row[i], 0))) break;
    for (let p = 0; p < size; p++) {
      for (let q = p + 1; q < size; q++) {
        if (a[p][q] === 0) continue;
        // The rotation that zeroes a[p][q] (Golub & Van Loan, Algorithm 8.4.1).
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < size; k++) {
          const [akp, akq] = [a[k][p], a[k][q]];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < size; k++) {
          const [apk, aqk] = [a[p][k], a[q][k]];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < size; k++) {
          const [vkp, vkq] = [vectors[k][p], vectors[k][q]];
          vectors[k][p] = c * vkp - s * vkq;
          vectors[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const eigenvalues = Float64Array.from({ length: size }, (_, i) => a[i][i]);
  const cut = tolerance(eigenvalues);
  const out = new Float64Array(size);
  for (let e = 0; e < size; e++) {
    if (!(eigenvalues[e] > cut)) continue;
    let proj = 0;
    for (let k = 0; k < size; k++) proj += vectors[k][e] * v[k];
    for (let k = 0; k < size; k++) out[k] += (vectors[k][e] * proj) / eigenvalues[e];
  }
  return out;
}
