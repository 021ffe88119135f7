import { attrFloat } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/** y = x·σ(αx) (α = 1.702 by default): dX = dY·(s + αx·s(1 − s)), s = σ(αx). */
export const MsQuickGelu: RuleEntry = {
  opType: 'QuickGelu', domain: 'com.microsoft', since: 1, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      const x = node.input![0];
      const ax = em.mul(x, em.scalar(attrFloat(node, 'alpha', 1.702)));
      const s = em.op('Sigmoid', [ax]);
      return [em.mul(dY!, em.add(s, em.mul(ax, em.mul(s, em.sub(em.scalar(1), s)))))];
    },
  },
};
