import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer, maximize } from '../runtime';
import { decodeModel, TensorProto } from '../rewriter/proto';
import { readNpy } from '../runtime/node/npy-file';
import { FIXTURES } from './support/fixtures';
import { Created, sessionsOf } from './support/sessions';

// The weights of a loaded model exist once in JS, in the model's own bytes: every onnxruntime
// session an Explainer creates (probe, forward, augmented graphs, optimisation loops) gets graph
// bytes without them, and reads them as external data from views of those bytes. Counted by
// wrapping InferenceSession.create, on the same core code path as the browser.
const DIGITS = path.resolve(FIXTURES, '../digits');

/** The bytes an initializer of a session's graph holds: inline, or read from its external data. */
function initializerBytes(t: TensorProto, files: Created['externalData']): { bytes: Uint8Array; inline: boolean; buffer?: ArrayBufferLike } {
  if (t.data_location !== 1) return { bytes: t.raw_data ?? new Uint8Array(), inline: true };
  const info = new Map((t.external_data ?? []).map((e) => [e.key, e.value]));
  const file = files.find((f) => f.path === info.get('location'));
  assert.ok(file, `initializer '${t.name}' refers to '${info.get('location')}', which is not handed to the session`);
  const offset = Number(info.get('offset'));
  return { bytes: file!.data.subarray(offset, offset + Number(info.get('length'))), inline: false, buffer: file!.data.buffer };
}

test('one explanation of each kind hands onnxruntime the weights once, as views of the model bytes', async () => {
  const file = fs.readFileSync(path.join(DIGITS, 'model.onnx'));
  const bytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
  const weights = new Map(decodeModel(bytes).graph!.initializer!.filter((t) => (t.raw_data?.length ?? 0) >= 1024).map((t) => [t.name!, t.raw_data!]));
  const weightBytes = [...weights.values()].reduce((a, w) => a + w.length, 0);
  assert.ok(weights.size >= 2 && weightBytes > 0.9 * bytes.length, 'the digits model is mostly weights');
  const x = readNpy(path.join(DIGITS, 'sample.npy'));
  const input = { data: x.data as Float32Array, dims: x.dims };
  const created = await sessionsOf(async () => {
    const ex = await Explainer.load(bytes);
    await ex.forward(input);
    for (const method of ['gradient', 'deeplift', 'integrated-gradients']) await ex.attribute(input, { method, target: 3, ...(method === 'integrated-gradients' ? { steps: 4 } : {}) });
    await maximize(ex, { target: 3, stages: 1, steps: 2, seed: 1 });
  });
  assert.ok(created.length >= 5, `${created.length} sessions`);
  for (const [k, s] of created.entries()) {
    const graph = decodeModel(s.bytes).graph!;
    const inline = (graph.initializer ?? []).filter((t) => t.data_location !== 1).reduce((a, t) => a + (t.raw_data?.length ?? 0), 0);
    assert.ok(inline < 0.05 * weightBytes, `session ${k}: ${inline} bytes of initializers inline for ${weightBytes} weight bytes`);
    for (const t of graph.initializer ?? []) {
      const want = weights.get(t.name!);
      if (!want) continue;
      const got = initializerBytes(t, s.externalData);
      assert.not.ok(got.inline, `session ${k}: weight '${t.name}' re-encoded inline`);
      assert.ok(got.buffer === bytes.buffer, `session ${k}: weight '${t.name}' handed in a buffer other than the model bytes (a copy)`);
      assert.equal(Buffer.compare(Buffer.from(got.bytes), Buffer.from(want)), 0, `session ${k}: weight '${t.name}' read from the wrong bytes`);
    }
  }
  const withWeights = created.filter((s) => (decodeModel(s.bytes).graph!.initializer ?? []).some((t) => weights.has(t.name!)));
  assert.ok(withWeights.length >= 4, `${withWeights.length} sessions read the weights (forward, 3 augmented graphs, the loop)`);
});

test('maxSessions 1: the weights are inside onnxruntime once at any time, results unchanged', async () => {
  const bytes = new Uint8Array(fs.readFileSync(path.join(DIGITS, 'model.onnx')));
  const x = readNpy(path.join(DIGITS, 'sample.npy'));
  const input = { data: x.data as Float32Array, dims: x.dims };
  // The page's flow (forward for the top-5, explanations, back to an earlier method), twice.
  const flow = async (ex: Explainer) => {
    const out = [(await ex.forward(input)).logits.data];
    for (const method of ['gradient', 'deeplift', 'gradient']) out.push((await ex.attribute(input, { method, target: 3 })).attributions.data);
    out.push((await ex.forward(input)).logits.data);
    return out;
  };
  const unlimited = { now: 0, most: 0 };
  let want: Float32Array[] = [];
  await sessionsOf(async () => { want = await flow(await Explainer.load(bytes)); }, unlimited);
  assert.is(unlimited.most, 3, 'without a limit: forward, gradient and DeepLIFT sessions stay alive');
  const one = { now: 0, most: 0 };
  let ex!: Explainer;
  let got: Float32Array[] = [];
  const created = await sessionsOf(async () => {
    ex = await Explainer.load(bytes, { maxSessions: 1 });
    got = await flow(ex);
  }, one);
  assert.is(one.most, 1, 'with maxSessions 1 at most one session holds the weights');
  assert.is(created.filter((s) => s.externalData.length).length, 5, 'each switch re-creates a session: forward, gradient, deeplift, gradient, forward');
  got.forEach((g, k) => assert.equal([...g], [...want[k]], `result ${k}`));
  await ex.release();
  assert.is(one.now, 0, 'release() frees the last one');
  try {
    await Explainer.load(bytes, { maxSessions: 0 });
    assert.unreachable('maxSessions 0 accepted');
  } catch (e) {
    assert.match((e as Error).message, /maxSessions: 0 is not a positive integer/);
  }
});

test.run();
