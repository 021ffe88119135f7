import { ConstrainedNames, ReconstructionNames } from '../../rewriter/contrast-graphs';
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
  /** The classifier's input row (images, the explanation), and G's output row: the same values, reshaped where the layouts differ. */
  imageRow: number[];
  generatedRow: number[];
  classes: number;
  /** Starts of the z0 search run together (1 when the generator fixes batch 1). */
  batchStarts: boolean;
  /** The two graphs' own input and output names. */
  names: { reconstruction: ReconstructionNames; constrained: ConstrainedNames };
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
  /** Restarts of the constrained search when the one from z0 fails (default 3; see constrainedSearch). */
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
/** Seeded prior samples ranked as restart points. */
const ANCHORS = 64;

export interface Reconstruction { z0: Float32Array; generated: Float32Array; loss: number }

/**
 * (a) z0 = argmin ‖G(z) − I‖² by Adam from seeded N(0, I) starts; returns every start's end point,
 * best (smallest ‖G(z) − I‖²) first.
 */
export async function reconstruct(g: ContrastGraphs, image: Float32Array, o: SearchOptions): Promise<Reconstruction[]> {
  const io = g.names.reconstruction;
  const L = g.latentRow.reduce((a, b) => a * b, 1);
  const P = image.length;
  const found: Reconstruction[] = [];
  const groups = g.batchStarts ? [o.starts] : Array(o.starts).fill(1);
  let done = 0;
  for (const rows of groups) {
    const target = new Float32Array(rows * P);
    for (let r = 0; r < rows; r++) target.set(image, r * P);
    const feeds = { [io.target]: floatTensor(target, [rows, ...g.generatedRow]) };
    const z = normals(rows * L, o.seed + done);
    const loop = new AdamLoop(g.reconstruction, g.latent, floatTensor(z, [rows, ...g.latentRow]), { ...ADAM_DEFAULTS, lr: o.lr }, io);
    for (let t = 1; t <= o.reconstructionSteps; t++) {
      const out = await loop.next(feeds, o.progress && t % 25 === 0 ? [io.loss] : []);
      if (out[io.loss]) o.progress!(t, o.reconstructionSteps, `z0 search: ‖G(z) − I‖² ${Math.min(...await hostData(out[io.loss])).toPrecision(4)}`);
    }
    const out = await loop.evaluate(feeds, [io.loss, g.generated]);
    const loss = (await hostData(out[io.loss])).slice();
    const zs = await loop.result();
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

/** The composed graph fed for one problem (z0, residual, classes A and B); each call is one graph run. */
class ConstrainedProblem {
  readonly lambda = new Float32Array(1);
  readonly rho: Float32Array;
  readonly muA: Float32Array;
  readonly muB: Float32Array;
  readonly others: Float32Array;
  private readonly z: Float32Array;
  private readonly feeds: Record<string, OrtTensor>;

  constructor(readonly g: ContrastGraphs, readonly z0: Float32Array, residual: Float32Array, readonly a: number, readonly b: number, inequalities: boolean, penalty: number) {
    const K = g.classes;
    const io = g.names.constrained;
    const oneHot = (k: number) => { const v = new Float32Array(K); v[k] = 1; return v; };
    this.others = new Float32Array(K);
    if (inequalities) this.others.forEach((_, i) => { this.others[i] = i === a || i === b ? 0 : 1; });
    this.rho = Float32Array.of(penalty);
    this.muA = new Float32Array(K);
    this.muB = new Float32Array(K);
    this.z = new Float32Array(z0.length);
    this.feeds = {
      [g.latent]: floatTensor(this.z, [1, ...g.latentRow]),
      [RESIDUAL]: floatTensor(residual, [1, ...g.imageRow]),
      [io.z0]: floatTensor(z0, [1, ...g.latentRow]),
      [io.classA]: floatTensor(oneHot(a), [1, K]), [io.classB]: floatTensor(oneHot(b), [1, K]), [io.others]: floatTensor(this.others, [1, K]),
      [io.lambda]: floatTensor(this.lambda, [1, 1]), [io.rho]: floatTensor(this.rho, [1, 1]),
      [io.muA]: floatTensor(this.muA, [1, K]), [io.muB]: floatTensor(this.muB, [1, K]),
    };
  }

  async run(at: ArrayLike<number>, fetch: string[]): Promise<Record<string, Float32Array>> {
    this.z.set(at);
    const out = await this.g.constrained.run(this.feeds, fetch);
    return Object.fromEntries(await Promise.all(fetch.map(async (k) => [k, await hostData(out[k])] as const)));
  }

  async logits(at: ArrayLike<number>): Promise<Float32Array> {
    return (await this.run(at, [this.g.logits]))[this.g.logits];
  }
}

/**
 * (b) ze = argmin ‖z − z0‖² s.t. llh_A = llh_B (and, for CDeepEx, llh_A ≥ llh_i, llh_B ≥ llh_i),
 * with x(z) = G(z) + residual, by the augmented-Lagrangian method (Nocedal & Wright, Framework
 * 17.3, inequalities as in §17.4), started at `start`: each outer iteration minimises
 * L_A(z; λ, μ, ρ) with L-BFGS (warm start at the previous z, at most `innerSteps` graph runs), then
 * sets λ ← λ + ρh, μ_i ← max(0, μ_i + ρg_i), and multiplies ρ by 10 (up to 1e4) when the violation
 * did not shrink at least 4×. It stops when the violation is within the tolerance and z moved less
 * than 1e-3·(1 + ‖z‖) in the last iteration, or when the violation stopped shrinking at the largest penalty.
 */
async function augmentedLagrangian(p: ConstrainedProblem, start: Float32Array, o: SearchOptions) {
  const io = p.g.names.constrained;
  const { lambda, rho, muA, muB, others } = p;
  lambda[0] = 0; rho[0] = o.penalty; muA.fill(0); muB.fill(0);
  const evaluate = async (at: Float64Array) => {
    const out = await p.run(at, [io.objective, io.gradient]);
    return { value: out[io.objective][0], grad: Float64Array.from(out[io.gradient]) };
  };
  let current: Float64Array = Float64Array.from(start);
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
    const l = await p.logits(current);
    const h = l[p.a] - l[p.b];
    let violation = Math.abs(h);
    lambda[0] += rho[0] * h;
    for (let i = 0; i < l.length; i++) {
      if (!others[i]) continue;
      const ga = l[i] - l[p.a], gb = l[i] - l[p.b];
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
  return { ze: Float32Array.from(current), outer: Math.min(outer, o.maxOuter), inner };
}

/**
 * Restart points for a search from z0 that failed (deep in A's region, the path towards B can run
 * into a third class the penalty cannot push down): seeded prior samples z ~ N(0, I) on B's side,
 * those D(G(z) + residual) assigns to B first (xGEMs: ℓ_B > ℓ_A), each group nearest to z0 first.
 */
async function restartPoints(p: ConstrainedProblem, o: SearchOptions): Promise<Float32Array[]> {
  const L = p.z0.length;
  const samples = normals(ANCHORS * L, o.seed + 7919);
  const ranked: { z: Float32Array; key: number }[] = [];
  for (let k = 0; k < ANCHORS; k++) {
    const z = samples.slice(k * L, (k + 1) * L);
    const l = await p.logits(z);
    const bTop = l.every((v, i) => !p.others[i] || v <= l[p.b]) && l[p.b] > l[p.a];
    ranked.push({ z, key: (bTop ? 0 : 1e6) + Math.hypot(...z.map((v, j) => v - p.z0[j])) });
  }
  return ranked.sort((u, v) => u.key - v.key).map((r) => r.z);
}

export interface ConstrainedResult { ze: Float32Array; logits: Float32Array; generated: Float32Array; outer: number; inner: number; report: ConstraintReport }

/**
 * (b) The constrained search: the augmented Lagrangian from z0; when its end point misses a
 * constraint, it is restarted (λ, μ, ρ reset; the objective still ‖z − z0‖²) from `restartPoints`:
 * `retries` of them, and further ones (up to 4·retries) until one end point meets every
 * constraint. Kept: the end point nearest z0 among those that meet them, else the least violating.
 */
export async function constrainedSearch(g: ContrastGraphs, z0: Float32Array, residual: Float32Array, a: number, b: number, inequalities: boolean, o: SearchOptions): Promise<ConstrainedResult> {
  const p = new ConstrainedProblem(g, z0, residual, a, b, inequalities, o.penalty);
  let outer = 0, inner = 0;
  const search = async (start: Float32Array): Promise<ConstrainedResult> => {
    const r = await augmentedLagrangian(p, start, o);
    outer += r.outer;
    inner += r.inner;
    const out = await p.run(r.ze, [g.logits, g.generated]);
    const logits = out[g.logits].slice();
    return { ze: r.ze, logits, generated: out[g.generated].slice(), outer, inner, report: constraintReport(logits, a, b, inequalities, o.tolerance) };
  };
  let best = await search(z0);
  if (best.report.satisfied || o.retries === 0) return best;
  const violation = (r: ConstraintReport) => Math.max(Math.abs(r.equality), inequalities ? r.inequality : -Infinity);
  const distance = (r: ConstrainedResult) => Math.hypot(...r.ze.map((v, j) => v - z0[j]));
  const starts = await restartPoints(p, o);
  inner += starts.length;
  for (const [k, start] of starts.slice(0, 4 * o.retries).entries()) {
    if (k >= o.retries && best.report.satisfied) break;
    const r = await search(start);
    const better = r.report.satisfied ? !best.report.satisfied || distance(r) < distance(best) : !best.report.satisfied && violation(r.report) < violation(best.report);
    if (better) best = r;
  }
  return { ...best, outer, inner };
}
