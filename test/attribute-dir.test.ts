import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { Emitter } from '../rewriter/emitter';
import { DataType, encodeModel, valueInfo } from '../rewriter/proto';
import { readNpy, writeNpy } from '../runtime/node/npy-file';
import { cliFailsWith, runCli, tempDir } from './support/cli-harness';
import { loadFixture, relL2 } from './support/fixtures';

const dir = tempDir('attribute-dir');
const at = (...p: string[]) => path.join(dir, ...p);
const fx = loadFixture('resnet_bn');
const rowDims = fx.input.dims.slice(1);
const per = fx.input.data.length / fx.input.dims[0];
// Five one-row inputs: the fixture's three rows and two shifted copies.
const rows = Array.from({ length: 5 }, (_, k) => Float32Array.from(fx.input.data.subarray((k % 3) * per, (k % 3 + 1) * per), (v) => v + 0.1 * Math.floor(k / 3)));
fs.mkdirSync(at('in'));
rows.forEach((r, k) => writeNpy(at('in', `x${k}.npy`), r, [1, ...rowDims]));
fs.writeFileSync(at('in', 'notes.txt'), 'not an input');
// A folder named as an input is none (it stopped the run).
fs.mkdirSync(at('in', 'folder.npy'));

test('folder mode: one output per input, in batches, equal to each input explained alone', async () => {
  const r = await runCli(['attribute', fx.model, '--input-dir', at('in'), '--out-dir', at('out'), '--method', 'deeplift', '--target', '2', '--batch-size', '2', '--cache-dir', at('cache'), '--threads', '1']);
  assert.is(r.code, 0, r.err.join('|'));
  assert.equal(fs.readdirSync(at('out')).sort(), ['x0.npy', 'x1.npy', 'x2.npy', 'x3.npy', 'x4.npy']);
  // --cache-dir (and --threads) are read as in single-input mode: the graphs are kept there.
  assert.ok(fs.readdirSync(at('cache')).some((f) => f.endsWith('.onnx')), 'graphs cached in --cache-dir');
  await cliFailsWith(['attribute', fx.model, '--input-dir', at('in'), '--out-dir', at('out2'), '--cache-dir', at('cache'), '--no-cache'], /--cache-dir and --no-cache/, [at('in', 'x0.npy')]);
  const ex = await Explainer.load(fx.model);
  for (let k = 0; k < 5; k++) {
    const alone = await ex.attribute({ data: rows[k], dims: [1, ...rowDims] }, { method: 'deeplift', target: 2 });
    const got = readNpy(at('out', `x${k}.npy`));
    assert.equal(got.dims, [1, ...rowDims]);
    assert.ok(relL2(got.data as Float32Array, alone.attributions.data) <= 1e-6, `x${k}: rel L2 ${relL2(got.data as Float32Array, alone.attributions.data)}`);
  }
});

test('folder mode with inputs of several shapes (texts of other lengths, images of other sizes): each run of one shape is a batch; every output equals its input explained alone (a second shape stopped the run)', async () => {
  // y = mean over H, W of x [N, 3, H, W] times W [3, 2]: ∂y_1/∂x[c, h, w] = W[c, 1] / (H·W) at any size.
  const W = [0.5, -1, 2, 1.5, 0.25, -0.75];
  const model = at('sizes.onnx');
  const em = new Emitter(13, DataType.FLOAT, 'sizes');
  em.rename(em.matmul(em.reduceMean('x', [2, 3], false), em.constFloat(W, [3, 2])), 'y');
  fs.writeFileSync(model, encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'sizes', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 3, 'H', 'W'])], output: [{ name: 'y' }] } }));
  fs.mkdirSync(at('sizes'));
  const sides = { a: 4, b: 4, c: 6, d: 4, e: 6, f: 6 };
  for (const [name, side] of Object.entries(sides)) writeNpy(at('sizes', `${name}.npy`), Float32Array.from({ length: 3 * side * side }, (_, i) => Math.sin(i + side)), [1, 3, side, side]);
  const r = await runCli(['attribute', model, '--input-dir', at('sizes'), '--out-dir', at('sizes-out'), '--target', '1', '--batch-size', '2']);
  assert.is(r.code, 0, r.err.join('|'));
  for (const [name, side] of Object.entries(sides)) {
    const got = readNpy(at('sizes-out', `${name}.npy`));
    assert.equal(got.dims, [1, 3, side, side], name);
    Array.from(got.data as Float32Array).forEach((g, i) => assert.ok(Math.abs(g - W[Math.floor(i / (side * side)) * 2 + 1] / (side * side)) < 1e-7, `${name}[${i}]: ${g}`));
  }
});

