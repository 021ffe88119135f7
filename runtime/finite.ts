import { ExplainError } from '../rewriter/errors';
import { GraphView } from '../rewriter/graph-view';
import { ModelProto, NodeProto } from '../rewriter/proto';
import { mapMethods } from '../rewriter/maps';
import { methods } from '../rules/methods';
import { REFERENCE_RUN } from './method-options';
import { RuleOptions } from '../rules/types';
import { LRP_LAYER_RULES, rulesUsed } from '../rules/methods/lrp-composites';
import { OrtFeeds, OrtTensor } from './backend';
import type { AttributeOptions, Explainer } from './explainer';
import { cpuSession, exposeAll } from './probe';
import { floatTensor, splitFeeds } from './tensors';

export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/** Refuses a tensor with NaN or ±Inf: results computed from it would be silently wrong. */
export function requireFinite(data: ArrayLike<number>, what: string, given: ArrayLike<unknown> = data): void {
  const k = firstNonFinite(data);
  // A float64 value the float32 copy could not hold became ±Infinity there.
  if (k >= 0 && Number.isFinite(given[k])) throw new ExplainError(`${what} holds ${given[k]} at flat index ${k}, which overflows float32 (the model runs in float32)`);
  if (k >= 0) throw new ExplainError(`${what} holds ${data[k]} at flat index ${k}; only finite values can be explained`);
}

/** Numeric and choice options of the rules, checked before any graph is built. */
export function checkRuleOptions(o: RuleOptions & { onehotAxis?: number; method?: string }): void {
  const nonNegative = (v: number | undefined, name: string) => {
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new ExplainError(`${name} ${v} must be a finite number ≥ 0`);
  };
  nonNegative(o.epsilon, 'epsilon');
  nonNegative(o.stabilizer, 'stabilizer');
  nonNegative(o.alpha, 'alpha');
  nonNegative(o.beta, 'beta');
  if (o.maxpoolRule !== undefined && !['deeplift', 'shapley'].includes(o.maxpoolRule)) throw new ExplainError(`maxpoolRule '${o.maxpoolRule}' is not deeplift or shapley`);
  if (o.lrpMaxpool !== undefined && !['winner', 'epsilon'].includes(o.lrpMaxpool)) throw new ExplainError(`lrpMaxpool '${o.lrpMaxpool}' is not winner or epsilon`);
  if (o.onehotAxis !== undefined && !Number.isSafeInteger(o.onehotAxis)) throw new ExplainError(`onehotAxis ${o.onehotAxis} is not an integer`);
  nonNegative(o.gamma, 'gamma');
  if (o.multiplyByInputs !== undefined && typeof o.multiplyByInputs !== 'boolean') throw new ExplainError(`multiplyByInputs ${String(o.multiplyByInputs)} is not true or false`);
  checkLrpOptions(o);
}

/** The layer rules' own options: `lrpRules`' rule names, and γ and the z^B bounds where a layer has their rule (and only there). */
function checkLrpOptions(o: RuleOptions & { method?: string }): void {
  if (o.lrpRules !== undefined) {
    if (typeof o.lrpRules !== 'object' || o.lrpRules === null || Array.isArray(o.lrpRules)) throw new ExplainError('lrpRules (--lrp-rule) maps layer names to rules: { name: rule }');
    for (const [name, rule] of Object.entries(o.lrpRules)) {
      if (!(LRP_LAYER_RULES as readonly string[]).includes(rule)) throw new ExplainError(`lrpRules (--lrp-rule): '${name}': '${rule}' is not one of ${LRP_LAYER_RULES.join(', ')}`);
    }
  }
  const bounds = [['boxLow', '--box-low', o.boxLow], ['boxHigh', '--box-high', o.boxHigh]] as const;
  for (const [name, flag, v] of bounds) {
    const finite = typeof v === 'number' ? Number.isFinite(v) : Array.isArray(v) && v.length > 0 && v.every((e) => typeof e === 'number' && Number.isFinite(e));
    if (v !== undefined && !finite) throw new ExplainError(`${name} (${flag}) must be a finite number or a non-empty list of them (one per channel)`);
  }
  const at = (v: number | number[], k: number) => (typeof v === 'number' ? v : v[k]);
  if (Array.isArray(o.boxLow) && Array.isArray(o.boxHigh) && o.boxLow.length !== o.boxHigh.length) throw new ExplainError(`boxLow (--box-low) gives ${o.boxLow.length} values and boxHigh (--box-high) ${o.boxHigh.length}: one each per channel, or a number`);
  if (o.boxLow !== undefined && o.boxHigh !== undefined) {
    const n = Math.max(typeof o.boxLow === 'number' ? 1 : o.boxLow.length, typeof o.boxHigh === 'number' ? 1 : o.boxHigh.length);
    for (let k = 0; k < n; k++) {
      if (!(at(o.boxLow, k) < at(o.boxHigh, k))) throw new ExplainError(`boxLow (--box-low) must lie below boxHigh (--box-high) for every channel: ${at(o.boxLow, k)} and ${at(o.boxHigh, k)}${n > 1 ? ` at channel ${k}` : ''}`);
    }
  }
  const used = rulesUsed(o.method, o.lrpRules);
  if (o.gamma !== undefined && !used.includes('gamma')) throw new ExplainError('gamma (--gamma) is LRP-γ\'s: it applies to lrp-epsilon-gamma-box and to layers lrpRules (--lrp-rule) gives \'gamma\'');
  if ((o.boxLow !== undefined || o.boxHigh !== undefined) && !used.includes('zbox')) throw new ExplainError('boxLow and boxHigh (--box-low, --box-high) are the z^B rule\'s: they apply to lrp-epsilon-gamma-box and to layers lrpRules (--lrp-rule) gives \'zbox\'');
}

