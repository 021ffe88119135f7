import { mapMethods } from '../../rewriter/maps';
import { ExplainError } from '../../rewriter/errors';
import { methodNames } from '../../rules/methods';
import type { AttributeOptions } from '../explainer';
import { backprop } from './backprop';
import { featureAblation } from './feature-ablation';
import { integratedGradients } from './integrated-gradients';
import { layerActivation } from './layer-activation';
import { noiseTunnel } from './noise-tunnel';
import { occlusion } from './occlusion';
import { deepliftShap, gradientShap } from './shap';
import { Driver } from './types';

/** The driver of every method name the Explainer accepts. */
export const drivers: Record<string, Driver> = {
  ...Object.fromEntries([...methodNames, ...Object.keys(mapMethods)].map((m) => [m, backprop])),
  occlusion,
  'feature-ablation': featureAblation,
  'layer-activation': layerActivation,
  'integrated-gradients': integratedGradients,
  'deeplift-shap': deepliftShap,
  'gradient-shap': gradientShap,
};

/** The driver of a method, inside Captum's NoiseTunnel when `noiseTunnel` is set. */
export function driverFor(options: AttributeOptions): Driver {
  const name = options.method ?? 'gradient';
  const driver = drivers[name];
  if (!driver) throw new ExplainError(`unknown method '${name}' (methods: ${Object.keys(drivers).join(', ')})`);
  if (!options.noiseTunnel && !driver.samplesItself && (options.noiseStd !== undefined || options.samples !== undefined)) throw new ExplainError('--noise-std and --samples set the noise tunnel: they need --noise-tunnel');
  return options.noiseTunnel ? noiseTunnel(driver) : driver;
}
