import { ConstrainedNames, ReconstructionNames } from '../../rewriter/contrast-graphs';
import { RESIDUAL } from '../../rewriter/compose';
import { ADAM_DEFAULTS, AdamLoop } from './adam-loop';
import { OrtTensor } from '../backend';
import { Progress } from '../progress';
import { floatTensor, permuteRow } from '../tensors';
import { hostData, LoopSession } from './loop-session';
import { gaussNewton, Linearisation } from './gauss-newton';
import { lbfgs } from './lbfgs';
import { normals } from '../random';
import { lookupTable } from '../../rewriter/lookup-table';

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
  /** Where G writes channels-last and D reads channels-first or back: D's row axis i is G's axis layout[i] (compose's Transpose). */
  layout?: number[];
  classes: number;
  /** Starts of the z0 search run together (1 when the generator fixes batch 1). */
  batchStarts: boolean;
  /** Rows of the constrained graph run together (false when the generator or the classifier fixes batch 1). */
  batchConstrained: boolean;
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
  /** Augmented-Lagrangian iterations (default 40) and most graph runs of each inner solve (default 40). */
  maxOuter: number;
  innerSteps: number;
  /** Restarts of the constrained search when the one from z0 fails (default 3; see constrainedSearch). */
  retries: number;
  /** Initial penalty ρ (default 1), multiplied by 10 (up to 1e4) when the violation shrank less than 4×. */
  penalty: number;
  progress?: Progress;
}

/** The CDeepEx/xGEMs variants: which constraints the constrained search keeps. */
const contrastMethods = lookupTable({
  cdeepex: { inequalities: true },
  xgems: { inequalities: false },
});

export type ContrastMethod = keyof typeof contrastMethods;

export const CONTRAST_METHODS: Record<string, { inequalities: boolean }> = contrastMethods;

const PENALTY_MAX = 1e4;
const STALL_LIMIT = 8;
/** Seeded prior samples ranked as restart points. */
const ANCHORS = 64;
/** `normals`' streams of one seed: the z0 search's starts take 0 … starts − 1, then the kicks off a stall, then the restart anchors. */
const KICK_STREAMS = 1 << 16;
const ANCHOR_STREAM = 1 << 20;
/** ρ of the rows that probe a logit difference's gradient: its h² term is then below float32's resolution. */
const PROBE_RHO = 1e-20;

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
    const own = toGenerated(g, image);
    for (let r = 0; r < rows; r++) target.set(own, r * P);
    const feeds = { [io.target]: floatTensor(target, [rows, ...g.generatedRow]) };
    const z = normals(rows * L, o.seed, done);
    const loop = new AdamLoop(g.reconstruction, g.latent, floatTensor(z, [rows, ...g.latentRow]), { ...ADAM_DEFAULTS, lr: o.lr }, io);
    for (let t = 1; t <= o.reconstructionSteps; t++) {
      const out = await loop.next(feeds, o.progress && t % 25 === 0 ? [io.loss] : []);
      if (out[io.loss]) o.progress!(t, o.reconstructionSteps, `z0 search: ‖G(z) − I‖² ${Math.min(...await hostData(out[io.loss])).toPrecision(4)}`);
    }
    const out = await loop.evaluate(feeds, [io.loss, g.generated]);
    const loss = (await hostData(out[io.loss])).slice();
    const zs = await loop.result();
    const xs = (await hostData(out[g.generated])).slice();
    loss.forEach((v, r) => found.push({ z0: zs.slice(r * L, (r + 1) * L), generated: toImage(g, xs.slice(r * P, (r + 1) * P)), loss: v }));
    done += rows;
  }
  return found.sort((a, b) => a.loss - b.loss);
}

/** G's output row in D's layout (the image's), and an image in G's layout. */
function toImage(g: ContrastGraphs, generated: Float32Array): Float32Array {
  return g.layout ? permuteRow(generated, g.generatedRow, g.layout) : generated;
}