type NodeValues = { node: NodeProto; name: string; data: Float32Array }[];

/** Every node's float outputs for these feeds, in graph order from node `from` on (the graph run with every intermediate tensor exposed). */
async function nodeValues(model: ModelProto, feeds: OrtFeeds, from = 0): Promise<NodeValues> {
  const view = new GraphView(model);
  const session = await cpuSession(exposeAll(model));
  try {
    const out = await session.run(feeds);
    return view.nodes.slice(from).flatMap((node) => (node.output ?? []).flatMap((name) => {
      const t = out[name] as OrtTensor | undefined;
      return t && (t.type === 'float32' || t.type === 'float64') ? [{ node, name, data: t.data as Float32Array }] : [];
    }));
  } finally {
    await session.release();
  }
}

const nodeName = ({ node, name }: { node: NodeProto; name: string }) => `node '${node.name || name}' (${node.op_type})`;

/**
 * The first node whose output holds a non-finite value `counts`, said as "node 'n' (Op) gives v in 'o'".
 * ±Inf inside a model whose outputs hold neither NaN nor +Inf is meant (a −Inf attention mask, masked classes): there only NaN counts.
 */
function firstGiving(values: NodeValues, counts: (v: number) => boolean): string | undefined {
  for (const t of values) {
    const k = t.data.findIndex(counts);
    if (k >= 0) return `${nodeName(t)} gives ${t.data[k]} in '${t.name}'`;
  }
  return undefined;
}

const nonFinite = (v: number) => !Number.isFinite(v);

/** What an output may not hold: NaN or +Inf (−Inf is a class the model masks). */
export const brokenOutput = (v: number) => Number.isNaN(v) || v === Infinity;

/**
 * The first node whose output differs between the input's and the baseline's pass by an infinite
 * amount (a −Inf mask that covers other positions on each pass): δy/δx is not defined there.
 */
function infiniteDelta(onInput: NodeValues, onBaseline: NodeValues): string | undefined {
  for (let i = 0; i < onInput.length; i++) {
    const [a, b] = [onInput[i].data, onBaseline[i].data];
    if (a.length !== b.length) continue;
    const k = a.findIndex((v, j) => (Number.isFinite(v) !== Number.isFinite(b[j])) || (!Number.isFinite(v) && v !== b[j]));
    if (k >= 0) return `the input's and the baseline's passes differ by an infinite amount at ${nodeName(onInput[i])} ('${onInput[i].name}' holds ${a[k]} against ${b[k]}: a mask computed from the explained input), where a reference method's δy/δx has no value; use integrated-gradients or gradient`;
  }
  return undefined;
}

/**
 * Where a NaN or ±Inf in a result comes from, searched in each of `runs` (a method's one-graph runs,
 * e.g. DeepLiftShap's DeepLIFT against each baseline row, each with a label).
 */
export async function locateNonFiniteIn(ex: Explainer, x: OrtTensor, runs: { options: AttributeOptions; label?: string }[], targets: number[], perturbs = false): Promise<string> {
  for (const { options, label } of runs) {
    const found = await locateNonFinite(ex, x, options, targets);
    if (found) return label ? `${found} (${label})` : found;
  }
  if (!perturbs) return 'no single node gives one on its own';
  const { layer, fill, baseline } = runs[0].options;
  const replaced = fill !== undefined ? `the fill ${fill}` : baseline ? 'the baseline' : 'zeros (the default baseline)';
  return `the model gives none on the input or the baseline, so its runs on copies of ${layer ? `layer '${layer}'` : 'the input'} with features replaced by ${replaced} do (a value it divides by or takes the log of): choose another --fill or --baseline`;
}

