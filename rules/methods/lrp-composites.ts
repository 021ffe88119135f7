import { ExplainError } from '../../rewriter/errors';
import { GraphView, valueDependent } from '../../rewriter/graph-view';
import { lookupTable } from '../../rewriter/lookup-table';
import type { NodeProto } from '../../rewriter/proto';
import { RuleContext } from '../types';
import { WEIGHTED } from './lrp-layers';

/** The rules a layer with constant weights can be given (per layer by `lrpRules`, per kind of layer by a composite). */
export const LRP_LAYER_RULES = ['epsilon', 'zplus', 'alpha2-beta1', 'gamma', 'flat', 'wsquare', 'zbox'] as const;
export type LrpLayerRule = (typeof LRP_LAYER_RULES)[number];

type LayerKind = 'convolution' | 'dense';

/** A composite's rule for convolutions (Conv, ConvTranspose), dense layers (Gemm, MatMul, Einsum) and, where it has one, its first layers. */
interface Composite {
  convolution: LrpLayerRule;
  dense: LrpLayerRule;
  /** The rule of the layers of these kinds that no layer of them precedes (Zennit's first_map). */
  first?: { rule: LrpLayerRule; of: LayerKind[] };
}

const BOTH: LayerKind[] = ['convolution', 'dense'];

/** Zennit's composites by their names there (epsilon_plus, …); every other op is ruled as under lrp-epsilon. */
export const COMPOSITES: Record<string, Composite> = lookupTable({
  'lrp-epsilon-plus': { convolution: 'zplus', dense: 'epsilon' },
  'lrp-epsilon-plus-flat': { convolution: 'zplus', dense: 'epsilon', first: { rule: 'flat', of: BOTH } },
  'lrp-epsilon-alpha2-beta1': { convolution: 'alpha2-beta1', dense: 'epsilon' },
  'lrp-epsilon-alpha2-beta1-flat': { convolution: 'alpha2-beta1', dense: 'epsilon', first: { rule: 'flat', of: BOTH } },
  'lrp-epsilon-gamma-box': { convolution: 'gamma', dense: 'epsilon', first: { rule: 'zbox', of: ['convolution'] } },
});

const kindOf = (n: NodeProto): LayerKind => (n.op_type === 'Conv' || n.op_type === 'ConvTranspose' ? 'convolution' : 'dense');

/** A layer: a standard weighted op applying a constant operand to one computed from the inputs. */
function isLayer(n: NodeProto, computed: (t: string) => boolean): boolean {
  const operands = (n.input ?? []).slice(0, 2).filter(Boolean);
  return !n.domain && WEIGHTED.has(n.op_type!) && operands.some(computed) && operands.some((t) => !computed(t));
}

/** Whether no layer of `kinds` lies between the model's inputs and this node. */
function isFirst(ctx: RuleContext, kinds: LayerKind[]): boolean {
  const computed = (t: string) => !!t && ctx.valueDependent(t);
  const seen = new Set<string>();
  const stack = ctx.node.input!.filter(computed);
  while (stack.length) {
    const t = stack.pop()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const p = ctx.view.producer.get(t);
    if (!p) continue;
    if (isLayer(p, computed) && kinds.includes(kindOf(p))) return false;
    stack.push(...(p.input ?? []).filter(computed));
  }
  return true;
}

/** The rule `lrpRules` gives this node (by node name or output name), if any. */
export function ruleOverride(ctx: RuleContext): LrpLayerRule | undefined {
  const rules = ctx.options.lrpRules;
  if (!rules) return undefined;
  const key = [ctx.node.name, ctx.node.output![0]].find((k) => k && Object.hasOwn(rules, k));
  return key === undefined ? undefined : rules[key];
}

/** The rule a composite gives this layer. */
export function compositeRule(ctx: RuleContext, composite: Composite): LrpLayerRule {
  const kind = kindOf(ctx.node);
  return composite.first?.of.includes(kind) && isFirst(ctx, composite.first.of) ? composite.first.rule : composite[kind];
}

/** The rules a method with these options gives somewhere: `lrpRules`' and its composite's. */
export function rulesUsed(method: string | undefined, lrpRules: Record<string, string> | undefined): string[] {
  const composite = method === undefined ? undefined : COMPOSITES[method];
  return [...Object.values(lrpRules ?? {}), ...(composite ? [composite.convolution, composite.dense, composite.first?.rule] : [])].filter((r): r is string => !!r);
}

/** Each `lrpRules` key names a layer of the graph, a node (or its output) applying constant weights, and no layer is named twice. */
export function checkLrpRules(view: GraphView, lrpRules: Record<string, string>): void {
  const dependent = valueDependent(view);
  const named = new Map<NodeProto, string>();
  for (const key of Object.keys(lrpRules)) {
    const node = view.nodes.find((n) => n.name === key) ?? view.producer.get(key);
    if (!node) throw new ExplainError(`${view.label}: lrpRules names '${key}', which is no node or tensor of the graph`);
    if (named.has(node)) throw new ExplainError(`${view.label}: lrpRules names node '${node.name || node.output![0]}' twice, as '${named.get(node)}' and as '${key}': give it one rule`);
    named.set(node, key);
    const computed = (t: string) => dependent.has(t);
    if (!isLayer(node, computed)) throw new ExplainError(`${view.label}: lrpRules names '${key}', node '${node.name || node.output![0]}' (${node.op_type}), which is no layer with constant weights (Conv, ConvTranspose, Gemm, MatMul, Einsum): its rule is the method's`);
  }
}