// Folder mode built its options from the common flags and an integer target only: reductions,
// contrasts, the noise tunnel, perturbation windows and masks were dropped (exit 0, other numbers),
// and a multi-index target was refused.
test('folder mode reads every option attribute reads: its outputs equal attribute of the same rows in one --input file, bit for bit', async () => {
  const stacked = at('stacked.npy');
  const all = new Float32Array(5 * per);
  rows.forEach((r, k) => all.set(r, k * per));
  writeNpy(stacked, all, [5, ...rowDims]);
  const mask = at('mask.npy');
  writeNpy(mask, Float32Array.from({ length: per }, (_, i) => Math.floor((i % 256) / 64)), rowDims);
  const sets = [
    ['--method', 'gradient', '--target', '2', '--contrast', '1'],
    ['--method', 'gradient', '--softmax-normalize', '--target', '3'],
    ['--method', 'gradient', '--noise-tunnel', 'smoothgrad', '--stdevs', '0.3', '--samples', '3', '--seed', '4'],
    ['--method', 'occlusion', '--window', '3,4,4', '--stride', '3,4,4', '--target', '1'],
    ['--method', 'feature-ablation', '--feature-mask', mask, '--target', '0'],
    ['--method', 'gradient', '--reduce', 'sum'],
  ];
  for (const [k, flags] of sets.entries()) {
    const folder = await runCli(['attribute', fx.model, '--input-dir', at('in'), '--out-dir', at(`opts${k}`), '--batch-size', '5', ...flags]);
    assert.is(folder.code, 0, folder.err.join('|'));
    const one = await runCli(['attribute', fx.model, '--input', stacked, '--out', at(`opts${k}.npy`), ...flags]);
    assert.is(one.code, 0, one.err.join('|'));
    const want = readNpy(at(`opts${k}.npy`)).data as Float32Array;
    for (let r = 0; r < 5; r++) assert.equal(readNpy(at(`opts${k}`, `x${r}.npy`)).data, want.slice(r * per, (r + 1) * per), `${flags.join(' ')}: x${r}`);
  }
  await cliFailsWith(['attribute', fx.model, '--input-dir', at('in'), '--out-dir', at('opts-rows'), '--target', '1,2'], /--target: folder mode takes one target for every input \(a class K or a multi-index i:j:…\), not one per row/, [at('in', 'x0.npy')]);
  // Refused as for one --input (they were taken and changed nothing).
  await cliFailsWith(['attribute', fx.model, '--input-dir', at('in'), '--out-dir', at('opts-rows'), '--sign', 'all'], /--sign applies to figures \(--out FIG\.png\); folder mode writes \.npy/, [at('in', 'x0.npy')]);
  await cliFailsWith(['attribute', fx.model, '--input-dir', at('in'), '--out-dir', at('opts-rows'), '--preprocess', 'tf'], /--preprocess prepares image files \(PNG, JPEG\); .* holds arrays only/, [at('in', 'x0.npy')]);
  await cliFailsWith(['attribute', fx.model, '--input-dir', at('in'), '--out-dir', at('opts-rows'), '--method', 'deeplift', '--baseline-token', '3'], /baselineToken \(--baseline-token\) applies to token ids/, [at('in', 'x0.npy')]);
});

test('folder mode with --baseline 0.5 (a constant baseline, as in attribute): each output equals its input explained alone from a row of 0.5', async () => {
  const r = await runCli(['attribute', fx.model, '--input-dir', at('in'), '--out-dir', at('out-half'), '--method', 'deeplift', '--target', '2', '--batch-size', '2', '--baseline', '0.5']);
  assert.is(r.code, 0, r.err.join('|'));
  const ex = await Explainer.load(fx.model);
  const baseline = { data: new Float32Array(per).fill(0.5), dims: [1, ...rowDims] };
  for (const k of [0, 4]) {
    const alone = await ex.attribute({ data: rows[k], dims: [1, ...rowDims] }, { method: 'deeplift', target: 2, baseline });
    const got = readNpy(at('out-half', `x${k}.npy`)).data as Float32Array;
    assert.ok(relL2(got, alone.attributions.data) <= 1e-6, `x${k}: rel L2 ${relL2(got, alone.attributions.data)}`);
  }
});

