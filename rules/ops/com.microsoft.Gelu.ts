import { RuleEntry } from '../types';
import { geluGrad } from './Gelu';

/** onnxruntime's contrib Gelu: x·Φ(x) (erf form). */
export const MsGelu: RuleEntry = {
  opType: 'Gelu', domain: 'com.microsoft', since: 1, category: 'activation',
  rule: { backward: ({ em, node }, [dY]) => [em.mul(dY!, geluGrad(em, node.input![0], false))] },
};
