import { execFileSync, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as ort from 'onnxruntime-node';
import { AttributeProto, AttrType, DataType, decodeModel, encodeModel, makeTensor, ModelProto, valueInfo } from '../rewriter/proto';
import { GraphView, shapeConstant } from '../rewriter/graph-view';
import { Explainer } from '../runtime';
import { readNpy, writeNpy } from '../runtime/node/npy-file';
import { firstLine, runError } from '../runtime/run-errors';
import { checkOutput, readRegularFile, writeFileAtomic } from '../runtime/node/files';
import { apiFailsWith, cliFailsWith, preloadScript, runCli, runCliProcess, snapshot, tempDir } from './support/cli-harness';
import { EXPORTERS, loadFixture, relL2 } from './support/fixtures';
import { centralDifferences } from './support/central';
import { refusal } from './support/gradcheck';
import { tinyModel } from './support/tiny-model';

const dir = tempDir('robustness');
const at = (...p: string[]) => path.join(dir, ...p);
const cnn = loadFixture('cnn_maxpool');
const mlp = loadFixture('mlp');
fs.copyFileSync(cnn.model, at('cnn.onnx'));
fs.copyFileSync(path.join(path.dirname(cnn.model), 'input.npy'), at('cnn-input.npy'));
fs.copyFileSync(path.join(path.dirname(mlp.model), 'input.npy'), at('mlp-input.npy'));
const CNN = at('cnn.onnx');
const X = at('cnn-input.npy');
const BIN = path.resolve(__dirname, '../../bin/onnx-explain.js');

const userFiles = () => fs.readdirSync(dir).map((f) => at(f)).filter((f) => fs.lstatSync(f).isFile());
const cliFails = (argv: string[], cause: RegExp) => cliFailsWith(argv, cause, userFiles());
const apiFails = (run: () => Promise<unknown>, cause: RegExp, what: string) => apiFailsWith(run, cause, what, userFiles());

/** cnn_maxpool with one attribute of its first `op` node set (ints as strings keep 64-bit values). */
function mutated(name: string, op: string, attr: AttributeProto): string {
  const m = decodeModel(fs.readFileSync(cnn.model));
  const node = m.graph!.node!.find((n) => n.op_type === op)!;
  node.attribute = [...(node.attribute ?? []).filter((a) => a.name !== attr.name), attr];
  fs.writeFileSync(at(name), encodeModel(m));
  return at(name);
}

/** The CLI as a process: exit code and stderr lines (native onnxruntime logs would show here). */
function run(args: string[]): { status: number | null; lines: string[] } {
  const r = runCliProcess(args);
  return { status: r.status, lines: r.stderr.split('\n').filter((l) => l.trim()) };
}

// Reading the global Response (is the model a fetch Response?) loads Node's undici, whose WebAssembly
// start-up aborted every command under a virtual-memory limit below about 12 GB (HPC login nodes).
test('under a virtual-memory limit (ulimit -v 6 GB) info, attribute and the API run', () => {
  const api = `require(${JSON.stringify(path.resolve(__dirname, '../runtime'))}).Explainer.load(${JSON.stringify(CNN)}).then(() => console.log(1))`;
  const limited = (command: string) => spawnSync('bash', ['-c', `ulimit -v 6000000; ${command}`], { encoding: 'utf8', timeout: 120_000 });
  for (const command of [`"${process.execPath}" "${BIN}" info "${CNN}"`, `"${process.execPath}" "${BIN}" attribute "${CNN}" --input "${X}" --method deeplift --no-cache --out "${at('limited.npy')}"`, `"${process.execPath}" -e '${api}'`]) {
    const r = limited(command);
    assert.is(r.status, 0, `${command}: ${r.stderr}`);
    assert.is(r.stderr, '', command);
  }
});

// A relative --out from a deleted working folder failed with exit code 2 ('ENOENT: …, uv_cwd'); on a terminal
// the error line was appended to the progress bar's ('… 3/4onnx-explain: error: …').
test('a deleted working folder is one error line, status 1; on a terminal the error line replaces the progress bar', () => {
  const gone = at('gone');
  fs.mkdirSync(gone);
  const r = spawnSync('bash', ['-c', `cd "${gone}" && rmdir "${gone}" && "${process.execPath}" "${BIN}" attribute "${CNN}" --input "${X}" --out rel.npy`], { encoding: 'utf8', timeout: 60_000 });
  assert.equal([r.status, r.stderr], [1, 'onnx-explain: error: the working folder no longer exists: run from an existing folder or give absolute paths\n']);
  const folder = at('tty-inputs');
  fs.mkdirSync(folder);
  const row = readNpy(X);
  const per = row.data.length / row.dims[0];
  for (const k of [1, 2, 3]) writeNpy(path.join(folder, `a${k}.npy`), (row.data as Float32Array).slice(0, per), [1, ...row.dims.slice(1)]);
  fs.copyFileSync(X, path.join(folder, 'zz.npy'));
  const tty = spawnSync('script', ['-qc', `"${process.execPath}" "${BIN}" attribute "${CNN}" --input-dir "${folder}" --out-dir "${at('tty-out')}" --batch-size 1 --method integrated-gradients --steps 4000 --no-cache > /dev/null`, '/dev/null'], { encoding: 'utf8', timeout: 120_000 });
  const screen = tty.stdout;
  assert.match(screen, /\] 3\/4\x1b\[K\r\x1b\[Konnx-explain: error: .*zz\.npy: holds 3 rows/, JSON.stringify(screen.slice(-200)));
});

const ints = (name: string, ints: (number | string)[]): AttributeProto => ({ name, type: 7, ints: ints as never });
const cases: [string, AttributeProto, string, RegExp][] = [
  ['Conv pads 2^63−1', ints('pads', Array(4).fill('9223372036854775807')), 'Conv', /\(Conv, opset 11\): pads \[.*\] must be integers in \[0, 2147483647\]/],
  ['Conv dilations 2^31−1', ints('dilations', [2147483647, 2147483647]), 'Conv', /\(Conv, opset 11\): dilated kernel \[4294967295,4294967295\] is too large/],
  ['Conv group 0', { name: 'group', type: 2, i: 0 }, 'Conv', /group 0 must be a positive integer/],
  ['Conv auto_pad BOGUS', { name: 'auto_pad', type: 3, s: Buffer.from('BOGUS') }, 'Conv', /auto_pad 'BOGUS' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID/],
  ['Conv strides with a missing value', ints('strides', [1]), 'Conv', /strides \[1\] needs 2 values/],
  ['MaxPool pads as large as the kernel', ints('pads', [2, 2, 2, 2]), 'MaxPool', /\(MaxPool, opset 11\): pads \[2,2,2,2\] must be smaller than kernel_shape \[2,2\]/],
  ['Conv pads 1000 (minutes of padding)', ints('pads', [1000, 1000, 1000, 1000]), 'Conv', /\(Conv, opset 11\): pads \[1000,1000,1000,1000\] reach past the dilated kernel \[3,3\] and grow the input \[1,3,16,16\] \d+-fold/],
  ['Flatten axis out of range', { name: 'axis', type: 2, i: 9 }, 'Flatten', /\(Flatten, opset 11\): axis 9 is out of range for rank 4/],
  ['Gemm alpha NaN', { name: 'alpha', type: 1, f: NaN }, 'Gemm', /\(Gemm, opset 11\): attribute alpha is NaN/],
];
for (const [what, attr, op, cause] of cases) {
  test(`absurd attribute refused before onnxruntime, in one line naming the node: ${what}`, async () => {
    const model = mutated(`${what.replace(/\W+/g, '-')}.onnx`, op, attr);
    await cliFails(['attribute', model, '--input', X, '--out', at('never.npy')], cause);
    await cliFails(['rewrite', model, '--out', at('never.onnx')], cause);
    await apiFails(async () => (await Explainer.load(model)).forward(cnn.input), cause, `${what}: forward`);
    assert.not.ok(fs.existsSync(at('never.npy')) || fs.existsSync(at('never.onnx')), 'nothing written');
  });
}

test('ConvTranspose output_padding as large as its stride but below its dilation (ONNX allows it, onnxruntime\'s kernel refuses it) is refused in one line naming the node, also with a target given (the gradient graph failed first, exit 2)', async () => {
  const model = tinyModel([1, 6, 6], 13, (em, x) => em.reduceSum(em.op('ConvTranspose', [x, em.constFloat([0.5, -1, 2], [1, 1, 3, 1])], { strides: [1, 1], dilations: [1, 2], output_padding: [0, 1], pads: [1, 0, 1, 0], kernel_shape: [3, 1], group: 1 }, 'deconv'), [1, 2, 3], false));
  const x = { data: new Float32Array(36).fill(0.5), dims: [1, 1, 6, 6] };
  for (const target of [undefined, 0]) {
    await apiFails(async () => (await Explainer.load(model)).attribute(x, { target }), /node 'tiny\/deconv_\d+' \(ConvTranspose, opset 13\): output_padding \[0,1\] must be smaller than the strides \[1,1\]/, `target ${target}`);
  }
});

test('a Conv of unknown input shape whose weight has no spatial axis (tf_resize\'s shape Concat read as a Conv: fuzz seed 1320) is refused in one line naming the node', async () => {
  const fx = loadFixture('tf_resize', EXPORTERS);
  const m = decodeModel(fs.readFileSync(fx.model));
  m.graph!.node!.find((n) => n.name === 'Concat_13_node')!.op_type = 'Conv';
  fs.writeFileSync(at('concat-as-conv.onnx'), encodeModel(m));
  fs.copyFileSync(path.join(path.dirname(fx.model), 'input.npy'), at('tf-input.npy'));
  await cliFails(['attribute', at('concat-as-conv.onnx'), '--input', at('tf-input.npy'), '--out', at('never.npy')], /node 'Concat_13_node' \(Conv, opset 13\): weight has shape \[\d+\], needs rank ≥ 3 \(out channels, in channels, spatial\)$/);
});

test('Conv pads 1000 after torch\'s F.pad, whose pads the graph computes (ConstantOfShape, Concat, Reshape, a reversing Slice, Transpose, Reshape, Cast: fuzz seeds 1881, 2029, 2142 ran for half a minute to minutes), is refused at once: validation reads the computed pads', async () => {
  const fx = loadFixture('misc_ops_op11');
  const m = decodeModel(fs.readFileSync(fx.model));
  const conv = m.graph!.node!.find((n) => n.name === '/body/conv/Conv')!;
  conv.attribute = [...conv.attribute!.filter((a) => a.name !== 'pads'), ints('pads', [1000, 1000, 1000, 1000])];
  fs.writeFileSync(at('computed-pad-conv.onnx'), encodeModel(m));
  const started = Date.now();
  await cliFails(['attribute', at('computed-pad-conv.onnx'), '--input', path.join(path.dirname(fx.model), 'input.npy'), '--no-cache', '--out', at('never.npy')], /node '\/body\/conv\/Conv' \(Conv, opset 11\): pads \[1000,1000,1000,1000\] reach past the dilated kernel \[3,3\] and grow the input \[1,4,12,12\] \d+-fold$/);
  assert.ok(Date.now() - started < 10_000, `refused after ${Date.now() - started} ms`);
  // The unmutated model's computed pads: F.pad(x, (1, 1, 2, 0)) (width 1 and 1, height 2 and 0) in ONNX's order.
  const view = new GraphView(decodeModel(fs.readFileSync(fx.model)));
  const pad = view.nodes.find((n) => n.op_type === 'Pad')!;
  assert.equal(shapeConstant(view, pad.input![1]), { dims: [8], values: [0, 0, 2, 1, 0, 0, 0, 1] });
});

test('Conv pads 65536 behind a GroupNorm (Reshape to Shape(x)) and an exported GELU (Constant scalars) on the audio fixture (fuzz seed 2217: killed for memory after a minute and a half) is refused at once: validation follows Shape values and Constant nodes', async () => {
  const fx = loadFixture('audio');
  const m = decodeModel(fs.readFileSync(fx.model));
  const conv = m.graph!.node!.find((n) => n.name === '/body/features/features.3/Conv')!;
  conv.attribute = [...conv.attribute!.filter((a) => a.name !== 'pads'), ints('pads', [0, 65536])];
  fs.writeFileSync(at('audio-pads.onnx'), encodeModel(m));
  const started = Date.now();
  await cliFails(['attribute', at('audio-pads.onnx'), '--input', path.join(path.dirname(fx.model), 'input.npy'), '--method', 'cam', '--no-cache', '--out', at('never.npy')], /node '\/body\/features\/features\.3\/Conv' \(Conv, opset 14\): pads \[0,65536\] reach past the dilated kernel \[3\] and grow the input \[1,16,79\] \d+-fold$/);
  assert.ok(Date.now() - started < 10_000, `refused after ${Date.now() - started} ms`);
});

test('Conv pads 1000 in a QDQ model (fuzz seed 2537: half a minute) is refused at once: shapes pass the quantize/dequantize pairs', async () => {
  const fx = loadFixture('qdq_cnn', EXPORTERS);
  const m = decodeModel(fs.readFileSync(fx.model));
  const conv = m.graph!.node!.find((n) => n.name === 'Conv_15_node')!;
  conv.attribute = [...conv.attribute!.filter((a) => a.name !== 'pads'), ints('pads', [1000, 1000, 1000, 1000])];
  fs.writeFileSync(at('qdq-pads.onnx'), encodeModel(m));
  const started = Date.now();
  await cliFails(['attribute', at('qdq-pads.onnx'), '--input', path.join(path.dirname(fx.model), 'input.npy'), '--no-cache', '--out', at('never.npy')], /node 'Conv_15_node' \(Conv, opset \d+\): pads \[1000,1000,1000,1000\] reach past the dilated kernel \[3,3\] and grow the input \[1,\d+,\d+,\d+\] \d+-fold$/);
  assert.ok(Date.now() - started < 10_000, `refused after ${Date.now() - started} ms`);
});

/** convtranspose_head with one ConvTranspose dilated along the width; the path of the written model. */
function dilatedHead(node: string, dilation: number): string {
  const fx = loadFixture('convtranspose_head', EXPORTERS);
  const m = decodeModel(fs.readFileSync(fx.model));
  const n = m.graph!.node!.find((e) => e.name === node)!;
  n.attribute = [...n.attribute!.filter((a) => a.name !== 'dilations'), ints('dilations', [1, dilation])];
  fs.writeFileSync(at(`dilated-${node}-${dilation}.onnx`), encodeModel(m));
  fs.copyFileSync(path.join(path.dirname(fx.model), 'input.npy'), at('head-input.npy'));
  return at(`dilated-${node}-${dilation}.onnx`);
}

test('a ConvTranspose dilated 100-fold upstream of one with output_shape, which onnxruntime\'s shape inference answers with a rank-3 tensor (fuzz seed 1341), is refused in one line naming the node, for layer methods at it too', async () => {
  const model = dilatedHead('ConvTranspose_10_node', 100);
  const cause = /node 'ConvTranspose_14_node' \(ConvTranspose, opset 11\): shape inference gives output shape \[1,3,32\] for input shape \[1,4,16,214\]: its output_shape, pads and dilations do not fit that input$/;
  for (const method of ['gradient', 'deeplift', 'lrp-alphabeta']) await cliFails(['attribute', model, '--input', at('head-input.npy'), '--method', method, '--out', at('never.npy')], cause);
  // At that node itself (fuzz seed 1598: graphs built on its output failed inside onnxruntime).
  for (const method of ['integrated-gradients', 'neuron-conductance', 'deeplift']) {
    await cliFails(['attribute', model, '--input', at('head-input.npy'), '--method', method, '--layer', 'ConvTranspose_14', ...(method === 'neuron-conductance' ? ['--neuron', '0'] : []), '--out', at('never.npy')], cause);
  }
});

test('a ConvTranspose whose dilation spreads its taps past the input onto a map 64 times longer (fuzz seed 1514: 65536, half a minute and gigabytes for zeros) is refused in one line, for the layer methods too', async () => {
  const model = dilatedHead('ConvTranspose_7_node', 65536);
  const cause = /node 'ConvTranspose_7_node' \(ConvTranspose, opset 11\): dilations \[1,65536\] spread the kernel \[4,196609\] past the input \[1,6,4,4\]: 196613 outputs on axis 3 for 4 inputs$/;
  for (const args of [['--method', 'gradient'], ['--method', 'layer-conductance', '--layer', 'GlobalAveragePool_16', '--steps', '4']]) {
    await cliFails(['attribute', model, '--input', at('head-input.npy'), ...args, '--out', at('never.npy')], cause);
  }
  // Up to 64 times the input's length it runs: taps 20 apart on a 4-wide input make 44 outputs, 200 apart 404.
  const op = (dilation: number) => ({ op: 'ConvTranspose', opset: 11, inputs: [{ shape: [1, 2, 4, 4] }, { shape: [2, 1, 3, 3], value: Array.from({ length: 18 }, (_, i) => Math.cos(i)) }], attrs: { dilations: [1, dilation] } });
  assert.is(await refusal(op(20)), 'accepted');
  assert.match(await refusal(op(200)), /dilations \[1,200\] spread the kernel \[3,401\] past the input \[1,2,4,4\]: 404 outputs on axis 3 for 4 inputs$/);
});

test('a Resize whose scales input is an image tensor (onnxruntime 1.30 overruns its stack: fuzz seed 1355) is refused in one line naming the node', async () => {
  const fx = loadFixture('tf_resize', EXPORTERS);
  const m = decodeModel(fs.readFileSync(fx.model));
  const node = m.graph!.node!.find((n) => n.name === 'Resize_25_node')!;
  node.input = [node.input![0], '', 'Resize_16'];
  fs.writeFileSync(at('resize-scales-image.onnx'), encodeModel(m));
  fs.copyFileSync(path.join(path.dirname(fx.model), 'input.npy'), at('tf-input.npy'));
  const cause = /node 'Resize_25_node' \(Resize, opset 13\): input 2 \('Resize_16'\) has rank 4; it must be a 1-D tensor$/;
  await cliFails(['attribute', at('resize-scales-image.onnx'), '--input', at('tf-input.npy'), '--out', at('never.npy')], cause);
  await apiFails(async () => (await Explainer.load(at('resize-scales-image.onnx'))).forward(readNpy(at('tf-input.npy'))), cause, 'forward');
});

test('a string attribute whose bytes are missing (fuzz seed 2054: a Resize mode of type STRING without its bytes) is refused in one line naming the node', async () => {
  const fx = loadFixture('paddle_resize_op11', EXPORTERS);
  const m = decodeModel(fs.readFileSync(fx.model));
  const node = m.graph!.node!.find((n) => n.op_type === 'Resize')!;
  node.attribute = [...(node.attribute ?? []).filter((a) => a.name !== 'coordinate_transformation_mode'), { name: 'coordinate_transformation_mode', type: AttrType.STRING }];
  fs.writeFileSync(at('resize-empty-mode.onnx'), encodeModel(m));
  fs.copyFileSync(path.join(path.dirname(fx.model), 'input.npy'), at('paddle-input.npy'));
  const cause = new RegExp(`node '${node.name}' \\(Resize, opset 11\\): coordinate_transformation_mode '' is not one of `);
  await cliFails(['attribute', at('resize-empty-mode.onnx'), '--input', at('paddle-input.npy'), '--out', at('never.npy')], cause);
});

test('raw weight data that does not hold whole values of its type is refused in one line naming the tensor', async () => {
  const m = decodeModel(fs.readFileSync(cnn.model));
  const t = m.graph!.initializer!.find((i) => (i.raw_data?.length ?? 0) > 8)!;
  t.data_type = 11; // float64, on float32 bytes cut to an odd count of floats: no whole number of doubles
  t.raw_data = t.raw_data!.subarray(0, (t.raw_data!.length / 4 - ((t.raw_data!.length / 4) % 2 ? 0 : 1)) * 4);
  fs.writeFileSync(at('ragged.onnx'), encodeModel(m));
  await cliFails(['attribute', at('ragged.onnx'), '--input', X, '--out', at('never.npy')], new RegExp(`tensor '${t.name}': \\d+ bytes of raw data do not hold whole values of data type 11`));
  // A data type without a width (0: undefined) where its values are read (a dynamically quantized model's scale).
  const q = decodeModel(fs.readFileSync(path.join(EXPORTERS, 'dynq_cnn', 'model.onnx')));
  const scale = q.graph!.initializer!.find((i) => (i.raw_data?.length ?? 0) > 0 && i.data_type === 1 && (i.dims ?? []).length === 0)!;
  scale.data_type = 0;
  fs.writeFileSync(at('untyped.onnx'), encodeModel(q));
  await cliFails(['info', at('untyped.onnx')], new RegExp(`tensor '${scale.name}': data type 0 cannot be read`));
});

test('the process prints only our line: no onnxruntime log for a model that fails inside onnxruntime', () => {
  // Flatten axis 0 passes validation at batch 1 but breaks the Gemm at batch 2: onnxruntime logs
  // an error while probing unless its session log level is fatal.
  const model = mutated('flatten0.onnx', 'Flatten', { name: 'axis', type: 2, i: 0 });
  const r = run(['attribute', model, '--input', X, '--target', '0,1,2']);
  assert.is(r.status, 0, r.lines.join('\n'));
  assert.equal(r.lines, [], 'stderr');
  const bad = run(['attribute', mutated('group0.onnx', 'Conv', { name: 'group', type: 2, i: 0 }), '--input', X]);
  assert.is(bad.status, 1);
  assert.is(bad.lines.length, 1, bad.lines.join('\n'));
});

test('a node onnxruntime rejects when it loads the model (shape inference) is the model\'s fault: one line naming it, exit 1, for every method family', async () => {
  // The transformer's residual Add read as a Conv: onnxruntime's shape inference then rejects the MatMul after it.
  const fx = loadFixture('transformer_op13');
  const m = decodeModel(fs.readFileSync(fx.model));
  m.graph!.node!.find((n) => n.name === '/body/Add')!.op_type = 'Conv';
  fs.writeFileSync(at('add-as-conv.onnx'), encodeModel(m));
  writeNpy(at('transformer-input.npy'), fx.input.data, fx.input.dims);
  // With the graph cache too, whose first session only writes onnxruntime's optimised graph (fuzz seed 1403).
  for (const cache of [['--no-cache'], ['--cache-dir', at('cache')]]) {
    for (const method of ['gradient', 'deeplift', 'feature-ablation']) {
      const r = run(['attribute', at('add-as-conv.onnx'), '--input', at('transformer-input.npy'), '--method', method, ...cache]);
      assert.is(r.status, 1, `${method}: ${r.lines.join('|')}`);
      assert.equal(r.lines, [`onnx-explain: error: ${at('add-as-conv.onnx')}: onnxruntime rejects the model's node '/body/fc1/MatMul' (MatMul): Incompatible dimensions for matrix multiplication`], method);
    }
  }
});

test('runError: load-time rejections of the model\'s nodes become one-line errors; emitted nodes stay internal', () => {
  const rejected = [
    ['Node (mm) Op (MatMul) [ShapeInferenceError] Incompatible dimensions', "m: onnxruntime rejects the model's node 'mm' (MatMul): Incompatible dimensions"],
    ['This is an invalid model. In Node, ("cl", Clip, "", -1) : ("a": tensor(int64),) -> ("b",) , Error Bad input', "m: onnxruntime rejects the model's node 'cl' (Clip): Bad input"],
    ["This is an invalid model. Type Error: Type 'tensor(int64)' of input parameter (t) of operator (Clip) in node (cl) is invalid.", "m: onnxruntime rejects the model's node 'cl' (Clip): Type 'tensor(int64)' of input parameter (t) is invalid"],
    ['Type Error: Type (tensor(int16)) of output arg (output) of node (/fc/Gemm) does not match expected type (tensor(float)).', "m: onnxruntime rejects the model's node '/fc/Gemm': output 'output' is declared tensor(int16), but the node computes tensor(float)"],
  ];
  for (const [message, want] of rejected) assert.is((runError(new Error(message), 'm') as Error).message, want);
  // onnxruntime-web wraps the native message (ort.mjs: `${message} ERROR_CODE: ${code}, ERROR_MESSAGE: ${text}`): the browser read it so.
  const web = new Error("failed to call OrtRun(). ERROR_CODE: 2, ERROR_MESSAGE: Got invalid dimensions for input: t for the following indices\n index: 1 Got: 4 Expected: 5\n Please fix either the inputs/outputs or the model.");
  assert.is(firstLine(web), 'Got invalid dimensions for input: t for the following indices: index: 1 Got: 4 Expected: 5');
  assert.is((runError(new Error("Can't create a session. ERROR_CODE: 1, ERROR_MESSAGE: Node (mm) Op (MatMul) [ShapeInferenceError] Incompatible dimensions"), 'm') as Error).message, "m: onnxruntime rejects the model's node 'mm' (MatMul): Incompatible dimensions");
  const ours = new Error('Node (xpl/Conv_3) Op (Conv) [ShapeInferenceError] bad');
  assert.is(runError(ours, 'm'), ours);
});

// ---- files ------------------------------------------------------------------------------------
// Only folder mode removed them: a `rewrite` or `attribute --out` killed while writing left a hidden temporary file for good.
test('a write killed between its temporary file and the rename leaves that file; the next run writing that output removes it', () => {
  const hook = at('sigint-at-fsync.js');
  fs.writeFileSync(hook, "const fs = require('fs'); const fsync = fs.fsyncSync; fs.fsyncSync = () => process.kill(process.pid, 'SIGINT');");
  const out = at('killed', 'aug.onnx');
  const args = [BIN, 'rewrite', CNN, '--method', 'deeplift', '--out', out];
  const killed = spawnSync(process.execPath, ['--require', hook, ...args], { encoding: 'utf8', timeout: 60_000 });
  assert.is(killed.signal, 'SIGINT', killed.stderr);
  const left = fs.readdirSync(at('killed'));
  assert.ok(left.length === 1 && /^\.aug\.onnx\.tmp-\d+-[0-9a-f]+$/.test(left[0]), String(left));
  const again = run(args.slice(1));
  assert.is(again.status, 0, again.lines.join('\n'));
  assert.equal(fs.readdirSync(at('killed')), ['aug.onnx']);
});

// The temporary file renamed over an output had mode 0666 & ~umask and the writer as owner: a 0600 result became 0644.
test('an output that replaces a file keeps its mode, and written by root its owner', () => {
  const out = at('private.npy');
  fs.writeFileSync(out, 'old');
  fs.chmodSync(out, 0o600);
  const root = process.getuid?.() === 0;
  if (root) fs.chownSync(out, 65534, 65534);
  const r = run(['attribute', CNN, '--input', X, '--out', out]);
  assert.is(r.status, 0, r.lines.join('\n'));
  const st = fs.statSync(out);
  assert.is(st.mode & 0o777, 0o600);
  if (root) assert.equal([st.uid, st.gid], [65534, 65534]);
  assert.ok(st.size > 3, 'replaced');
  // A file the process may not write (access(2) says so; root may write any) is refused, before the work and when written, as cp refuses it.
  // The fs module object itself (the import's namespace has getters only), which files.ts reads through.
  const nodeFs = require('fs') as typeof fs;
  const access = nodeFs.accessSync;
  nodeFs.accessSync = () => { throw Object.assign(new Error('EACCES'), { code: 'EACCES' }); };
  try {
    // Root made it another user's (nobody's): not "read-only", which a user may not change in a sticky /tmp.
    const why = root ? "the file is another user's: write it elsewhere" : 'the file is read-only: make it writable or remove it';
    assert.throws(() => checkOutput(out, '--out', []), (e: Error) => e.message.endsWith(`private.npy: permission denied (${why})`) && e.message.startsWith('--out '));
    assert.throws(() => writeFileAtomic(out, new Uint8Array(1)), (e: Error) => e.message.endsWith(`private.npy: permission denied (${why})`));
    const own = at('own.npy');
    fs.writeFileSync(own, 'old');
    assert.throws(() => checkOutput(own, '--out', []), /^--out .*own\.npy: permission denied \(the file is read-only: make it writable or remove it\)$/);
  } finally {
    nodeFs.accessSync = access;
  }
  assert.is(fs.statSync(out).size, st.size, 'kept');
  // Where the mode or owner cannot be copied (a root without CAP_CHOWN, a user namespace, vfat) the output is written all the same (it failed after the work);
  // a read-only file system is named so; a drop folder one may write but not list is no reason to refuse (the stale-temporary sweep reads it).
  const failing = (code: string) => () => { throw Object.assign(new Error(code), { code }); };
  const saved = { fchmodSync: nodeFs.fchmodSync, fchownSync: nodeFs.fchownSync, accessSync: nodeFs.accessSync, readdirSync: nodeFs.readdirSync };
  try {
    Object.assign(nodeFs, { fchmodSync: failing('EPERM'), fchownSync: failing('EINVAL') });
    writeFileAtomic(out, new Uint8Array([7]));
    assert.equal(Array.from(fs.readFileSync(out)), [7]);
    Object.assign(nodeFs, { accessSync: failing('EROFS') });
    assert.throws(() => checkOutput(out, '--out', []), /^--out .*private\.npy: read-only file system$/);
    Object.assign(nodeFs, { accessSync: saved.accessSync, readdirSync: failing('EACCES') });
    checkOutput(out, '--out', []);
  } finally {
    Object.assign(nodeFs, saved);
  }
});

test('--out that is a symbolic or hard link to the input, model or baseline is refused; the file is untouched', async () => {
  fs.copyFileSync(X, at('baseline.npy'));
  fs.symlinkSync(X, at('sym-to-input.npy'));
  fs.linkSync(X, at('hard-to-input.npy'));
  fs.linkSync(at('baseline.npy'), at('hard-to-baseline.npy'));
  fs.linkSync(CNN, at('hard-to-model.onnx'));
  fs.symlinkSync(CNN, at('sym-to-model.onnx'));
  const before = snapshot([X, CNN, at('baseline.npy')]);
  await cliFails(['attribute', CNN, '--input', X, '--out', at('sym-to-input.npy')], /--out .*sym-to-input\.npy is the same file as .*cnn-input\.npy and would overwrite it/);
  await cliFails(['attribute', CNN, '--input', X, '--out', at('hard-to-input.npy')], /is the same file as .*cnn-input\.npy/);
  await cliFails(['attribute', CNN, '--input', X, '--method', 'deeplift', '--baseline', at('baseline.npy'), '--out', at('hard-to-baseline.npy')], /is the same file as .*baseline\.npy/);
  await cliFails(['rewrite', CNN, '--out', at('hard-to-model.onnx')], /is the same file as .*cnn\.onnx/);
  await cliFails(['rewrite', CNN, '--out', at('sym-to-model.onnx')], /is the same file as .*cnn\.onnx/);
  assert.equal(snapshot([X, CNN, at('baseline.npy')]), before);
});

test('a FIFO as model or input is refused at once (no hang); folders and special files as --out too', async () => {
  execFileSync('mkfifo', [at('fifo')]);
  for (const args of [['attribute', at('fifo'), '--input', X], ['attribute', CNN, '--input', at('fifo')], ['info', at('fifo')]]) {
    const t0 = Date.now();
    const r = run(args);
    assert.is(r.status, 1, `${args.join(' ')}: ${r.lines}`);
    assert.equal(r.lines.length, 1);
    assert.match(r.lines[0], /^onnx-explain: error: .*fifo: is not a regular file \(a FIFO, device or socket\)$/);
    assert.ok(Date.now() - t0 < 30_000, 'answered without waiting for a writer');
  }
  fs.mkdirSync(at('folder.npy'));
  await cliFails(['attribute', CNN, '--input', X, '--out', at('folder.npy')], /--out.*folder\.npy.*is a (directory|folder)/);
  await cliFails(['attribute', CNN, '--input', at('folder.npy')], /folder\.npy: is a directory/);
  execFileSync('mkfifo', [at('fifo.npy')]);
  await cliFails(['attribute', CNN, '--input', X, '--out', at('fifo.npy')], /--out .*fifo\.npy: is not a regular file/);
  assert.ok(fs.lstatSync(at('fifo.npy')).isFIFO(), 'the FIFO is still there');
  // A UNIX socket cannot be opened at all (ENXIO): it said 'cannot be used (ENXIO)'.
  const server = net.createServer().listen(at('sock'));
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    await cliFails(['info', at('sock')], /sock: is not a regular file \(a FIFO, device or socket\)$/);
  } finally {
    server.close();
  }
});

test('--out in a missing folder: the folder is created and the result written', async () => {
  const r = await runCli(['attribute', CNN, '--input', X, '--out', at('new', 'deeper', 'a.npy')]);
  assert.is(r.code, 0, r.err.join('|'));
  assert.equal(readNpy(at('new', 'deeper', 'a.npy')).dims, cnn.input.dims);
  await cliFails(['attribute', CNN, '--input', X, '--out', path.join(X, 'a.npy')], /--out.*cannot create (its )?folder/);
});

// ---- accepted but wrong -----------------------------------------------------------------------
test('values that used to be read as something else are refused: empty targets, a baseline with an extra axis or for a method that takes none, a negative epsilon', async () => {
  writeNpy(at('baseline-extra-axis.npy'), new Float32Array(cnn.input.data.length / 3), [...cnn.input.dims.slice(1), 1]);
  await cliFails(['attribute', CNN, '--input', X, '--target', ''], /--target: '' is not a comma-separated list of integers/);
  await cliFails(['attribute', CNN, '--input', X, '--target', '0,,1'], /--target: '(0,,1)?' is not a comma-separated list of integers/);
  await cliFails(['attribute', CNN, '--input', X, '--target', '1e0'], /--target: '1e0'/);
  await cliFails(['attribute', CNN, '--input', X, '--method', 'lrp-epsilon', '--epsilon', '-1'], /epsilon -1 must be a finite number ≥ 0/);
  await cliFails(['attribute', CNN, '--input', X, '--method', 'lrp-epsilon', '--epsilon', '0x10'], /--epsilon: '0x10' is not a finite number/);
  // Also for methods that run the model once and never split the rows (fuzz seed 1363).
  for (const method of ['layer-activation', 'gradient']) await cliFails(['attribute', CNN, '--input', X, '--method', method, '--layer', '/body/body.1/Relu_output_0', '--internal-batch-size', '0'], /internalBatchSize: 0 is not a positive integer/);
  await cliFails(['attribute', CNN, '--input', X, '--method', 'deeplift', '--baseline', at('baseline-extra-axis.npy')], /baseline has shape \[3,16,16,1\]; expected one row \[1,3,16,16\]/);
  await cliFails(['attribute', CNN, '--input', X, '--target', '1', '--target', '2'], /option --target is given twice/);
  await cliFails(['attribute', CNN, '--input', X, '--method', 'gradient', '--baseline', X], /method 'gradient' takes no baseline/);
  // Captum's LayerActivation has no baseline either (fuzz seed 1323: it was accepted and ignored).
  await cliFails(['attribute', CNN, '--input', X, '--method', 'layer-activation', '--layer', '/body/body.4/Relu_output_0', '--baseline', X], /method 'layer-activation' takes no baseline/);
  // Its target is ignored, but checked as for every method (fuzz seed 1336: --target -1 was accepted).
  await cliFails(['attribute', CNN, '--input', X, '--method', 'layer-activation', '--layer', '/body/body.4/Relu_output_0', '--target', '-1'], /--target: method 'layer-activation' explains no output: it returns the layer's values/);
  // rewrite checks them too, for the graphs of every method (fuzz seed 1535: layer-activation's took --epsilon -1).
  // (layer-activation reads no ε now: the flag is refused as one it would not use.)
  for (const [method, cause] of [['layer-activation', /--epsilon applies to the LRP methods \(lrp-\*\), not to method 'layer-activation'/], ['lrp-epsilon', /epsilon -1 must be a finite number ≥ 0/]] as const) {
    await cliFails(['rewrite', CNN, '--method', method, '--layer', '/body/body.4/Relu_output_0', '--epsilon', '-1', '--out', at('never.onnx')], cause);
  }
  const ex = await Explainer.load(CNN);
  await apiFails(() => ex.attribute(cnn.input, { method: 'lrp-epsilon', epsilon: -1 }), /epsilon -1/, 'API epsilon -1');
  await apiFails(() => ex.graph([3, 16, 16], { method: 'layer-activation', layer: '/body/body.4/Relu_output_0', alpha: NaN }), /alpha NaN/, 'API graph alpha NaN');
  await apiFails(() => ex.attribute(cnn.input, { method: 'lrp-alphabeta', alpha: NaN }), /alpha NaN/, 'API alpha NaN');
});

test('NaN or ±Inf in the input, the baseline or the weights is refused naming where', async () => {
  const x = Float32Array.from(cnn.input.data);
  x[5] = NaN;
  writeNpy(at('nan-input.npy'), x, cnn.input.dims);
  const b = new Float32Array(x.length / 3);
  b[7] = -Infinity;
  writeNpy(at('inf-baseline.npy'), b, [1, ...cnn.input.dims.slice(1)]);
  await cliFails(['attribute', CNN, '--input', at('nan-input.npy')], /input 'input' holds NaN at flat index 5/);
  await cliFails(['attribute', CNN, '--input', X, '--method', 'deeplift', '--baseline', at('inf-baseline.npy')], /baseline holds -Infinity at flat index 7/);
  const m = decodeModel(fs.readFileSync(cnn.model));
  const w = m.graph!.initializer!.find((t) => t.name === 'body.0.weight')!;
  const values = new Float32Array(new Uint8Array(w.raw_data!).buffer);
  values[3] = Infinity;
  w.raw_data = new Uint8Array(values.buffer);
  fs.writeFileSync(at('inf-weight.onnx'), encodeModel(m));
  await cliFails(['attribute', at('inf-weight.onnx'), '--input', X], /initializer 'body\.0\.weight' holds a non-finite value at flat index 3/);
  await cliFails(['rewrite', at('inf-weight.onnx'), '--out', at('never.onnx')], /body\.0\.weight/);
  // Also a weight a reading folds away: opset 7's BatchNormalization with spatial 0 becomes a Mul
  // and an Add of constants, where an infinite variance gave a finite 0 (fuzz seed 1371).
  const zoo = loadFixture('zoo_resnet_op7', EXPORTERS);
  const z = decodeModel(fs.readFileSync(zoo.model));
  const bn = z.graph!.node!.find((n) => n.op_type === 'BatchNormalization' && (n.attribute ?? []).some((a) => a.name === 'spatial' && Number(a.i) === 0))!;
  const variance = z.graph!.initializer!.find((t) => t.name === bn.input![4])!;
  const v = new Float32Array(new Uint8Array(variance.raw_data!).slice().buffer);
  v[2] = Infinity;
  variance.raw_data = new Uint8Array(v.buffer);
  fs.writeFileSync(at('inf-variance.onnx'), encodeModel(z));
  fs.copyFileSync(path.join(path.dirname(zoo.model), 'input.npy'), at('zoo-input.npy'));
  await cliFails(['attribute', at('inf-variance.onnx'), '--input', at('zoo-input.npy')], new RegExp(`initializer '${bn.input![4]}' holds a non-finite value at flat index 2`));
});

test('a declared batch of 2³¹−1 (fuzz seed 1367: a hang) and a declared tensor type ONNX does not define or none (fuzz seeds 1376, 1385: onnxruntime\'s load error, exit 2) are refused in one line', async () => {
  const fig1 = loadFixture('fig1');
  const huge = decodeModel(fs.readFileSync(fig1.model));
  huge.graph!.input![0].type!.tensor_type!.shape!.dim![0] = { dim_value: 2147483647 };
  fs.writeFileSync(at('huge-batch.onnx'), encodeModel(huge));
  fs.copyFileSync(path.join(path.dirname(fig1.model), 'input.npy'), at('fig1-input.npy'));
  await cliFails(['attribute', at('huge-batch.onnx'), '--input', at('fig1-input.npy')], /input 'input' fixes batch 2147483647: 2147483647 rows of its inputs hold \d+ values, more than the 268435456 onnx-explain runs to check it; export it with a dynamic batch axis/);
  for (const type of [78, 0]) { // 0 (UNDEFINED): fuzz seed 1385
    const typed = decodeModel(fs.readFileSync(mlp.model));
    typed.graph!.output![0].type!.tensor_type!.elem_type = type;
    fs.writeFileSync(at(`type-${type}.onnx`), encodeModel(typed));
    await cliFails(['attribute', at(`type-${type}.onnx`), '--input', at('mlp-input.npy')], new RegExp(`tensor 'output' is declared with data type ${type}, which is not an ONNX tensor type`));
  }
  await apiFails(async () => (await Explainer.load(at('type-78.onnx'))).forward(mlp.input), /data type 78/, 'forward');
});

test('a non-finite result names the first node giving it: in the model (Log of a negative) or in the backward pass (LRP with ε = 0)', async () => {
  fs.writeFileSync(at('log.onnx'), tinyModel([3], 13, (em, x) => em.op('Log', [x])));
  const logEx = await Explainer.load(at('log.onnx'));
  await apiFails(() => logEx.attribute({ data: Float32Array.from([1, -2, 3]), dims: [1, 3] }, { target: 0 }), /the model's node '[^']+' \(Log\) gives NaN in '[^']+' for this input/, 'Log of a negative');
  fs.writeFileSync(at('linear.onnx'), tinyModel([2], 13, (em, x) => em.matmul(x, em.constFloat([1, -1, 2, 0.5], [2, 2]))));
  const linear = await Explainer.load(at('linear.onnx'));
  // x = 0: z = 0 at the output, and ε = 0 leaves R/z = 0/0.
  await apiFails(() => linear.attribute({ data: new Float32Array(2), dims: [1, 2] }, { method: 'lrp-epsilon', epsilon: 0, target: 0 }), /node '[^']+' \(Div\) gives NaN .* of the lrp-epsilon graph \(a larger epsilon avoids divisions by zero\)/, 'LRP ε = 0');
  const ok = await linear.attribute({ data: new Float32Array(2), dims: [1, 2] }, { method: 'lrp-epsilon', target: 0 });
  assert.ok(ok.attributions.data.every(Number.isFinite), 'default ε is finite');
});

test('a −Inf mask computed from the explained input (x.masked_fill(x < −0.5, −inf).softmax()) that covers other positions on the baseline\'s pass: DeepLIFT names the Where where the passes differ by an infinite amount, not the mask\'s constant; the gradient and a baseline masking the same positions are finite', async () => {
  fs.writeFileSync(at('masked-softmax.onnx'), tinyModel([4], 13, (em, x) => {
    const masked = em.where(em.compare('Less', x, em.scalar(-0.5)), em.scalar(-Infinity), x);
    return em.op('Softmax', [masked], { axis: 1 });
  }));
  const ex = await Explainer.load(at('masked-softmax.onnx'));
  const x = { data: Float32Array.from([0.3, -1, 0.8, 0.1]), dims: [1, 4] };
  await apiFails(() => ex.attribute(x, { method: 'deeplift', target: 0, explainSoftmax: true }), /the input's and the baseline's passes differ by an infinite amount at node '[^']+' \(Where\) \('[^']+' holds -Infinity against 0: a mask computed from the explained input\).*use integrated-gradients or gradient/, 'DeepLIFT from zeros');
  const g = await ex.attribute(x, { target: 0, explainSoftmax: true });
  assert.ok(g.attributions.data.every(Number.isFinite) && g.attributions.data[1] === 0, 'the gradient is finite and zero at the masked position');
  const x0 = { data: Float32Array.from([0.1, -2, 0.2, 0.4]), dims: [1, 4] };
  const [y, y0] = [(await ex.forward(x)).y.data[0], (await ex.forward(x0)).y.data[0]];
  // The softmax's probability, and the masked logits (the default: −Inf − −Inf at the masked one).
  for (const [explainSoftmax, want] of [[true, y - y0], [false, x.data[0] - x0.data[0]]] as const) {
    const d = await ex.attribute(x, { method: 'deeplift', target: 0, baseline: x0, explainSoftmax });
    const sum = d.attributions.data.reduce((a, v) => a + v, 0);
    assert.ok(Math.abs(sum - want) < 1e-6 && Math.abs(d.delta![0]) < 1e-6, `the same mask on both passes (softmax ${explainSoftmax}): Σ ${sum} vs f(x) − f(x⁰) ${want}, delta ${d.delta![0]}`);
  }
});

test('a registered −Inf mask (an initializer added to the scores, as a causal-mask buffer, also scaled first as by baddbmm) and a −Inf pad value before a max pool are explained: softmax(x + [0, −∞, 0])\'s gradient is the two-way softmax\'s Jacobian (closed form); a NaN or +Inf in it, −Inf in a weight read otherwise or beside values other than 0 (a bias) is refused', async () => {
  // beta scales the mask first as in torch's baddbmm(mask, q, kᵀ) (nn.MultiheadAttention's attn_mask).
  // Expand to the mask's own shape (Shape reads no values) leaves the probabilities as they are.
  const masked = (mask: number[], beta?: number) => tinyModel([3], 13, (em, x) => {
    const m = em.constFloat(mask, [1, 3]);
    return em.op('Expand', [em.op('Softmax', [em.add(x, beta === undefined ? m : em.mul(m, em.scalar(beta)))], { axis: 1 }), em.op('Shape', [m])]);
  });
  const x = Float32Array.from([0.4, 2, -0.3]);
  const p = 1 / (1 + Math.exp(x[2] - x[0]));
  const want = [p * (1 - p), 0, -p * (1 - p)];
  for (const beta of [undefined, 1]) {
    const ex = await Explainer.load(masked([0, -Infinity, 0], beta));
    const g = (await ex.attribute({ data: x, dims: [1, 3] }, { target: 0 })).attributions.data;
    assert.ok(want.every((w, i) => Math.abs(g[i] - w) < 1e-6), `gradient ${Array.from(g)} vs ${want} (beta ${beta})`);
  }
  await apiFails(async () => Explainer.load(masked([0, NaN, 0])).then((e) => e.attribute({ data: x, dims: [1, 3] }, { target: 0 })), /initializer '[^']+' holds a non-finite value at flat index 1/, 'a NaN mask');
  // A −Inf pad value (an initializer) before a max pool: the max of [x0, x1, x2, −∞] windows of 2 is x's own pairs' max.
  const padded = await Explainer.load(tinyModel([1, 3], 13, (em, v) => em.reshape(em.op('MaxPool', [em.op('Pad', [v, em.constInt([0, 0, 0, 0, 0, 1]), em.constFloat([-Infinity], [])])], { kernel_shape: [2], strides: [2], pads: [0, 0] }), [-1, 2])));
  const pooled = await padded.attribute({ data: x, dims: [1, 1, 3] }, { target: 1 });
  assert.equal(Array.from(pooled.attributions.data), [0, 0, 1], 'the last window [x2, −∞] passes x2');
  const scaled = tinyModel([3], 13, (em, v) => em.mul(v, em.constFloat([0, -Infinity, 0], [1, 3])));
  await apiFails(async () => Explainer.load(scaled).then((e) => e.attribute({ data: x, dims: [1, 3] }, { target: 0 })), /initializer '[^']+' holds a non-finite value at flat index 1/, 'an infinite factor');
  // A Constant node's value_float −∞ as the fill of a masked_fill (another exporter's form of the scalar): explained; NaN there is refused.
  const filled = (fill: number) => tinyModel([3], 13, (em, v) => em.op('Softmax', [em.where(em.compare('Less', v, em.scalar(0)), em.op('Constant', [], { value_float: { float: fill } }), v)], { axis: 1 }));
  const fillGrad = (await (await Explainer.load(filled(-Infinity))).attribute({ data: x, dims: [1, 3] }, { target: 0, explainSoftmax: true })).attributions.data;
  // x2 < 0 is masked: the softmax of x0 and x1.
  const q = 1 / (1 + Math.exp(x[1] - x[0]));
  const wantFilled = [q * (1 - q), -q * (1 - q), 0];
  assert.ok(wantFilled.every((w, i) => Math.abs(fillGrad[i] - w) < 1e-6), `Constant −∞ fill: gradient ${Array.from(fillGrad)} vs ${wantFilled}`);
  await apiFails(async () => Explainer.load(filled(NaN)).then((e) => e.attribute({ data: x, dims: [1, 3] }, { target: 0 })), /\(Constant, opset 13\): attribute value_float is NaN/, 'a NaN fill');
  for (const values of [[0.5, -Infinity, 1], [0, Infinity, 0]]) {
    const bias = tinyModel([3], 13, (em, v) => em.add(v, em.constFloat(values, [1, 3])));
    await apiFails(async () => Explainer.load(bias).then((e) => e.attribute({ data: x, dims: [1, 3] }, { target: 0 })), /initializer '[^']+' holds a non-finite value at flat index 1/, `an added [${values}]`);
  }
});

test('logits with a class masked to −Inf as the model\'s output (x·W + [0, −∞, 0]) are explained: the gradient is W\'s column, DeepLIFT sums to delta; a masked target says so in one line, and a +Inf output is still refused', async () => {
  const W = [0.5, -1, 2, 1.5, 0.25, -0.75];
  const ex = await Explainer.load(tinyModel([2], 13, (em, v) => em.add(em.matmul(v, em.constFloat(W, [2, 3])), em.constFloat([0, -Infinity, 0], [1, 3]))));
  const x = { data: Float32Array.from([0.3, -0.8, 1.2, 0.4]), dims: [2, 2] };
  const g = await ex.attribute(x, { target: 2 });
  assert.equal(Array.from(g.attributions.data), [W[2], W[5], W[2], W[5]].map(Math.fround));
  assert.equal(g.outputs.y.data[1], -Infinity);
  const d = await ex.attribute(x, { method: 'deeplift', target: 0 });
  d.delta!.forEach((delta, r) => assert.ok(Math.abs(delta) < 1e-6, `row ${r}: delta ${delta}`));
  await apiFails(() => ex.attribute(x, { method: 'deeplift', target: 1 }), /row 0: the explained value 'y'\[1\] is -Infinity \(a class the model masks\); explain another target/, 'a masked target');
  // −log|x| reaches +Inf at x = 0 on another class than the target's, whose gradient is finite: refused for the output, naming the Log.
  const log = await Explainer.load(tinyModel([2], 13, (em, v) => em.mul(em.op('Log', [em.op('Abs', [em.matmul(v, em.constFloat([1, 0, 0, 1], [2, 2]))])]), em.scalar(-1))));
  await apiFails(() => log.attribute({ data: Float32Array.from([0, 1]), dims: [1, 2] }, { target: 1, method: 'gradient' }), /hold non-finite values: the model's node '[^']+' \(Log\) gives -Infinity/, 'a +Inf output');
});

test('DeepLiftShap with a non-finite value from one baseline row names the node and the row (it said only that no single node gives one)', async () => {
  // 2·Softmax(v): baseline row 1's logits lie 6·10³⁸ apart, past float32's range, in the decomposition's differences.
  const ex = await Explainer.load(tinyModel([2], 13, (em, v) => em.mul(em.op('Softmax', [v], { axis: 1 }), em.scalar(2))));
  const x = { data: Float32Array.from([1, -1]), dims: [1, 2] };
  const baselines = { data: Float32Array.from([0.5, 3, 3e38, -3e38]), dims: [2, 2] };
  await apiFails(() => ex.attribute(x, { method: 'deeplift-shap', target: 0, baseline: baselines }), /hold non-finite values: node '[^']+' \(\w+\) gives (NaN|-?Infinity) in '[^']+' of the deeplift graph \(DeepLIFT against baseline row 1\)$/, 'row 1 gives the non-finite value');
});

test('integrated gradients from the default zero baseline into a Log of zero names the Log at the baseline (it said no single node gives one: the path\'s zero reference is no input of its graph)', async () => {
  const ex = await Explainer.load(tinyModel([2], 13, (em, v) => em.op('Log', [em.op('Relu', [em.matmul(v, em.constFloat([1, 0.5, 0.25, 1], [2, 2]))])])));
  const x = { data: Float32Array.from([1, 2]), dims: [1, 2] };
  for (const method of ['integrated-gradients', 'gradient-shap']) {
    await apiFails(() => ex.attribute(x, { method, target: 0 }), /non-finite values: the model's node '[^']+' \(Log\) gives -Infinity in '[^']+' for the baseline$/, method);
  }
});

test('a PRelu slope with one row per input row in a model that declares its batch free (onnx\'s test_prelu_example exported with a dynamic batch) is refused in one line by every method: integrated gradients failed in its own Reshape (exit 2)', async () => {
  const slope = Array.from({ length: 60 }, (_, k) => 0.1 + 0.01 * k);
  fs.writeFileSync(at('prelu-rows.onnx'), tinyModel([4, 5], 13, (em, x) => em.op('PRelu', [x, em.constFloat(slope, [3, 4, 5])])));
  writeNpy(at('prelu-input.npy'), Float32Array.from({ length: 60 }, (_, k) => Math.sin(k)), [3, 4, 5]);
  for (const method of ['gradient', 'integrated-gradients']) {
    await cliFails(['attribute', at('prelu-rows.onnx'), '--input', at('prelu-input.npy'), '--method', method, '--target', '0:1'], /node '[^']+' \(PRelu, opset 13\): slope \[3,4,5\] does not broadcast to the input \[1,4,5\]/);
  }
  // A per-channel slope broadcasts: explained (PRelu's gradient is 1 or the slope).
  fs.writeFileSync(at('prelu-channels.onnx'), tinyModel([4, 5], 13, (em, x) => em.op('PRelu', [x, em.constFloat([0.1, 0.2, 0.3, 0.4], [4, 1])])));
  const ex = await Explainer.load(at('prelu-channels.onnx'));
  const g = await ex.attribute({ data: Float32Array.from([-1, ...Array(19).fill(0.5)]), dims: [1, 4, 5] }, { target: 0 });
  assert.is(g.attributions.data[0], Math.fround(0.1));
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));


test('a model that mixes rows (an outer product over the batch: y = x·xᵀ) runs its rows one by one: the gradient of y[r, 0] alone is 2·x_r (closed form)', async () => {
  const ex = await Explainer.load(tinyModel([3], 13, (em, x) => em.matmul(x, em.transpose(x, [1, 0]))));
  const x = Float32Array.from([0.5, -1, 2, 1.5, 0.25, -0.75, -2, 1, 0.5]);
  const r = await ex.attribute({ data: x, dims: [3, 3] }, { target: 0 });
  assert.equal(Array.from(r.attributions.data), Array.from(x, (v) => 2 * v));
});

test('an edited model whose value_info keeps the old shapes (a MaxPool given other strides: fuzz seed 1471) explains its layers: the augmented graph keeps types, not declared shapes', async () => {
  const fx = loadFixture('module_functions');
  const m = decodeModel(fs.readFileSync(fx.model));
  const pool = m.graph!.node!.find((n) => n.op_type === 'MaxPool')!;
  pool.attribute = [...pool.attribute!.filter((a) => a.name !== 'strides' && a.name !== 'pads'), { name: 'strides', type: AttrType.INTS, ints: [3, 1] }, { name: 'pads', type: AttrType.INTS, ints: [1, 1, 0, 0] }] as AttributeProto[];
  assert.ok(m.graph!.value_info!.some((vi) => Number(vi.type?.tensor_type?.shape?.dim?.[2]?.dim_value) === 6), 'the fixture declares the 6×6 map');
  const ex = await Explainer.load(encodeModel(m));
  const layer = '/body/body.3/act/FunctionBlock_output_0';
  const r = await ex.attribute(fx.input, { method: 'guided-grad-cam', layer });
  assert.equal(r.attributions.dims, fx.input.dims);
  const cam = await ex.attribute(fx.input, { method: 'grad-cam', layer });
  assert.equal(cam.attributions.dims, [fx.input.dims[0], 1, 4, 12]);
});

test('a model whose values mix rows (a mean over the batch, a Softmax over axis 0: fuzz seed 1461) runs its rows one by one: y = g + mean₀(g) + g·softmax₀(g) alone is 3g, gradient 3·W[:, t]', async () => {
  const w = Array.from({ length: 3 * 2 }, (_, i) => Math.sin(i + 1));
  const ex = await Explainer.load(tinyModel([3], 13, (em, x) => {
    const g = em.matmul(x, em.constFloat(w, [3, 2]));
    return em.add(em.add(g, em.reduceMean(g, [0])), em.mul(g, em.op('Softmax', [g], { axis: 0 })));
  }));
  const x = Float32Array.from([0.5, -1, 2, 1.5, 0.25, -0.75, -2, 1, 0.5]);
  const r = await ex.attribute({ data: x, dims: [3, 3] }, { target: [0, 1, 1] });
  const expected = [0, 1, 1].flatMap((t) => [0, 1, 2].map((i) => 3 * w[i * 2 + t]));
  r.attributions.data.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-5, `${i}: ${v} vs ${expected[i]}`));
});

test('a graph onnxruntime\'s optimiser breaks (Pad of 2 before an AveragePool of kernel 2: the pool that Pad_Fusion makes gets pads ≥ its kernel) runs with Pad_Fusion left out, and with it asked for, unoptimised with one warning; the gradient matches central differences of the unoptimised kernels', async () => {
  const m: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'pad_pool',
      node: [
        { op_type: 'Pad', input: ['x', 'pads'], output: ['padded'], name: 'pad', attribute: [{ name: 'mode', type: AttrType.STRING, s: new TextEncoder().encode('constant') }] },
        { op_type: 'AveragePool', input: ['padded'], output: ['pooled'], name: 'pool', attribute: [{ name: 'kernel_shape', type: AttrType.INTS, ints: [2, 2] }, { name: 'strides', type: AttrType.INTS, ints: [2, 2] }, { name: 'pads', type: AttrType.INTS, ints: [0, 0, 0, 0] }] },
        { op_type: 'Flatten', input: ['pooled'], output: ['flat'], name: 'flat', attribute: [{ name: 'axis', type: AttrType.INT, i: 1 }] },
        { op_type: 'MatMul', input: ['flat', 'w'], output: ['y'], name: 'head' },
      ],
      initializer: [makeTensor('pads', [8], [0, 0, 0, 2, 0, 0, 0, 0], DataType.INT64), makeTensor('w', [2 * 2 * 3, 2], Array.from({ length: 24 }, (_, i) => Math.sin(i)), DataType.FLOAT)],
      input: [valueInfo('x', DataType.FLOAT, ['N', 2, 4, 4])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 2])],
    },
  };
  const model = encodeModel(m);
  await ort.InferenceSession.create(model, { logSeverityLevel: 4 }).then(
    () => assert.unreachable('onnxruntime\'s optimiser accepts the graph: this test no longer shows the fallback'),
    (e: Error) => assert.match(e.message, /Pad should be smaller than kernel/),
  );
  const x = Float32Array.from({ length: 32 }, (_, i) => Math.cos(i));
  const plain = await ort.InferenceSession.create(model, { logSeverityLevel: 4, graphOptimizationLevel: 'disabled' });
  const run = async (v: Float32Array) => (await plain.run({ x: new ort.Tensor('float32', v, [1, 2, 4, 4]) })).y.data as Float32Array;
  const fd = await centralDifferences(x, 1e-2, run, () => 1);
  for (const fused of [false, true]) {
    const warnings: string[] = [];
    const sessionOptions = fused ? { extra: { optimization: { disable_specified_optimizers: '' } } } : undefined;
    const ex = await Explainer.load(model, { warn: (w) => warnings.push(w), sessionOptions });
    const r = await ex.attribute({ data: x, dims: [1, 2, 4, 4] }, { target: 1 });
    const fallback = /^onnx-explain: warning: onnxruntime's graph optimiser failed on this graph \(Pad should be smaller than kernel\.\); it runs unoptimised$/;
    assert.is(warnings.some((w) => fallback.test(w)), fused, warnings.join('\n'));
    assert.ok(relL2(r.attributions.data, fd) < 1e-4, `gradient vs central differences: rel L2 ${relL2(r.attributions.data, fd)}`);
  }
  await plain.release();
});

