import { ADAM_IO, AdamNames } from '../../rewriter/adam-step';
import { lookupTable } from '../../rewriter/lookup-table';
import { OrtTensor } from '../backend';
import { floatTensor } from '../tensors';
import { hostData, LoopSession, release } from './loop-session';

export interface AdamHyper { lr: number; beta1: number; beta2: number; epsilon: number }
export const ADAM_DEFAULTS: AdamHyper = { lr: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/**
 * Drives a graph that ends in one Adam step (rewriter/adam-step.ts): each run evaluates the
 * objective at the current iterate and returns the next one; the iterate and the moments are fed
 * back as they come out (on the device for WebGPU, where the replaced state's buffers are released).
 * The input record and the fetch lists are built once; only the bias-corrected step size is written.
 * (Pre-allocated outputs would not save the copy: onnxruntime-node fills them but still returns
 * tensors with buffers of their own, and onnxruntime-web's WASM ignores them.)
 */
export class AdamLoop {
  private t = 0;
  private readonly step = new Float32Array(1);
  /** The graph's inputs: the caller's feeds, the iterate, the moments and the step size. */
  private readonly inputs: Record<string, OrtTensor>;
  private readonly fetches = new Map<string, string[]>();
  private readonly hyper: AdamHyper;

  constructor(private readonly session: LoopSession, private readonly param: string, x: OrtTensor, hyper: AdamHyper, private readonly io: AdamNames = ADAM_IO) {
    this.hyper = { ...hyper };
    const zeros = () => floatTensor(new Float32Array(x.size), [...x.dims]);
    // Prototype-free: a fed input named `__proto__` is assigned below as an entry, not as the record's prototype.
    this.inputs = lookupTable({ [param]: x, [this.io.m]: zeros(), [this.io.v]: zeros(), [this.io.step]: floatTensor(this.step, [1]) });
  }

  private get state(): OrtTensor[] {
    return [this.inputs[this.param], this.inputs[this.io.m], this.inputs[this.io.v]];
  }

  /** The iterate on the host, for good: the device state is released and the loop is done. */
  async result(): Promise<Float32Array> {
    const [x, m, v] = this.state;
    const data = (await hostData(x)).slice();
    [m, v].forEach(release);
    return data;
  }

  /** Outputs at the current iterate, without stepping. */
  async evaluate(feeds: Record<string, OrtTensor>, fetch: string[]): Promise<Record<string, OrtTensor>> {
    return this.session.run(Object.assign(this.inputs, feeds), fetch);
  }

  /** One step; `fetch` outputs are those at the iterate before the step. */
  async next(feeds: Record<string, OrtTensor>, fetch: string[]): Promise<Record<string, OrtTensor>> {
    this.t++;
    const { lr, beta1, beta2 } = this.hyper;
    this.step[0] = (lr * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    const names = [this.io.next, this.io.nextM, this.io.nextV];
    const key = fetch.join('\n');
    let all = this.fetches.get(key);
    if (!all) this.fetches.set(key, (all = [...fetch, ...names]));
    const out = await this.session.run(Object.assign(this.inputs, feeds), all);
    this.state.forEach(release);
    [this.inputs[this.param], this.inputs[this.io.m], this.inputs[this.io.v]] = names.map((k) => out[k]);
    return out;
  }
}
