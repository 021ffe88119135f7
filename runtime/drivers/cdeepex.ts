import { CONSTRAINED_IO, RECONSTRUCTION_IO } from '../../rewriter/contrast-graphs';
import { RESIDUAL } from '../../rewriter/compose';
import { ADAM_DEFAULTS, AdamLoop } from './adam-loop';
import { OrtTensor } from '../backend';
import { Progress } from '../progress';
import { floatTensor } from '../tensors';
import { hostData, LoopSession } from './loop-session';
import { lbfgs } from './lbfgs';
import { normals } from '../random';

/** What the two searches need of the prepared graphs (runtime/contrastive.ts builds them). */
export interface ContrastGraphs {
  reconstruction: LoopSession;
  constrained: LoopSession;
  latent: string;
  generated: string;
  logits: string;
  latentRow: number[];
  imageRow: number[];
  classes: number;
  /** Starts of the z0 search run together (1 when the generator fixes batch 1). */
  batchStarts: boolean;
}

export interface SearchOptions {
  /** Seeded starts of the z0 search (default 8) and Adam steps per start (default 300). */
  starts: number;
  reconstructionSteps: number;
  /** Adam step size of both searches (default 0.05). */
  lr: number;
  seed: number;
  /** Largest accepted constraint violation, in log-likelihood units (default 1e-3). */
  tolerance: number;
  /** Augmented-Lagrangian iterations (default 40) and most graph runs of each inner L-BFGS solve (default 40). */
  maxOuter: number;
  innerSteps: number;
  /** Next-best z0 starts tried when the constrained search from the best one fails (default 2). */
  retries: number;
  /** Initial penalty ρ (default 1), multiplied by 10 (up to 1e4) when the violation shrank less than 4×. */
  penalty: number;
  progress?: Progress;
}

/** The CDeepEx/xGEMs variants: which constraints the constrained search keeps. */
export const CONTRAST_METHODS: Record<string, { inequalities: boolean }> = {
  cdeepex: { inequalities: true },
  xgems: { inequalities: false },
};

const PENALTY_MAX = 1e4;
const STALL_LIMIT = 8;

export interface Reconstruction { z0: Float32Array; generated: Float32Array; loss: number }

/**
 * (a) z0 = argmin ‖G(z) − I‖² by Adam from seeded N(0, I) starts; returns every start's end point,
 * best (smallest ‖G(z) − I‖²) first.
 */
export async function reconstruct(g: ContrastGraphs, image: Float32Array, o: SearchOptions): Promise<Reconstruction[]> {
  const L = g.latentRow.reduce((a, b) => a * b, 1);
  const P = image.length;
  const found: Reconstruction[] = [];
  const groups = g.batchStarts ? [o.starts] : Array(o.starts).fill(1);
  let done = 0;
  for (const rows of groups) {
    const target = new Float32Array(rows * P);
    for (let r = 0; r < rows; r++) target.set(image, r * P);
    const feeds = { [RECONSTRUCTION_IO.target]: floatTensor(target, [rows, ...g.imageRow]) };
    const z = normals(rows * L, o.seed + done);
    const loop = new AdamLoop(g.reconstruction, g.latent, floatTensor(z, [rows, ...g.latentRow]), { ...ADAM_DEFAULTS, lr: o.lr });
    for (let t = 1; t <= o.reconstructionSteps; t++) {
      const out = await loop.next(feeds, o.progress && t % 25 === 0 ? [RECONSTRUCTION_IO.loss] : []);
      if (out[RECONSTRUCTION_IO.loss]) o.progress!(t, o.reconstructionSteps, `z0 search: ‖G(z) − I‖² ${Math.min(...await hostData(out[RECONSTRUCTION_IO.loss])).toPrecision(4)}`);
    }
    const out = await loop.evaluate(feeds, [RECONSTRUCTION_IO.loss, g.generated]);
    const loss = (await hostData(out[RECONSTRUCTION_IO.loss])).slice();
    const zs = (await hostData(loop.iterate)).slice();
    const xs = (await hostData(out[g.generated])).slice();
    loss.forEach((v, r) => found.push({ z0: zs.slice(r * L, (r + 1) * L), generated: xs.slice(r * P, (r + 1) * P), loss: v }));
    done += rows;
  }
  return found.sort((a, b) => a.loss - b.loss);
}

export interface ConstraintReport {
  /** log-softmax of the logits at x(ze). */
  llh: number[];
  /** llh_A − llh_B. */
  equality: number;
  /** max over the other classes i of llh_i − min(llh_A, llh_B) (≤ 0 when the inequalities hold). */
  inequality: number;
  /** Every kept constraint within the tolerance. */
  satisfied: boolean;
}

export function constraintReport(logits: ArrayLike<number>, a: number, b: number, inequalities: boolean, tolerance: number): ConstraintReport {
  const l = Array.from(logits);
  const top = Math.max(...l);
  const lse = top + Math.log(l.reduce((s, v) => s + Math.exp(v - top), 0));
  const llh = l.map((v) => v - lse);
  const others = llh.filter((_, i) => i !== a && i !== b);
  const inequality = Math.max(...others) - Math.min(llh[a], llh[b]);
  const equality = llh[a] - llh[b];
  return { llh, equality, inequality, satisfied: Math.abs(equality) <= tolerance && (!inequalities || inequality <= tolerance) };
}

