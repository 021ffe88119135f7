/**
 * Child process for test/webgpu-runtime.test.ts: runs one fixture × method on the webgpu
 * execution provider with verbose logging (node placement goes to stderr) and prints the
 * attributions as JSON on stdout.
 */
import * as ort from 'onnxruntime-node';
import { encodeModel } from '../../rewriter/proto';
import { Explainer } from '../../runtime';
import { loadFixture } from './fixtures';

async function run(name: string, method: string): Promise<void> {
  const fx = loadFixture(name);
  const ex = await Explainer.load(fx.model);
  const { model } = await ex.augmented(fx.input.dims.slice(1), { method });
  const session = await ort.InferenceSession.create(encodeModel(model), { executionProviders: ['webgpu'], logSeverityLevel: 0 });
  const n = fx.input.dims[0];
  const classes = (session.outputNames.includes('attribution') ? model.graph!.input!.find((i) => i.name === 'seed')! : undefined)!.type!.tensor_type!.shape!.dim!.slice(1).reduce((a, d) => a * Number(d.dim_value), 1);
  const seed = new Float32Array(n * classes);
  fx.meta.target.forEach((t, r) => { seed[r * classes + t] = 1; });
  const feeds: Record<string, ort.Tensor> = {
    [ex.input.name]: new ort.Tensor('float32', fx.input.data, fx.input.dims),
    seed: new ort.Tensor('float32', seed, [n, classes]),
  };
  if (session.inputNames.includes('baseline')) feeds.baseline = new ort.Tensor('float32', new Float32Array(fx.input.data.length), fx.input.dims);
  const out = await session.run(feeds);
  process.stdout.write(JSON.stringify(Array.from(out.attribution.data as Float32Array)));
}

run(process.argv[2], process.argv[3]).catch((e) => {
  process.stderr.write(`child failed: ${(e as Error).message}\n`);
  process.exit(3);
});
