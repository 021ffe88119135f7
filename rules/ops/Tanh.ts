import { RuleEntry } from '../types';
import { sigmoidParts } from './Sigmoid';

/** dX = dY·(1 − Y²), written 4σ′(2X): 1 − Y² cancels in float32 once |Y| rounds to 1. */
export const Tanh: RuleEntry = {
  opType: 'Tanh', since: 1, category: 'activation',
  rule: {
    backward({ em, node }, [dY]) {
      return [em.mul(dY!, em.mul(em.scalar(4), sigmoidParts(em, em.mul(node.input![0], em.scalar(2))).slope))];
    },
  },
};