/**
 * The first node giving a NaN or ±Inf in the model on the input, on the baseline, the first where
 * the two passes differ by an infinite amount, or in the one-graph method's backward pass
 * (perturbation methods run the model itself, so the first two cover them).
 */
async function locateNonFinite(ex: Explainer, x: OrtTensor, options: AttributeOptions, targets: number[]): Promise<string | undefined> {
  const rowDims = x.dims.slice(1);
  const prepared = await ex.prepare(rowDims, options.onehotAxis, options.feeds);
  const name = options.method ?? 'gradient';
  const oneGraph = name in methods || name in mapMethods;
  // The run got here: steps on the path kept their values (checkStepsKept) or there are none.
  const augmented = oneGraph ? (await ex.augmented(rowDims, options, { stepsKept: true })).model : undefined;
  const takes = new Set((augmented?.graph?.input ?? []).map((i) => i.name));
  const values: OrtFeeds = { [ex.input.name]: x, ...ex.sideFeeds(x, options.feeds) };
  const takesBaseline = [...takes].some((n) => n === ex.io.baseline || n?.startsWith(`${ex.io.baseline}:`));
  // One reference per explained input, in the order of ex.explained.
  // Paths built from a zero reference without a baseline input (integrated gradients) run the model there too.
  const references = takesBaseline || options.baseline || options.baselines || REFERENCE_RUN.includes(name) ? ex.referenceFeeds(options, values, false) : {};
  const feeds: OrtFeeds = { ...values, ...references };
  const { from } = ex.resolveOutput(options.output, options.explainSoftmax, options.method);
  if (takes.has(ex.io.seed)) {
    const shape = prepared.facts.shapes.get(from)!;
    const classes = shape.slice(1).reduce((a, d) => a * d, 1);
    const seed = new Float32Array(x.dims[0] * classes);
    targets.forEach((t, r) => { seed[r * classes + t] = 1; });
    feeds[ex.io.seed] = floatTensor(seed, [x.dims[0], ...shape.slice(1)]);
  }
  const model = prepared.view.model;
  // Non-finite values anywhere where the model's outputs hold NaN or +Inf, else NaN only (−Inf outputs are masked classes).
  const outputs = new Set((model.graph?.output ?? []).map((o) => o.name));
  const counting = (values: NodeValues) => (values.some((t) => outputs.has(t.name) && t.data.some(brokenOutput)) ? nonFinite : Number.isNaN);
  let first = 0;
  for (const f of prepared.batchDynamic ? [feeds] : splitFeeds(feeds, x.dims[0])) {
    const inputs = Object.fromEntries(Object.keys(values).map((k) => [k, f[k]]));
    const onInput = await nodeValues(model, inputs);
    const rows = f[ex.input.name].dims[0];
    const row0 = first;
    first += rows;
    // Per row, whether its explained value in a pass is −Inf (a class the model masks).
    const masked = (values: NodeValues) => {
      const explained = options.reduce ? undefined : values.find((t) => t.name === from);
      return Array.from({ length: rows }, (_, r) => explained?.data[r * (explained.data.length / rows) + targets[row0 + r]] === -Infinity);
    };
    const maskedRow = masked(onInput).indexOf(true);
    if (maskedRow >= 0) return `row ${row0 + maskedRow}: the explained value '${from}'[${targets[row0 + maskedRow]}] is -Infinity (a class the model masks); explain another target`;
    const inModel = firstGiving(onInput, counting(onInput));
    if (inModel) return `the model's ${inModel} for this input`;
    const atReference = Object.keys(references).map((k, i): [string, OrtTensor] => [ex.explained[i].name, f[k]]);
    if (atReference.length) {
      const onBaseline = await nodeValues(model, { ...inputs, ...Object.fromEntries(atReference) });
      // Finite at the input and −Inf at the baseline: the node that first gives −Inf there (a Log of zero).
      const inModel0 = firstGiving(onBaseline, masked(onBaseline).includes(true) ? nonFinite : counting(onBaseline));
      if (inModel0) return `the model's ${inModel0} for the baseline`;
      const apart = infiniteDelta(onInput, onBaseline);
      if (apart) return apart;
    }
    if (!augmented) continue;
    const inBackward = firstGiving(await nodeValues(augmented, Object.fromEntries(Object.entries(f).filter(([k]) => takes.has(k))), prepared.view.nodes.length), nonFinite);
    if (inBackward) return `${inBackward} of the ${name} graph${name.startsWith('lrp') ? ' (a larger epsilon avoids divisions by zero)' : ''}`;
  }
  return undefined;
}
