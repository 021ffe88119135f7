import { BackwardRule, Category, RuleContext, RuleEntry } from './types';
import { opRules } from './ops';

/** Registry key of an op: its type, prefixed by its domain outside the default ONNX domain. */
export function opKey(opType: string, domain = ''): string {
  return domain && domain !== 'ai.onnx' ? `${domain}.${opType}` : opType;
}

/** Rules keyed by op; a lookup picks the entry whose opset range holds the model's opset. */
export class RuleTable {
  private readonly byOp = new Map<string, RuleEntry[]>();

  constructor(entries: RuleEntry[]) {
    for (const e of entries) {
      const key = opKey(e.opType, e.domain);
      this.byOp.set(key, [...(this.byOp.get(key) ?? []), e]);
    }
  }

  /** The entry for an op at the model's default-domain opset (contrib ops are versioned 1). */
  entry(opType: string, opset: number, domain = ''): RuleEntry | undefined {
    return this.entryByKey(opKey(opType, domain), opset);
  }

  /** The same by registry key (see opKey). */
  entryByKey(key: string, opset: number): RuleEntry | undefined {
    return this.byOp.get(key)?.find((e) => opset >= e.since && (e.until === undefined || opset < e.until));
  }

  lookup(opType: string, opset: number, domain = ''): BackwardRule | undefined {
    return this.entry(opType, opset, domain)?.rule;
  }

  opTypes(): string[] {
    return [...this.byOp.keys()].sort();
  }

  entries(): RuleEntry[] {
    return [...this.byOp.values()].flat();
  }
}

/** The plain-gradient rule of every supported op. */
export const gradientRules = new RuleTable(opRules);

/** The plain-gradient rule of the node a context is about. */
export function gradientOf(ctx: RuleContext): BackwardRule {
  const { node } = ctx;
  return gradientRules.lookup(node.op_type ?? '', ctx.opset, node.domain) ?? ctx.fail('no gradient rule');
}

/**
 * What a method does with the ops of one category: keep their gradient rule, or a rule built for
 * the op type (undefined: the method has no rule for that op, and refuses it).
 */
export type Decision = 'gradient' | ((entry: RuleEntry) => BackwardRule | undefined);

/**
 * A method's rule table from one decision per category: every op gets the rule its category says
 * (over the op's own opset ranges); no op falls back to the gradient without its category saying so.
 */
export function categoryTable(decisions: Record<Category, Decision>): RuleTable {
  return new RuleTable(opRules.flatMap((e) => {
    const decision = decisions[e.category];
    if (decision === 'gradient') return [e];
    const rule = decision(e);
    const fixedInputs = e.fixedInputs?.filter((k) => !rule?.differentiates?.includes(k));
    return rule ? [{ ...e, rule, fixedInputs }] : [];
  }));
}
