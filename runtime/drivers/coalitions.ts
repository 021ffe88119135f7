import type { AttributeOptions } from '../explainer';
import { OrtTensor } from '../backend';
import { featureGroups } from './feature-ablation';
import { Job } from './perturbation';

// Coalitions of feature groups, shared by the Shapley, KernelShap and LIME drivers.

/** The groups of each row, in mask-id order. */
export function rowGroups(x: OrtTensor, options: AttributeOptions): Job[][] {
  const byRow: Job[][] = Array.from({ length: x.dims[0] }, () => []);
  for (const job of featureGroups(x, options)) byRow[job.row].push(job);
  return byRow;
}

/** The perturbed row in which only the groups of row `row` flagged in `kept` keep x's values; the others take the fill. */
export function coalition(groups: Job[], row: number, kept: (g: number) => boolean): Job {
  const replaced = groups.filter((_, g) => !kept(g));
  const indices = new Int32Array(replaced.reduce((a, j) => a + j.indices.length, 0));
  let at = 0;
  for (const j of replaced) { indices.set(j.indices, at); at += j.indices.length; }
  return { row, indices };
}

/** Each feature gets its group's value φ (per row, in group order). */
export function spread(x: OrtTensor, byRow: Job[][], phi: Float64Array[]): Float32Array {
  const per = x.size / x.dims[0];
  const out = new Float32Array(x.size);
  byRow.forEach((groups, r) => groups.forEach((job, g) => { for (const i of job.indices) out[r * per + i] = phi[r][g]; }));
  return out;
}
