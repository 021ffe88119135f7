import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AttrType, DataType, encodeModel, makeTensor, ModelProto } from '../rewriter/proto';
import { valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { centralDifferences } from './support/central';
import { relL2 } from './support/fixtures';
import { rng } from './support/gradcheck';

/**
 * An audio classifier with its spectrogram in the graph (torch.stft / torchaudio exports at opset
 * 17+): signal [N, 74, C] → STFT (frame 16, step 6, so 4 samples after the last frame; a Hann
 * window or none) → power Σ re² + im² → log(· + 0.1) → mean over frames → 3 scores. A real signal may
 * also come as [N, 74] (torch's dynamo export of torch.stft writes it so; onnxruntime reads it as [N, 74, 1]).
 */
const [L, SIZE, STEP] = [74, 16, 6];
const rand = rng(17);

function audioModel(parts: 0 | 1 | 2, form: { window: boolean; onesided: number }): Uint8Array {
  const bins = form.onesided ? SIZE / 2 + 1 : SIZE;
  const hann = Array.from({ length: SIZE }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / SIZE));
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 17 }], producer_name: 'torch.stft-style',
    graph: {
      name: 'audio',
      node: [
        { op_type: 'STFT', input: ['signal', 'step', form.window ? 'window' : '', 'frame_length'], output: ['spec'], name: 'stft', attribute: [{ name: 'onesided', type: AttrType.INT, i: form.onesided }] },
        { op_type: 'ReduceSumSquare', input: ['spec'], output: ['power'], name: 'power', attribute: [{ name: 'axes', type: AttrType.INTS, ints: [3] }, { name: 'keepdims', type: AttrType.INT, i: 0 }] },
        { op_type: 'Add', input: ['power', 'floor'], output: ['floored'], name: 'floor' },
        { op_type: 'Log', input: ['floored'], output: ['logpower'], name: 'log' },
        { op_type: 'ReduceMean', input: ['logpower'], output: ['pooled'], name: 'pool', attribute: [{ name: 'axes', type: AttrType.INTS, ints: [1] }, { name: 'keepdims', type: AttrType.INT, i: 0 }] },
        { op_type: 'MatMul', input: ['pooled', 'head'], output: ['scores'], name: 'head' },
      ],
      initializer: [
        makeTensor('step', [], [STEP], DataType.INT64), makeTensor('frame_length', [], [SIZE], DataType.INT64), makeTensor('window', [SIZE], hann, DataType.FLOAT),
        makeTensor('floor', [], [0.1], DataType.FLOAT), makeTensor('head', [bins, 3], Array.from({ length: bins * 3 }, () => rand() * 2 - 1), DataType.FLOAT),
      ].filter((t) => form.window || t.name !== 'window'),
      input: [valueInfo('signal', DataType.FLOAT, parts ? ['N', L, parts] : ['N', L])],
      output: [valueInfo('scores', DataType.FLOAT, ['N', 3])],
    },
  };
  return encodeModel(m);
}

async function scores(model: Uint8Array, signal: Float32Array, parts: number): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model, { logSeverityLevel: 3 });
  const n = signal.length / (L * Math.max(parts, 1));
  const out = await s.run({ signal: new ort.Tensor('float32', signal, parts ? [n, L, parts] : [n, L]) });
  await s.release();
  return out.scores.data as Float32Array;
}

for (const [parts, form] of [[1, { window: true, onesided: 1 }], [1, { window: false, onesided: 1 }], [2, { window: false, onesided: 0 }], [0, { window: true, onesided: 1 }]] as const) {
  test(`STFT of a ${parts === 2 ? 'complex' : parts ? 'real' : 'real [N, L]'} signal, ${form.window ? 'Hann window' : 'no window'}, ${form.onesided ? 'one-sided' : 'two-sided'}: the gradient matches central differences of onnxruntime's kernel; DeepLIFT sums to delta`, async () => {
    const model = audioModel(parts, form);
    const per = L * Math.max(parts, 1);
    const dims = parts ? [2, L, parts] : [2, L];
    const signal = Float32Array.from({ length: 2 * per }, (_, i) => Math.sin(0.37 * i) + 0.5 * (rand() * 2 - 1));
    const ex = await Explainer.load(model);
    const targets = [2, 0];
    const r = await ex.attribute({ data: signal, dims }, { target: targets });
    const fd = await centralDifferences(signal, 1e-2, (v) => scores(model, v, parts), (i) => Math.floor(i / per) * 3 + targets[Math.floor(i / per)]);
    assert.ok(relL2(r.attributions.data, fd) < 2e-3, `rel L2 ${relL2(r.attributions.data, fd)}`);
    // The samples after the last frame are not read.
    for (const row of [0, 1]) for (let i = (L - 4) * Math.max(parts, 1); i < per; i++) assert.is(r.attributions.data[row * per + i], 0);
    const d = await ex.attribute({ data: signal, dims }, { target: targets, method: 'deeplift' });
    for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
  });
}

test.run();
