import * as fs from 'fs';
import * as path from 'path';
import * as ort from 'onnxruntime-node';
import { PNG } from 'pngjs';
import { test } from 'uvu';
import { PALETTE, seriesColour } from '../runtime/plot';
import * as assert from 'uvu/assert';
import { DataType, decodeModel, encodeModel, valueInfo } from '../rewriter/proto';
import { Explainer, filterSensitivity } from '../runtime';
import { readNpy, writeNpy } from '../runtime/node/npy-file';
import { runCli, tempDir } from './support/cli-harness';
import { rejects } from './support/rejects';
import { EXPORTERS, loadFixture } from './support/fixtures';

const DIR = path.resolve(__dirname, '../../models/cam-fixtures/cam_gap');
const MODEL = path.join(DIR, 'model.onnx');
const LAYER = '/body/body.4/Relu_output_0';
const input = () => { const a = readNpy(path.join(DIR, 'input.npy')); return { data: a.data as Float32Array, dims: a.dims }; };

/** Per row, each channel's mean activation of LAYER, from the model file with LAYER made an output (plain onnxruntime, explicit loops). */
async function bruteMeans(data: Float32Array, dims: number[]): Promise<number[][]> {
  const model = decodeModel(fs.readFileSync(MODEL));
  model.graph!.output = [{ name: LAYER }];
  const session = await ort.InferenceSession.create(encodeModel(model));
  const a = (await session.run({ input: new ort.Tensor('float32', data, dims) }))[LAYER];
  const [n, c, h, w] = a.dims;
  const v = a.data as Float32Array;
  const means: number[][] = [];
  for (let r = 0; r < n; r++) {
    means.push([]);
    for (let k = 0; k < c; k++) {
      let s = 0;
      for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) s += v[((r * c + k) * h + i) * w + j];
      means[r].push(s / (h * w));
    }
  }
  return means;
}

const ranked = (m: number[], k: number) => m.map((v, i) => i).sort((a, b) => m[b] - m[a]).slice(0, k);

test('filters: top-k channels and their means equal a brute-force mean over the layer', async () => {
  const x = input();
  const r = await filterSensitivity(await Explainer.load(MODEL), x, { layer: LAYER, top: 4 });
  const want = await bruteMeans(x.data, x.dims);
  assert.equal(r.shape, [x.dims[0], 16, 8, 8], 'the layer at these rows');
  r.rows.forEach((row, n) => {
    assert.equal(row.top, ranked(want[n], 4));
    row.means.forEach((m, c) => assert.ok(Math.abs(m - want[n][c]) < 1e-6));
  });
});

test('filters --layer takes a node name for its output, as maximize does', async () => {
  const ex = await Explainer.load(MODEL);
  const node = ex.view.nodes.find((n) => n.output?.[0] === LAYER)!.name!;
  const byTensor = await filterSensitivity(ex, input(), { layer: LAYER, top: 3 });
  const byNode = await filterSensitivity(ex, input(), { layer: node, top: 3 });
  assert.equal(byNode, byTensor);
});

test('filters with occluded boxes: each occlusion\'s top-k, shared count and per-channel change by brute force', async () => {
  const x = input();
  const boxes: [number, number][][] = [[[0, 8], [0, 8]], [[4, 16], [2, 9]]];
  const r = await filterSensitivity(await Explainer.load(MODEL), x, { layer: LAYER, top: 3, boxes, fill: -2, internalBatchSize: 4 });
  const base = await bruteMeans(x.data, x.dims);
  for (const [b, box] of boxes.entries()) {
    const occluded = Float32Array.from(x.data, (v, i) => {
      const h = Math.floor(i / 16) % 16, w = i % 16;
      return h >= box[0][0] && h < box[0][1] && w >= box[1][0] && w < box[1][1] ? -2 : v;
    });
    const means = await bruteMeans(occluded, x.dims);
    r.rows.forEach((row, n) => {
      const o = row.occluded![b];
      assert.equal(o.region, box);
      assert.equal(o.top, ranked(means[n], 3));
      assert.is(o.shared, o.top.filter((c) => ranked(base[n], 3).includes(c)).length);
      o.change.forEach((d, c) => assert.ok(Math.abs(d - (means[n][c] - base[n][c])) < 1e-5, `box ${b} row ${n} channel ${c}`));
    });
  }
  assert.ok(r.rows.some((row) => row.occluded!.some((o) => o.shared < 3)), 'some occlusion changes the top-k');
});