/**
 * (b) ze = argmin ‖z − z0‖² s.t. llh_A = llh_B (and, for CDeepEx, llh_A ≥ llh_i, llh_B ≥ llh_i),
 * with x(z) = G(z) + residual, by the augmented-Lagrangian method (Nocedal & Wright, Framework
 * 17.3, inequalities as in §17.4): each outer iteration minimises L_A(z; λ, μ, ρ) with L-BFGS
 * (warm start at the previous z, at most `innerSteps` graph runs), then sets λ ← λ + ρh,
 * μ_i ← max(0, μ_i + ρg_i), and multiplies ρ by 10 (up to 1e4) when the violation did not shrink
 * at least 4×. It stops when the violation is within the tolerance and z moved less than
 * 1e-3·(1 + ‖z‖) in the last iteration, or when the violation stopped shrinking at the largest penalty.
 */
export async function constrainedSearch(g: ContrastGraphs, z0: Float32Array, residual: Float32Array, a: number, b: number, inequalities: boolean, o: SearchOptions) {
  const K = g.classes;
  const io = CONSTRAINED_IO;
  const oneHot = (k: number) => { const v = new Float32Array(K); v[k] = 1; return v; };
  const others = new Float32Array(K);
  if (inequalities) others.forEach((_, i) => { others[i] = i === a || i === b ? 0 : 1; });
  const lambda = new Float32Array(1), rho = Float32Array.of(o.penalty);
  const muA = new Float32Array(K), muB = new Float32Array(K);
  const z = new Float32Array(z0.length);
  const feeds: Record<string, OrtTensor> = {
    [g.latent]: floatTensor(z, [1, ...g.latentRow]),
    [RESIDUAL]: floatTensor(residual, [1, ...g.imageRow]),
    [io.z0]: floatTensor(z0, [1, ...g.latentRow]),
    [io.classA]: floatTensor(oneHot(a), [1, K]), [io.classB]: floatTensor(oneHot(b), [1, K]), [io.others]: floatTensor(others, [1, K]),
    [io.lambda]: floatTensor(lambda, [1, 1]), [io.rho]: floatTensor(rho, [1, 1]),
    [io.muA]: floatTensor(muA, [1, K]), [io.muB]: floatTensor(muB, [1, K]),
  };
  const run = async (at: ArrayLike<number>, fetch: string[]) => {
    z.set(at);
    const out = await g.constrained.run(feeds, fetch);
    return Object.fromEntries(await Promise.all(fetch.map(async (k) => [k, await hostData(out[k])] as const)));
  };
  const evaluate = async (at: Float64Array) => {
    const out = await run(at, [io.objective, io.gradient]);
    return { value: out[io.objective][0], grad: Float64Array.from(out[io.gradient]) };
  };
  let current: Float64Array = Float64Array.from(z0);
  let previousViolation = Infinity;
  let stalled = 0;
  let outer = 0, inner = 0;
  for (outer = 1; outer <= o.maxOuter; outer++) {
    const solved = await lbfgs(evaluate, current, { maxEvals: o.innerSteps, gradTol: 1e-5 });
    inner += solved.evals;
    const moved = Math.hypot(...solved.x.map((v, k) => v - current[k]));
    current = solved.x;
    if (moved === 0) {
      // Stalled on a kink of the piecewise-linear network (no decrease along −∇ for any step): a
      // small seeded perturbation moves the next solve off it.
      const kick = normals(current.length, o.seed + outer);
      current = current.map((v, k) => v + 1e-2 * (1 + Math.abs(v)) * kick[k]);
    }
    const l = (await run(current, [g.logits]))[g.logits];
    const h = l[a] - l[b];
    let violation = Math.abs(h);
    lambda[0] += rho[0] * h;
    for (let i = 0; i < K; i++) {
      if (!others[i]) continue;
      const ga = l[i] - l[a], gb = l[i] - l[b];
      violation = Math.max(violation, ga, gb);
      muA[i] = Math.max(0, muA[i] + rho[0] * ga);
      muB[i] = Math.max(0, muB[i] + rho[0] * gb);
    }
    o.progress?.(outer, o.maxOuter, `constrained search: L_A ${solved.value.toPrecision(4)}, violation ${violation.toExponential(2)}`);
    if (violation <= o.tolerance && moved <= 1e-3 * (1 + Math.hypot(...current))) break;
    if (violation > 0.25 * previousViolation) {
      // At the largest penalty a violation that no longer shrinks will not: give up (reported).
      stalled = rho[0] === PENALTY_MAX && violation > 0.99 * previousViolation ? stalled + 1 : 0;
      if (stalled === STALL_LIMIT) break;
      rho[0] = Math.min(rho[0] * 10, PENALTY_MAX);
    }
    previousViolation = Math.min(violation, previousViolation);
  }
  const out = await run(current, [g.logits, g.generated]);
  return { ze: Float32Array.from(current), logits: out[g.logits].slice(), generated: out[g.generated].slice(), outer: Math.min(outer, o.maxOuter), inner };
}
