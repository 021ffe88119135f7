import * as ort from 'onnxruntime-node';

export type Provider = 'cpu' | 'cuda' | 'webgpu';
export const PROVIDERS: Provider[] = ['cpu', 'cuda', 'webgpu'];

/** Providers that failed to load in this process: not tried again. */
const unavailable = new Set<Provider>();

/**
 * An onnxruntime-node session on the requested execution provider; when that provider cannot load
 * (e.g. CUDA libraries not installed) prints a one-line warning and uses the CPU instead.
 */
export async function createSession(bytes: Uint8Array, provider: Provider = 'cpu', warn: (m: string) => void = (m) => console.warn(m)): Promise<ort.InferenceSession> {
  const base: ort.InferenceSession.SessionOptions = { logSeverityLevel: 3, graphOptimizationLevel: 'all' };
  if (provider !== 'cpu' && !unavailable.has(provider)) {
    try {
      return await ort.InferenceSession.create(bytes, { ...base, executionProviders: [provider] });
    } catch (e) {
      unavailable.add(provider);
      const reason = String((e as Error)?.message ?? e).split('\n')[0].slice(0, 200);
      warn(`onnx-explain: warning: execution provider '${provider}' is unavailable (${reason}); falling back to cpu`);
    }
  }
  return ort.InferenceSession.create(bytes, { ...base, executionProviders: ['cpu'] });
}
