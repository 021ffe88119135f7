import * as ort from 'onnxruntime-node';
import { encodeModel, ModelProto } from '../../rewriter/proto';
import { createSession, Provider } from '../session';

export type LoopTensor = ort.Tensor;

export function floatTensor(data: Float32Array, dims: number[]): LoopTensor {
  return new ort.Tensor('float32', data, dims);
}

/** A tensor's values on the host (downloaded when it lives on the device). */
export async function hostData(t: LoopTensor): Promise<Float32Array> {
  return (await t.getData()) as Float32Array;
}

/**
 * One session for one objective graph, run many times by an optimisation loop. Inputs are fed as
 * pre-allocated tensors (the loop rewrites their data in place or feeds outputs back); on the
 * WebGPU EP the outputs stay on the device (`preferredOutputLocation: 'gpu-buffer'`), so state
 * fed back (Adam's moments, the iterate) is never downloaded.
 */
export class LoopSession {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(model: ModelProto, provider: Provider): Promise<LoopSession> {
    return new LoopSession(await createSession(encodeModel(model), provider));
  }

  async run(feeds: Record<string, LoopTensor>, fetch: string[]): Promise<Record<string, LoopTensor>> {
    return (await this.session.run(feeds, fetch)) as Record<string, LoopTensor>;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
