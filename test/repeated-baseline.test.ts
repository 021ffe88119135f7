import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeModel } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { loadFixture, relL2 } from './support/fixtures';
import { Created, sessionsOf } from './support/sessions';

// A shared baseline row used again is built into the graph as a constant (onnxruntime folds the
// reference pass once); seen once, it is fed to the graph that takes it as an input.
/** Graph inputs of each session created while `run` runs. */
async function graphInputsOfNewSessions(run: () => Promise<void>): Promise<string[][]> {
  return (await sessionsOf(run)).map((c) => (decodeModel(c.bytes).graph!.input ?? []).map((i) => i.name!));
}

const fx = loadFixture('resnet_bn');
const row = fx.input.data.length / fx.input.dims[0];
const baselineRow = (k: number) => ({ data: Float32Array.from({ length: row }, (_, i) => Math.cos(i * 0.37 + k)), dims: [1, ...fx.input.dims.slice(1)] });

test('DeepLIFT: a shared baseline used again runs a graph with the baseline built in, same attributions', async () => {
  const ex = await Explainer.load(fx.model);
  const results: { a: Float32Array; delta: Float32Array }[] = [];
  const created = await graphInputsOfNewSessions(async () => {
    for (let i = 0; i < 3; i++) {
      const r = await ex.attribute(fx.input, { method: 'deeplift', target: fx.meta.target, baseline: baselineRow(1) });
      results.push({ a: r.attributions.data, delta: r.delta! });
    }
  });
  const augmented = created.filter((inputs) => inputs.includes('seed'));
  assert.equal(augmented.map((inputs) => inputs.includes('baseline')), [true, false], 'first call: baseline as an input; second: built in; third: that session again');
  for (const k of [1, 2]) assert.ok(relL2(results[k].a, results[0].a) < 1e-5, `call ${k}: rel L2 ${relL2(results[k].a, results[0].a)}`);
  for (const r of results) r.delta.forEach((d) => assert.ok(Math.abs(d) < 1e-4, `delta ${d}`));
});

test('DeepLIFT: a new shared baseline on every call, or one per row, never builds a session of its own', async () => {
  const ex = await Explainer.load(fx.model);
  const perRow = { data: Float32Array.from(fx.input.data, (v, i) => Math.sin(i)), dims: fx.input.dims };
  const created = await graphInputsOfNewSessions(async () => {
    for (let k = 0; k < 3; k++) await ex.attribute(fx.input, { method: 'deeplift', target: fx.meta.target, baseline: baselineRow(k) });
    for (let k = 0; k < 3; k++) await ex.attribute(fx.input, { method: 'deeplift', target: fx.meta.target, baseline: perRow });
  });
  assert.equal(created.filter((inputs) => inputs.includes('seed')).map((inputs) => inputs.includes('baseline')), [true]);
});

test('DeepLIFT: images each explained twice from a baseline of their own keep one graph with a baseline built in alive, not one per image', async () => {
  const ex = await Explainer.load(fx.model);
  const alive = { now: 0, most: 0 };
  const builtIn = (c: Created) => { const inputs = (decodeModel(c.bytes as Uint8Array).graph!.input ?? []).map((i) => i.name); return inputs.includes('seed') && !inputs.includes('baseline'); };
  let last: Float32Array | undefined;
  await sessionsOf(async () => {
    for (let k = 0; k < 4; k++) {
      for (const target of [0, 1]) last = (await ex.attribute(fx.input, { method: 'deeplift', target, baseline: baselineRow(k) })).attributions.data;
    }
    // Released when their runs end, after this call's.
    await new Promise((done) => setTimeout(done, 50));
  }, alive, builtIn);
  assert.is(alive.now, 1, `${alive.now} graphs with a baseline built in still alive`);
  const fresh = await (await Explainer.load(fx.model)).attribute(fx.input, { method: 'deeplift', target: 1, baseline: baselineRow(3) });
  assert.ok(relL2(last!, fresh.attributions.data) < 1e-5);
});

test.run();
