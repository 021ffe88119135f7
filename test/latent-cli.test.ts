import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { decodeModel, encodeModel } from '../rewriter/proto';
import { readNpy, writeNpy } from '../runtime/node/npy-file';
import { preloadScript, runCli, runCliProcess, snapshot, tempDir } from './support/cli-harness';
import { EXPORTERS, loadFixture, relL2 } from './support/fixtures';
import { tinyModel } from './support/tiny-model';
import { conditionalGenerator } from './support/conditional-generator';

const DIR = path.resolve(__dirname, '../../models/cdeepex');
const D = path.join(DIR, 'clean', 'classifier.onnx');
const G = path.join(DIR, 'clean', 'generator.onnx');
const tmp = tempDir('latent');
const sample = path.join(tmp, 'three.npy');
const samples = readNpy(path.join(DIR, 'samples.npy'));
writeNpy(sample, Float32Array.from((samples.data as Float32Array).subarray(15 * 256, 16 * 256)), [1, 1, 16, 16]);

test('contrast writes explanation, logits, z0, ze, result.json and the picture; the files agree with each other', async () => {
  const out = path.join(tmp, 'c');
  const r = await runCli(['contrast', '--classifier', D, '--generator', G, '--input', sample, '--true', '3', '--probe', '8', '--out-dir', out]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.equal(r.err, []);
  const result = JSON.parse(fs.readFileSync(path.join(out, 'result.json'), 'utf8'));
  assert.ok(result.constraints.satisfied, JSON.stringify(result.constraints));
  assert.ok(result.time_ms > 0 && result.iterations.outer >= 1);
  const e = readNpy(path.join(out, 'explanation.npy'));
  assert.equal(e.dims, [1, 1, 16, 16]);
  const ze = readNpy(path.join(out, 'ze.npy'));
  const z0 = readNpy(path.join(out, 'z0.npy'));
  assert.equal(ze.dims, [1, 12]);
  const gen = await Explainer.load(G);
  const g0 = (await gen.forward({ data: z0.data as Float32Array, dims: z0.dims })).image.data;
  const ge = (await gen.forward({ data: ze.data as Float32Array, dims: ze.dims })).image.data;
  assert.ok(relL2(e.data as Float32Array, g0.map((v, k) => v - ge[k])) < 1e-5);
  const logits = readNpy(path.join(out, 'logits.npy')).data as Float32Array;
  assert.ok(Math.abs(logits[3] - logits[8]) < 1e-3, `logits ${Array.from(logits)}`);
  const png = PNG.sync.read(fs.readFileSync(path.join(out, 'contrast.png')));
  assert.ok(png.width > 4 * 16 && png.height >= 16);
  assert.not.ok(r.out.some((l) => l.startsWith('note:')), r.out.join('\n'));
  // A true class D does not give the input: said on stdout (the question is hypothetical), no error.
  const other = await runCli(['contrast', '--classifier', D, '--generator', G, '--input', sample, '--true', '5', '--probe', '8', '--out-dir', path.join(tmp, 'c5')]);
  assert.equal([other.code, other.err], [0, []]);
  assert.ok(other.out.includes("note: D's answer for the input is 3, not 5 (--true): the explanation says what would make D say 5 and not 8"), other.out.join('\n'));
  // The same classifier ending in a Softmax: the note was lost (its logits are no output to read the answer from).
  const withSoftmax = decodeModel(fs.readFileSync(D));
  const graph = withSoftmax.graph!;
  const logitsName = graph.output![0].name!;
  graph.node!.push({ op_type: 'Softmax', input: [logitsName], output: ['probabilities'], attribute: [{ name: 'axis', type: 2, i: 1 }] });
  graph.output = [{ ...graph.output![0], name: 'probabilities' }];
  const softmaxD = path.join(tmp, 'softmax-classifier.onnx');
  fs.writeFileSync(softmaxD, encodeModel(withSoftmax));
  const viaSoftmax = await runCli(['contrast', '--classifier', softmaxD, '--generator', G, '--input', sample, '--true', '5', '--probe', '8', '--out-dir', path.join(tmp, 'c5s')]);
  assert.equal([viaSoftmax.code, viaSoftmax.err], [0, []]);
  assert.ok(viaSoftmax.out.includes("note: D's answer for the input is 3, not 5 (--true): the explanation says what would make D say 5 and not 8"), viaSoftmax.out.join('\n'));
});

test('contrast: explanation.npy takes the input file\'s shape ([16, 16] given: [16, 16], the same values as for [1, 1, 16, 16])', async () => {
  const flat = path.join(tmp, 'three-2d.npy');
  writeNpy(flat, Float32Array.from((samples.data as Float32Array).subarray(15 * 256, 16 * 256)), [16, 16]);
  const [a, b] = [path.join(tmp, 'c4'), path.join(tmp, 'c2')];
  for (const [input, out] of [[sample, a], [flat, b]]) {
    const r = await runCli(['contrast', '--classifier', D, '--generator', G, '--input', input, '--true', '3', '--probe', '8', '--out-dir', out, '--method', 'xgems']);
    assert.is(r.code, 0, r.err.join('|'));
  }
  const [e4, e2] = [readNpy(path.join(a, 'explanation.npy')), readNpy(path.join(b, 'explanation.npy'))];
  assert.equal(e4.dims, [1, 1, 16, 16]);
  assert.equal(e2.dims, [16, 16]);
  assert.equal(Array.from(e2.data as Float32Array), Array.from(e4.data as Float32Array));
});

test('contrast: a generator whose output does not fit the classifier is a one-line error', async () => {
  const big = path.join(tmp, 'g28.onnx');
  fs.writeFileSync(big, tinyModel([12], 13, (em, x) => em.reshape(em.matmul(x, em.constFloat(new Float32Array(12 * 784), [12, 784])), [-1, 1, 28, 28])));
  const out = path.join(tmp, 'never');
  const r = await runCli(['contrast', '--classifier', D, '--generator', big, '--input', sample, '--true', '3', '--probe', '8', '--out-dir', out]);
  assert.is(r.code, 1);
  assert.is(r.err.length, 1, r.err.join('|'));
  assert.match(r.err[0], /^onnx-explain: error: generator .*g28\.onnx output 'y' has shape \[N, 1, 28, 28\] but classifier .*classifier\.onnx input 'input' takes \[N, 1, 16, 16\]$/);
  assert.not.ok(fs.existsSync(out), 'nothing written');
});

test('contrast: user mistakes are one-line errors and no input file is touched', async () => {
  const before = snapshot([D, G, sample]);
  for (const [args, pattern] of [
    [['--true', '3', '--probe', '3'], /they must differ/],
    [['--true', '3', '--probe', '12'], /probe 12 is out of range \(0\.\.9\)/],
    [['--true', '3', '--probe', '8', '--method', 'gems'], /--method: 'gems' is not one of cdeepex, xgems/],
    [['--probe', '8'], /--true is required/],
    [['--true', '3', '--probe', '8', '--steps', '0'], /--steps: '0' is not a positive integer/],
  ] as const) {
    const r = await runCli(['contrast', '--classifier', D, '--generator', G, '--input', sample, '--out-dir', path.join(tmp, 'bad'), ...args]);
    assert.is(r.code, 1, args.join(' '));
    assert.is(r.err.length, 1, r.err.join('|'));
    assert.match(r.err[0], pattern);
  }
  // A NaN pixel: named, not reported as a diverging z0 search.
  const nan = path.join(tmp, 'nan.npy');
  const pixels = Float32Array.from((samples.data as Float32Array).subarray(15 * 256, 16 * 256));
  pixels[40] = NaN;
  writeNpy(nan, pixels, [1, 1, 16, 16]);
  const r = await runCli(['contrast', '--classifier', D, '--generator', G, '--input', nan, '--true', '3', '--probe', '8', '--out-dir', path.join(tmp, 'bad')]);
  assert.is(r.code, 1);
  assert.equal(r.err.length, 1, r.err.join('|'));
  assert.match(r.err[0], /the input image holds NaN at flat index 40; only finite values can be explained/);
  assert.equal(snapshot([D, G, sample]), before);
});

// result.json and OUT.objective.json were written with a plain writeFileSync (through a link, into a FIFO: a
// hang after the search), and --out-dir was compared with the inputs as path strings (a link to the input's folder overwrote it).
test('contrast and maximize write result.json and OUT.objective.json as their other files: a link is replaced, not written through; an --out-dir linked to the input\'s folder and a FIFO in place of an output are refused before the search', async () => {
  const home = path.join(tmp, 'links');
  fs.mkdirSync(home);
  const user = path.join(home, 'user.txt');
  fs.writeFileSync(user, 'the user\'s file');
  const out = path.join(home, 'c');
  fs.mkdirSync(out);
  fs.symlinkSync(user, path.join(out, 'result.json'));
  const args = ['contrast', '--classifier', D, '--generator', G, '--true', '3', '--probe', '8', '--steps', '20', '--max-outer', '2'];
  const r = await runCli([...args, '--input', sample, '--out-dir', out]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.is(fs.readFileSync(user, 'utf8'), 'the user\'s file');
  assert.ok(JSON.parse(fs.readFileSync(path.join(out, 'result.json'), 'utf8')).method === 'cdeepex');
  const inputs = path.join(home, 'inputs');
  fs.mkdirSync(inputs);
  const z0 = path.join(inputs, 'z0.npy');
  fs.copyFileSync(sample, z0);
  fs.symlinkSync(inputs, path.join(home, 'inputs-link'));
  const before = snapshot([z0]);
  const linked = await runCli([...args, '--input', z0, '--out-dir', path.join(home, 'inputs-link')]);
  assert.equal([linked.code, linked.err], [1, [`onnx-explain: error: --out-dir ${path.join(home, 'inputs-link', 'z0.npy')} is the same file as ${z0} and would overwrite it`]]);
  assert.equal(snapshot([z0]), before);
  const fifo = path.join(home, 'f');
  fs.mkdirSync(fifo);
  execFileSync('mkfifo', [path.join(fifo, 'result.json')]);
  const blocked = await runCli([...args, '--input', sample, '--out-dir', fifo]);
  assert.equal([blocked.code, blocked.err], [1, [`onnx-explain: error: --out-dir ${path.join(fifo, 'result.json')}: is not a regular file (a FIFO, device or socket)`]]);
  const base = path.join(home, 'max');
  fs.symlinkSync(user, `${base}.objective.json`);
  const m = await runCli(['maximize', D, '--target', '3', '--stages', '1', '--steps', '2', '--out', `${base}.npy`]);
  assert.is(m.code, 0, m.err.join('|'));
  assert.is(fs.readFileSync(user, 'utf8'), 'the user\'s file');
  assert.not.ok(fs.lstatSync(`${base}.objective.json`).isSymbolicLink());
});

test('contrast --generator-feed holds a conditional generator\'s other inputs (a class label, a scalar); rewrite takes it too; without it the error says how', async () => {
  const cond = path.join(tmp, 'conditional.onnx');
  fs.writeFileSync(cond, conditionalGenerator());
  const [y, scale] = [path.join(tmp, 'y.json'), path.join(tmp, 'scale.json')];
  fs.writeFileSync(y, '[7]');
  fs.writeFileSync(scale, '0.9');
  const out = path.join(tmp, 'cond');
  const r = await runCli(['contrast', '--classifier', D, '--generator', cond, '--generator-feed', `y=${y}`, '--generator-feed', `scale=${scale}`, '--input', sample, '--true', '3', '--probe', '8', '--out-dir', out]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.ok(JSON.parse(fs.readFileSync(path.join(out, 'result.json'), 'utf8')).constraints.satisfied);
  const saved = path.join(tmp, 'al.onnx');
  const w = await runCli(['rewrite', '--classifier', D, '--generator', cond, '--generator-feed', `y=${y},scale=${scale}`, '--method', 'cdeepex', '--out', saved]);
  assert.is(w.code, 0, w.err.join('|'));
  assert.match(w.out[0], /^wrote .*al\.onnx: inputs z, residual, z0, /);
  const bare = await runCli(['contrast', '--classifier', D, '--generator', cond, '--input', sample, '--true', '3', '--probe', '8', '--out-dir', path.join(tmp, 'never')]);
  assert.equal([bare.code, bare.err.length], [1, 1], bare.err.join('|'));
  assert.match(bare.err[0], /^onnx-explain: error: .*it has 'z', 'y', 'scale' \(a conditional generator's other inputs are held with --generator-feed NAME=FILE; API: generatorFeeds\)$/);
});

test('maximize writes the image (.npy, .png), the objective per step (.json) and its plot', async () => {
  const base = path.join(tmp, 'max3');
  const r = await runCli(['maximize', D, '--target', '3', '--stages', '3', '--steps', '10', '--out', `${base}.png`]);
  assert.is(r.code, 0, r.err.join('|'));
  const x = readNpy(`${base}.npy`);
  assert.equal(x.dims, [1, 1, 16, 16]);
  const json = JSON.parse(fs.readFileSync(`${base}.objective.json`, 'utf8'));
  assert.is(json.objective.length, 10 + 10 + 13, 'stages of 10, 10 and 10·1.3 steps (the first ⌈3/2⌉ stages of --steps)');
  const ex = await Explainer.load(D);
  const logit = (await ex.forward({ data: x.data as Float32Array, dims: x.dims })).logits.data[3];
  assert.ok(Math.abs(logit - json.final_activation) < 1e-3 * (1 + Math.abs(logit)));
  const png = PNG.sync.read(fs.readFileSync(`${base}.png`));
  assert.equal([png.width, png.height], [224, 224], 'each pixel a 14×14 block (default display size 224)');
  // De-normalised with the 'none' preset: the grey level is the pixel value, over the whole block.
  const v = (x.data as Float32Array)[5 * 16 + 7];
  for (const [row, col] of [[5 * 14, 7 * 14], [5 * 14 + 13, 7 * 14 + 13]]) assert.ok(Math.abs(png.data[(row * 224 + col) * 4] - Math.round(255 * v)) <= 1);
  assert.ok(fs.existsSync(`${base}.objective.png`));
  const exact = await runCli(['maximize', D, '--target', '3', '--stages', '1', '--steps', '2', '--display-size', '16', '--out', `${base}-16.png`]);
  assert.is(exact.code, 0, exact.err.join('|'));
  const small = PNG.sync.read(fs.readFileSync(`${base}-16.png`));
  assert.equal([small.width, small.height], [16, 16]);
});

test('maximize of a model whose input is not an image writes no PNG and says so (it listed a PNG left by an earlier run as written)', async () => {
  const base = path.join(tmp, 'vector');
  fs.writeFileSync(`${base}.png`, 'an earlier run');
  const r = await runCli(['maximize', loadFixture('mlp').model, '--target', '1', '--stages', '1', '--steps', '2', '--out', `${base}.png`]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.is(r.out[r.out.length - 1], `wrote ${base}.npy, ${base}.objective.json, ${base}.objective.png (no ${base}.png: the input [1,20] is not an image)`);
  assert.is(fs.readFileSync(`${base}.png`, 'utf8'), 'an earlier run');
});

test('maximize --target -1 maximises the last class, as --target 9 (Python\'s index from the end)', async () => {
  const run = async (target: string) => {
    const r = await runCli(['maximize', D, '--target', target, '--stages', '1', '--steps', '3', '--seed', '5', '--out', path.join(tmp, `last${target}.npy`)]);
    assert.is(r.code, 0, r.err.join('|'));
    return fs.readFileSync(path.join(tmp, `last${target}.npy`));
  };
  assert.ok((await run('-1')).equals(await run('9')));
  assert.not.ok((await run('-2')).equals(await run('9')), 'another class, another image');
});

test('maximize replaces its files as a set: a write that fails (a full disk) puts the earlier run\'s back, a killed run leaves none of them beside its own (a new .npy stayed beside an old .png)', () => {
  const base = path.join(tmp, 'set');
  const run = (target: string, preload?: string) => runCliProcess(['maximize', D, '--target', target, '--stages', '1', '--steps', '2', '--out', `${base}.png`], preload);
  const hook = (name: string, body: string) => preloadScript(tmp, name, body);
  const names = ['set.npy', 'set.png', 'set.objective.json', 'set.objective.png'];
  const state = () => fs.readdirSync(tmp).filter((f) => f.startsWith('set.') || f.startsWith('.set.')).sort();
  assert.is(run('3').status, 0);
  const before = names.map((f) => fs.readFileSync(path.join(tmp, f)));
  const full = run('5', hook('enospc-json.js', "const o = fs.openSync; fs.openSync = function (f, ...a) { if (/objective\\.json\\.tmp-/.test(String(f))) throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' }); return o.call(this, f, ...a); };"));
  assert.is(full.status, 1, full.stderr);
  assert.match(full.stderr, /^onnx-explain: error: .*set\.objective\.json: no space left on the device\n$/);
  assert.equal(state(), [...names].sort());
  names.forEach((f, k) => assert.ok(fs.readFileSync(path.join(tmp, f)).equals(before[k]), `${f} is the earlier run's`));
  const killed = run('5', hook('kill-after-npy.js', "const r = fs.renameSync; fs.renameSync = function (a, b) { r(a, b); if (String(b).endsWith('set.npy')) process.kill(process.pid, 'SIGKILL'); };"));
  assert.is(killed.signal, 'SIGKILL');
  assert.equal(state().filter((f) => !f.startsWith('.')), ['set.npy'], 'no file of the earlier run beside the new .npy');
  assert.is(run('3').status, 0);
  assert.equal(state(), [...names].sort(), 'the earlier files moved aside are swept by the next run');
});

test('maximize: user mistakes are one-line errors', async () => {
  for (const [args, pattern] of [
    [['--target', '3', '--layer', '/Relu_1_output_0'], /give --target K or --layer NAME/],
    [['--layer', 'nope', '--channel', '1'], /no tensor or node named 'nope'/],
    [['--layer', '/Relu_1_output_0', '--channel', '99'], /channel 99 is out of range/],
    [['--target', '10'], /target 10 is out of range/],
    [['--target', '-11'], /target -11 is out of range for '[^']+' with 10 classes \(0\.\.9, or -10\.\.-1 from the end\)/],
    [['--target', '1e0'], /--target: '1e0' is not one integer/],
    [['--target', '3', '--display-size', '0'], /--display-size: '0' is not a positive integer/],
  ] as const) {
    const r = await runCli(['maximize', D, ...args, '--stages', '1', '--steps', '1', '--out', path.join(tmp, 'm.npy')]);
    assert.is(r.code, 1, args.join(' '));
    assert.is(r.err.length, 1, r.err.join('|'));
    assert.match(r.err[0], pattern);
  }
  // Class scores that are not float (fuzz seed 1363: a QLinearConv's uint8 output).
  const q = await runCli(['maximize', path.join(EXPORTERS, 'qop_cnn', 'model.onnx'), '--target', '0', '--output', 'QLinearConv_10', '--stages', '1', '--steps', '1', '--out', path.join(tmp, 'q.npy')]);
  assert.is(q.code, 1, q.err.join('|'));
  assert.match(q.err[0], /class scores 'QLinearConv_10' \[N, 6, 6, 6\] is not a float tensor/);
  const r = await runCli(['maximize', D, '--target', '1', '--out', D.replace(/\.onnx$/, '.txt')]);
  assert.is(r.code, 1);
  assert.match(r.err[0], /--out IMG\.png or IMG\.npy is required/);
});

test.run();