test('a number baseline fills the occluded boxes with that value, as attribute\'s does (API and --baseline V; it was refused as "… or a number, got number", and the CLI looked for a file named 0.5)', async () => {
  const x = input();
  const boxes: [number, number][][] = [[[0, 8], [0, 8]]];
  const ex = await Explainer.load(MODEL);
  const filled = await filterSensitivity(ex, x, { layer: LAYER, boxes, fill: -2 });
  const base = await filterSensitivity(ex, x, { layer: LAYER, boxes, baseline: -2 });
  assert.equal(base.rows.map((r) => r.occluded), filled.rows.map((r) => r.occluded));
  assert.ok(filled.rows.some((r) => r.occluded![0].change.some((d) => d !== 0)));
  const dir = tempDir('filters-baseline');
  const run = (flags: string[]) => runCli(['filters', MODEL, '--input', path.join(DIR, 'input.npy'), '--layer', LAYER, '--occlude', '0:8,0:8', ...flags, '--json', path.join(dir, `${flags[0]}.json`)]);
  const [viaFill, viaBaseline] = [await run(['--fill', '-2']), await run(['--baseline', '-2'])];
  assert.is(viaBaseline.code, 0, viaBaseline.err.join('|'));
  assert.equal(fs.readFileSync(path.join(dir, '--baseline.json'), 'utf8'), fs.readFileSync(path.join(dir, '--fill.json'), 'utf8'));
  assert.is(viaFill.code, 0);
  await rejects(() => filterSensitivity(ex, x, { layer: LAYER, boxes, baseline: NaN }), /baseline: NaN is not a finite number/);
});

// Rows 10 and 11 of a chart took rows 0's and 1's colours.
test('a bar chart\'s series each have their own colour: matplotlib\'s tab10, then 30 more apart from them and each other', () => {
  const colours = Array.from({ length: 40 }, (_, k) => seriesColour(k));
  assert.equal(colours.slice(0, 10), [...PALETTE]);
  const distance = (a: readonly number[], b: readonly number[]) => Math.hypot(...a.map((v, i) => v - b[i]));
  for (let i = 0; i < 40; i++) for (let j = 0; j < i; j++) assert.ok(distance(colours[i], colours[j]) > 30, `series ${j} and ${i}: ${colours[j]} and ${colours[i]}`);
});

