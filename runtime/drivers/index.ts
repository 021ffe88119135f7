import { MapMethodName, mapMethods } from '../../rewriter/maps';
import { ExplainError } from '../../rewriter/errors';
import { lookupTable } from '../../rewriter/lookup-table';
import { BackpropMethodName, methodNames } from '../../rules/methods';
import type { AttributeOptions } from '../explainer';
import { backprop } from './backprop';
import { featureAblation, featurePermutation } from './feature-ablation';
import { integratedGradients } from './integrated-gradients';
import { layerActivation } from './layer-activation';
import { internalInfluence, layerConductance, neuronConductance } from './layer-path';
import { lime } from './lime';
import { noiseTunnel } from './noise-tunnel';
import { occlusion } from './occlusion';
import { deepliftShap, gradientShap } from './shap';
import { kernelShap, shapleyValues, shapleyValueSampling } from './shapley';
import { Driver } from './types';

const driverTable = lookupTable({
  ...(Object.fromEntries([...methodNames, ...Object.keys(mapMethods)].map((m) => [m, backprop])) as Record<BackpropMethodName | MapMethodName, Driver>),
  occlusion,
  'feature-ablation': featureAblation,
  'feature-permutation': featurePermutation,
  'layer-activation': layerActivation,
  'integrated-gradients': integratedGradients,
  'internal-influence': internalInfluence,
  'layer-conductance': layerConductance,
  'neuron-conductance': neuronConductance,
  'deeplift-shap': deepliftShap,
  'gradient-shap': gradientShap,
  'shapley-values': shapleyValues,
  'shapley-value-sampling': shapleyValueSampling,
  'kernel-shap': kernelShap,
  lime,
} satisfies Record<string, Driver>);

/** Every method name Explainer.attribute accepts. */
export type AttributionMethod = keyof typeof driverTable;

/** The driver of every method name the Explainer accepts. */
export const drivers: Record<string, Driver> = driverTable;

/** The driver of a method, inside Captum's NoiseTunnel when `noiseTunnel` is set. */
export function driverFor(options: AttributeOptions): Driver {
  const name = options.method ?? 'gradient';
  const driver = drivers[name];
  if (!driver) throw new ExplainError(`unknown method '${name}' (methods: ${Object.keys(drivers).join(', ')})`);
  const flags = { noiseStd: '--noise-std', stdevs: '--stdevs', samples: '--samples', drawBaselineFromDistrib: '--draw-baseline-from-distrib' };
  const stray = (['noiseStd', 'stdevs', 'samples', 'drawBaselineFromDistrib'] as const).filter((o) => options[o] !== undefined && options[o] !== false && !(driver.sampling as string[] | undefined)?.includes(o));
  if (!options.noiseTunnel && stray.length) throw new ExplainError(`${stray.map((o) => flags[o]).join(' and ')} ${stray.length > 1 ? 'set' : 'sets'} the noise tunnel: ${stray.length > 1 ? 'they need' : 'it needs'} --noise-tunnel`);
  if (options.layer !== undefined && driver.perturbsInput) throw new ExplainError(`--layer: method '${name}' perturbs the input and attributes to it, not to a layer (feature-ablation and feature-permutation perturb a layer's values)`);
  if (options.noiseTunnel && driver.sampling) throw new ExplainError(`--noise-tunnel: method '${name}' draws its own samples (--samples); it does not go inside the noise tunnel`);
  return options.noiseTunnel ? noiseTunnel(driver) : driver;
}
