import { BackwardRule, RuleEntry } from './types';
import { opRules } from './ops';

/** Rules keyed by op type; a lookup picks the entry whose opset range holds the model's opset. */
export class RuleTable {
  private readonly byOp = new Map<string, RuleEntry[]>();

  constructor(entries: RuleEntry[]) {
    for (const e of entries) {
      const list = this.byOp.get(e.opType) ?? [];
      list.push(e);
      this.byOp.set(e.opType, list);
    }
  }

  lookup(opType: string, opset: number): BackwardRule | undefined {
    return this.byOp.get(opType)?.find((e) => opset >= e.since && (e.until === undefined || opset < e.until))?.rule;
  }

  opTypes(): string[] {
    return [...this.byOp.keys()].sort();
  }

  entries(): RuleEntry[] {
    return [...this.byOp.values()].flat();
  }

  /** A table where the given entries take precedence over this one's (first match wins). */
  override(entries: RuleEntry[]): RuleTable {
    const table = new RuleTable([]);
    for (const [op, list] of this.byOp) table.byOp.set(op, [...list]);
    for (const e of entries) table.byOp.set(e.opType, [e, ...(table.byOp.get(e.opType) ?? [])]);
    return table;
  }
}

/** The plain-gradient rule of every supported op. */
export const gradientRules = new RuleTable(opRules);
