import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Emitter } from '../rewriter/emitter';
import { encodeModel } from '../rewriter/proto';
import { Explainer, ExplainError } from '../runtime';
import { readNpy, writeNpy } from '../runtime/node/npy-file';
import { captions } from '../cli/visualize';
import { attributionLayout, channelSum } from '../runtime/image';
import { cumulativeSumThreshold, normalizeAttr, rowCaptions, visualize } from '../runtime/visualize';
import { Canvas, colourScale, lookupMap, niceTicks, tickLabel } from '../runtime/plot';
import { runCli, tempDir } from './support/cli-harness';
import { tinyGraph } from './support/tiny-model';

const dir = tempDir('visualize');
const DIGITS = path.join(__dirname, '..', '..', 'models', 'digits');

test('cumulative-sum threshold: the first sorted value whose running sum reaches the percentile (Captum)', () => {
  // sorted 1 2 3 4, running sums 1 3 6 10
  assert.is(cumulativeSumThreshold([4, 1, 3, 2], 98), 4);
  assert.is(cumulativeSumThreshold([4, 1, 3, 2], 60), 3);
  assert.is(cumulativeSumThreshold([4, 1, 3, 2], 59), 3);
  assert.is(cumulativeSumThreshold([4, 1, 3, 2], 30), 2);
  assert.is(cumulativeSumThreshold([4, 1, 3, 2], 10), 1);
});

test('normalisation by sign: kept part, scaled by the threshold, clipped', () => {
  const v = [-8, -1, 0, 1, 2, 6];
  const all = normalizeAttr(v, 'all', 0); // |v| sorted 0 1 1 2 6 8, total 18 → 100 % reached at 8
  assert.is(all.threshold, 8);
  assert.equal(Array.from(all.norm), [-1, -0.125, 0, 0.125, 0.25, 0.75]);
  const pos = normalizeAttr(v, 'positive', 20); // kept 0 0 0 1 2 6 (total 9): 80 % = 7.2 reached at 6
  assert.is(pos.threshold, 6);
  assert.equal(Array.from(pos.norm), [0, 0, 0, 1 / 6, 2 / 6, 1].map(Math.fround));
  const neg = normalizeAttr(v, 'negative', 20); // kept −8 −1: |·| total 9, 80 % reached at 8
  assert.is(neg.threshold, -8);
  assert.equal(Array.from(neg.norm), [1, 0.125, 0, 0, 0, 0]);
  const abs = normalizeAttr(v, 'absolute', 50); // 0 1 1 2 6 8: running 0 1 2 4 10 → 50 % of 18 = 9 at 6
  assert.is(abs.threshold, 6);
  assert.equal(Array.from(abs.norm).map((x) => +x.toFixed(6)), [1, 1 / 6, 0, 1 / 6, 1 / 3, 1].map((x) => +x.toFixed(6)));
});

test('layouts: NCHW, NHWC, grayscale [N,H,W], one-hot sequences [N,C,L] and [N,L]; channel sums per row', () => {
  assert.equal(attributionLayout([2, 3, 5, 7]), { kind: 'image', layout: 'NCHW', channels: 3, height: 5, width: 7 });
  assert.equal(attributionLayout([2, 5, 7, 3]), { kind: 'image', layout: 'NHWC', channels: 3, height: 5, width: 7 });
  assert.equal(attributionLayout([2, 16, 16]), { kind: 'image', layout: 'NCHW', channels: 1, height: 16, width: 16 });
  assert.equal(attributionLayout([2, 4, 200]), { kind: 'sequence', channelsFirst: true, channels: 4, length: 200 });
  assert.equal(attributionLayout([2, 200, 4]), { kind: 'sequence', channelsFirst: false, channels: 4, length: 200 });
  assert.equal(attributionLayout([2, 30]), { kind: 'sequence', channelsFirst: true, channels: 1, length: 30 });
  // [2 rows, 2 channels, 1×2 pixels]: row 1 = channels (10, 20) and (30, 40) → pixel sums 40, 60
  const t = { data: Float32Array.from([1, 2, 3, 4, 10, 20, 30, 40]), dims: [2, 2, 1, 2] };
  assert.equal(Array.from(channelSum(t, 1, attributionLayout(t.dims))), [40, 60]);
  const nhwc = { data: Float32Array.from([1, 2, 3, 4]), dims: [1, 1, 2, 2] };
  assert.equal(Array.from(channelSum(nhwc, 0, { kind: 'image', layout: 'NHWC', channels: 2, height: 1, width: 1 })), [3]);
});