test('a zero Pad before a MaxPool keeps its zeros (onnxruntime\'s Pad_Fusion, left out, moved them into the pool\'s −inf padding): the forward, integrated gradients\' delta and occlusion equal the unoptimised kernels', async () => {
  const model = tinyModel([1, 4, 4], 13, (em, x) => em.reduceSum(em.op('MaxPool', [em.pad(x, [0, 0, 1, 0, 0, 0, 1, 0])], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0] }), [1, 2, 3], false));
  const ex = await Explainer.load(model);
  const x = { data: Float32Array.from({ length: 16 }, (_, i) => -1 - 0.1 * Math.sin(i)), dims: [1, 1, 4, 4] };
  const plain = await ort.InferenceSession.create(model, { logSeverityLevel: 4, graphOptimizationLevel: 'disabled' });
  const run = async (v: Float32Array) => (await plain.run({ x: new ort.Tensor('float32', v, [1, 1, 4, 4]) })).y.data as Float32Array;
  const want = (await run(x.data))[0];
  assert.is(Object.values(await ex.forward(x))[0].data[0], want, 'forward');
  const ig = await ex.attribute(x, { method: 'integrated-gradients', target: 0 });
  assert.ok(Math.abs(ig.outputs.y.data[0] - want) < 1e-6 && Math.abs(ig.delta![0]) < 1e-3, `integrated gradients: f(x) ${ig.outputs.y.data[0]} (want ${want}), delta ${ig.delta![0]}`);
  const o = await ex.attribute(x, { method: 'occlusion', window: [1, 4, 4], target: 0 });
  assert.ok(Math.abs(o.attributions.data[0] - (want - (await run(new Float32Array(16)))[0])) < 1e-6, `occlusion ${o.attributions.data[0]}`);
  await plain.release();
  // With ceil_mode, a last window starting in the Pad's end padding: the fused pool's kernel ran one window fewer than
  // its shape inference counted, and such models were refused; unfused, the gradient is that of the kernels.
  const ceil = tinyModel([1, 4, 4], 13, (em, v) => em.reduceSum(em.op('MaxPool', [em.pad(v, [0, 0, 0, 0, 0, 0, 1, 1])], { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], ceil_mode: 1 }), [1, 2, 3], false));
  const unfused = await ort.InferenceSession.create(ceil, { logSeverityLevel: 4, graphOptimizationLevel: 'disabled' });
  const ceilRun = async (v: Float32Array) => (await unfused.run({ x: new ort.Tensor('float32', v, [1, 1, 4, 4]) })).y.data as Float32Array;
  const g = await (await Explainer.load(ceil)).attribute(x, { target: 0 });
  const fd = await centralDifferences(x.data, 1e-3, ceilRun, () => 0);
  assert.ok(relL2(g.attributions.data, fd) < 1e-3, `ceil_mode after a Pad: gradient vs central differences, rel L2 ${relL2(g.attributions.data, fd)}`);
  await unfused.release();
});

