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
 * only X_i has (summed away in the forward). A unit axis that broadcasts against a longer one
 * (multi-query attention's 'bhqd,bhkd->bhqk' with a one-head key [N, 1, T, D]) is read as a
 * subscript of its own, which X_i alone has: dY is summed along the longer axis. A subscript that
 * X_i repeats (a diagonal: 'nii->ni', a trace 'nii->n') has its later occurrences renamed, tied to
 * the first by an identity operand: dX_i is zero off the diagonal.
 */
export const Einsum: RuleEntry = {
  opType: 'Einsum', since: 12, category: 'weighted',
  rule: {
    backward(ctx: RuleContext, [dY]) {
      const { em, node } = ctx;
      const parsed = parse(attrString(node, 'equation', ''));
      const shapes = [...node.input!, node.output![0]].map((t) => ctx.shape(t));
      const written = explicit([...parsed.terms, parsed.out], shapes.map((s) => s.length));
      const out = written.pop()!;
      const sizes = new Map<string, number>();
      [...written, out].forEach((t, i) => t.forEach((c, k) => {
        const size = shapes[i][k];
        const known = sizes.get(c);
        const shown = parsed.terms.some((p) => p.includes(c)) ? `subscript '${c}'` : 'an axis of the ellipsis';
        if (known !== undefined && known !== size && known !== 1 && size !== 1) ctx.fail(`${shown} has sizes ${known} and ${size}, which do not broadcast`);
        sizes.set(c, Math.max(known ?? 1, size));
      }));
      const used = new Set([...written.flat(), ...out]);
      const free = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'].filter((c) => !used.has(c));
      const fresh = () => free.shift() ?? ctx.fail('needs more subscripts than the 52 letters');
      // Unit axes that broadcast: a subscript of their own, summed away alone.
      const terms = written.map((t, i) => t.map((c, k) => (shapes[i][k] === 1 && sizes.get(c)! > 1 ? fresh() : c)));
      const spell = (t: string[]) => t.join('');
      return node.input!.map((x, i) => {
        if (!ctx.needsGrad(i)) return null;
        const others = terms.filter((_, j) => j !== i);
        const inputs = node.input!.filter((_, j) => j !== i);
        // A repeated subscript: its later occurrences renamed, each tied to the first by an identity.
        const seen = new Set<string>();
        const term = terms[i].map((c) => {
          if (!seen.has(c)) { seen.add(c); return c; }
          const d = fresh();
          const n = sizes.get(c)!;
          others.push([c, d]);
          inputs.push(em.constFloat(Array.from({ length: n * n }, (_, k) => (k % (n + 1) === 0 ? 1 : 0)), [n, n]));
          return d;
        });
        const lost = term.filter((c) => !out.includes(c) && !others.some((t) => t.includes(c)));
        const equation = `${[out, ...others].map(spell).join(',')}->${spell(term.filter((c) => !lost.includes(c)))}`;
        const g = em.op('Einsum', [dY!, ...inputs], { equation });
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