test('heat map pixels: the saturated pixel takes the top of the colour map, zeros the bottom; display size upscales', () => {
  const data = new Float32Array(16);
  data[5] = 3; // one pixel carries all the mass → threshold 3
  const fig = visualize({ columns: [{ title: 'g', attributions: { data, dims: [1, 1, 4, 4] } }] }, { method: 'heat_map', sign: 'absolute', size: 64 });
  // layout: pad 8, title 14 px, then the 64×64 panel (factor 16)
  const at = (x: number, y: number) => fig.getPixel(8 + x, 8 + 14 + y);
  assert.equal(at(16 * 1 + 3, 16 * 1 + 3), [8, 48, 107], 'saturated Blues');
  assert.equal(at(16 * 3 + 3, 16 * 3 + 3), [247, 251, 255], 'zero is the light end');
  const signed = visualize({ columns: [{ title: 'g', attributions: { data: Float32Array.from(data, (v, i) => (i === 6 ? -3 : v)), dims: [1, 1, 4, 4] } }] }, { method: 'heat_map', sign: 'all', size: 64 });
  assert.equal(signed.getPixel(8 + 16 + 3, 22 + 16 + 3), [0, 128, 0], 'positive → green');
  assert.equal(signed.getPixel(8 + 32 + 3, 22 + 16 + 3), [255, 0, 0], 'negative → red');
  assert.equal(signed.getPixel(8 + 3, 22 + 3), [254, 254, 254], 'zero → matplotlib\'s middle entry (128 of 256) of red-white-green');
});

// Bytes from matplotlib 3.6 (`cm.get_cmap(name)(t, bytes=True)`; Captum's red-white-green is
// `LinearSegmentedColormap.from_list('RdWhGn', ['red', 'white', 'green'])` at (t + 1) / 2). The maps
// were five-colour approximations of Greens, Reds and Blues: up to 18 levels off.
test('colour maps are matplotlib\'s, in the bytes it draws: Greens, Reds, Blues for one sign, red-white-green for all', () => {
  const ts = [0, 0.1, 0.25, 0.3333, 0.5, 0.62, 0.875, 0.99, 1];
  const want = {
    positive: [[247, 252, 245], [232, 246, 228], [198, 232, 191], [173, 222, 167], [115, 195, 117], [67, 172, 94], [0, 107, 43], [0, 70, 28], [0, 68, 27]],
    negative: [[255, 245, 240], [254, 228, 216], [252, 186, 160], [252, 159, 129], [250, 105, 73], [239, 61, 45], [163, 14, 20], [106, 0, 13], [103, 0, 12]],
    absolute: [[247, 251, 255], [227, 238, 248], [197, 218, 238], [171, 207, 229], [106, 173, 213], [67, 147, 198], [8, 80, 154], [8, 50, 110], [8, 48, 107]],
  };
  // outlierPerc 0 saturates at the largest |value| (1), so the map shows the values themselves; one pixel each.
  for (const [sign, colours] of Object.entries(want) as ['positive' | 'negative' | 'absolute', number[][]][]) {
    const data = Float32Array.from(ts, (t) => (sign === 'negative' ? -t : t));
    const fig = visualize({ columns: [{ title: 'g', attributions: { data, dims: [1, 1, 1, ts.length] } }] }, { method: 'heat_map', sign, outlierPerc: 0, size: ts.length });
    assert.equal(ts.map((_, k) => fig.getPixel(8 + k, 22)), colours, sign);
  }
  const tt = [-1, -0.5, -0.1, 0, 0.1, 0.5, 1];
  const fig = visualize({ columns: [{ title: 'g', attributions: { data: Float32Array.from(tt), dims: [1, 1, 1, tt.length] } }] }, { method: 'heat_map', sign: 'all', outlierPerc: 0, size: 2 * tt.length });
  assert.equal(tt.map((_, k) => fig.getPixel(8 + 2 * k, 22)), [[255, 0, 0], [255, 128, 128], [255, 230, 230], [254, 254, 254], [230, 242, 230], [126, 190, 126], [0, 128, 0]]);
});