test('folder mode resumes: outputs that exist are skipped, the missing ones written, and the temporary file of a run killed while writing goes', async () => {
  fs.rmSync(at('out', 'x1.npy'));
  fs.rmSync(at('out', 'x4.npy'));
  // A process that has ended left one temporary file; a running one (this) is writing another.
  const ended = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout.trim();
  fs.writeFileSync(at('out', `.x1.npy.tmp-${ended}-1700000000000`), 'half');
  const writing = at('out', `.x4.npy.tmp-${process.pid}-1700000000000`);
  fs.writeFileSync(writing, 'being written');
  const kept = fs.statSync(at('out', 'x0.npy'));
  const r = await runCli(['attribute', fx.model, '--input-dir', at('in'), '--out-dir', at('out'), '--method', 'deeplift', '--target', '2', '--batch-size', '2']);
  assert.is(r.code, 0, r.err.join('|'));
  assert.ok(r.out.some((l) => l === `3 of 5 inputs already have an output in ${at('out')}: skipped`), r.out.join('\n'));
  assert.ok(r.out.some((l) => l.startsWith('wrote 2 attribution files')), r.out.join('\n'));
  const again = fs.statSync(at('out', 'x0.npy'));
  assert.equal([again.ino, again.mtimeMs], [kept.ino, kept.mtimeMs], 'an existing output is not rewritten');
  assert.equal(fs.readdirSync(at('out')).sort(), [path.basename(writing), 'x0.npy', 'x1.npy', 'x2.npy', 'x3.npy', 'x4.npy']);
  fs.rmSync(writing);
});