function toGenerated(g: ContrastGraphs, image: Float32Array): Float32Array {
  if (!g.layout) return image;
  const inverse = g.layout.map((_, i) => g.layout!.indexOf(i));
  return permuteRow(image, g.imageRow, inverse);
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
  /** The point `value` last evaluated and its logits, which `linearise` at the same point reuses. */
  private seen?: { at: Float64Array; logits: Float32Array };

  constructor(readonly g: ContrastGraphs, readonly z0: Float32Array, private readonly residual: Float32Array, readonly a: number, readonly b: number, inequalities: boolean, penalty: number) {
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

  /** L_A at z from the logits there (float64 on the host; the graph's `objective` in float32). */
  async value(at: Float64Array): Promise<number> {
    const l = await this.logits(at);
    this.seen = { at, logits: l };
    return this.lagrangian(at, l);
  }

  private lagrangian(at: Float64Array, l: Float32Array): number {
    const rho = this.rho[0];
    const h = l[this.a] - l[this.b];
    let v = this.lambda[0] * h + (rho / 2) * h * h;
    for (let k = 0; k < at.length; k++) v += (at[k] - this.z0[k]) ** 2;
    for (let i = 0; i < l.length; i++) {
      if (!this.others[i]) continue;
      for (const [mu, ref] of [[this.muA, this.a], [this.muB, this.b]] as const) v += (Math.max(0, mu[i] + rho * (l[i] - l[ref])) ** 2 - mu[i] ** 2) / (2 * rho);
    }
    return v;
  }

  /**
   * L_A, its gradient and the gradient rows of the equality and of the active inequalities at z,
   * from one batched run: row 0 is the subproblem itself, row 1 + j probes ∇(ℓ_A − ℓ_k) for class k
   * (class_b = e_k, λ = 1, ρ ≈ 0, no inequalities: its gradient is 2(z − z0) + ∇(ℓ_A − ℓ_k)).
   */
  async linearise(at: Float64Array): Promise<Linearisation> {
    const l = this.seen?.at === at ? this.seen.logits : await this.logits(at);
    const rho = this.rho[0];
    const active: { k: number; ref: number }[] = [];
    for (let i = 0; i < l.length; i++) {
      if (!this.others[i]) continue;
      if (this.muA[i] + rho * (l[i] - l[this.a]) > 0) active.push({ k: i, ref: this.a });
      if (this.muB[i] + rho * (l[i] - l[this.b]) > 0) active.push({ k: i, ref: this.b });
    }
    const probes = [this.b, ...new Set(active.map((c) => c.k))];
    const grads = await this.probeGradients(at, probes);
    const diff = (k: number) => grads.get(k)!; // ∇(ℓ_A − ℓ_k)
    const db = diff(this.b);
    const rows = [db, ...active.map(({ k, ref }) => (ref === this.a ? diff(k).map((v) => -v) : db.map((v, j) => v - diff(k)[j])))];
    return { value: this.lagrangian(at, l), grad: grads.get(-1)!, rows, rho };
  }

  /** ∇L_A (key −1) and ∇(ℓ_A − ℓ_k) for each probed k, in one run of 1 + probes rows (one run per row where the graph fixes batch 1). */
  private async probeGradients(at: Float64Array, probes: number[]): Promise<Map<number, Float64Array>> {
    const io = this.g.names.constrained;
    const K = this.g.classes;
    const all = [-1, ...probes];
    const batches = this.g.batchConstrained ? [all] : all.map((k) => [k]);
    const out = new Map<number, Float64Array>();
    const L = at.length;
    const P = this.residual.length;
    for (const batch of batches) {
      const n = batch.length;
      const rows = (size: number, row: (k: number) => ArrayLike<number>) => { const t = new Float32Array(n * size); batch.forEach((k, r) => t.set(row(k), r * size)); return t; };
      const oneHot = (c: number) => { const v = new Float32Array(K); v[c] = 1; return v; };
      const none = new Float32Array(K);
      const own = (k: number) => k < 0;
      const feeds: Record<string, OrtTensor> = {
        [this.g.latent]: floatTensor(rows(L, () => at), [n, ...this.g.latentRow]),
        [RESIDUAL]: floatTensor(rows(P, () => this.residual), [n, ...this.g.imageRow]),
        [io.z0]: floatTensor(rows(L, () => this.z0), [n, ...this.g.latentRow]),
        [io.classA]: floatTensor(rows(K, () => oneHot(this.a)), [n, K]),
        [io.classB]: floatTensor(rows(K, (k) => oneHot(own(k) ? this.b : k)), [n, K]),
        [io.others]: floatTensor(rows(K, (k) => (own(k) ? this.others : none)), [n, K]),
        [io.lambda]: floatTensor(rows(1, (k) => [own(k) ? this.lambda[0] : 1]), [n, 1]),
        [io.rho]: floatTensor(rows(1, (k) => [own(k) ? this.rho[0] : PROBE_RHO]), [n, 1]),
        [io.muA]: floatTensor(rows(K, (k) => (own(k) ? this.muA : none)), [n, K]),
        [io.muB]: floatTensor(rows(K, (k) => (own(k) ? this.muB : none)), [n, K]),
      };
      const g = await hostData((await this.g.constrained.run(feeds, [io.gradient]))[io.gradient]);
      batch.forEach((k, r) => out.set(k, Float64Array.from({ length: L }, (_, j) => g[r * L + j] - (own(k) ? 0 : 2 * (at[j] - this.z0[j])))));
    }
    return out;
  }
}

/**
 * (b) ze = argmin ‖z − z0‖² s.t. llh_A = llh_B (and, for CDeepEx, llh_A ≥ llh_i, llh_B ≥ llh_i),
 * with x(z) = G(z) + residual, by the augmented-Lagrangian method (Nocedal & Wright, Framework
 * 17.3, inequalities as in §17.4), started at `start`: each outer iteration minimises
 * L_A(z; λ, μ, ρ) with the inner solver (warm start at the previous z, at most `innerSteps`
 * graph runs), then sets λ ← λ + ρh, μ_i ← max(0, μ_i + ρg_i), and multiplies ρ by 10 (up to 1e4) when the violation
 * did not shrink at least 4×. It stops when the violation is within the tolerance and z moved less
 * than 1e-3·(1 + ‖z‖) in the last iteration, or when the violation stopped shrinking at the largest penalty.
 */
async function augmentedLagrangian(p: ConstrainedProblem, start: Float32Array, o: SearchOptions, inner: InnerSolver) {
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
  let outer = 0, evals = 0;
  for (outer = 1; outer <= o.maxOuter; outer++) {
    const budget = { maxEvals: o.innerSteps, gradTol: 1e-5 };
    const solved = inner === 'gauss-newton' && rho[0] < PENALTY_MAX ? await gaussNewton((x) => p.value(x), (x) => p.linearise(x), current, budget) : await lbfgs(evaluate, current, budget);
    evals += solved.evals;
    const moved = Math.hypot(...solved.x.map((v, k) => v - current[k]));
    current = solved.x;
    if (moved === 0) {
      // Stalled on a kink of the piecewise-linear network (no decrease along −∇ for any step): a
      // small seeded perturbation moves the next solve off it.
      const kick = normals(current.length, o.seed, KICK_STREAMS + outer);
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
  return { ze: Float32Array.from(current), outer: Math.min(outer, o.maxOuter), inner: evals };
}

/**
 * Restart points for a search from z0 (deep in A's region, the path towards B can run
 * into a third class the penalty cannot push down): seeded prior samples z ~ N(0, I) on B's side,
 * those D(G(z) + residual) assigns to B first (xGEMs: ℓ_B > ℓ_A), each group nearest to z0 first.
 */
async function restartPoints(p: ConstrainedProblem, o: SearchOptions): Promise<Float32Array[]> {
  const L = p.z0.length;
  const samples = normals(ANCHORS * L, o.seed, ANCHOR_STREAM);
  const ranked: { z: Float32Array; key: number }[] = [];
  for (let k = 0; k < ANCHORS; k++) {
    const z = samples.slice(k * L, (k + 1) * L);
    const l = await p.logits(z);
    const bTop = l.every((v, i) => !p.others[i] || v <= l[p.b]) && l[p.b] > l[p.a];
    ranked.push({ z, key: (bTop ? 0 : 1e6) + Math.hypot(...z.map((v, j) => v - p.z0[j])) });
  }
  return ranked.sort((u, v) => u.key - v.key).map((r) => r.z);
}

/**
 * The inner solver of the augmented Lagrangian: L-BFGS, or Gauss–Newton on the penalty terms while
 * the penalty grows (L-BFGS once it is at its largest: there Gauss–Newton's steps across the
 * piecewise-linear networks' kinks stall and inflate the multipliers).
 */
type InnerSolver = 'lbfgs' | 'gauss-newton';

export interface ConstrainedResult { ze: Float32Array; logits: Float32Array; generated: Float32Array; outer: number; inner: number; report: ConstraintReport }

/**
 * (b) The constrained search: the augmented Lagrangian from z0, once with each inner solver (they
 * end at different local minima where the path from z0 crosses other classes' regions: the
 * Gauss–Newton steps keep every linearised constraint in view, the L-BFGS ones trade one against
 * another); it is restarted (λ, μ, ρ reset; the objective still ‖z − z0‖²) from `restartPoints`:
 * once where the L-BFGS one met every constraint (a local minimum from z0 can lie farther than one
 * reached from B's side: 1.9× on a study case), else `retries` times, and further (up to 4·retries)
 * until one end point meets every constraint. Kept: the end point nearest z0 among those that meet
 * them, else the least violating.
 */
export async function constrainedSearch(g: ContrastGraphs, z0: Float32Array, residual: Float32Array, a: number, b: number, inequalities: boolean, o: SearchOptions): Promise<ConstrainedResult> {
  const p = new ConstrainedProblem(g, z0, residual, a, b, inequalities, o.penalty);
  let outer = 0, inner = 0;
  const search = async (start: Float32Array, solver: InnerSolver = 'lbfgs'): Promise<ConstrainedResult> => {
    const r = await augmentedLagrangian(p, start, o, solver);
    outer += r.outer;
    inner += r.inner;
    const out = await p.run(r.ze, [g.logits, g.generated]);
    const logits = out[g.logits].slice();
    return { ze: r.ze, logits, generated: toImage(g, out[g.generated].slice()), outer, inner, report: constraintReport(logits, a, b, inequalities, o.tolerance) };
  };
  const violation = (r: ConstraintReport) => Math.max(Math.abs(r.equality), inequalities ? r.inequality : -Infinity);
  const distance = (r: ConstrainedResult) => Math.hypot(...r.ze.map((v, j) => v - z0[j]));
  const nearer = (r: ConstrainedResult, best: ConstrainedResult) =>
    r.report.satisfied ? !best.report.satisfied || distance(r) < distance(best) : !best.report.satisfied && violation(r.report) < violation(best.report);
  const fromZ0 = await search(z0);
  const second = await search(z0, 'gauss-newton');
  let best = nearer(second, fromZ0) ? second : fromZ0;
  if (o.retries === 0) return { ...best, outer, inner };
  const starts = await restartPoints(p, o);
  inner += starts.length;
  for (const [k, start] of starts.slice(0, 4 * o.retries).entries()) {
    if (k >= (fromZ0.report.satisfied ? 1 : o.retries) && best.report.satisfied) break;
    const r = await search(start);
    if (nearer(r, best)) best = r;
  }
  return { ...best, outer, inner };
}
