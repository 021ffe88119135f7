import { attrFloat } from '../../rewriter/attributes';
import { RuleEntry } from '../types';
import { sigmoidParts } from './Sigmoid';

/** y = x·σ(αx): dX = dY·(σ(αx) + αx·σ′(αx)); α defaults to `alpha` where the node sets none. */
export function swishRule(alpha: number): RuleEntry['rule'] {
  return {
    backward({ em, node }, [dY]) {
      const ax = em.mul(node.input![0], em.scalar(attrFloat(node, 'alpha', alpha)));
      const s = sigmoidParts(em, ax);
      return [em.mul(dY!, em.add(s.sigmoid, em.mul(ax, s.slope)))];
    },
  };
}

export const Swish: RuleEntry = { opType: 'Swish', since: 24, category: 'activation', rule: swishRule(1) };