test('folder mode errors: output folder = input folder, no inputs, --input with --input-dir', async () => {
  const protect = fs.readdirSync(at('in')).map((f) => at('in', f)).filter((f) => fs.statSync(f).isFile());
  await cliFailsWith(['attribute', fx.model, '--input-dir', at('in'), '--out-dir', path.join(dir, 'in', '.')], /--out-dir .* is the input folder/, protect);
  fs.mkdirSync(at('empty'));
  await cliFailsWith(['attribute', fx.model, '--input-dir', at('empty'), '--out-dir', at('o2')], /--input-dir .*empty: no \.npy, \.png or \.jpg files/, protect);
  await cliFailsWith(['attribute', fx.model, '--input-dir', at('in'), '--out-dir', at('o2'), '--input', at('in', 'x0.npy')], /replace --input\/--out/, protect);
  await cliFailsWith(['attribute', fx.model, '--input-dir', at('missing'), '--out-dir', at('o2')], /missing: file not found/, protect);
  // An input of a shape the model does not take: the file is named.
  fs.mkdirSync(at('mixed'));
  writeNpy(at('mixed', 'a.npy'), new Float32Array(3 * 5 * 5), [1, 3, 5, 5]);
  writeNpy(at('mixed', 'b.npy'), rows[0], [1, ...rowDims]);
  await cliFailsWith(['attribute', fx.model, '--input-dir', at('mixed'), '--out-dir', at('o3')], /^onnx-explain: error: .*mixed\/a\.npy: .*input 'input' has shape \[1,3,5,5\], expected \[\?, 3, 16, 16\]$/, protect);
  assert.not.ok(fs.existsSync(at('o3')), 'no output folder left');
  // A name that is not UTF-8 read as 'b\uFFFD.npy', which names no file: the input was skipped without a word ("wrote 1 attribution files").
  fs.mkdirSync(at('latin1'));
  writeNpy(at('latin1', 'a.npy'), rows[0], [1, ...rowDims]);
  fs.writeFileSync(Buffer.concat([Buffer.from(at('latin1', 'b')), Buffer.from([0xe9]), Buffer.from('.npy')]), fs.readFileSync(at('latin1', 'a.npy')));
  await cliFailsWith(['attribute', fx.model, '--input-dir', at('latin1'), '--out-dir', at('o4')], /--input-dir .*latin1: the name of 'b\uFFFD\.npy' holds bytes that are not UTF-8, which Node cannot open: rename it$/, protect);
  // The same bytes in an argument (--out b\xe9.npy wrote b\uFFFD.npy, another file).
  const r = spawnSync('bash', ['-c', `"${process.execPath}" "${path.resolve(__dirname, '../../bin/onnx-explain.js')}" attribute "${fx.model}" --input "${at('latin1', 'a.npy')}" --out "${at('o5')}/b"$'\\xe9'.npy`], { encoding: 'utf8' });
  assert.equal([r.status, r.stderr.trim().replace(/'.*'/, "'…'")], [1, "onnx-explain: error: argument '…' holds bytes that are not UTF-8 (shown as \uFFFD), which Node cannot pass on: rename the file to a UTF-8 name"]);
  assert.not.ok(fs.existsSync(at('o5')));
  // U+FFFD written as UTF-8 is a name like any other (a tensor named so, a file): refused only where the bytes were not UTF-8.
  const replacement = at('latin1', 'c\uFFFD.npy');
  fs.copyFileSync(at('latin1', 'a.npy'), replacement);
  const ok = spawnSync(process.execPath, [path.resolve(__dirname, '../../bin/onnx-explain.js'), 'attribute', fx.model, '--input', replacement, '--out', at('o6.npy')], { encoding: 'utf8' });
  assert.is(ok.status, 0, ok.stderr);
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test('folder mode with joint attribution (--wrt all) writes NAME.INPUT.npy per explained input, as --out does, each equal to the input explained alone; a rerun skips inputs whose parts are all there', async () => {
  const two = path.resolve(__dirname, '../../models/multi/two_inputs');
  const signal = readNpy(path.join(two, 'signal.npy'));
  const tabular = readNpy(path.join(two, 'tabular.npy'));
  const width = signal.data.length / signal.dims[0];
  fs.mkdirSync(at('joint-in'));
  for (let k = 0; k < 3; k++) writeNpy(at('joint-in', `s${k}.npy`), (signal.data as Float32Array).slice(k * width, (k + 1) * width), [1, ...signal.dims.slice(1)]);
  writeNpy(at('tab.npy'), (tabular.data as Float32Array).slice(0, tabular.data.length / tabular.dims[0]), [1, ...tabular.dims.slice(1)]);
  const args = ['attribute', path.join(two, 'model.onnx'), '--wrt', 'all', '--feed', `tabular=${at('tab.npy')}`, '--method', 'deeplift', '--target', '1'];
  const r = await runCli([...args, '--input-dir', at('joint-in'), '--out-dir', at('joint-out'), '--batch-size', '2']);
  assert.is(r.code, 0, r.err.join('|'));
  assert.equal(fs.readdirSync(at('joint-out')).sort(), ['s0.signal.npy', 's0.tabular.npy', 's1.signal.npy', 's1.tabular.npy', 's2.signal.npy', 's2.tabular.npy']);
  const alone = await runCli([...args, '--input', at('joint-in', 's1.npy'), '--out', at('alone.npy')]);
  assert.is(alone.code, 0, alone.err.join('|'));
  for (const input of ['signal', 'tabular']) assert.equal(Array.from(readNpy(at('joint-out', `s1.${input}.npy`)).data as Float32Array), Array.from(readNpy(at(`alone.${input}.npy`)).data as Float32Array), input);
  fs.rmSync(at('joint-out', 's2.tabular.npy'));
  const again = await runCli([...args, '--input-dir', at('joint-in'), '--out-dir', at('joint-out')]);
  assert.ok(again.out.includes(`2 of 3 inputs already have an output in ${at('joint-out')}: skipped`), again.out.join('\n'));
  assert.ok(fs.existsSync(at('joint-out', 's2.tabular.npy')));
});

// The batch was a Float32Array: numpy's int64 ids (a BigInt64Array) failed with exit 2 ("Cannot mix BigInt").
test('folder mode on int64 token ids (numpy\'s default): each output equals its row explained alone', async () => {
  const bag = path.join(__dirname, '..', '..', 'models', 'text', 'bag_mean');
  const ids = readNpy(path.join(bag, 'input_ids.npy'));
  const per = ids.data.length / ids.dims[0];
  fs.mkdirSync(at('ids'));
  // One row each, int64 as numpy saves them.
  const header = `{'descr': '<i8', 'fortran_order': False, 'shape': (1, ${per}), }`.padEnd(117, ' ') + '\n';
  for (let r = 0; r < ids.dims[0]; r++) {
    const row = Buffer.from((ids.data as BigInt64Array).slice(r * per, (r + 1) * per).buffer);
    fs.writeFileSync(at('ids', `t${r}.npy`), Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]), Buffer.from(header), row]));
  }
  const r = await runCli(['attribute', path.join(bag, 'model.onnx'), '--input-dir', at('ids'), '--out-dir', at('ids-out'), '--method', 'integrated-gradients', '--steps', '8']);
  assert.is(r.code, 0, r.err.join('|'));
  const ex = await Explainer.load(path.join(bag, 'model.onnx'));
  for (let k = 0; k < ids.dims[0]; k++) {
    const alone = await ex.attribute({ data: (ids.data as BigInt64Array).slice(k * per, (k + 1) * per), dims: [1, ...ids.dims.slice(1)] }, { method: 'integrated-gradients', steps: 8 });
    assert.equal(readNpy(at('ids-out', `t${k}.npy`)).data, alone.attributions.data, `t${k}`);
  }
});

test.run();
