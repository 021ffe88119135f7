import { RuleEntry } from '../types';
import { reduceExtremum } from './ReduceMax';

export const ReduceMin: RuleEntry = { opType: 'ReduceMin', since: 1, category: 'selection', rule: reduceExtremum };
