/**
 * Child process for test/webgpu-runtime.test.ts: runs one fixture (or exporter fixture) × method through the Explainer
 * (the Node adapter) with provider 'webgpu'; every webgpu session logs verbosely (node placement
 * goes to stderr). Prints the attributions as JSON on stdout; a provider fallback is a failure.
 */
import * as ort from 'onnxruntime-node';
import { Explainer } from '../../runtime';
import { FIXTURE_ROOTS, loadFixture } from './fixtures';

const create = ort.InferenceSession.create.bind(ort.InferenceSession);
ort.InferenceSession.create = ((bytes: Uint8Array, options?: ort.InferenceSession.SessionOptions) =>
  create(bytes, options?.executionProviders?.some((p) => (typeof p === 'string' ? p : p.name) === 'webgpu') ? { ...options, logSeverityLevel: 0 } : options)) as typeof ort.InferenceSession.create;

async function run(name: string, method: string, root: string): Promise<void> {
  const fx = loadFixture(name, FIXTURE_ROOTS[root]);
  const ex = await Explainer.load(fx.model, { provider: 'webgpu' });
  const r = await ex.attribute(fx.input, { method, target: fx.meta.target });
  if (r.warnings?.length) throw new Error(r.warnings.join('; '));
  process.stdout.write(JSON.stringify(Array.from(r.attributions.data)));
}

run(process.argv[2], process.argv[3], process.argv[4]).catch((e) => {
  process.stderr.write(`child failed: ${(e as Error).message}\n`);
  process.exit(3);
});