test('rewrite of a model whose row is 2³¹−1 values wide (fuzz seeds 2098–2099) builds its graph without making a row of that size first', async () => {
  const file = at('wide.onnx');
  fs.writeFileSync(file, tinyModel([2 ** 31 - 1], 13, (em, x) => em.op('Relu', [x])));
  const r = await runCli(['rewrite', file, '--method', 'saliency', '--out', at('wide-aug.onnx')]);
  assert.equal([r.code, r.err], [0, []]);
});

// Node refuses one read or write of 2 GiB or more (readFileSync, readSync of a >2 GiB external
// tensor, writeFileSync): such inputs, external data and outputs (a big layer's activations) failed,
// the output after the whole computation. Sparse files: no disk used for reading.
test('files over 2 GiB are read and written a gigabyte at a time; an ONNX file over protobuf\'s 2 GiB limit is refused naming it, unread', async () => {
  const dir = tempDir('over-2-gib');
  const size = 2 ** 31 + 16;
  const sparse = (file: string) => {
    const fd = fs.openSync(file, 'w');
    fs.ftruncateSync(fd, size);
    fs.writeSync(fd, Buffer.from([7]), 0, 1, size - 1);
    fs.closeSync(fd);
  };
  sparse(path.join(dir, 'big.bin'));
  const read = readRegularFile(path.join(dir, 'big.bin'));
  assert.equal([read.length, read[size - 1], read[0]], [size, 7, 0]);
  fs.rmSync(path.join(dir, 'big.bin'));
  const bytes = Buffer.alloc(size);
  bytes[size - 1] = 9;
  writeFileAtomic(path.join(dir, 'out.bin'), bytes);
  const fd = fs.openSync(path.join(dir, 'out.bin'), 'r');
  const last = Buffer.alloc(1);
  fs.readSync(fd, last, 0, 1, size - 1);
  fs.closeSync(fd);
  assert.equal([fs.statSync(path.join(dir, 'out.bin')).size, last[0]], [size, 9]);
  fs.rmSync(path.join(dir, 'out.bin'));
  sparse(path.join(dir, 'inline.onnx'));
  await cliFailsWith(['info', path.join(dir, 'inline.onnx')], new RegExp(`inline\\.onnx: ${size} bytes, over protobuf's 2 GiB limit for one message: a model this large keeps its weights as external data`), []);
  fs.rmSync(path.join(dir, 'inline.onnx'));
});

