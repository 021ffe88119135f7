import { RuleEntry } from '../types';
import { reduceBack } from './ReduceSum';

export const ReduceMean: RuleEntry = { opType: 'ReduceMean', since: 1, category: 'linear', rule: reduceBack(true) };
