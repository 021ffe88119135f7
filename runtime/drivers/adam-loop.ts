import { ADAM_IO } from '../../rewriter/adam-step';
import { OrtTensor } from '../backend';
import { floatTensor } from '../tensors';
import { hostData, LoopSession, release } from './loop-session';

export interface AdamHyper { lr: number; beta1: number; beta2: number; epsilon: number }
export const ADAM_DEFAULTS: AdamHyper = { lr: 0.05, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };

/**
 * Drives a graph that ends in one Adam step (rewriter/adam-step.ts): each run evaluates the
 * objective at the current iterate and returns the next one; the iterate and the moments are fed
 * back as they come out (on the device for WebGPU, where the replaced state's buffers are released).
 * Only the bias-corrected step size is written.
 */
export class AdamLoop {
  private t = 0;
  private m: OrtTensor;
  private v: OrtTensor;
  private readonly step = new Float32Array(1);
  private readonly stepTensor = floatTensor(this.step, [1]);

  readonly hyper: AdamHyper;

  constructor(private readonly session: LoopSession, private readonly param: string, private x: OrtTensor, hyper: AdamHyper) {
    this.hyper = { ...hyper };
    this.m = floatTensor(new Float32Array(x.size), [...x.dims]);
    this.v = floatTensor(new Float32Array(x.size), [...x.dims]);
  }

  /** The iterate on the host, for good: the device state is released and the loop is done. */
  async result(): Promise<Float32Array> {
    const x = (await hostData(this.x)).slice();
    [this.m, this.v].forEach(release);
    return x;
  }

  /** Outputs at the current iterate, without stepping. */
  async evaluate(feeds: Record<string, OrtTensor>, fetch: string[]): Promise<Record<string, OrtTensor>> {
    return this.session.run({ ...feeds, [this.param]: this.x, [ADAM_IO.m]: this.m, [ADAM_IO.v]: this.v, [ADAM_IO.step]: this.stepTensor }, fetch);
  }

  /** One step; `fetch` outputs are those at the iterate before the step. */
  async next(feeds: Record<string, OrtTensor>, fetch: string[]): Promise<Record<string, OrtTensor>> {
    this.t++;
    const { lr, beta1, beta2 } = this.hyper;
    this.step[0] = (lr * Math.sqrt(1 - beta2 ** this.t)) / (1 - beta1 ** this.t);
    const out = await this.session.run(
      { ...feeds, [this.param]: this.x, [ADAM_IO.m]: this.m, [ADAM_IO.v]: this.v, [ADAM_IO.step]: this.stepTensor },
      [...fetch, ADAM_IO.next, ADAM_IO.nextM, ADAM_IO.nextV],
    );
    [this.x, this.m, this.v].forEach(release);
    this.x = out[ADAM_IO.next];
    this.m = out[ADAM_IO.nextM];
    this.v = out[ADAM_IO.nextV];
    return out;
  }
}
