import { methodNames } from '../../rules/methods';
import { backprop } from './backprop';
import { Driver } from './types';

/** The driver of every method name the Explainer accepts. */
export const drivers: Record<string, Driver> = {
  ...Object.fromEntries(methodNames.map((m) => [m, backprop])),
};
