import { attrString } from '../../rewriter/attributes';
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

const spell = (t: string[]) => t.join('').replace('.', '...');

/**
 * dX_i = Einsum(dY and the other operands → X_i's subscripts): exact when X_i repeats no
 * subscript (no diagonals), every subscript of X_i appears in the output or another operand, and
 * an ellipsis covers the same axes as the output's (no broadcast to sum back).
 */
export const Einsum: RuleEntry = {
  opType: 'Einsum', since: 12, category: 'weighted',
  rule: {
    backward(ctx: RuleContext, [dY]) {
      const { em, node } = ctx;
      const { terms, out } = parse(attrString(node, 'equation', ''));
      const outRank = ctx.shape(node.output![0]).length;
      const ellipsis = (t: string[], rank: number) => rank - t.filter((c) => c !== '.').length;
      return node.input!.map((x, i) => {
        if (!ctx.needsGrad(i)) return null;
        const term = terms[i];
        const others = terms.filter((_, j) => j !== i);
        if (new Set(term).size !== term.length) ctx.fail(`operand ${i} ('${spell(term)}') repeats a subscript (a diagonal)`);
        const lost = term.filter((c) => c !== '.' && !out.includes(c) && !others.some((t) => t.includes(c)));
        if (lost.length) ctx.fail(`subscript '${lost[0]}' of operand ${i} is summed away alone`);
        if (term.includes('.')) {
          const xs = ctx.shape(x);
          const own = xs.slice(term.indexOf('.'), term.indexOf('.') + ellipsis(term, xs.length));
          const ys = ctx.shape(node.output![0]);
          const theirs = out.includes('.') ? ys.slice(out.indexOf('.'), out.indexOf('.') + ellipsis(out, outRank)) : [];
          if (own.join() !== theirs.join()) ctx.fail(`the ellipsis of operand ${i} broadcasts; not supported`);
        }
        const equation = `${[out, ...others].map(spell).join(',')}->${spell(term)}`;
        return em.op('Einsum', [dY!, ...node.input!.filter((_, j) => j !== i)], { equation });
      });
    },
  },
};
