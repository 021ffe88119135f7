import { RuleEntry } from '../types';
import { swishRule } from './Swish';

/** com.microsoft QuickGelu, x·σ(αx) with α = 1.702 by default: Swish's rule. */
export const MsQuickGelu: RuleEntry = { opType: 'QuickGelu', domain: 'com.microsoft', since: 1, category: 'activation', rule: swishRule(1.702) };
