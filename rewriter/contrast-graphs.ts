import { emitBackward } from './backward';
import { Emitter } from './emitter';
import { freeNames, GraphView, TensorFacts } from './graph-view';
import { ADAM_IO, AdamNames, AdamOptions, withAdam } from './adam-step';
import { batchDims } from './augment';
import { objectiveModel } from './objective-model';
import { DataType, ModelProto, valueInfo } from './proto';
import { gradientRules } from '../rules/registry';

export const RECONSTRUCTION_IO = { target: 'target', loss: 'loss', gradient: 'gradient' };
export type ReconstructionNames = typeof RECONSTRUCTION_IO & AdamNames;

/** The reconstruction graph's own names for a generator: RECONSTRUCTION_IO and ADAM_IO made free of its tensor names. */
export const reconstructionNames = (view: GraphView): ReconstructionNames => freeNames(view, { ...RECONSTRUCTION_IO, ...ADAM_IO });

/**
 * ‖G(z) − target‖² per row and its gradient 2·J_Gᵀ(G(z) − target) w.r.t. z, on the generator's
 * graph (CDeepEx step (a)). Inputs: z and `target`; outputs `loss`, `gradient` and G(z).
 */
export function buildReconstruction(spec: { view: GraphView; facts: TensorFacts; latent: string; generated: string; adam?: AdamOptions; names?: ReconstructionNames }): ModelProto {
  const { view, facts, latent, generated } = spec;
  const io = spec.names ?? reconstructionNames(view);
  const em = Emitter.joining(view);
  const diff = em.sub(generated, io.target);
  const rowAxes = facts.shapes.get(generated)!.slice(1).map((_, k) => k + 1);
  em.rename(em.reduceSum(em.mul(diff, diff), rowAxes, false), io.loss);
  const seed = em.mul(diff, em.scalar(2));
  const [grad] = emitBackward({ view, facts, em, table: gradientRules, options: {}, wrt: [latent], from: generated, seed }).values();
  em.rename(grad, io.gradient);
  const zDims = batchDims(facts, latent);
  const xDims = batchDims(facts, generated);
  const adam = withAdam(em, spec.adam && { ...spec.adam, param: latent, grad: io.gradient, ascent: false, names: io }, zDims);
  return objectiveModel(view, em, [valueInfo(latent, DataType.FLOAT, zDims), valueInfo(io.target, DataType.FLOAT, xDims), ...adam.inputs], [
    { name: io.loss, dims: ['N'] },
    { name: io.gradient, dims: zDims },
    { name: generated, dims: xDims },
    ...adam.outputs,
  ]);
}

export const CONSTRAINED_IO = {
  z0: 'z0', classA: 'class_a', classB: 'class_b', others: 'others', lambda: 'lambda', rho: 'rho', muA: 'mu_a', muB: 'mu_b',
  objective: 'objective', gradient: 'gradient',
};
export type ConstrainedNames = typeof CONSTRAINED_IO;

/** The constrained search graph's own names for a composed model: CONSTRAINED_IO made free of its tensor names. */
export const constrainedNames = (view: GraphView): ConstrainedNames => freeNames(view, CONSTRAINED_IO);

/**
 * The augmented Lagrangian of CDeepEx step (b) (Nocedal & Wright eq. 17.65 with the inequality
 * term of §17.4) and its gradient w.r.t. z, on the composed graph D(G(z) + residual):
 *   L = ‖z − z0‖² + λh + ρ/2·h² + Σ_i [max(0, μ_i + ρ·g_i)² − μ_i²] / (2ρ),
 * with ℓ the classifier's logits, h = ℓ_A − ℓ_B and g_i = ℓ_i − ℓ_A, ℓ_i − ℓ_B (i in `others`).
 * Log-softmax differences equal logit differences, so llh_A = llh_B ⇔ h = 0 and llh_i ≤ llh_A ⇔
 * ℓ_i − ℓ_A ≤ 0. The seed on the logits, ∂L/∂ℓ = (λ + ρh)(e_A − e_B) + Σ_i c_i(e_i − e_A) +
 * Σ_i c'_i(e_i − e_B) with c = max(0, μ + ρg), is computed in the graph; the multipliers (λ, μ),
 * penalty ρ and class masks are inputs ([N,1] and [N,K]), so the loop never rebuilds the graph.
 * xGEMs: `others` all zero. Outputs `objective`, `gradient`, the logits and G(z).
 */
export function buildConstrained(spec: { view: GraphView; facts: TensorFacts; latent: string; generated: string; logits: string; names?: ConstrainedNames }): ModelProto {
  const { view, facts, latent, generated, logits } = spec;
  const io = spec.names ?? constrainedNames(view);
  const em = Emitter.joining(view);
  const classAxis = [1];
  const pick = (onehot: string) => em.reduceSum(em.mul(logits, onehot), classAxis, true);
  const la = pick(io.classA);
  const lb = pick(io.classB);
  const h = em.sub(la, lb);
  const active = (mu: string, ref: string) => em.mul(em.op('Relu', [em.add(mu, em.mul(io.rho, em.sub(logits, ref)))]), io.others);
  const ca = active(io.muA, la);
  const cb = active(io.muB, lb);
  const q = em.add(io.lambda, em.mul(io.rho, h));
  const seed = em.sum([
    em.mul(q, em.sub(io.classA, io.classB)), ca, cb,
    em.neg(em.mul(io.classA, em.reduceSum(ca, classAxis, true))),
    em.neg(em.mul(io.classB, em.reduceSum(cb, classAxis, true))),
  ]);
  const [penaltyGrad] = emitBackward({ view, facts, em, table: gradientRules, options: {}, wrt: [latent], from: logits, seed }).values();
  const dz = em.sub(latent, io.z0);
  em.rename(em.add(em.mul(dz, em.scalar(2)), penaltyGrad), io.gradient);
  const zAxes = facts.shapes.get(latent)!.slice(1).map((_, k) => k + 1);
  const square = (t: string) => em.mul(t, t);
  const inequality = em.sub(em.add(square(ca), square(cb)), em.mul(em.add(square(io.muA), square(io.muB)), io.others));
  const perRow = (t: string) => em.squeeze(t, [1]);
  em.rename(em.sum([
    em.reduceSum(square(dz), zAxes, false),
    perRow(em.mul(io.lambda, h)),
    perRow(em.mul(em.mul(io.rho, em.scalar(0.5)), square(h))),
    perRow(em.div(em.reduceSum(inequality, classAxis, true), em.mul(io.rho, em.scalar(2)))),
  ]), io.objective);
  const zDims = batchDims(facts, latent);
  const lDims = batchDims(facts, logits);
  const row = (name: string, dims: (number | string)[]) => valueInfo(name, DataType.FLOAT, dims);
  const inputs = [
    row(latent, zDims), ...view.inputs.filter((i) => i.name !== latent).map((i) => row(i.name!, batchDims(facts, i.name!))),
    row(io.z0, zDims), row(io.classA, lDims), row(io.classB, lDims), row(io.others, lDims),
    row(io.lambda, ['N', 1]), row(io.rho, ['N', 1]), row(io.muA, lDims), row(io.muB, lDims),
  ];
  return objectiveModel(view, em, inputs, [
    { name: io.objective, dims: ['N'] },
    { name: io.gradient, dims: zDims },
    { name: logits, dims: lDims },
    { name: generated, dims: batchDims(facts, generated) },
  ]);
}
