import { RuleEntry } from '../types';
import { LpPool } from './LpPool';

/** LpPool over every spatial position: (Σ |x|ᵖ)^{1/p} per channel. */
export const GlobalLpPool: RuleEntry = { ...LpPool, opType: 'GlobalLpPool' };
