import { lookupTable } from '../rewriter/lookup-table';
import { COMPOSITES } from '../rules/methods/lrp-composites';

const IG_PATHS = ['integrated-gradients', 'internal-influence', 'layer-conductance', 'neuron-conductance'];
const LRP = ['lrp-epsilon', 'lrp-alphabeta', 'lrp-zplus', ...Object.keys(COMPOSITES)];
const FILLED = ['occlusion', 'feature-ablation', 'shapley-values', 'shapley-value-sampling', 'kernel-shap', 'lime'];
/** Methods that run the model at the reference input itself (zeros by default), not only at copies with features replaced. */
export const REFERENCE_RUN = ['deeplift', 'deeplift-shap', 'gradient-shap', ...IG_PATHS];
/** Methods that compare with a reference input. */
const BASELINED = [...REFERENCE_RUN, ...FILLED];

/** The methods that read an option, or every method but some, with why those do not. */
type Readers = string[] | { except: string[]; why: string };

const NO_OUTPUT: Readers = { except: ['layer-activation'], why: 'explains no output: it returns the layer\'s values' };

/**
 * Options (as AttributeOptions names them) that only some methods read: given with another method
 * they are a mistake, as Captum's attribute() refuses a keyword its method does not take. Guided
 * Grad-CAM always upsamples its map, and CAM has no ReLU unless `relu` asks: `upsample` and
 * `--no-relu` say what they do anyway.
 */
const METHOD_OPTIONS: Record<string, Readers> = lookupTable({
  window: ['occlusion'], stride: ['occlusion'], featureMask: ['feature-ablation', 'feature-permutation', 'shapley-values', 'shapley-value-sampling', 'kernel-shap', 'lime'], fill: FILLED,
  relu: ['cam', 'grad-cam'], upsample: ['cam', 'grad-cam', 'guided-grad-cam'], interpolate: ['cam', 'grad-cam', 'guided-grad-cam'], tokenGrid: ['grad-cam', 'guided-grad-cam'],
  steps: IG_PATHS, igMethod: IG_PATHS, neuron: ['neuron-conductance'],
  // A baseline per noisy copy, for the methods that take one baseline row and go in the noise tunnel (not the sampling ones).
  drawBaselineFromDistrib: BASELINED.filter((m) => !['deeplift-shap', 'gradient-shap', 'shapley-value-sampling', 'kernel-shap', 'lime'].includes(m)),
  // Captum's multiply_by_inputs (its layer and neuron variants too).
  multiplyByInputs: ['deeplift', 'deeplift-shap', 'integrated-gradients', 'gradient-shap', 'input-x-gradient', 'neuron-conductance'],
  epsilon: LRP, stabilizer: LRP, lrpMaxpool: LRP, alpha: ['lrp-alphabeta'], beta: ['lrp-alphabeta'], lrpRules: LRP,
  // Read where a layer has the rule (checkLrpOptions): the composite's, or one lrpRules gives.
  gamma: LRP, boxLow: LRP, boxHigh: LRP, maxpoolRule: ['deeplift', 'deeplift-shap'],
  // A random fill's, the draws', and any method's inside a noise tunnel, whose noise it seeds.
  seed: [...FILLED, 'feature-permutation', 'gradient-shap'],
  baseline: BASELINED, baselines: BASELINED, baselineToken: BASELINED,
  // DeepLIFT §2.6 keeps a model's outputs on one-hot inputs only.
  onehotAxis: { except: [...FILLED, 'feature-permutation'], why: 'runs the model on perturbed inputs, which are not one-hot, and there the normalised first layer (DeepLIFT §2.6) changes the outputs' },
  // CAM's map is the one its global average pooling and linear layer read.
  layer: { except: ['cam'], why: 'uses the map its global pooling and linear layer read (grad-cam takes a layer)' },
  target: NO_OUTPUT, reduce: NO_OUTPUT, reduceAxes: NO_OUTPUT, reduceWeights: NO_OUTPUT, softmaxNormalize: NO_OUTPUT, output: NO_OUTPUT, explainSoftmax: NO_OUTPUT, contrast: NO_OUTPUT,
});

/** Methods whose only draws are a random fill's. */
const FILL_DRAWS = ['occlusion', 'feature-ablation', 'shapley-values'];

/**
 * Whether `method` reads `option` (every method reads an option not in the table); a seed, with
 * `fill` given as it is. `attribute` refuses options the method does not read: a page offering
 * several methods filters one options object with it.
 */
export function readsOption(option: string, method: string, noiseTunnel: boolean, fill?: unknown): boolean {
  const users = METHOD_OPTIONS[option];
  if (!users) return true;
  if (option === 'seed' && !noiseTunnel && FILL_DRAWS.includes(method) && fill !== 'random') return false;
  return Array.isArray(users) ? users.includes(method) || (option === 'seed' && noiseTunnel) : !users.except.includes(method);
}

/**
 * Why `method` does not read `option`, or undefined where it does; `shown` names an option as the
 * caller's user writes it (a CLI flag, an API key), `among` the methods its command runs.
 */
export function misappliedOption(option: string, method: string, noiseTunnel: boolean, shown: (option: string) => string, fill?: unknown, among?: readonly string[]): string | undefined {
  if (readsOption(option, method, noiseTunnel, fill)) return undefined;
  const all = METHOD_OPTIONS[option];
  const users = Array.isArray(all) && all !== BASELINED && among ? all.filter((m) => among.includes(m)) : all;
  if (option === 'seed' && FILL_DRAWS.includes(method)) return `${shown('seed')} seeds a random fill: method '${method}' draws nothing with ${fill === undefined ? 'its default fill' : `${shown('fill')} ${fill}`} (give ${shown('fill')} random)`;
  if (!Array.isArray(users)) return `${shown(option)}: method '${method}' ${users.why}`;
  if (users === BASELINED) return `${shown(option)}: method '${method}' takes no baseline`;
  const names = (ms: readonly string[]) => (ms.length > 1 ? `${ms.slice(0, -1).join(', ')} and ${ms[ms.length - 1]}` : ms[0]);
  if (!users.length) return `${shown(option)} applies to ${names(all as string[])}, which this command does not run`;
  const list = all === LRP && users.length === LRP.length ? 'the LRP methods (lrp-*)' : names(users);
  const also = option === 'seed' ? ` (or to any method with ${shown('noiseTunnel')})` : '';
  return `${shown(option)} applies to ${list}${also}, not to method '${method}'`;
}
