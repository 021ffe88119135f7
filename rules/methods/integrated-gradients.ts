import { Method } from '../../rewriter/augment';
import { gradientRules } from '../registry';
import { deeplift } from './deeplift';

/**
 * Integrated gradients (Sundararajan et al. 2017): plain gradients, taken along the path from the
 * baseline to the input (buildAugmented's `path`), times (x − x⁰), as DeepLIFT's attribution; the
 * delta is Captum's convergence delta Σ attribution − (f(x) − f(x⁰)).
 */
export const integratedGradients: Method = { ...deeplift, name: 'integrated-gradients', table: gradientRules };
