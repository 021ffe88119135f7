import { ExplainError } from '../rewriter/errors';
import { GraphView } from '../rewriter/graph-view';
import { ModelProto } from '../rewriter/proto';
import { mapMethods } from '../rewriter/maps';
import { methods } from '../rules/methods';
import { RuleOptions } from '../rules/types';
import { OrtFeeds, OrtTensor } from './backend';
import type { AttributeOptions, Explainer } from './explainer';
import { cpuSession, exposeAll } from './probe';
import { floatTensor, splitFeeds } from './tensors';

export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** Refuses a tensor with NaN or ±Inf: results computed from it would be silently wrong. */
export function requireFinite(data: ArrayLike<number>, what: string): void {
  const k = firstNonFinite(data);
  if (k >= 0) throw new ExplainError(`${what} holds ${data[k]} at flat index ${k}; only finite values can be explained`);
}

/** Numeric and choice options of the rules, checked before any graph is built. */
export function checkRuleOptions(o: RuleOptions & { onehotAxis?: number }): void {
  const nonNegative = (v: number | undefined, name: string) => {
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new ExplainError(`${name} ${v} must be a finite number ≥ 0`);
  };
  nonNegative(o.epsilon, 'epsilon');
  nonNegative(o.alpha, 'alpha');
  nonNegative(o.beta, 'beta');
  if (o.maxpoolRule !== undefined && !['deeplift', 'shapley'].includes(o.maxpoolRule)) throw new ExplainError(`maxpoolRule '${o.maxpoolRule}' is not deeplift or shapley`);
  if (o.lrpMaxpool !== undefined && !['winner', 'epsilon'].includes(o.lrpMaxpool)) throw new ExplainError(`lrpMaxpool '${o.lrpMaxpool}' is not winner or epsilon`);
  if (o.onehotAxis !== undefined && !Number.isSafeInteger(o.onehotAxis)) throw new ExplainError(`onehotAxis ${o.onehotAxis} is not an integer`);
}

/**
 * The first node (in graph order, from node `from` on) whose output holds NaN or ±Inf for these
 * feeds, found by running the graph with every intermediate tensor exposed.
 */
async function firstNonFiniteNode(model: ModelProto, feeds: OrtFeeds, from = 0): Promise<string | undefined> {
  const view = new GraphView(model);
  const session = await cpuSession(exposeAll(model));
  try {
    const out = await session.run(feeds);
    for (const node of view.nodes.slice(from)) {
      for (const o of node.output ?? []) {
        const t = out[o] as OrtTensor | undefined;
        if (!t || (t.type !== 'float32' && t.type !== 'float64')) continue;
        const k = firstNonFinite(t.data as Float32Array);
        if (k >= 0) return `node '${node.name || o}' (${node.op_type}) gives ${(t.data as Float32Array)[k]} in '${o}'`;
      }
    }
    return undefined;
  } finally {
    await session.release();
  }
}

/**
 * Where a NaN or ±Inf in a result comes from: the first node giving one in the model on the input,
 * on the baseline, or in the one-graph method's backward pass (perturbation methods run the model
 * itself, so the first two cover them).
 */
export async function locateNonFinite(ex: Explainer, x: OrtTensor, options: AttributeOptions, targets: number[]): Promise<string> {
  const rowDims = x.dims.slice(1);
  const prepared = await ex.prepare(rowDims, options.onehotAxis);
  const name = options.method ?? 'gradient';
  const oneGraph = name in methods || name in mapMethods;
  const augmented = oneGraph ? (await ex.augmented(rowDims, options)).model : undefined;
  const takes = new Set((augmented?.graph?.input ?? []).map((i) => i.name));
  const values: OrtFeeds = { [ex.input.name]: x, ...ex.sideFeeds(x, options.feeds) };
  const takesBaseline = [...takes].some((n) => n === ex.io.baseline || n?.startsWith(`${ex.io.baseline}:`));
  // One reference per explained input, in the order of ex.explained.
  const references = takesBaseline || options.baseline || options.baselines ? ex.referenceFeeds(options, values, false) : {};
  const feeds: OrtFeeds = { ...values, ...references };
  if (takes.has(ex.io.seed)) {
    const { from } = ex.resolveOutput(options.output, options.explainSoftmax);
    const shape = prepared.facts.shapes.get(from)!;
    const classes = shape.slice(1).reduce((a, d) => a * d, 1);
    const seed = new Float32Array(x.dims[0] * classes);
    targets.forEach((t, r) => { seed[r * classes + t] = 1; });
    feeds[ex.io.seed] = floatTensor(seed, [x.dims[0], ...shape.slice(1)]);
  }
  const model = prepared.view.model;
  for (const f of prepared.batchDynamic ? [feeds] : splitFeeds(feeds, x.dims[0])) {
    const inputs = Object.fromEntries(Object.keys(values).map((k) => [k, f[k]]));
    const onInput = await firstNonFiniteNode(model, inputs);
    if (onInput) return `the model's ${onInput} for this input`;
    const atReference = Object.keys(references).map((k, i): [string, OrtTensor] => [ex.explained[i].name, f[k]]);
    const onBaseline = atReference.length > 0 && (await firstNonFiniteNode(model, { ...inputs, ...Object.fromEntries(atReference) }));
    if (onBaseline) return `the model's ${onBaseline} for the baseline`;
    if (!augmented) continue;
    const inBackward = await firstNonFiniteNode(augmented, Object.fromEntries(Object.entries(f).filter(([k]) => takes.has(k))), prepared.view.nodes.length);
    if (inBackward) return `${inBackward} of the ${name} graph${name.startsWith('lrp') ? ' (a larger epsilon avoids divisions by zero)' : ''}`;
  }
  return 'no single node gives one on its own';
}