// Captum draws blended_heat_map over imshow(mean(image, 2), cmap='gray'), which matplotlib stretches
// to the grey's own range; the grey was drawn as it is (a photo's 42–231 stayed 42–231).
test('blended_heat_map lies over the image\'s grey stretched to its own range; the display size sets the longer side, up or down', () => {
  const image = { width: 2, height: 1, data: Float32Array.from([0.2, 0.2, 0.2, 0.6, 0.6, 0.6]) };
  const fig = visualize({ columns: [{ title: 'g', attributions: { data: new Float32Array(2), dims: [1, 1, 1, 2] } }], images: [image] }, { size: 8 });
  // Zero attributions: Blues' light end [247, 251, 255] at α 0.5 over black (the darkest grey) and white (the lightest).
  const panelX = fig.width - 8 - 8;
  assert.equal(fig.getPixel(panelX, 22), [124, 126, 128]);
  assert.equal(fig.getPixel(panelX + 7, 22), [251, 253, 255]);
  const ones = (h: number, w: number) => ({ title: 'g', attributions: { data: new Float32Array(h * w).fill(1), dims: [1, 1, h, w] } });
  const panel = (fig: ReturnType<typeof visualize>) => {
    let w = 0, h = 0;
    while (String(fig.getPixel(8 + w, 22)) === '8,48,107') w++;
    while (String(fig.getPixel(8, 22 + h)) === '8,48,107') h++;
    return [w, h];
  };
  assert.equal(panel(visualize({ columns: [ones(4, 4)] }, { method: 'heat_map', size: 10 })), [10, 10], 'not a whole multiple (8)');
  assert.equal(panel(visualize({ columns: [ones(30, 60)] }, { method: 'heat_map', size: 20 })), [20, 10], 'shrunk, not kept at 60');
  assert.equal(panel(visualize({ columns: [ones(5, 3)] }, { method: 'heat_map', size: 100 })), [60, 100]);
});

test('Captum\'s rules for masks and opacities: no signed masked_image or alpha_scaling, no colour bar under them; outlierPerc 100 saturates at the smallest value', () => {
  const col = { title: 'g', attributions: { data: Float32Array.from([1, 2, 3, 4]), dims: [1, 1, 2, 2] } };
  const image = { width: 2, height: 2, data: new Float32Array(12).fill(0.5) };
  assert.throws(() => visualize({ columns: [col], images: [image] }, { method: 'alpha_scaling', sign: 'all' }), (e: Error) => e instanceof ExplainError && /alpha_scaling needs sign positive, negative or absolute/.test(e.message));
  const heat = visualize({ columns: [col], images: [image] }, { method: 'heat_map', size: 8 });
  const masked = visualize({ columns: [col], images: [image] }, { method: 'masked_image', size: 8 });
  assert.ok(masked.height < heat.height, `no colour bar: ${masked.height} vs ${heat.height}`);
  const all = normalizeAttr([1, 2, 3, 4], 'absolute', 100);
  assert.is(all.threshold, 1);
  assert.equal(Array.from(all.norm), [1, 1, 1, 1]);
  // Where some value is 0 the threshold is 0 (Captum refuses it): every other value saturates, none is drawn blank.
  const withZero = normalizeAttr([0, -2, 3, 0.5], 'all', 100);
  assert.equal([withZero.threshold, ...withZero.norm], [0, 0, -1, 1, 1]);
  assert.equal(Array.from(normalizeAttr([0, -2, 3, 0.5], 'positive', 100).norm), [0, 0, 1, 1]);
  assert.equal(Array.from(normalizeAttr([-2, -1, 0, 1, 3], 'negative', 100).norm), [1, 1, 0, 0, 0], 'the negative map runs over [0, 1] too');
  assert.not.throws(() => visualize({ columns: [col] }, { outlierPerc: 100 }));
  assert.throws(() => visualize({ columns: [col] }, { outlierPerc: 100.5 }), (e: Error) => /must be in \[0, 100\]/.test(e.message));
});

test('sequences are bars to scale: a map\'s method or outlier percentage is refused; a bar of a pixel hangs under the axis, zeros draw nothing', () => {
  const seq = (values: number[]) => ({ title: 's', attributions: { data: Float32Array.from(values), dims: [1, values.length] } });
  assert.throws(() => visualize({ columns: [seq([1, 2, 3, 4])] }, { method: 'masked_image' }), (e: Error) => /the method \(--vis-method\) applies to image maps; a sequence is drawn as per-position bars/.test(e.message));
  assert.throws(() => visualize({ columns: [seq([1, 2, 3, 4])] }, { outlierPerc: 30 }), (e: Error) => /outlierPerc \(--outlier-perc\) applies to image maps/.test(e.message));
  const reds = (fig: ReturnType<typeof visualize>) => {
    let n = 0;
    for (let y = 0; y < fig.height; y++) for (let x = 0; x < fig.width; x++) if (String(fig.getPixel(x, y)) === '255,0,0') n++;
    return n;
  };
  assert.ok(reds(visualize({ columns: [seq([1, -0.001, 1, 1])] }, { sign: 'all' })) > 0, 'the one-pixel negative bar hangs under the axis line, not behind it');
  assert.is(reds(visualize({ columns: [seq([1, 0, 2, 0])] }, { sign: 'all' })), 0, 'no stray pixels for zeros');
  // Rows of other magnitudes (tick labels "0.4" and "1.5e-5") line up: the first green bar of each row starts at one x.
  const rows = visualize({ columns: [{ title: 's', attributions: { data: Float32Array.from([0.5, 0.25, 0.5, 0.25, 2e-5, 1e-5, 2e-5, 1e-5]), dims: [2, 4] } }] }, { sign: 'all' });
  const firstGreen: number[] = [];
  for (let y = 0; y < rows.height; y++) {
    for (let x = 0; x < rows.width; x++) {
      if (String(rows.getPixel(x, y)) !== '0,128,0') continue;
      if (!firstGreen.includes(x)) firstGreen.push(x);
      break;
    }
  }
  assert.is(firstGreen.length, 1, `first green columns ${firstGreen}`);
  // The title's max |a| is of the bars the sign draws: [1.98, −1.82] drawn negative is [0, −1.82] drawn (its title said 2.0).
  const negative = (values: number[]) => visualize({ columns: [seq(values)] }, { sign: 'negative' }).data;
  assert.equal(negative([1.98, -1.82]), negative([0, -1.82]));
});

