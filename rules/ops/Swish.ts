import { attrFloat } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/** y = x·σ(αx): dX = dY·(s + αx·s·(1 − s)), s = σ(αx); α defaults to `alpha` where the node sets none. */
export function swishRule(alpha: number): RuleEntry['rule'] {
  return {
    backward({ em, node }, [dY]) {
      const ax = em.mul(node.input![0], em.scalar(attrFloat(node, 'alpha', alpha)));
      const s = em.op('Sigmoid', [ax]);
      return [em.mul(dY!, em.add(s, em.mul(ax, em.mul(s, em.sub(em.scalar(1), s)))))];
    },
  };
}

export const Swish: RuleEntry = { opType: 'Swish', since: 24, category: 'activation', rule: swishRule(1) };
