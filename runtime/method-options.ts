import { lookupTable } from '../rewriter/lookup-table';

const IG_PATHS = ['integrated-gradients', 'internal-influence', 'layer-conductance', 'neuron-conductance'];
const LRP = ['lrp-epsilon', 'lrp-alphabeta', 'lrp-zplus'];
const FILLED = ['occlusion', 'feature-ablation', 'shapley-values', 'shapley-value-sampling', 'kernel-shap', 'lime'];

/**
 * Options (as AttributeOptions names them) that only some methods read: given with another method
 * they are a mistake, as Captum's attribute() refuses a keyword its method does not take. Guided
 * Grad-CAM always upsamples its map, and CAM has no ReLU unless `relu` asks: `upsample` and
 * `--no-relu` say what they do anyway.
 */
const METHOD_OPTIONS: Record<string, string[]> = lookupTable({
  window: ['occlusion'], stride: ['occlusion'], featureMask: ['feature-ablation', 'feature-permutation', 'shapley-values', 'shapley-value-sampling', 'kernel-shap', 'lime'], fill: FILLED,
  relu: ['cam', 'grad-cam'], upsample: ['cam', 'grad-cam', 'guided-grad-cam'], interpolate: ['cam', 'grad-cam', 'guided-grad-cam'], tokenGrid: ['grad-cam', 'guided-grad-cam'],
  steps: IG_PATHS, igMethod: IG_PATHS, neuron: ['neuron-conductance'],
  epsilon: LRP, lrpMaxpool: LRP, alpha: ['lrp-alphabeta'], beta: ['lrp-alphabeta'], maxpoolRule: ['deeplift', 'deeplift-shap'],
  // A random fill's, the draws', and any method's inside a noise tunnel, whose noise it seeds.
  seed: [...FILLED, 'feature-permutation', 'gradient-shap'],
});

/** Whether `method` reads `option` (every method reads an option not in the table). */
export function readsOption(option: string, method: string, noiseTunnel: boolean): boolean {
  const users = METHOD_OPTIONS[option];
  return !users || users.includes(method) || (option === 'seed' && noiseTunnel);
}

/**
 * Why `method` does not read `option`, or undefined where it does; `shown` names an option as the
 * caller's user writes it (a CLI flag, an API key).
 */
export function misappliedOption(option: string, method: string, noiseTunnel: boolean, shown: (option: string) => string): string | undefined {
  if (readsOption(option, method, noiseTunnel)) return undefined;
  const users = METHOD_OPTIONS[option];
  const list = users.length > 1 ? `${users.slice(0, -1).join(', ')} and ${users[users.length - 1]}` : users[0];
  const also = option === 'seed' ? ` (or to any method with ${shown('noiseTunnel')})` : '';
  return `${shown(option)} applies to ${list}${also}, not to method '${method}'`;
}