test('columns share rows and spatial size, not channels: a one-channel map beside RGB attributions draws; other sizes fail', () => {
  const rgb = { title: 'g', attributions: { data: new Float32Array(3 * 16).fill(1), dims: [1, 3, 4, 4] } };
  const map = { title: 'cam', attributions: { data: new Float32Array(16).fill(1), dims: [1, 1, 4, 4] } };
  const small = { title: 'raw', attributions: { data: new Float32Array(4).fill(1), dims: [1, 1, 2, 2] } };
  const fig = visualize({ columns: [rgb, map] }, { size: 16 });
  assert.ok(fig.width > 2 * 16);
  assert.throws(() => visualize({ columns: [rgb, small] }), (e: Error) => e instanceof ExplainError && /does not match \[1,3,4,4\]/.test(e.message));
});

test('masked_image of signed attributions and images-only methods without an image fail with a clear error', () => {
  const col = { title: 'g', attributions: { data: new Float32Array(4), dims: [1, 1, 2, 2] } };
  const image = { width: 2, height: 2, data: new Float32Array(12).fill(0.5) };
  assert.throws(() => visualize({ columns: [col], images: [image] }, { method: 'masked_image', sign: 'all' }), (e: Error) => e instanceof ExplainError && /masked_image needs sign/.test(e.message));
  assert.throws(() => visualize({ columns: [col] }, { method: 'alpha_scaling' }), (e: Error) => e instanceof ExplainError && /needs the input image/.test(e.message));
});

// These were checked when the figure was drawn: occlusion's rows were computed and printed, then exit 1.
test('CLI: a figure\'s options are checked against what it draws before any attribution is computed', async () => {
  const digits = ['attribute', path.join(DIGITS, 'model.onnx'), '--input', path.join(DIGITS, 'sample.npy'), '--out', path.join(dir, 'checked.png')];
  const onehot = path.join(__dirname, '..', '..', 'models', 'fixtures', 'conv1d_onehot');
  const sequence = ['attribute', path.join(onehot, 'model.onnx'), '--input', path.join(onehot, 'input.npy'), '--out', path.join(dir, 'checked.png')];
  for (const [argv, message] of [
    [[...digits, '--outlier-perc', '101'], 'visualize: outlier percentage 101 must be in [0, 100]'],
    [[...digits, '--vis-method', 'alpha_scaling', '--sign', 'all'], 'visualize: alpha_scaling needs sign positive, negative or absolute (a mask or an opacity cannot be signed)'],
    [[...sequence, '--vis-method', 'masked_image'], 'visualize: the method (--vis-method) applies to image maps; a sequence is drawn as per-position bars to scale'],
  ] as [string[], string][]) {
    const r = await runCli(argv);
    assert.equal([r.code, r.out, r.err], [1, [], [`onnx-explain: error: ${message}`]], argv.join(' '));
  }
  assert.not.ok(fs.existsSync(path.join(dir, 'checked.png')));
  const all = await runCli([...digits, '--outlier-perc', '100']);
  assert.is(all.code, 0, all.err.join('|'));
});

test('CLI: the grayscale digits model writes a captioned PNG figure at display size; --out is checked before any work', async () => {
  const out = path.join(dir, 'new', 'sub', 'digits.png');
  const r = await runCli(['attribute', path.join(DIGITS, 'model.onnx'), '--input', path.join(DIGITS, 'sample.npy'), '--method', 'deeplift', '--sign', 'all', '--display-size', '64', '--out', out]);
  assert.is(r.code, 0, r.err.join('|'));
  const png = PNG.sync.read(fs.readFileSync(out));
  assert.ok(png.width >= 2 * 64 && png.height >= 4 * 64, `${png.width}×${png.height}: four rows of input + deeplift panels`);
  const bad = await runCli(['attribute', path.join(dir, 'no-such-model.onnx'), '--input', 'x.npy', '--out', path.join(dir, 'heat.txt')]);
  assert.is(bad.code, 1);
  assert.equal(bad.err, [`onnx-explain: error: --out: '${path.join(dir, 'heat.txt')}' must end in .npy or .png`]);
});