test('filters CLI: table, bar chart PNG, JSON report; grid occlusion; one-line errors', async () => {
  const dir = tempDir('filters');
  const png = path.join(dir, 'chart.png');
  const json = path.join(dir, 'report.json');
  const r = await runCli(['filters', MODEL, '--input', path.join(DIR, 'input.npy'), '--layer', LAYER, '--top', '3', '--occlude', 'grid', '--window', '3,8,8', '--stride', '3,8,8', '--out', png, '--json', json]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.match(r.out[0], /^layer \/body\/body\.4\/Relu_output_0 \[N, 16, 8, 8\]: top 3 of 16 channels by mean activation$/);
  const report = JSON.parse(fs.readFileSync(json, 'utf8'));
  assert.is(report.rows.length, 3);
  assert.equal(report.rows[0].occluded.map((o: { region: number[] }) => o.region), [[0, 0, 0], [0, 8, 0], [0, 0, 8], [0, 8, 8]]);
  assert.ok(r.out.some((l) => /^ {2}\[0,8,8\]\s+(\d+ ){3}\s*\d\/3 /.test(l)), 'a table row per window');
  const img = PNG.sync.read(fs.readFileSync(png));
  assert.ok(img.width >= 480 && img.height === 240);
  const errors: [string[], RegExp][] = [
    [['--layer', 'nope'], /no tensor or node named 'nope'/],
    [[], /--layer NAME is required/],
    [['--layer', LAYER, '--occlude', 'grid'], /--occlude grid needs --window/],
    [['--layer', LAYER, '--occlude', '0:8,x'], /'x' in '0:8,x' is not a range START:END/],
    [['--layer', LAYER, '--occlude', '0:20,0:8'], /range 0:20 does not fit dimension 1 of the row shape \[3,16,16\]/],
    [['--layer', LAYER, '--top', '17'], /top: 17 is not between 1 and the layer's 16 channels/],
    [['--layer', LAYER, '--occlude=', '--fill=0.5'], /--occlude: empty/],
    [['--layer', LAYER, '--fill', '0.5'], /--fill applies only with --occlude/],
    [['--layer', LAYER, '--fill', 'random', '--seed', '3'], /--fill, --seed apply only with --occlude/],
  ];
  for (const [args, message] of errors) {
    const e = await runCli(['filters', MODEL, '--input', path.join(DIR, 'input.npy'), ...args]);
    assert.is(e.code, 1, args.join(' '));
    assert.is(e.err.length, 1);
    assert.match(e.err[0], message);
  }
});

test('filters on a model with two inputs: --wrt picks the one to occlude, --feed gives the other (per row), in the API and the CLI', async () => {
  // h = Relu(a ⊙ b) [N, 3, 4]: channel means and the change of occluding a's first two columns, by hand.
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 11 }],
    graph: {
      name: 'two', node: [{ op_type: 'Mul', input: ['a', 'b'], output: ['ab'] }, { op_type: 'Relu', input: ['ab'], output: ['h'] }, { op_type: 'ReduceSum', input: ['h'], output: ['y'], attribute: [{ name: 'axes', type: 7, ints: [2] }] }],
      input: [valueInfo('a', DataType.FLOAT, ['N', 3, 4]), valueInfo('b', DataType.FLOAT, ['N', 3, 4])], output: [valueInfo('y', DataType.FLOAT, ['N', 3])],
    },
  });
  const a = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i + 1));
  const b = Float32Array.from({ length: 24 }, (_, i) => Math.cos(2 * i));
  const mean = (f: (i: number) => number, r: number, c: number) => [0, 1, 2, 3].reduce((s, j) => s + Math.max(0, f(r * 12 + c * 4 + j) * b[r * 12 + c * 4 + j]), 0) / 4;
  const occluded = (i: number) => (i % 4 < 2 ? 0 : a[i]);
  const ex = await Explainer.load(model, { wrt: 'a' });
  const report = await filterSensitivity(ex, { data: a, dims: [2, 3, 4] }, { layer: 'h', top: 3, boxes: [[[0, 3], [0, 2]]], feeds: { b: { data: b, dims: [2, 3, 4] } } });
  report.rows.forEach((row, r) => [0, 1, 2].forEach((c) => {
    assert.ok(Math.abs(row.means[c] - mean((i) => a[i], r, c)) < 1e-6, `row ${r}, channel ${c}: mean ${row.means[c]}`);
    assert.ok(Math.abs(row.occluded![0].change[c] - (mean(occluded, r, c) - mean((i) => a[i], r, c))) < 1e-6, `row ${r}, channel ${c}: change ${row.occluded![0].change[c]}`);
  }));
  const dir = tempDir('filters-two');
  const [file, aFile, bFile] = ['two.onnx', 'a.npy', 'b.npy'].map((f) => path.join(dir, f));
  fs.writeFileSync(file, model);
  writeNpy(aFile, a, [2, 3, 4]);
  writeNpy(bFile, b, [2, 3, 4]);
  const r = await runCli(['filters', file, '--input', aFile, '--wrt', 'a', '--feed', `b=${bFile}`, '--layer', 'h', '--top', '3']);
  assert.is(r.code, 0, r.err.join('|'));
  // Without --top, the default top 5 of a layer of 3 channels is all 3 (it was refused as out of range).
  const all = await runCli(['filters', file, '--input', aFile, '--wrt', 'a', '--feed', `b=${bFile}`, '--layer', 'h']);
  assert.equal([all.code, all.out], [0, r.out]);
  assert.equal(r.err, []);
  assert.match(r.out[1], new RegExp(`^row 0: ${ranked([0, 1, 2].map((c) => mean((i) => a[i], 0, c)), 3)[0]} `));
  const joint = await runCli(['filters', file, '--input', aFile, '--wrt', 'all', '--layer', 'h']);
  assert.equal([joint.code, joint.err], [1, ['onnx-explain: error: filters: --wrt takes one input (the one to rank and occlude)']]);
});

