import { attrString } from '../../rewriter/attributes';
import { expandTo } from '../op-forms';
import { RuleContext, RuleEntry } from '../types';

/** Operand and output subscripts of an equation ('...' kept as one token '.'); implicit outputs as numpy. */
function parse(equation: string): { terms: string[][]; out: string[] } {
  const tokens = (s: string) => s.trim().replace(/\.\.\./g, '.').split('').filter((c) => c !== ' ');
  const [lhs, rhs] = equation.split('->');
  const terms = lhs.split(',').map(tokens);
  if (rhs !== undefined) return { terms, out: tokens(rhs) };
  const letters = terms.flat().filter((c) => c !== '.');
  const once = [...new Set(letters)].filter((c) => letters.indexOf(c) === letters.lastIndexOf(c)).sort();
  return { terms, out: [...(terms.some((t) => t.includes('.')) ? ['.'] : []), ...once] };
}

/**
 * The terms with each ellipsis written out as letters the equation does not use, aligned from the
 * right as numpy broadcasts them (onnxruntime refuses an ellipsis that the output sums away, which
 * a gradient equation needs where one operand has none).
 */
function explicit(terms: string[][], ranks: number[]): string[][] {
  const letters = terms.flat().filter((c) => c !== '.');
  const lengths = terms.map((t, i) => (t.includes('.') ? ranks[i] - t.length + 1 : 0));
  const free = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'].filter((c) => !letters.includes(c));
  const width = Math.max(...lengths);
  return terms.map((t, i) => t.flatMap((c) => (c === '.' ? free.slice(width - lengths[i], width) : [c])));
}

/**
 * dX_i = Einsum(dY and the other operands → X_i's subscripts), broadcast along the subscripts
 * only X_i has (summed away in the forward): exact when X_i repeats no subscript (no diagonals)
 * and no operand's ellipsis broadcasts a unit axis.
 */
export const Einsum: RuleEntry = {
  opType: 'Einsum', since: 12, category: 'weighted',
  rule: {
    backward(ctx: RuleContext, [dY]) {
      const { em, node } = ctx;
      const parsed = parse(attrString(node, 'equation', ''));
      const shapes = [...node.input!, node.output![0]].map((t) => ctx.shape(t));
      const terms = explicit([...parsed.terms, parsed.out], shapes.map((s) => s.length));
      const out = terms.pop()!;
      const sizes = new Map<string, number>();
      [...terms, out].forEach((t, i) => t.forEach((c, k) => {
        const size = shapes[i][k];
        const shown = parsed.terms.some((p) => p.includes(c)) ? `subscript '${c}'` : 'an axis of the ellipsis';
        if (sizes.has(c) && sizes.get(c) !== size) ctx.fail(`${shown} has sizes ${sizes.get(c)} and ${size} (a broadcast); not supported`);
        sizes.set(c, size);
      }));
      const spell = (t: string[]) => t.join('');
      return node.input!.map((x, i) => {
        if (!ctx.needsGrad(i)) return null;
        const term = terms[i];
        const others = terms.filter((_, j) => j !== i);
        if (new Set(term).size !== term.length) ctx.fail(`operand ${i} ('${spell(term)}') repeats a subscript (a diagonal)`);
        const lost = term.filter((c) => !out.includes(c) && !others.some((t) => t.includes(c)));
        const equation = `${[out, ...others].map(spell).join(',')}->${spell(term.filter((c) => !lost.includes(c)))}`;
        const g = em.op('Einsum', [dY!, ...node.input!.filter((_, j) => j !== i)], { equation });
        if (!lost.length) return g;
        // A subscript only X_i has, summed away (torch.einsum('nchw,ck->nkw')): dX is constant along it.
        const xs = shapes[i];
        const axes = lost.map((c) => term.indexOf(c));
        const expanded = expandTo(em, em.unsqueeze(g, axes), xs.map((d, k) => (axes.includes(k) ? 1 : d)), ctx.broadcastShape(x));
        // Summing the batch axis away leaves a batch of 1: broadcast it back against X (as ReduceSum's rule).
        return axes.includes(ctx.batchAxis(x)) ? em.add(expanded, em.mul(x, em.scalar(0))) : expanded;
      });
    },
  },
};
