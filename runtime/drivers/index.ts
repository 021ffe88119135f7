import { mapMethods } from '../../rewriter/maps';
import { methodNames } from '../../rules/methods';
import { backprop } from './backprop';
import { featureAblation } from './feature-ablation';
import { occlusion } from './occlusion';
import { Driver } from './types';

/** The driver of every method name the Explainer accepts. */
export const drivers: Record<string, Driver> = {
  ...Object.fromEntries([...methodNames, ...Object.keys(mapMethods)].map((m) => [m, backprop])),
  occlusion,
  'feature-ablation': featureAblation,
};