test('filters and maximize on a layer of quantized integers are refused in one line', async () => {
  const fx = loadFixture('qdq_cnn', EXPORTERS);
  const e = await runCli(['filters', fx.model, '--input', path.join(path.dirname(fx.model), 'input.npy'), '--layer', 'QuantizeLinear_47']);
  assert.is(e.code, 1);
  assert.equal(e.err, [`onnx-explain: error: ${fx.model}: layer 'QuantizeLinear_47' holds uint8 values, not activations to rank (onnx-explain info --layers lists the float layers)`]);
  const qop = loadFixture('qop_cnn', EXPORTERS);
  const never = path.join(tempDir('filters-maximize'), 'never.npy');
  const m = await runCli(['maximize', qop.model, '--layer', 'QLinearConv_18', '--channel', '0', '--stages', '1', '--steps', '1', '--out', never]);
  assert.is(m.code, 1);
  assert.equal(m.err, [`onnx-explain: error: ${qop.model}: layer 'QLinearConv_18' holds uint8 values, not activations to maximise (onnx-explain info --layers lists the float layers)`]);
  assert.not.ok(fs.existsSync(never));
});

test('filters on a text model (token ids) is refused in one line that points to attribute', async () => {
  const text = path.resolve(__dirname, '../../models/text/bert_op14');
  const e = await runCli(['filters', path.join(text, 'model.onnx'), '--input', path.join(text, 'input_ids.npy'), '--layer', '/ln/Add_1_output_0']);
  assert.equal([e.code, e.err.length], [1, 1]);
  assert.match(e.err[0], /^onnx-explain: error: .*model\.onnx: filter sensitivity takes a model with a float input \(an image or a signal\); this one takes token ids/);
});

// The API took them and changed nothing (the CLI refused the same flags).
test('filterSensitivity refuses what no occlusion reads: window and boxes together, stride without window, fill/seed/baseline/internalBatchSize without regions, seed without a random fill', async () => {
  const ex = await Explainer.load(MODEL);
  const cases: [object, RegExp][] = [
    [{ window: [1, 4, 4], boxes: [[[0, 4], [0, 4]]] }, /give window \(a grid of windows\) or boxes, not both/],
    [{ stride: 2 }, /stride sets the step of window's grid; give window/],
    [{ fill: 0.5, internalBatchSize: 4 }, /fill, internalBatchSize apply to occluded inputs: give window or boxes/],
    [{ boxes: [[[0, 4], [0, 4]]], seed: 3 }, /seed seeds a random fill: give fill 'random'/],
  ];
  for (const [options, re] of cases) {
    await filterSensitivity(ex, input(), { layer: LAYER, ...options }).then(() => assert.unreachable(JSON.stringify(options)), (e: Error) => assert.match(e.message, re));
  }
});

test.run();