test('CLI visualize: one column per method on a 1-D genomics model; LRP reports conservation without a warning', async () => {
  const genomics = path.join(__dirname, '..', '..', 'examples', 'genomics');
  const out = path.join(dir, 'grid.png');
  const r = await runCli(['visualize', path.join(genomics, 'model.onnx'), '--input', path.join(genomics, 'test.npy'), '--methods', 'gradient,deeplift', '--out', out]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.ok(r.out.some((l) => /shows the first 16 of 400 rows/.test(l)));
  const png = PNG.sync.read(fs.readFileSync(out));
  assert.ok(png.width > 2 * 448, 'two bar-plot columns side by side');
  const lrp = await runCli(['attribute', path.join(DIGITS, 'model.onnx'), '--input', path.join(DIGITS, 'sample.npy'), '--method', 'lrp-epsilon']);
  assert.is(lrp.code, 0);
  assert.equal(lrp.warn, []);
  assert.ok(lrp.out.some((l) => /^row 0: Σ relevance .* % conserved\); the rest, .*, is absorbed by biases and ε stabilisers$/.test(l)), lrp.out.join('\n'));
  assert.not.ok(lrp.out.some((l) => /α − β/.test(l)));
  // α − β other than 1 scales each layer's relevance: said, so the conservation line is not misread.
  const scaled = await runCli(['attribute', path.join(DIGITS, 'model.onnx'), '--input', path.join(DIGITS, 'sample.npy'), '--method', 'lrp-alphabeta', '--alpha', '3', '--beta', '1']);
  assert.is(scaled.code, 0);
  assert.ok(scaled.out.includes('α − β = 2, not 1: each α-β layer scales the relevance it passes by 2, so Σ relevance is not f(x) by design'), scaled.out.join('\n'));
  // With a contrast, f(x) is z_t − z_c (the line compared Σ relevance with z_t alone: −96 % for 100 %).
  const ex = await Explainer.load(path.join(DIGITS, 'model.onnx'));
  const sample = readNpy(path.join(DIGITS, 'sample.npy'));
  const logits = Object.values(await ex.forward({ data: sample.data as Float32Array, dims: sample.dims }))[0].data;
  const contrasted = await runCli(['attribute', path.join(DIGITS, 'model.onnx'), '--input', path.join(DIGITS, 'sample.npy'), '--method', 'lrp-epsilon', '--target', '3', '--contrast', '8']);
  assert.is(contrasted.code, 0, contrasted.err.join('|'));
  for (let row = 0; row < 4; row++) {
    const line = contrasted.out.find((l) => l.startsWith(`row ${row}: Σ relevance`))!;
    const fx = Number(/of f\(x\) (\S+)/.exec(line)![1]);
    assert.ok(Math.abs(fx - (logits[row * 10 + 3] - logits[row * 10 + 8])) < 1e-4, `row ${row}: ${line}`);
    // The row's line names the contrast and gives the difference explained.
    const named = /^row \d+: target 3 rather than 8, \S+\[3\] − \S+\[8\] = (\S+)$/.exec(contrasted.out.find((l) => l.startsWith(`row ${row}: target`))!);
    assert.ok(named && Math.abs(Number(named[1]) - (logits[row * 10 + 3] - logits[row * 10 + 8])) < 1e-4, contrasted.out.join('\n'));
  }
  // α-β with β ≠ 0 says what its own weighting adds, not only what biases absorb.
  const alphaBeta = await runCli(['attribute', path.join(DIGITS, 'model.onnx'), '--input', path.join(DIGITS, 'sample.npy'), '--method', 'lrp-alphabeta']);
  assert.ok(alphaBeta.out.some((l) => /^row 0: Σ relevance .*; the rest, .*, is the biases' share, which α-β leaves out, less what neurons whose inputs all push one way add \(they pass α·R or −β·R\)$/.test(l)), alphaBeta.out.join('\n'));
});

test('figure captions give probabilities: of a LogSoftmax output, exp of its values; text models are drawn as one bar per token', async () => {
  const logSoftmax = encodeModel(tinyGraph(['N', 3], 13, (em, v) => em.op('LogSoftmax', [em.op('Gemm', [v, em.constFloat([0.5, -1, 2, 1.5, 0.25, -0.75, 1, 0, -1], [3, 3])])], { axis: 1 })).model);
  const lsEx = await Explainer.load(logSoftmax);
  const x = { data: Float32Array.from([1, 2, -1, 0.5, -0.5, 3]), dims: [2, 3] };
  const r = await lsEx.attribute(x, { target: 0 });
  const logp = r.outputs.y.data;
  assert.equal(await captions(lsEx, r, { target: 0 }, [3]), [0, 1].map((row) => {
    const p = [0, 1, 2].map((k) => Math.exp(logp[row * 3 + k]));
    const pred = p.indexOf(Math.max(...p));
    return `row ${row}: target 0 (p ${p[0].toFixed(2)}) pred ${pred} (p ${p[pred].toFixed(2)})`;
  }));
  // The same LogSoftmax written out (z − ReduceLogSumExp(z)) gives the same captions.
  const written = await Explainer.load(encodeModel(tinyGraph(['N', 3], 13, (em, v) => {
    const z = em.op('Gemm', [v, em.constFloat([0.5, -1, 2, 1.5, 0.25, -0.75, 1, 0, -1], [3, 3])]);
    return em.sub(z, em.op('ReduceLogSumExp', [z], { axes: [1], keepdims: 1 }));
  }).model));
  assert.equal(await captions(written, await written.attribute(x, { target: 0 }), { target: 0 }, [3]), await captions(lsEx, r, { target: 0 }, [3]));
  // A contrast is named after the target: the map is of their difference, of the logits behind the LogSoftmax on the CLI's row lines.
  const versus = await captions(lsEx, await lsEx.attribute(x, { target: 0, contrast: 2 }), { target: 0, contrast: 2 }, [3]);
  assert.ok(versus.every((c, row) => c.startsWith(`row ${row}: target 0 rather than 2 (p `)), versus.join('\n'));
  const lsFile = path.join(dir, 'logsoftmax.onnx');
  fs.writeFileSync(lsFile, logSoftmax);
  const xFile = path.join(dir, 'x.npy');
  writeNpy(xFile, x.data, x.dims);
  const lines = (await runCli(['attribute', lsFile, '--input', xFile, '--target', '0', '--contrast', '2'])).out;
  const { from } = lsEx.resolveOutput(undefined);
  const logits = r.outputs[from].data;
  [0, 1].forEach((row) => {
    const m = new RegExp(`^row ${row}: target 0 rather than 2, ${from.replace(/[/.]/g, '\\$&')}\\[0\\] − \\S+\\[2\\] = (\\S+)$`).exec(lines.find((l) => l.startsWith(`row ${row}: target`)) ?? '');
    assert.ok(m && Math.abs(Number(m[1]) - (logits[row * 3] - logits[row * 3 + 2])) < 1e-5, lines.join('\n'));
  });
  // Values computed from probabilities are no logits: a softmax written out (Exp over its row sum) and its top 2 give their own
  // p; scaled by 100, the value itself; logits times exp(logit_scale) (CLIP's) are logits still.
  const W = [0.5, -1, 2, 1.5, 0.25, -0.75, 1, 0, -1];
  const z = [0, 1].map((row) => [0, 1, 2].map((k) => [0, 1, 2].reduce((a, i) => a + x.data[row * 3 + i] * W[i * 3 + k], 0)));
  const p = z.map((row) => row.map((v) => Math.exp(v) / row.reduce((a, u) => a + Math.exp(u), 0)));
  const heads: [string, (em: Emitter, e: string, logits: string) => string, (row: number) => string][] = [
    ['softmax written out', (em, e) => em.div(e, em.reduceSum(e, [1])), (row) => `target 0 (p ${p[row][0].toFixed(2)}) pred ${p[row].indexOf(Math.max(...p[row]))} (p ${Math.max(...p[row]).toFixed(2)})`],
    ['its top 2', (em, e) => em.opN('TopK', [em.div(e, em.reduceSum(e, [1])), em.constInt([2])], 2, { axis: 1 })[0], (row) => `target 0 (p ${Math.max(...p[row]).toFixed(2)}) pred 0 (p ${Math.max(...p[row]).toFixed(2)})`],
    ['scaled by 100', (em, e) => em.mul(em.div(e, em.reduceSum(e, [1])), em.scalar(100)), (row) => `target 0 (y[0] ${(100 * p[row][0]).toPrecision(3)})`],
    ['logits · exp(clip(scale))', (em, _e, logits) => {
      // Written as the export has it (the emitter would fold a Clip of constants).
      em.nodes.push({ op_type: 'Clip', input: [em.constFloat([Math.log(2)], []), em.constFloat([0], []), em.constFloat([4.6], [])], output: ['scale'], name: 'clip' });
      return em.mul(logits, em.op('Exp', ['scale']));
    }, (row) => {
      const q = z[row].map((v) => Math.exp(2 * v) / z[row].reduce((a, u) => a + Math.exp(2 * u), 0));
      return `target 0 (p ${q[0].toFixed(2)}) pred ${q.indexOf(Math.max(...q))} (p ${Math.max(...q).toFixed(2)})`;
    }],
    // A swish x·σ(x) makes no probabilities: its values are logits.
    ['swish of the logits', (em, _e, logits) => em.mul(logits, em.op('Sigmoid', [logits])), (row) => {
      const s = z[row].map((v) => v / (1 + Math.exp(-v)));
      const q = s.map((v) => Math.exp(v) / s.reduce((a, u) => a + Math.exp(u), 0));
      return `target 0 (p ${q[0].toFixed(2)}) pred ${q.indexOf(Math.max(...q))} (p ${Math.max(...q).toFixed(2)})`;
    }],
  ];
  for (const [head, tail, want] of heads) {
    const model = encodeModel(tinyGraph(['N', 3], 13, (em, v) => {
      const logits = em.matmul(v, em.constFloat(W, [3, 3]));
      return tail(em, em.op('Exp', [logits]), logits);
    }).model);
    const hx = await Explainer.load(model);
    const hr = await hx.attribute(x, { target: 0 });
    assert.equal(await captions(hx, hr, { target: 0 }, [3]), [0, 1].map((row) => `row ${row}: ${want(row)}`), head);
  }
  const bag = path.join(__dirname, '..', '..', 'models', 'text', 'bag_mean');
  const figure = path.join(dir, 'tokens.png');
  const t = await runCli(['attribute', path.join(bag, 'model.onnx'), '--input', path.join(bag, 'input_ids.npy'), '--out', figure]);
  assert.is(t.code, 0, t.err.join('|'));
  const text = await Explainer.load(path.join(bag, 'model.onnx'));
  const ids = readNpy(path.join(bag, 'input_ids.npy'));
  const g = await text.attribute({ data: ids.data as BigInt64Array, dims: ids.dims }, {});
  assert.equal(attributionLayout(g.tokenScores!.dims).kind, 'sequence');
  const drawn = PNG.sync.read(fs.readFileSync(figure));
  const bars = visualize({ columns: [{ title: 'gradient', attributions: g.tokenScores! }], captions: await captions(text, g, {}, [...ids.dims.slice(1), ...text.tokens!.rowDims]) });
  assert.equal([drawn.width, drawn.height], [bars.width, bars.height], 'the token scores\' bar plot, not a position × dimension map');
  assert.equal(Buffer.from(drawn.data).equals(Buffer.from(bars.data)), true);
});

test('row captions: target and prediction with softmax probabilities of logits, or the scores as given', () => {
  // softmax([0, ln 3]) = [0.25, 0.75]; softmax([ln 4, 0]) = [0.8, 0.2]
  const logits = { data: Float32Array.of(0, Math.log(3), Math.log(4), 0), dims: [2, 2] };
  assert.equal(rowCaptions(logits, [0, 0]), ['row 0: target 0 (p 0.25) pred 1 (p 0.75)', 'row 1: target 0 (p 0.80) pred 0 (p 0.80)']);
  const probs = { data: Float32Array.of(0.1, 0.9), dims: [2] };
  assert.equal(rowCaptions(probs, [0], true), ['row 0: target 0 (p 0.10) pred 1 (p 0.90)'], 'one row of an output without a batch axis');
  // Below 0.005 two digits (a prediction among 1,000 classes at 0.0015 read "p 0.00").
  assert.equal(rowCaptions({ data: Float32Array.from([0.0015, 0.0012, 0, 0.9973]), dims: [1, 4] }, [0], true), ['row 0: target 0 (p 0.0015) pred 3 (p 1.00)']);
  assert.equal(rowCaptions({ data: Float32Array.from([0.00091]), dims: [1, 1] }, [0], true), ['row 0: target 0 (p 0.00091)'], 'a single score too');
  // One score per row (a binary classifier's Sigmoid, a regression): no class to pick, and a softmax of one value would be 1.
  assert.equal(rowCaptions({ data: Float32Array.from([0.03, 0.97]), dims: [2, 1] }, [0, 0], true), ['row 0: target 0 (p 0.03)', 'row 1: target 0 (p 0.97)']);
  assert.equal(rowCaptions({ data: Float32Array.from([-2.5]), dims: [1, 1] }, [0]), ['row 0: target 0 (value -2.500)']);
});

test('plot axes: round tick values 1, 2 or 5 × 10^k apart inside the range, labels in a few digits', () => {
  assert.equal(niceTicks(0, 452, 5), [0, 100, 200, 300, 400]);
  assert.equal(niceTicks(-0.5, 31.5, 5), [0, 10, 20, 30], 'bar categories centred on integers');
  assert.equal(niceTicks(4.5, 44.2, 4), [10, 20, 30, 40]);
  assert.equal(niceTicks(-1e-3, 1e-3, 4).map((t) => tickLabel(t)), ['-1e-3', '-5e-4', '0', '5e-4', '1e-3']);
  assert.equal(niceTicks(-0.19, 0.49, 3), [0, 0.2, 0.4], 'a step of 0.5 would leave one tick: the next smaller one');
  assert.equal(niceTicks(1, 1, 4), []);
  assert.is(tickLabel(0.1 + 0.2), '0.3');
  assert.is(tickLabel(123456), '1.2e5');
  // A colour bar too narrow for its three labels keeps the two ends (they ran together as "-1.81.8"), then the last alone.
  const inked = (bar: Canvas) => Array.from({ length: bar.width }, (_, x) => x).filter((x) => Array.from({ length: 8 }, (_, y) => bar.getPixel(x, 12 + y)).some((p) => p[0] < 128));
  const [w0, w1] = [Canvas.textWidth('-1.8'), Canvas.textWidth('1.8')];
  const ends = inked(colourScale(lookupMap([[255, 0, 0], [0, 128, 0]]), -1, 1, ['-1.8', '0', '1.8'], 30));
  assert.ok(ends.some((x) => x < w0) && ends.some((x) => x >= 29 - w1) && ends.every((x) => x < w0 || x >= 29 - w1), `ink at ${ends}`);
  const alone = inked(colourScale(lookupMap([[255, 0, 0], [0, 128, 0]]), -1, 1, ['-1.8', '0', '1.8'], 20));
  assert.ok(alone.length > 0 && alone.every((x) => x >= 19 - w1), `ink at ${alone}`);
  assert.equal(inked(colourScale(lookupMap([[255, 0, 0], [0, 128, 0]]), -1, 1, ['-1.8e-5', '0', '1.8e-5'], 16)), [], 'a label wider than the bar is left out, not cut to "8e-5"');
  // Whole numbers below 10⁴ (positions of a sequence) in full, not 1e3 and 1.5e3.
  assert.equal([1000, 1500, -2500].map((t) => tickLabel(t)), ['1000', '1500', '-2500']);
  assert.is(tickLabel(-1.234, 2), '-1.2');
});

// A 16×16 image under an 8×8 map was blended from its first 64 pixels; columns without a title or a list failed with TypeErrors.
test('visualize checks the figure: images the maps\' size, columns a list of titled tensors', () => {
  const map = { data: new Float32Array(64).fill(0.5), dims: [1, 1, 8, 8] };
  const image = (w: number, h: number, n = w * h * 3) => ({ width: w, height: h, data: new Float32Array(n) });
  assert.throws(() => visualize({ columns: [{ title: 'g', attributions: map }], images: [image(16, 16)] }), (e: Error) => e instanceof ExplainError && /image 0 is 16×16 with 768 values; the maps are 8×8, so it must be that size with 192 values/.test(e.message));
  assert.throws(() => visualize({ columns: [{ title: 'g', attributions: map }], images: [image(8, 8, 64)] }), (e: Error) => e instanceof ExplainError && /image 0 is 8×8 with 64 values/.test(e.message));
  assert.throws(() => visualize({ columns: null as never }), (e: Error) => e instanceof ExplainError && /columns must be a list/.test(e.message));
  assert.throws(() => visualize({ columns: [{ attributions: map } as never] }), (e: Error) => e instanceof ExplainError && /each column is \{ title: string, attributions: \{ data, dims \} \}/.test(e.message));
  assert.is(visualize({ columns: [{ title: 'g', attributions: map }], images: [image(8, 8)], captions: [7 as never] }).width > 0, true);
});

test('cumulative-sum threshold sorts numerically, as np.sort (10 before 9 in a string sort)', () => {
  // sorted 3 20, running sums 3 23: 10 % of 23 = 2.3 is reached at 3; 9 10 11: 50 % of 30 reached at 10 (running 9 19).
  assert.is(cumulativeSumThreshold([20, 3], 10), 3);
  assert.is(cumulativeSumThreshold([11, 10, 9], 50), 10);
});

test('masked_image multiplies the image by the normalised attribution (Captum: original_image · norm_attr): black where it is 0', () => {
  const image = { width: 2, height: 1, data: Float32Array.from([0.5, 0.5, 0.5, 0.5, 0.5, 0.5]) };
  const fig = visualize({ columns: [{ title: 'g', attributions: { data: Float32Array.from([0, 1]), dims: [1, 1, 1, 2] } }], images: [image] }, { method: 'masked_image', size: 8 });
  const panelX = fig.width - 8 - 8;
  assert.equal(fig.getPixel(panelX, 22), [0, 0, 0]);
  assert.equal(fig.getPixel(panelX + 7, 22), [128, 128, 128]);
});

test.run();