test('a run killed between --out\'s writability probe and its removal leaves a temporary file of the output, which the next run removes (the probe stayed in the user\'s folder for good)', () => {
  const folder = at('probe-kill');
  fs.mkdirSync(folder);
  // Killed right after the probe's write (the first writeFileSync of the run).
  const preload = preloadScript(dir, 'kill-after-write.js', "const w = fs.writeFileSync; fs.writeFileSync = function (...a) { const r = w.apply(this, a); if (String(a[0]).startsWith(process.env.KILL_IN)) process.kill(process.pid, 'SIGKILL'); return r; };");
  const args = ['attribute', CNN, '--input', X, '--out', path.join(folder, 'a.npy'), '--no-cache'];
  const killed = runCliProcess(args, preload, { ...process.env, KILL_IN: folder });
  assert.is(killed.signal, 'SIGKILL', killed.stderr);
  assert.equal(fs.readdirSync(folder).map((f) => f.replace(/\d+-[0-9a-f]+$/, 'PID-hex')), ['.a.npy.tmp-PID-hex']);
  const rerun = runCliProcess(args);
  assert.is(rerun.status, 0, rerun.stderr);
  assert.equal(fs.readdirSync(folder), ['a.npy']);
});

test('a temporary file removed before its rename (another pid namespace\'s run sweeping it as a dead process\'s) is written again: the output is whole and the call succeeds (it failed, "file not found")', () => {
  const out = at('swept.bin');
  // The module object itself (the import's namespace has getters only): what files.ts calls.
  const nodeFs = require('fs') as { renameSync: typeof fs.renameSync };
  const rename = nodeFs.renameSync;
  let swept = 0;
  nodeFs.renameSync = (from: fs.PathLike, to: fs.PathLike) => {
    if (swept++ < 2) fs.rmSync(from);
    return rename(from, to);
  };
  try {
    writeFileAtomic(out, new Uint8Array([1, 2, 3]));
  } finally {
    nodeFs.renameSync = rename;
  }
  assert.is(swept, 3);
  assert.equal(Array.from(fs.readFileSync(out)), [1, 2, 3]);
  assert.equal(fs.readdirSync(dir).filter((f) => f.startsWith('.swept.bin')), [], 'no temporary file left');
});

test.run();
