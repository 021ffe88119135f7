import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { PNG } from 'pngjs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter, float } from '../rewriter/emitter';
import { AttrType, DataType, decodeModel, encodeModel, makeTensor, ModelProto, valueInfo } from '../rewriter/proto';
import { Explainer, maximize } from '../runtime';
import { readNpy } from '../runtime/node/npy-file';
import { backend } from '../runtime/backend';
import { makeOrtTensor } from '../runtime/ort-types';
import { probeFacts } from '../runtime/probe';
import { firstLine } from '../runtime/run-errors';
import { writeNpy } from '../runtime/node/npy-file';
import { apiFailsWith, cliFailsWith, oneLine, runCli, snapshot, tempDir, writeRawNpy } from './support/cli-harness';
import { loadFixture, relL2 } from './support/fixtures';
import { tinyGraph, tinyModel } from './support/tiny-model';

const dir = tempDir('bad-inputs');
const at = (...p: string[]) => path.join(dir, ...p);
const resnet = loadFixture('resnet_bn');
const mlp = loadFixture('mlp');
const RESNET_INPUT = path.join(path.dirname(resnet.model), 'input.npy');
const MLP_INPUT = path.join(path.dirname(mlp.model), 'input.npy');

// ---- files the cases use --------------------------------------------------------------------
fs.writeFileSync(at('truncated.onnx'), fs.readFileSync(resnet.model).subarray(0, 100));
fs.writeFileSync(at('notes.onnx'), 'this is a text file\nnot a model\n');
const png = new PNG({ width: 4, height: 4 });
png.data.fill(200);
fs.writeFileSync(at('picture.png'), PNG.sync.write(png));
fs.writeFileSync(at('empty.onnx'), '');
fs.writeFileSync(at('lfs.onnx'), 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 1048576\n');
fs.writeFileSync(at('xet.onnx'), '# xet version 0\nfilesize = 1048576\n');
fs.writeFileSync(at('page.onnx'), '<!DOCTYPE html>\n<html lang="en"><head><title>model.onnx</title></head></html>\n');
fs.writeFileSync(at('det.onnx'), tinyModel([4], 13, (em, x) => em.mul(em.unsqueeze(em.op('Det', [em.reshape(em.op('Relu', [x]), [-1, 2, 2])]), [1]), em.scalar(2))));
writeNpy(at('det-input.npy'), Float32Array.from([0.1, -0.2, 0.3, 0.4]), [1, 4]);
writeNpy(at('wrong-shape.npy'), new Float32Array(3 * 15 * 16).fill(0.1), [1, 3, 15, 16]);
writeNpy(at('rank2.npy'), new Float32Array(16 * 16).fill(0.1), [16, 16]);
writeNpy(at('rank5.npy'), new Float32Array(3 * 16 * 16).fill(0.1), [1, 1, 3, 16, 16]);
writeRawNpy(at('int64.npy'), '<i8', [1, 3, 16, 16], new Uint8Array(new BigInt64Array(3 * 16 * 16).fill(1n).buffer));
fs.copyFileSync(mlp.model, at('mine.onnx'));

/** x [N,4] → a = x·W, b = Relu(a): two outputs. */
function twoOutputModel(): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'two');
  em.rename(em.matmul('x', em.constFloat(Array.from({ length: 12 }, (_, i) => Math.sin(i + 1)), [4, 3])), 'a');
  // Two heads on x: neither output is computed from the other (an intermediate beside the output it feeds is no choice).
  em.rename(em.op('Relu', [em.matmul('x', em.constFloat(Array.from({ length: 12 }, (_, i) => Math.cos(i + 1)), [4, 3]))]), 'b');
  const model: ModelProto = {
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'onnx-explain tests',
    graph: { name: 'two', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 4])], output: [valueInfo('a', DataType.FLOAT, ['N', 3]), valueInfo('b', DataType.FLOAT, ['N', 3])] },
  };
  return encodeModel(model);
}
fs.writeFileSync(at('two.onnx'), twoOutputModel());
/** Opset 1's Tile repeats a tensor `tiles` times along `axis`, both inputs: read only when they are constant counts. */
function opset1Tile(tiles?: number): Uint8Array {
  return encodeModel({
    ir_version: 3, opset_import: [{ domain: '', version: 1 }],
    graph: {
      name: 'tile',
      node: [{ op_type: 'Tile', name: 'tile', input: ['x', 'tiles', 'axis'], output: ['y'] }],
      initializer: [makeTensor('axis', [], [1], DataType.FLOAT), ...(tiles === undefined ? [] : [makeTensor('tiles', [], [tiles], DataType.FLOAT)])],
      input: [valueInfo('x', DataType.FLOAT, ['N', 4]), ...(tiles === undefined ? [valueInfo('tiles', DataType.FLOAT, [])] : [])],
      output: [{ name: 'y' }],
    },
  });
}
fs.writeFileSync(at('opset1-tile.onnx'), opset1Tile());
fs.writeFileSync(at('opset1-tile-inf.onnx'), opset1Tile(Infinity));
fs.writeFileSync(at('opset0.onnx'), encodeModel({
  ir_version: 3, opset_import: [{ domain: '', version: 0 }],
  graph: { name: 'relu', node: [{ op_type: 'Relu', input: ['x'], output: ['y'] }], input: [valueInfo('x', DataType.FLOAT, ['N', 4])], output: [{ name: 'y' }] },
}));
// onnxruntime-genai's dummy test models: a graph whose output is its input.
fs.writeFileSync(at('no-nodes.onnx'), encodeModel({
  ir_version: 7, opset_import: [{ domain: '', version: 14 }],
  graph: { name: 'passthrough', node: [], input: [valueInfo('x', DataType.FLOAT, ['N', 4])], output: [valueInfo('x', DataType.FLOAT, ['N', 4])] },
}));
/** What onnxruntime saves at graph optimisation level 'all': a Relu between NCHWc reorders. */
const NCHWC = 'com.microsoft.nchwc';
fs.writeFileSync(at('nchwc.onnx'), encodeModel({
  ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: NCHWC, version: 1 }],
  graph: {
    name: 'nchwc',
    node: [
      { op_type: 'ReorderInput', domain: NCHWC, input: ['x'], output: ['blocked'] },
      { op_type: 'Relu', input: ['blocked'], output: ['r'] },
      { op_type: 'ReorderOutput', domain: NCHWC, input: ['r'], output: ['c'], attribute: [{ name: 'channels', type: AttrType.INT, i: 16 }] },
      { op_type: 'GlobalAveragePool', input: ['c'], output: ['p'] },
      { op_type: 'Flatten', input: ['p'], output: ['y'] },
    ],
    input: [valueInfo('x', DataType.FLOAT, ['N', 16, 2, 2])], output: [{ name: 'y' }],
  },
}));
writeNpy(at('nchwc-input.npy'), Float32Array.from({ length: 64 }, (_, i) => Math.sin(i)), [1, 16, 2, 2]);
/** torch.onnx.export with export_params=False: the weight is an input and nothing initializes it. */
fs.writeFileSync(at('weightless.onnx'), encodeModel({
  ir_version: 8, opset_import: [{ domain: '', version: 13 }],
  graph: {
    name: 'weightless', node: [{ op_type: 'MatMul', input: ['x', 'fc.weight'], output: ['y'] }],
    input: [valueInfo('x', DataType.FLOAT, ['N', 4]), valueInfo('fc.weight', DataType.FLOAT, [4, 3])], output: [{ name: 'y' }],
  },
}));
/** A model of one sample with no batch axis (input [4]). */
fs.writeFileSync(at('unbatched.onnx'), encodeModel(tinyGraph([4], 13, (em, x) => em.op('Relu', [x])).model));
writeNpy(at('unbatched-input.npy'), Float32Array.from([0.5, -1, 2, 0.25]), [1, 4]);
writeNpy(at('two-input.npy'), Float32Array.from([0.5, -1, 2, 0.25, 1, 1, -0.5, 0.75]), [2, 4]);

/** A model whose input declares its type but no shape (not even a rank). */
fs.writeFileSync(at('shapeless.onnx'), encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'shapeless', node: [{ op_type: 'Relu', input: ['x'], output: ['y'], name: 'relu' }], input: [{ name: 'x', type: { tensor_type: { elem_type: DataType.FLOAT } } }], output: [{ name: 'y' }] } }));

/** mlp/model.onnx with initializer 'body.0.weight' moved to external data at `location`. */
function externalModel(file: string, location: string, dataFile: string | undefined, offset = 0): void {
  const model = decodeModel(fs.readFileSync(mlp.model));
  const t = model.graph!.initializer!.find((i) => i.name === 'body.0.weight')!;
  const bytes = Buffer.from(t.raw_data!);
  if (dataFile) fs.writeFileSync(dataFile, Buffer.concat([Buffer.alloc(offset, 0xab), bytes, Buffer.alloc(8, 0xcd)]));
  delete t.raw_data;
  t.data_location = 1;
  t.external_data = [{ key: 'location', value: location }, ...(offset ? [{ key: 'offset', value: String(offset) }] : []), { key: 'length', value: String(bytes.length) }];
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, encodeModel(model));
}
fs.mkdirSync(at('ext', 'data'), { recursive: true });
externalModel(at('ext', 'ok.onnx'), 'weights.bin', at('ext', 'weights.bin'));
externalModel(at('ext', 'ok-offset.onnx'), 'data/packed.bin', at('ext', 'data', 'packed.bin'), 64);
externalModel(at('ext', 'absolute.onnx'), at('ext', 'weights.bin'), undefined);
externalModel(at('ext', 'escape.onnx'), '../outside.bin', at('outside.bin'));
externalModel(at('ext', 'escape-deep.onnx'), 'data/../../outside.bin', undefined);

// ---- helpers ----------------------------------------------------------------------------------
const userFiles = () => [
  resnet.model, RESNET_INPUT, mlp.model, MLP_INPUT,
  ...fs.readdirSync(dir).map((f) => at(f)).filter((f) => fs.statSync(f).isFile()),
  ...fs.readdirSync(at('ext')).map((f) => at('ext', f)).filter((f) => fs.statSync(f).isFile()),
  at('ext', 'data', 'packed.bin'),
];

const cliFails = (argv: string[], cause: RegExp) => cliFailsWith(argv, cause, userFiles());
const apiFails = (run: () => Promise<unknown>, cause: RegExp, what: string) => apiFailsWith(run, cause, what, userFiles());

// ---- model files ------------------------------------------------------------------------------
const badModels: [string, string, RegExp][] = [
  ['truncated model (first 100 bytes)', at('truncated.onnx'), /truncated\.onnx: .*(truncated|not an ONNX)/],
  ['text file', at('notes.onnx'), /notes\.onnx: not an ONNX/],
  ['PNG file', at('picture.png'), /picture\.png: not an ONNX/],
  ['empty file', at('empty.onnx'), /empty\.onnx: empty file/],
  ['a Git LFS pointer committed in place of the model', at('lfs.onnx'), /lfs\.onnx: a Git LFS pointer, not the model itself \(fetch it with 'git lfs pull'\)$/],
  ['a Xet pointer', at('xet.onnx'), /xet\.onnx: a Xet pointer, not the model itself/],
  ['a saved web page', at('page.onnx'), /page\.onnx: an HTML page, not an ONNX model/],
  ['missing file', at('missing.onnx'), /missing\.onnx: file not found/],
  ['a folder', at('ext'), /ext: is a directory/],
  ['a graph with no nodes', at('no-nodes.onnx'), /no-nodes\.onnx: the graph has no nodes \(its outputs are its inputs or constants\): nothing to explain$/],
  ['opset 0', at('opset0.onnx'), /opset0\.onnx: default-domain opset 0 does not exist \(opsets start at 1\)/],
  ['opset-1 Tile of Infinity copies', at('opset1-tile-inf.onnx'), /opset1-tile-inf\.onnx: node 'tile' \(Tile, opset 1\): tiles Infinity along axis 1 of a rank-2 input: tiles must be a count and axis one of its axes/],
  ['opset-1 Tile with its tiles fed', at('opset1-tile.onnx'), /opset1-tile\.onnx: node 'tile' \(Tile, opset 1\): the legacy tiles and axis inputs are read only when they are constants and the input rank is known/],
];
for (const [what, file, cause] of badModels) {
  test(`model: ${what} is rejected with one line`, async () => {
    await apiFails(() => Explainer.load(file), cause, what);
    await cliFails(['info', file], cause);
    await cliFails(['attribute', file, '--input', MLP_INPUT], cause);
    await cliFails(['rewrite', file, '--out', at('never.onnx')], cause);
    assert.not.ok(fs.existsSync(at('never.onnx')), 'nothing written');
  });
}

test('unknown op on the input path: one line naming node, op and opset', async () => {
  const msg = await cliFails(['attribute', at('det.onnx'), '--input', at('det-input.npy'), '--target', '0'], /no backward rule for node '[^']+' \(Det, opset 13\); supported ops: /);
  assert.ok(msg.length < 2000, 'message length');
  await cliFails(['rewrite', at('det.onnx'), '--out', at('never.onnx')], /\(Det, opset 13\)/);
});

test('a model that imports no opset of the standard domain (only \'com.example\' 1): one line naming the file and the missing import (was "opset 1 has no Where", naming nothing)', async () => {
  fs.writeFileSync(at('no-standard-opset.onnx'), encodeModel({
    ir_version: 8, opset_import: [{ domain: 'com.example', version: 1 }],
    graph: { name: 'mm', node: [{ op_type: 'MatMul', input: ['x', 'W'], output: ['y'] }], initializer: [makeTensor('W', [4, 2], Array(8).fill(0.5), DataType.FLOAT)], input: [valueInfo('x', DataType.FLOAT, ['N', 4])], output: [{ name: 'y' }] },
  }));
  await cliFails(['attribute', at('no-standard-opset.onnx'), '--input', at('two-input.npy')], /no-standard-opset\.onnx: the model imports no opset of the standard domain \(its opset_import: 'com\.example' 1\), so the versions of its MatMul and other standard ops are unknown$/);
});

test('a node writing an initializer\'s, an input\'s or another node\'s tensor: one line naming the node and the tensor (was a MatMul shape mismatch)', async () => {
  const W = makeTensor('W', [4, 2], Array(8).fill(0.5), DataType.FLOAT);
  for (const [written, cause] of [['W', /node 'again' \(Relu, opset 13\) writes 'W', which an initializer holds: a tensor has one source$/], ['x', /writes 'x', which is a graph input/], ['r', /writes 'r', which another node writes/]] as const) {
    fs.writeFileSync(at('two-sources.onnx'), encodeModel({
      ir_version: 8, opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'ssa',
        node: [{ op_type: 'Relu', input: ['x'], output: ['r'] }, { op_type: 'Relu', name: 'again', input: ['x'], output: [written] }, { op_type: 'MatMul', input: ['r', 'W'], output: ['y'] }],
        initializer: [W], input: [valueInfo('x', DataType.FLOAT, ['N', 4])], output: [{ name: 'y' }],
      },
    }));
    await cliFails(['attribute', at('two-sources.onnx'), '--input', at('two-input.npy')], cause);
  }
});

test('a model exported without its weights (export_params=False): one line saying so', async () => {
  await cliFails(['attribute', at('weightless.onnx'), '--input', at('two-input.npy')], /weightless\.onnx: the model holds no weights: its parameters are inputs \(2 float inputs: 'x', 'fc\.weight', …\), as torch\.onnx\.export writes with export_params=False; export it with its parameters$/);
});

test('rows of exactly the input shape of a model without a batch axis: one line saying to use --unbatched or export it with one', async () => {
  await cliFails(['attribute', at('unbatched.onnx'), '--input', at('unbatched-input.npy'), '--target', '0'], /unbatched\.onnx: input 'x' has shape \[1,4\], expected rank 1 \[4\]: the model takes one sample without a batch axis; explain it as it is with --unbatched \(API: unbatched: true; rows run one at a time\), or export it with a leading batch axis/);
});

// It had been taken for a scalar: 'no batch axis' (or, for token ids, an embedding of rank 1).
test('an input that declares no shape (its rank unknown): one line saying so', async () => {
  const cause = /shapeless\.onnx: input 'x' declares no shape, so its rank is unknown: declare its shape in the model/;
  await cliFails(['attribute', at('shapeless.onnx'), '--input', at('two-input.npy'), '--target', '0'], cause);
  await apiFails(() => Explainer.load(at('shapeless.onnx')), cause, 'shapeless input');
  await apiFails(() => Explainer.load(at('shapeless.onnx'), { unbatched: true }), cause, 'shapeless input, unbatched');
});

test('a model onnxruntime saved at optimisation level \'all\' (NCHWc nodes): one line saying how to save it instead', async () => {
  const cause = /nchwc\.onnx: no backward rule for node 'c' \(com\.microsoft\.nchwc\.ReorderOutput, opset 1\): .*optimised at level 'all'.*'extended' or below$/;
  await cliFails(['attribute', at('nchwc.onnx'), '--input', at('nchwc-input.npy'), '--target', '3'], cause);
});

test('a node of the model that onnxruntime cannot run (a Conv bias of shape [8, 1]): one line naming the node', async () => {
  const fx = loadFixture('cnn_maxpool');
  const m = decodeModel(fs.readFileSync(fx.model));
  const bias = m.graph!.initializer!.find((t) => t.name === 'body.3.bias')!;
  bias.dims = [8, 1];
  const file = at('bias-2d.onnx');
  fs.writeFileSync(file, encodeModel(m));
  const input = path.join(path.dirname(fx.model), 'input.npy');
  const cause = /bias-2d\.onnx: onnxruntime cannot run the model's node '\/body\/body\.3\/Conv' \(\w*Conv\): .*bias/;
  for (const extra of [['--method', 'gradient'], ['--method', 'deeplift'], ['--method', 'occlusion', '--window', '1,4,4'], ['--method', 'layer-activation', '--layer', '/body/body.5/MaxPool_output_0']]) {
    await cliFails(['attribute', file, '--input', input, ...extra, '--out', at('never.npy')], cause);
  }
  await apiFails(async () => (await Explainer.load(file)).forward(fx.input), cause, 'forward');
  assert.not.ok(fs.existsSync(at('never.npy')), 'nothing written');
});

test('a node without a backward rule for its form is named as the model names it under integrated gradients too, not as its copy on the path', async () => {
  const product = tinyModel([3, 3], 16, (em, x) => {
    const t = em.op('Tanh', [x]);
    return em.op('ScatterND', [t, em.constInt([0, 1], [1, 2]), em.constFloat([2, 3, 4], [1, 3])], { reduction: 'mul' }, 'scatter');
  });
  const x = { data: new Float32Array(9).map((_, i) => i / 9), dims: [1, 3, 3] };
  for (const method of ['gradient', 'integrated-gradients'] as const) {
    await apiFails(async () => (await Explainer.load(product)).attribute(x, { method, target: 0 }), /node 'tiny\/scatter_\d+' \(ScatterND, opset 16\): reduction 'mul' is not supported/, method);
  }
});

test('a model that fixes batch 2 with an op onnxruntime has no kernel for (torch\'s ATen fallback): one line saying onnxruntime cannot run it, not that its rows mix', async () => {
  const em = new Emitter(13, DataType.FLOAT, 'aten');
  em.rename(em.reduceSum(em.op('ATen', ['x'], { operator: 'special_i0' }), [1]), 'y');
  em.nodes.find((n) => n.op_type === 'ATen')!.domain = 'org.pytorch.aten';
  const model: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'org.pytorch.aten', version: 1 }], producer_name: 'pytorch',
    graph: { name: 'aten', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, [2, 4])], output: [{ name: 'y' }] },
  };
  fs.writeFileSync(at('aten.onnx'), encodeModel(model));
  writeNpy(at('aten-input.npy'), new Float32Array(8).fill(0.5), [2, 4]);
  await cliFails(['attribute', at('aten.onnx'), '--input', at('aten-input.npy'), '--target', '0', '--out', at('never.npy')], /aten\.onnx: onnxruntime cannot run the model for input shape \[2,4\]: .*org\.pytorch\.aten:ATen/);
});

test('a probe whose run at batch 1 holds more than the memory budget (a Pad of 65,536 rows on the batch axis took all memory, fuzz seed 2290): one line naming the largest tensor, before the run at batch 2', async () => {
  const { model, xs } = tinyGraph(['N', 2, 3], 13, (em, x) => em.op('Tanh', [em.pad(x, [2, 0, 0, 0, 0, 0])]));
  // Given values make the probe run the model (shapes alone may be inferred without a run).
  const given = { x: makeOrtTensor(DataType.FLOAT, new Float32Array(6), [1, 2, 3]) };
  const platform = backend();
  const budget = platform.memoryBudget;
  platform.memoryBudget = 64;
  try {
    await apiFails(() => probeFacts(model, xs, 'padded.onnx', given), /^padded\.onnx: the model's tensors at input shape \[1,2,3\] hold 0\.0 GiB \(the largest, '[^']+' \[3,2,3\], 0\.0 GiB\), more than the 0\.0 GiB onnx-explain may hold to read their shapes; explain it at a smaller input shape$/, 'probe');
  } finally {
    platform.memoryBudget = budget;
  }
  assert.equal((await probeFacts(model, xs, 'padded.onnx', given)).facts.shapes.get('y'), [3, 2, 3], 'within the budget');
});

test('a tensor whose known dims alone pass the memory budget is refused from shape inference, before any run (a mutated Pad of 8.5 million rows after a Resize ran for 97 s before the probe said so, fuzz seed 2395)', async () => {
  // A Resize, then a Pad of 10⁶ rows: shape inference knows it; the final Reshape's output it does
  // not (so the probe would run the model), and that Reshape fails at run time (8,000,032 values are not rows of 7).
  const { model, xs } = tinyGraph(['N', 2, 3, 3], 13, (em, x) => {
    const resized = em.op('Resize', [x, '', em.constFloat([1, 1, 4 / 3, 4 / 3], [4])], { mode: 'nearest' });
    return em.reshape(em.pad(resized, [0, 0, 1_000_000, 0, 0, 0, 0, 0]), [7, -1]);
  });
  const platform = backend();
  const budget = platform.memoryBudget;
  platform.memoryBudget = 2 ** 20;
  try {
    await apiFails(() => probeFacts(model, xs, 'resized.onnx'), /^resized\.onnx: the model's tensors at input shape \[1,2,3,3\] hold at least 0\.0 GiB \(the largest, '[^']+' \[\?,2,1000004,4\], 0\.0 GiB\), more than the 0\.0 GiB onnx-explain may hold to read their shapes; explain it at a smaller input shape$/, 'probe');
  } finally {
    platform.memoryBudget = budget;
  }
  await apiFails(() => probeFacts(model, xs, 'resized.onnx'), /^resized\.onnx: onnxruntime cannot run the model for input shape \[1,2,3,3\]/, 'probe within the budget');
});

test('attributes that only a run would trip on: a Softmax axis out of range, ReduceMean axes naming an axis twice, Pad constants that blow up a tensor', async () => {
  const transformer = loadFixture('transformer');
  const m = decodeModel(fs.readFileSync(transformer.model));
  const softmax = m.graph!.node!.find((n) => n.op_type === 'Softmax')!;
  softmax.attribute = [{ name: 'axis', type: 2, i: -(2 ** 53) }];
  fs.writeFileSync(at('softmax-axis.onnx'), encodeModel(m));
  await cliFails(['attribute', at('softmax-axis.onnx'), '--input', path.join(path.dirname(transformer.model), 'input.npy'), '--method', 'deeplift', '--out', at('never.npy')], /Softmax, opset \d+\): axis -9007199254740992 is out of range for rank 3/);
  // A final Softmax whose input's shape only the probe knows (behind a Resize): read when its classes are (fuzz seed 2855: exit 2, 'Invalid array length').
  const resized = path.resolve(__dirname, '../../models/exporters/torch_resize_op10');
  const mr = decodeModel(fs.readFileSync(path.join(resized, 'model.onnx')));
  mr.graph!.node!.find((n) => n.op_type === 'Softmax')!.attribute = [{ name: 'axis', type: 2, i: -(2 ** 53) }];
  fs.writeFileSync(at('final-softmax-axis.onnx'), encodeModel(mr));
  await cliFails(['attribute', at('final-softmax-axis.onnx'), '--input', path.join(resized, 'input.npy'), '--method', 'deeplift-shap', '--out', at('never.npy')], /Softmax, opset 10\): axis -9007199254740992 is out of range for rank 2/);
  const t13 = loadFixture('transformer_op13');
  const m13 = decodeModel(fs.readFileSync(t13.model));
  const mean = m13.graph!.node!.find((n) => n.name === '/body/ReduceMean')!;
  mean.attribute = [...(mean.attribute ?? []).filter((a) => a.name !== 'axes'), { name: 'axes', type: 7, ints: [1, -2] }];
  fs.writeFileSync(at('mean-axes.onnx'), encodeModel(m13));
  await cliFails(['attribute', at('mean-axes.onnx'), '--input', path.join(path.dirname(t13.model), 'input.npy'), '--method', 'integrated-gradients', '--steps', '4', '--out', at('never.npy')], /ReduceMean, opset 13\): axes \[1,-2\] name an axis twice \(rank 3\)/);
  const resize = loadFixture('resize_align');
  const r = decodeModel(fs.readFileSync(resize.model));
  const pads = r.graph!.node!.find((n) => n.op_type === 'Pad')!;
  const padsConst = r.graph!.node!.find((n) => n.output![0] === pads.input![1])!;
  const t = padsConst.attribute![0].t!;
  const values = new BigInt64Array(8);
  values[1] = 2n ** 40n;
  t.raw_data = new Uint8Array(values.buffer);
  fs.writeFileSync(at('huge-pad.onnx'), encodeModel(r));
  await cliFails(['attribute', at('huge-pad.onnx'), '--input', path.join(path.dirname(resize.model), 'input.npy'), '--method', 'deeplift', '--out', at('never.npy')], /pads \[0,1099511627776,0,0,0,0,0,0\] must be integers of magnitude at most 2147483647/);
  assert.not.ok(fs.existsSync(at('never.npy')), 'nothing written');
});

test('options a run would ignore or choke on: maximize --channel with --target, a regulariser or a step size that overflows, contrast --tolerance -1, export-triton --name ., rewrite --epsilon -1', async () => {
  const cam = path.resolve(path.dirname(resnet.model), '../../cam-fixtures/cam_gap/model.onnx');
  await cliFails(['maximize', cam, '--target', '0', '--channel', '3', '--out', at('never.npy')], /--channel picks a channel of a --layer objective/);
  await cliFails(['maximize', cam, '--target', '0', '--stages', '1', '--steps', '2', '--lp-weight', '1e300', '--out', at('never.npy')], /the objective became -Infinity at step 1 .*lower the regulariser weights/);
  const onehot = path.resolve(path.dirname(resnet.model), '../conv1d_onehot/model.onnx');
  await cliFails(['maximize', onehot, '--layer', '/body/body.2/MaxPool_output_0', '--channel', '0', '--stages', '2', '--steps', '2', '--lr', '1e300', '--out', at('never.npy')], /maximize: the input became non-finite at step 2 \(learning rate 1e\+300\): lower the step size/); // fuzz seed 1746
  const cdeepex = path.resolve(path.dirname(resnet.model), '../../cdeepex/clean');
  const image = at('digit.npy');
  writeNpy(image, new Float32Array(256).fill(0.5), [1, 1, 16, 16]);
  await cliFails(['contrast', '--classifier', path.join(cdeepex, 'classifier.onnx'), '--generator', path.join(cdeepex, 'generator.onnx'), '--input', image, '--true', '1', '--probe', '2', '--tolerance', '-1', '--out-dir', at('never')], /contrast: tolerance -1 must be a finite number > 0/);
  // A fraction was "not a comma-separated list of integers" for every flag of one integer (contrast's classes, --seed).
  await cliFails(['contrast', '--classifier', path.join(cdeepex, 'classifier.onnx'), '--generator', path.join(cdeepex, 'generator.onnx'), '--input', image, '--true', '1', '--probe', '1.5', '--out-dir', at('never')], /^onnx-explain: error: --probe: '1\.5' is not one integer$/);
  await cliFails(['contrast', '--classifier', path.join(cdeepex, 'classifier.onnx'), '--generator', path.join(cdeepex, 'generator.onnx'), '--input', image, '--true', '1,2', '--probe', '3', '--out-dir', at('never')], /^onnx-explain: error: --true: '1,2' is not one integer$/);
  await cliFails(['contrast', '--classifier', path.join(cdeepex, 'classifier.onnx'), '--generator', path.join(cdeepex, 'generator.onnx'), '--input', image, '--true', '1', '--probe', '2', '--starts', '1', '--steps', '5', '--lr', '1e300', '--out-dir', at('never')], /contrast: the z0 search diverged .*lower --lr/);
  for (const name of ['.', '..']) await cliFails(['export-triton', mlp.model, '--out', at('repo'), '--name', name], /is not '\.' or '\.\.'/);
  await cliFails(['rewrite', resnet.model, '--method', 'lrp-epsilon', '--epsilon=-1', '--out', at('never.onnx')], /epsilon -1 must be a finite number ≥ 0/);
  await cliFails(['attribute', mlp.model, '--input', MLP_INPUT, '--method', 'guided-backprop', '--steps=-1', '--out', at('never.npy')], /--steps applies to integrated-gradients, internal-influence, layer-conductance and neuron-conductance, not to method 'guided-backprop'/);
  await apiFails(async () => (await Explainer.load(resnet.model)).graph(resnet.input.dims.slice(1), { method: 'lrp-epsilon', epsilon: -1 }), /epsilon -1 must be a finite number ≥ 0/, 'graph()');
  assert.not.ok(fs.existsSync(at('never.npy')) || fs.existsSync(at('never')) || fs.existsSync(at('repo')) || fs.existsSync(at('never.onnx')), 'nothing written');
});

// ---- inputs and targets -----------------------------------------------------------------------
test('bounds and headers a run would crash or hang on: a PNG header of 2³¹−1 squared pixels, PNG data short of its rows, .npy header dims that are not counts, JSON nested 100,000 deep, --steps, --samples and --threads past their bounds, a value given to a boolean flag', async () => {
  const png = PNG.sync.write(Object.assign(new PNG({ width: 24, height: 20 }), { data: Buffer.alloc(24 * 20 * 4, 128) }));
  const huge = Buffer.from(png);
  huge.writeUInt32BE(2 ** 31 - 1, 16);
  huge.writeUInt32BE(2 ** 31 - 1, 20);
  fs.writeFileSync(at('huge-header.png'), huge);
  await cliFails(['attribute', resnet.model, '--input', at('huge-header.png'), '--out', at('never.npy')], /huge-header\.png: a PNG of 2147483647×2147483647 pixels, more than 100 million \(a decompression bomb or a corrupt header\)$/);
  // The IDAT of two rows of 20 (a complete zlib stream): pngjs read the other rows as zeros.
  const at0 = png.indexOf('IDAT') - 4;
  const rows = zlib.deflateSync(Buffer.alloc(2 * (1 + 24 * 4), 7));
  const chunk = Buffer.alloc(12 + rows.length);
  chunk.writeUInt32BE(rows.length, 0);
  chunk.write('IDAT', 4, 'latin1');
  rows.copy(chunk, 8);
  fs.writeFileSync(at('short.png'), Buffer.concat([png.subarray(0, at0), chunk, png.subarray(at0 + 12 + png.readUInt32BE(at0))]));
  await cliFails(['attribute', resnet.model, '--input', at('short.png'), '--out', at('never.npy')], /short\.png: a truncated PNG: its image data holds 194 of the 1940 bytes of 24×20 pixels$/);
  for (const [name, shape] of [['negative', '(-3, 20)'], ['fraction', '(2.5, 20)'], ['hex', '(0x3, 20)']]) {
    const header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`.padEnd(117, ' ') + '\n';
    fs.writeFileSync(at(`${name}.npy`), Buffer.concat([Buffer.from([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 255, header.length >> 8]), Buffer.from(header, 'latin1'), Buffer.alloc(240)]));
    await cliFails(['attribute', mlp.model, '--input', at(`${name}.npy`), '--out', at('never.npy')], new RegExp(`${name}\\.npy: \\.npy header shape \\(.*\\) is not a tuple of non-negative integers$`));
  }
  fs.writeFileSync(at('deep.json'), '['.repeat(100000) + ']'.repeat(100000));
  await cliFails(['attribute', mlp.model, '--input', at('deep.json'), '--out', at('never.npy')], /deep\.json: a JSON list nested more than 32 deep$/);
  const run = ['attribute', mlp.model, '--input', MLP_INPUT, '--out', at('never.npy')];
  await cliFails([...run, '--method', 'integrated-gradients', '--steps', '2147483648'], /--steps: 2147483648 steps; gausslegendre needs an integer from 1 to 10000$/);
  await cliFails([...run, '--method', 'integrated-gradients', '--ig-method', 'riemann_left', '--steps', '100001'], /riemann_left needs an integer from 2 to 10000$/);
  for (const method of ['gradient-shap', 'kernel-shap', 'lime', 'shapley-value-sampling']) await cliFails([...run, '--method', method, '--samples', '1000000000'], /--samples: 1000000000 is not an integer from \d to 100000$/);
  await cliFails([...run, '--noise-tunnel', 'smoothgrad', '--samples', '1000000000'], /--samples: 1000000000 is not an integer from 1 to 100000$/);
  await cliFails([...run, '--threads', '100000'], /--threads \(intraOpNumThreads\): 100000 is not an integer from 0 \(onnxruntime's choice\) to 256$/);
  await cliFails([...run, '--unbatched=0'], /option --unbatched takes no value \(got '--unbatched=0'\)$/);
  await apiFails(() => Explainer.load(mlp.model, { sessionOptions: { intraOpNumThreads: -1 } }), /intraOpNumThreads\): -1 is not an integer/, 'load with -1 threads');
  await apiFails(() => Explainer.load(null as unknown as string), /the model must be a path or its bytes \(a Uint8Array, ArrayBuffer, Blob or Response\), got null/, 'load(null)');
  // A Vue reactive() store hands over a Proxy of the bytes: typed-array getters refuse it (a TypeError deep inside).
  const reactive = new Proxy(new Uint8Array(fs.readFileSync(mlp.model)), { get: (t, k, r) => Reflect.get(t, k, r) });
  await apiFails(() => Explainer.load(reactive), /the model's bytes are wrapped in a Proxy .*: pass the Uint8Array itself \(Vue: toRaw\(bytes\)\)$/, 'load(Proxy)');
});

test('API: a model as an ArrayBuffer (fetch().arrayBuffer()) or a DataView loads as its bytes; noise-tunnel copies drawn run by run equal those drawn at once', async () => {
  const bytes = fs.readFileSync(mlp.model);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const x = { data: Float32Array.from({ length: 4 * 20 }, (_, k) => Math.sin(k)), dims: [4, 20] };
  const want = await (await Explainer.load(mlp.model)).attribute(x, { target: 1, noiseTunnel: 'smoothgrad', samples: 7, internalBatchSize: 3 });
  for (const given of [buffer, new DataView(buffer)]) {
    const got = await (await Explainer.load(given)).attribute(x, { target: 1, noiseTunnel: 'smoothgrad', samples: 7 });
    assert.equal(Array.from(got.attributions.data), Array.from(want.attributions.data));
  }
});

test('input of the wrong shape / rank / dtype', async () => {
  await cliFails(['attribute', resnet.model, '--input', at('wrong-shape.npy')], /\[1,3,15,16\].*expected/);
  await cliFails(['attribute', resnet.model, '--input', at('rank2.npy')], /\[16,16\].*rank 4/);
  await cliFails(['attribute', resnet.model, '--input', at('rank5.npy')], /rank 4/);
  await cliFails(['attribute', resnet.model, '--input', at('int64.npy')], /int64/);
  const ex = await Explainer.load(resnet.model);
  await apiFails(() => ex.attribute({ data: new Float32Array(3 * 15 * 16), dims: [1, 3, 15, 16] }), /\[1,3,15,16\].*expected/, 'API wrong shape');
  await apiFails(() => ex.attribute({ data: new Float32Array(3 * 16 * 16), dims: [3, 16, 16] }), /rank 4/, 'API wrong rank');
  await apiFails(() => ex.attribute({ data: new BigInt64Array(768), dims: [1, 3, 16, 16] } as never), /integer|float32/, 'API int64');
  await apiFails(() => ex.attribute({ data: new Float32Array(10), dims: [1, 3, 16, 16] }), /10 values/, 'API size mismatch');
});

test('a fed input of the wrong width: the line names the feed\'s shape and the input\'s declared one (onnxruntime\'s message named the probe\'s one row)', async () => {
  const dir2 = path.resolve(__dirname, '../../models/multi/two_inputs');
  writeNpy(at('tabular-7.npy'), new Float32Array(3 * 7), [3, 7]);
  await cliFails(['attribute', path.join(dir2, 'model.onnx'), '--input', path.join(dir2, 'signal.npy'), '--wrt', 'signal', '--feed', `tabular=${at('tabular-7.npy')}`], /--feed tabular has shape \[3,7\]; input 'tabular' takes \[N,5\]$/);
});

// The fallback said only "no single node gives one on its own": a layer's zero fill divided by.
test('perturbation methods whose perturbed copies give NaN or ±Inf (log of a zero fill, a layer filled with zeros that is divided by) say so and name the fill', async () => {
  fs.writeFileSync(at('log.onnx'), tinyModel([4], 13, (em, x) => em.op('Log', [x])));
  fs.writeFileSync(at('div.onnx'), tinyModel([4], 13, (em, x) => em.op('Div', [x, em.rename(em.add(em.op('Abs', [x]), em.scalar(0.5)), 'h')])));
  writeNpy(at('positive.npy'), Float32Array.from([0.5, 1, 2, 3]), [1, 4]);
  await cliFails(['attribute', at('log.onnx'), '--input', at('positive.npy'), '--method', 'occlusion', '--window', '1', '--target', '0'], /non-finite values: the model gives none on the input or the baseline, so its runs on copies of the input with features replaced by zeros \(the default baseline\) do .*: choose another --fill or --baseline$/);
  await cliFails(['attribute', at('log.onnx'), '--input', at('positive.npy'), '--method', 'occlusion', '--window', '1', '--fill', '-1', '--target', '0'], /copies of the input with features replaced by the fill -1 do/);
  await cliFails(['attribute', at('div.onnx'), '--input', at('positive.npy'), '--method', 'feature-ablation', '--layer', 'h', '--target', '0'], /copies of layer 'h' with features replaced by zeros/);
});

test('target out of range, past the first from the end, or the wrong number of per-row targets', async () => {
  await cliFails(['attribute', resnet.model, '--input', RESNET_INPUT, '--target', '99'], /target 99 is out of range.*7 classes \(0\.\.6, or -7\.\.-1 from the end\)/);
  await cliFails(['attribute', resnet.model, '--input', RESNET_INPUT, '--target', '-8'], /target -8 is out of range/);
  await cliFails(['attribute', resnet.model, '--input', RESNET_INPUT, '--target=-8'], /target -8 is out of range/);
  await cliFails(['attribute', resnet.model, '--input', RESNET_INPUT, '--target', '1,2'], /target: 2 values given for 3 input rows/);
  await cliFails(['attribute', resnet.model, '--input', RESNET_INPUT, '--target', 'cat'], /--target: 'cat'/);
  const ex = await Explainer.load(resnet.model);
  await apiFails(() => ex.attribute(resnet.input, { target: 99 }), /target 99 is out of range/, 'API target 99');
  await apiFails(() => ex.attribute(resnet.input, { target: -8 }), /target -8 is out of range/, 'API target -8');
  await apiFails(() => ex.attribute(resnet.input, { target: [1, 2, 3, 4] }), /4 values given for 3 input rows/, 'API 4 targets');
  await apiFails(() => ex.attribute(resnet.input, { target: 1.5 }), /target 1.5/, 'API target 1.5');
});

test('several outputs: --output is required and must name one', async () => {
  await cliFails(['attribute', at('two.onnx'), '--input', at('two-input.npy')], /several outputs; choose one with --output \(a, b\)/);
  await cliFails(['attribute', at('two.onnx'), '--input', at('two-input.npy'), '--output', 'nope'], /no output or tensor named 'nope' \(outputs: a, b;/);
  await cliFails(['rewrite', at('two.onnx'), '--out', at('never.onnx')], /several outputs/);
  await cliFails(['attribute', resnet.model, '--input', RESNET_INPUT, '--output', 'nope'], /no output or tensor named 'nope'/);
  const ok = await runCli(['attribute', at('two.onnx'), '--input', at('two-input.npy'), '--output', 'b', '--target', '0,1']);
  assert.is(ok.code, 0, ok.err.join('|'));
});

// ---- external data ----------------------------------------------------------------------------
test('external data with an absolute location is rejected', async () => {
  await cliFails(['attribute', at('ext', 'absolute.onnx'), '--input', MLP_INPUT], /'body\.0\.weight'.*absolute path/);
  await apiFails(() => Explainer.load(at('ext', 'absolute.onnx')), /absolute/, 'API absolute');
});

test('external data escaping the model folder with ../ is rejected', async () => {
  await cliFails(['attribute', at('ext', 'escape.onnx'), '--input', MLP_INPUT], /'body\.0\.weight'.*'\.\.\/outside\.bin' escapes/);
  await cliFails(['info', at('ext', 'escape-deep.onnx')], /escapes/);
  await apiFails(() => Explainer.load(at('ext', 'escape.onnx')), /escapes/, 'API escape');
  // Bytes: the model's folder passed as baseDir is the confinement root too.
  await apiFails(() => Explainer.load(fs.readFileSync(at('ext', 'escape.onnx')), { baseDir: at('ext') }), /escapes/, 'API bytes escape');
});

test('valid external data (same folder, subfolder with offset) loads and gives the inline gradient', async () => {
  const inline = await (await Explainer.load(mlp.model)).attribute(mlp.input, { target: mlp.meta.target });
  for (const f of ['ok.onnx', 'ok-offset.onnx']) {
    const before = snapshot(userFiles());
    const r = await (await Explainer.load(at('ext', f))).attribute(mlp.input, { target: mlp.meta.target });
    assert.ok(relL2(r.attributions.data, inline.attributions.data) <= 1e-7, `${f}: rel L2 ${relL2(r.attributions.data, inline.attributions.data)}`);
    assert.ok(relL2(r.attributions.data, mlp.ref('grad.npy')!) <= 1e-4, `${f} vs grad.npy`);
    assert.equal(snapshot(userFiles()), before, `${f}: files changed`);
    const cli = await runCli(['attribute', at('ext', f), '--input', MLP_INPUT]);
    assert.is(cli.code, 0, cli.err.join('|'));
  }
  const fromBytes = await Explainer.load(fs.readFileSync(at('ext', 'ok.onnx')), { baseDir: at('ext') });
  const r = await fromBytes.attribute(mlp.input, { target: mlp.meta.target });
  assert.ok(relL2(r.attributions.data, inline.attributions.data) <= 1e-7, 'bytes + baseDir');
  await apiFails(() => Explainer.load(fs.readFileSync(at('ext', 'ok.onnx'))), /baseDir/, 'bytes without baseDir');
});

test('external data of a Constant node\'s tensor and of an If branch\'s initializer are read from the model\'s folder, whatever the working folder', async () => {
  // y = If(true) { x·W + b } with W a Constant node's value and b the branch's initializer, both in data.bin.
  const W = [0.5, -1, 2, 0.25, 1.5, -0.75];
  const b = [0.1, -0.2];
  const bytes = Buffer.concat([Buffer.from(Float32Array.from(W).buffer), Buffer.from(Float32Array.from(b).buffer)]);
  const external = (name: string, dims: number[], offset: number, length: number) => ({ name, dims, data_type: DataType.FLOAT, data_location: 1, external_data: [{ key: 'location', value: 'data.bin' }, { key: 'offset', value: String(offset) }, { key: 'length', value: String(length) }] });
  const branch = { name: 'then', node: [{ op_type: 'Add', input: ['xw', 'b'], output: ['out'] }], initializer: [external('b', [2], 24, 8)], output: [valueInfo('out', DataType.FLOAT, ['N', 2])] };
  const model = encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'external-inside',
      node: [
        { op_type: 'Constant', output: ['W'], attribute: [{ name: 'value', type: AttrType.TENSOR, t: external('', [3, 2], 0, 24) }] },
        { op_type: 'MatMul', input: ['x', 'W'], output: ['xw'] },
        { op_type: 'If', input: ['cond'], output: ['y'], attribute: [{ name: 'then_branch', type: AttrType.GRAPH, g: branch }, { name: 'else_branch', type: AttrType.GRAPH, g: branch }] },
      ],
      initializer: [{ name: 'cond', dims: [], data_type: DataType.BOOL, raw_data: Uint8Array.from([1]) }],
      input: [valueInfo('x', DataType.FLOAT, ['N', 3])], output: [valueInfo('y', DataType.FLOAT, ['N', 2])],
    },
  });
  const folder = at('ext-inside');
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'model.onnx'), model);
  fs.writeFileSync(path.join(folder, 'data.bin'), bytes);
  const r = await (await Explainer.load(path.join(folder, 'model.onnx'))).attribute({ data: Float32Array.from([1, 2, 3]), dims: [1, 3] }, { target: 1 });
  assert.equal(Array.from(r.attributions.data), [W[1], W[3], W[5]]);
  assert.equal(Array.from(r.outputs.y.data), [0.5 + 4 + 4.5 + 0.1, -1 + 0.5 - 2.25 - 0.2].map(Math.fround));
});

test('external data of a Constant inside a model-local function is read from the model\'s folder (onnxruntime, given the bytes, looked in the working folder: a file there was read, one beside the model refused) and kept inside it', async () => {
  const W = [0.5, -1, 2, 0.25, 1.5, -0.75];
  const model = (location: string) => encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }, { domain: 'local', version: 1 }],
    functions: [{
      name: 'Lin', domain: 'local', input: ['a'], output: ['b'], opset_import: [{ domain: '', version: 13 }],
      node: [
        { op_type: 'Constant', output: ['w'], attribute: [{ name: 'value', type: AttrType.TENSOR, t: { name: 'W', dims: [3, 2], data_type: DataType.FLOAT, data_location: 1, external_data: [{ key: 'location', value: location }, { key: 'length', value: '24' }] } }] },
        { op_type: 'MatMul', input: ['a', 'w'], output: ['b'] },
      ],
    }],
    graph: { name: 'external-function', node: [{ op_type: 'Lin', domain: 'local', input: ['x'], output: ['y'] }], input: [valueInfo('x', DataType.FLOAT, ['N', 3])], output: [valueInfo('y', DataType.FLOAT, ['N', 2])] },
  });
  const folder = at('ext-function');
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'model.onnx'), model('lin.bin'));
  fs.writeFileSync(path.join(folder, 'escape.onnx'), model('../lin.bin'));
  fs.writeFileSync(path.join(folder, 'lin.bin'), Buffer.from(Float32Array.from(W).buffer));
  const r = await (await Explainer.load(path.join(folder, 'model.onnx'))).attribute({ data: Float32Array.from([1, 2, 3]), dims: [1, 3] }, { target: 1 });
  assert.equal(Array.from(r.attributions.data), [W[1], W[3], W[5]]);
  await Explainer.load(path.join(folder, 'escape.onnx')).then(() => assert.unreachable(), (e: Error) => assert.match(e.message, /tensor 'W' external data location '\.\.\/lin\.bin' escapes the model's folder/));
});

test('a sparse initializer whose values are external data is read from the model\'s folder (it was read as zeros); one with indices but no values is one line', async () => {
  // W [3, 3] = [[1, 0, 2], [0, 3, 0], [4, 0, 0]] as values [1, 2, 3, 4] at flat indices [0, 2, 4, 6]; y = x·W.
  const folder = at('sparse-external');
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'values.bin'), Buffer.from(Float32Array.from([1, 2, 3, 4]).buffer));
  const model = (values: Record<string, unknown>) => encodeModel({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'sparse', node: [{ op_type: 'MatMul', input: ['x', 'W'], output: ['y'] }],
      sparse_initializer: [{ values: { name: 'W', dims: [4], data_type: DataType.FLOAT, ...values }, indices: { name: 'W_indices', dims: [4], data_type: DataType.INT64, int64_data: [0, 2, 4, 6] }, dims: [3, 3] }],
      input: [valueInfo('x', DataType.FLOAT, ['N', 3])], output: [valueInfo('y', DataType.FLOAT, ['N', 3])],
    },
  });
  fs.writeFileSync(path.join(folder, 'model.onnx'), model({ data_location: 1, external_data: [{ key: 'location', value: 'values.bin' }, { key: 'length', value: '16' }] }));
  const r = await (await Explainer.load(path.join(folder, 'model.onnx'))).attribute({ data: Float32Array.from([0.5, -1, 2]), dims: [1, 3] }, { target: 0 });
  assert.equal(Array.from(r.attributions.data), [1, 0, 4]);
  assert.equal(Array.from(r.outputs.y.data), [8.5, -3, 1]);
  await apiFails(() => Explainer.load(model({})), /sparse tensor 'W' \[3,3\]: 4 indices but no values/, 'values missing');
});

test('external data: a file name that merely starts with ".." inside the folder is not an escape', async () => {
  externalModel(at('ext', 'dots.onnx'), '..weights.bin', at('ext', '..weights.bin'));
  const r = await runCli(['info', at('ext', 'dots.onnx')]);
  assert.is(r.code, 0, `'..weights.bin' lies inside the model folder but: ${r.err.join('|')}`);
});

test('external data: a symlink inside the folder pointing outside it is rejected (confinement)', async () => {
  fs.mkdirSync(at('ext-link'));
  externalModel(at('ext-link', 'link.onnx'), 'link.bin', at('secret.bin'));
  fs.symlinkSync(at('secret.bin'), at('ext-link', 'link.bin'));
  await apiFails(() => Explainer.load(at('ext-link', 'link.onnx')), /link\.bin/, 'symlink escaping the folder');
});

test('external data: a negative offset is a one-line error with exit code 1 naming the initializer', async () => {
  externalModel(at('ext', 'neg-offset.onnx'), 'weights.bin', undefined);
  const model = decodeModel(fs.readFileSync(at('ext', 'neg-offset.onnx')));
  model.graph!.initializer!.find((i) => i.name === 'body.0.weight')!.external_data = [{ key: 'location', value: 'weights.bin' }, { key: 'offset', value: '-8' }];
  fs.writeFileSync(at('ext', 'neg-offset.onnx'), encodeModel(model));
  await cliFails(['info', at('ext', 'neg-offset.onnx')], /body\.0\.weight/);
});

// ---- CLI usage --------------------------------------------------------------------------------
test('CLI usage errors: unknown command, unknown flag, missing --input, --method nope, missing value', async () => {
  await cliFails(['explain', mlp.model], /unknown command 'explain'/);
  await cliFails(['attribute', mlp.model, '--input', MLP_INPUT, '--bogus'], /unknown option --bogus/);
  await cliFails(['info', mlp.model, '--method', 'gradient'], /unknown option --method/);
  await cliFails(['attribute', mlp.model], /--input .*required/);
  await cliFails(['attribute', mlp.model, '--input', MLP_INPUT, '--method', 'nope'], /unknown method 'nope'/);
  await cliFails(['rewrite', mlp.model, '--method', 'nope', '--out', at('never.onnx')], /unknown method 'nope'/);
  await cliFails(['attribute', mlp.model, '--input'], /--input needs a value/);
  await cliFails(['attribute', '--input', MLP_INPUT], /expected one MODEL/);
  await cliFails(['rewrite', mlp.model], /--out .*required/);
  assert.not.ok(fs.existsSync(at('never.onnx')), 'nothing written');
});

// Tables looked up by such names found Object.prototype's members: `--method constructor` failed with
// "driver.attribute is not a function" (exit code 2), `--constructor 1` was taken, the command
// `constructor` printed "[Function: Object]" and exited 0, a node of op type `toString` crashed the
// reading of the model, and at opsets 6 and 22 the reading of its attributes.
test('names Object.prototype holds (constructor, toString, __proto__) are unknown names: as a command, an option, a method, a session option, an op type and an .npy dtype', async () => {
  for (const name of ['constructor', 'toString', '__proto__']) {
    await cliFails([name], new RegExp(`unknown command '${name}'`));
    await cliFails([name, '--help'], new RegExp(`unknown command '${name}'`));
    await cliFails(['attribute', mlp.model, '--input', MLP_INPUT, `--${name}`, '1'], new RegExp(`unknown option --${name}`));
    await cliFails(['attribute', mlp.model, '--input', MLP_INPUT, '--method', name], new RegExp(`unknown method '${name}'`));
    await cliFails(['rewrite', mlp.model, '--method', name, '--out', at('never.onnx')], new RegExp(`unknown method '${name}'`));
    await cliFails(['visualize', mlp.model, '--input', MLP_INPUT, '--methods', name, '--out', at('never.png')], new RegExp(`unknown method '${name}'`));
    const ex = await Explainer.load(mlp.model);
    await apiFails(() => ex.attribute(mlp.input, { method: name }), new RegExp(`unknown method '${name}'`), `method ${name}`);
    await apiFails(() => Explainer.load(mlp.model, { sessionOptions: { graphOptimizationLevel: name as 'all' } }), /graphOptimizationLevel: .* is not one of disabled, basic, extended, layout, all/, `level ${name}`);
    fs.writeFileSync(at(`op-${name}.onnx`), tinyModel([4], 13, (em, x) => em.op(name, [em.op('Relu', [x])])));
    for (const command of [['attribute', '--input', at('det-input.npy')], ['rewrite', '--out', at('never.onnx')]]) {
      await cliFails([command[0], at(`op-${name}.onnx`), ...command.slice(1)], new RegExp(`No Op registered for ${name} with domain_version of 13`));
    }
    // Before opset 7 the lift reads attribute tables by op type (fuzz seed 2778: "remove.includes is not a function", exit code 2); after 21 the lowering does.
    for (const opset of [6, 22]) {
      fs.writeFileSync(at(`op-${name}-${opset}.onnx`), tinyModel([4], opset, (em, x) => em.op(name, [em.op('Relu', [x])], { epsilon: float(1e-5) })));
      await cliFails(['attribute', at(`op-${name}-${opset}.onnx`), '--input', at('det-input.npy')], new RegExp(`${name}`));
    }
    const info = await runCli(['info', at(`op-${name}.onnx`)]);
    assert.ok(info.code === 0 && info.out.includes(`unsupported ops: ${name}`), `info lists ${name} as unsupported: ${info.err.join('|')}`);
    writeRawNpy(at(`dtype-${name}.npy`), name, [1, 4], new Uint8Array(16));
    await cliFails(['attribute', mlp.model, '--input', at(`dtype-${name}.npy`)], new RegExp(`dtype '${name}' is not supported`));
  }
  assert.not.ok(fs.existsSync(at('never.onnx')) || fs.existsSync(at('never.png')), 'nothing written');
});

// An input named toString took Function.prototype.toString for its token-id embedding ("Cannot read
// properties of undefined (reading 'map')", exit code 2, for every command).
test('tensors named as Object.prototype members (an input toString, constructor or __proto__; hasOwnProperty, valueOf) are explained as any others', async () => {
  const W = Float32Array.from({ length: 12 }, (_, k) => Math.sin(k + 1));
  const x = Float32Array.from([0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.2, 0.9]);
  for (const name of ['toString', 'constructor', '__proto__']) {
    const model: ModelProto = {
      ir_version: 8, opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'g', initializer: [makeTensor('W', [4, 3], W, DataType.FLOAT)],
        node: [{ op_type: 'Relu', input: [name], output: ['hasOwnProperty'] }, { op_type: 'MatMul', input: ['hasOwnProperty', 'W'], output: ['valueOf'] }],
        input: [valueInfo(name, DataType.FLOAT, ['N', 4])], output: [valueInfo('valueOf', DataType.FLOAT, ['N', 3])],
      },
    };
    const ex = await Explainer.load(encodeModel(model));
    const expected = Array.from(x, (v, k) => (v > 0 ? W[(k % 4) * 3 + 1] : 0));
    for (const method of ['gradient', 'deeplift', 'integrated-gradients', 'occlusion'] as const) {
      const r = await ex.attribute({ data: x, dims: [2, 4] }, { method, target: 1, ...(method === 'occlusion' ? { window: [1] } : {}) });
      const want = method === 'gradient' ? expected : expected.map((g, k) => g * x[k]);
      assert.ok(relL2(r.attributions.data as Float32Array, Float32Array.from(want)) < 1e-5, `${name}: ${method}`);
    }
    const layer = await ex.attribute({ data: x, dims: [2, 4] }, { method: 'layer-activation', layer: 'hasOwnProperty' });
    assert.equal(Array.from(layer.attributions.data as Float32Array), Array.from(x, (v) => Math.max(v, 0)), `${name}: layer hasOwnProperty`);
  }
});

// Side inputs were looked up in plain objects: an unfed 'constructor' found Object's constructor (exit 2 in every
// command), a fed '__proto__' set the feeds' prototype, and a joint baseline of 'constructor' was "given twice".
test('a second input named as an Object.prototype member (constructor, toString, __proto__) is fed, defaulted and explained jointly as any other; an output named __proto__, which onnxruntime\'s JavaScript API cannot return, is refused in one line', async () => {
  const W = Float32Array.from({ length: 12 }, (_, k) => Math.sin(k + 1));
  const x = Float32Array.from([0.5, -0.25, 0.75, 0.1, -0.6, 0.3, 0.2, 0.9]);
  const side = Float32Array.from([0.3, -0.2, 0.4, 1, 2, 3]);
  const model = (name: string, output = 'y'): ModelProto => ({
    ir_version: 8, opset_import: [{ domain: '', version: 13 }],
    graph: {
      name: 'g', initializer: [makeTensor('W', [4, 3], W, DataType.FLOAT)],
      node: [{ op_type: 'MatMul', input: ['x', 'W'], output: ['xw'] }, { op_type: 'Mul', input: ['xw', name], output: [output] }],
      input: [valueInfo('x', DataType.FLOAT, ['N', 4]), valueInfo(name, DataType.FLOAT, ['N', 3])], output: [valueInfo(output, DataType.FLOAT, ['N', 3])],
    },
  });
  const joint = (name: string) => Explainer.load(encodeModel(model(name)), { wrt: 'all' });
  for (const name of ['constructor', 'toString', '__proto__']) {
    const ex = await Explainer.load(encodeModel(model(name)), { wrt: 'x', warn: () => {} });
    // y_t = (x·W)_t · s_t: ∂y_1/∂x_k = W[k, 1]·s_1.
    const fed = await ex.attribute({ x: { data: x, dims: [2, 4] }, [name]: { data: side, dims: [2, 3] } }, { target: 1 });
    assert.ok(relL2(fed.attributions.data as Float32Array, Float32Array.from(x, (_, k) => W[(k % 4) * 3 + 1] * side[Math.floor(k / 4) * 3 + 1])) < 1e-6, `${name}: fed`);
    const unfed = await ex.attribute({ data: x, dims: [2, 4] }, { target: 1 });
    assert.equal(Array.from(unfed.attributions.data), new Array(8).fill(0), `${name}: unfed, zeros`);
    const both = await (await joint(name)).attribute({ x: { data: x, dims: [2, 4] }, [name]: { data: side, dims: [2, 3] } }, { method: 'deeplift', target: 1, baselines: { x: 0, [name]: 0.5 } });
    const y = (xs: ArrayLike<number>, s: number[], row: number) => [0, 1, 2, 3].reduce((a, k) => a + xs[row * 4 + k] * W[k * 3 + 1], 0) * s[row];
    for (const row of [0, 1]) {
      const sum = [...both.inputAttributions!.x.data.subarray(row * 4, row * 4 + 4), both.inputAttributions![name].data[row * 3 + 1]].reduce((a, v) => a + v, 0);
      assert.ok(Math.abs(sum - (y(x, [side[1], side[4]], row) - 0)) < 1e-5, `${name}: joint DeepLIFT row ${row} sums to f(x) − f(x⁰)`);
    }
  }
  // Activation maximisation feeds the other inputs through its Adam loop's record; a baseline number keyed by such a name is refused as any unknown name.
  const proto = await Explainer.load(encodeModel(model('__proto__')), { wrt: 'x', warn: () => {} });
  const maximized = await maximize(proto, { target: 1, stages: 1, steps: 2 });
  assert.ok(maximized.objective.every(Number.isFinite), 'maximize');
  await apiFails(() => joint('toString').then((ex) => ex.attribute({ x: { data: x, dims: [2, 4] }, toString: { data: side, dims: [2, 3] } }, { method: 'deeplift', baselines: { constructor: 0 } })), /'constructor' is not an explained input/, 'baselines keyed constructor');
  const bytes = encodeModel(model('s', '__proto__'));
  fs.writeFileSync(at('proto-output.onnx'), bytes);
  await apiFails(() => Explainer.load(bytes), /output '__proto__': onnxruntime's JavaScript API cannot return a tensor of that name/, 'output __proto__');
  await cliFails(['info', at('proto-output.onnx')], /output '__proto__': onnxruntime's JavaScript API cannot return a tensor of that name .*; rename the output$/);
});

// onnxruntime refused these at load with exit 2 (an initializer's shape) or a C++ source line in the message (an
// output nothing computes); a node without a name or output was named 'undefined'.
test('declarations onnxruntime refuses are named in one line first: an output nothing computes, an input whose initializer has another shape; a nameless node is said to be one; onnxruntime\'s C++ source locations are cut from its messages', async () => {
  const W = makeTensor('W', [3, 2], new Float32Array(6).fill(0.5), DataType.FLOAT);
  const model = (graph: Partial<NonNullable<ModelProto['graph']>>): string => {
    const file = at(`declared-${Object.keys(graph).join('-')}-${(graph.output ?? [])[1]?.name ?? ''}.onnx`);
    fs.writeFileSync(file, encodeModel({
      ir_version: 8, opset_import: [{ domain: '', version: 13 }],
      graph: { name: 'g', initializer: [W], node: [{ op_type: 'MatMul', input: ['x', 'W'], output: ['y'] }], input: [valueInfo('x', DataType.FLOAT, ['N', 3])], output: [valueInfo('y', DataType.FLOAT, ['N', 2])], ...graph },
    }));
    return file;
  };
  await cliFails(['info', model({ output: [valueInfo('y', DataType.FLOAT, ['N', 2]), valueInfo('ghost', DataType.FLOAT, ['N', 2])] })], /: output 'ghost' is computed by no node, nor is it an input or initializer$/);
  await cliFails(['attribute', model({ input: [valueInfo('x', DataType.FLOAT, ['N', 3]), valueInfo('W', DataType.FLOAT, [4, 2])] }), '--input', MLP_INPUT], /: input 'W' is declared \[4,2\], but its initializer \(the input's default value\) holds \[3,2\]$/);
  await cliFails(['info', model({ node: [{ op_type: 'MatMul', input: ['x', 'W'], output: ['y'] }, { input: ['nothing'] }] })], /: a node without a name or output \(no op type\) reads 'nothing', which no node, input or initializer produces/);
  await cliFails(['info', model({ node: [{ op_type: 'MatMul', input: ['x', 'W'], output: ['y\0z'] }, { op_type: 'Identity', input: ['y\0z'], output: ['y'] }] })], /: tensor name "y\\u0000z" holds a NUL character, where onnxruntime's API cuts names; rename it$/);
  assert.is(firstLine(new Error('/onnxruntime_src/onnxruntime/core/graph/graph.cc:1555 void onnxruntime::Graph::InitializeStateFromModelFileGraphProto() This is an invalid model. Graph output (g) does not exist in the graph.')), 'This is an invalid model. Graph output (g) does not exist in the graph.');
});

// The README says options the run would not use are refused: these were accepted and ignored.
test('CLI: options the method or the model would not use are refused in one line (an empty baseline too); --seed applies to any method inside --noise-tunnel', async () => {
  const run = ['attribute', mlp.model, '--input', MLP_INPUT];
  await cliFails([...run, '--epsilon', '0.1'], /--epsilon applies to the LRP methods \(lrp-\*\), not to method 'gradient'/);
  await cliFails([...run, '--method', 'deeplift', '--alpha', '3'], /--alpha applies to lrp-alphabeta, not to method 'deeplift'/);
  await cliFails([...run, '--maxpool-rule', 'shapley'], /--maxpool-rule applies to deeplift and deeplift-shap, not to method 'gradient'/);
  await cliFails([...run, '--method', 'deeplift', '--lrp-maxpool', 'epsilon'], /--lrp-maxpool applies to the LRP methods \(lrp-\*\), not to method 'deeplift'/);
  await cliFails([...run, '--seed', '4'], /--seed applies to occlusion, .* and gradient-shap \(or to any method with --noise-tunnel\), not to method 'gradient'/);
  await cliFails([...run, '--explain-softmax'], /--explain-softmax: '[^']+' is not a Softmax's output \(nor, for LRP, a Sigmoid's\); it is explained as it is without the option$/);
  await apiFails(async () => (await Explainer.load(mlp.model)).attribute(mlp.input, { explainSoftmax: true }), /--explain-softmax: '[^']+' is not a Softmax's output/, 'API explainSoftmax without a Softmax');
  await cliFails([...run, '--method', 'deeplift', '--baseline', ''], /--baseline: an empty value/);
  // And options a run read and ignored (an ad-hoc sweep): drawing options without a figure, image options on arrays, …
  await cliFails([...run, '--sign', 'positive', '--out', at('never.npy')], /--sign applies to figures \(--out FIG\.png\)$/);
  await cliFails([...run, '--preprocess', 'tf'], /--preprocess prepares image files \(PNG, JPEG\); .*input\.npy is read as it is$/);
  await cliFails([...run, '--method', 'deeplift', '--baseline-token', '3'], /baselineToken \(--baseline-token\) applies to token ids; 'input' is explained as floats/);
  await cliFails([...run, '--batch-size', '4'], /--batch-size applies to folder mode/);
  await cliFails([...run, '--cache-dir', at('cache'), '--no-cache'], /--cache-dir and --no-cache: choose one/);
  await cliFails([...run, '--out='], /option --out has an empty value/);
  await cliFails([...run, '--reduce', 'sum', '--reduce-axes', '1,-1'], /--reduce-axes names axis 1 twice/);
  await cliFails(['visualize', mlp.model, '--input', MLP_INPUT, '--method', 'deeplift', '--out', at('never.png')], /visualize: --methods M1,M2,… names the methods drawn \(--method is attribute's\)/);
  await cliFails(['rewrite', mlp.model, '--method', 'gradient', '--zero-baseline', '--out', at('never.onnx')], /--zero-baseline builds in the reference of a method with a reference pass \(deeplift\), not of 'gradient'/);
  await cliFails(['info', mlp.model, '--feed', `x=${MLP_INPUT}`], /info: --feed applies only with --layers/);
  const camModel = path.resolve(path.dirname(resnet.model), '../../cam-fixtures/cam_gap/model.onnx');
  const camRun = ['attribute', camModel, '--input', path.join(path.dirname(camModel), 'input.npy'), '--out', at('never.npy')];
  await cliFails([...camRun, '--method', 'lrp-epsilon', '--no-relu'], /--no-relu applies to cam and grad-cam, not to method 'lrp-epsilon'/);
  await cliFails([...camRun, '--method', 'grad-cam', '--interpolate', 'nearest'], /interpolate \(--interpolate\) sets how upsample \(--upsample, or a \.png figure\) resizes the map; without it the map is kept at its size/);
  // The API took both and changed nothing; integer flags kept a list's first value; filters took --preprocess for an array.
  await apiFails(async () => (await Explainer.load(camModel)).attribute(readNpy(path.join(path.dirname(camModel), 'input.npy')), { method: 'grad-cam', interpolate: 'nearest' }), /interpolate \(--interpolate\) sets how upsample/, 'API interpolate without upsample');
  await apiFails(async () => (await Explainer.load(mlp.model)).attribute(mlp.input, { method: 'deeplift', baselineToken: 3 }), /baselineToken \(--baseline-token\) applies to token ids/, 'API baselineToken on floats');
  // Saved graphs took them and were the graph without them: rewrite, export-triton and graph() check as attribute does.
  for (const command of ['rewrite', 'export-triton']) {
    const save = [command, camModel, '--out', at(command === 'rewrite' ? 'never.onnx' : 'never-repo')];
    await cliFails([...save, '--method', 'cam', '--explain-softmax'], /--explain-softmax: '[^']+' is not a Softmax's output/);
    await cliFails([...save, '--method', 'grad-cam', '--interpolate', 'nearest'], new RegExp(`^onnx-explain: error: ${command}: interpolate \\(--interpolate\\) sets how upsample`));
  }
  await apiFails(async () => (await Explainer.load(camModel)).graph([3, 16, 16], { method: 'grad-cam', upsample: true, interpolate: 'cubic' as 'nearest' }), /^graph: interpolate 'cubic' is not bilinear or nearest$/, 'graph() interpolate cubic');
  await apiFails(async () => (await Explainer.load(camModel)).graph([3, 16, 16], { method: 'cam', explainSoftmax: true }), /--explain-softmax: '[^']+' is not a Softmax's output/, 'graph() explainSoftmax without a Softmax');
  await apiFails(() => Explainer.load(mlp.model, { fed: ['nope'] }), /--feed nope: the model has no input named 'nope' \(inputs: input\)/, 'API fed: an unknown name');
  await cliFails([...run, '--method', 'integrated-gradients', '--steps', '5,50'], /--steps: '5,50' is not one integer/);
  await cliFails([...run, '--threads', '1,0'], /--threads: '1,0' is not one integer/);
  await cliFails(['filters', camModel, '--input', path.join(path.dirname(camModel), 'input.npy'), '--layer', 'x', '--preprocess', 'tf'], /--preprocess prepares image files \(PNG, JPEG\); .*input\.npy is read as it is$/);
  // Runs that gave all-zero attributions with exit 0: noise overflowing float32, a contrast equal to the target.
  await cliFails([...run, '--noise-tunnel', 'smoothgrad', '--noise-std', '1e300'], /--noise-std 1e\+300: noise of σ = .* overflows float32$/);
  await cliFails([...run, '--target', '1', '--contrast', '1'], /row 0: the contrast 1 is the target, so e_target − e_contrast is zero/);
  await cliFails([...run, '--method', 'occlusion', '--window', '3', '--fill', '1e39'], /--fill: 1e\+39 overflows float32$/);
  // float64 values float32 cannot hold were named as the Infinity they became.
  const row = readNpy(MLP_INPUT);
  const wide = Float64Array.from(row.data as Float32Array).subarray(0, row.dims[1]);
  wide[3] = 1e300;
  writeRawNpy(at('wide.npy'), '<f8', [1, row.dims[1]], new Uint8Array(wide.buffer.slice(wide.byteOffset, wide.byteOffset + wide.byteLength)));
  await cliFails(['attribute', mlp.model, '--input', at('wide.npy')], /input 'input' holds 1e\+300 at flat index 3, which overflows float32 \(the model runs in float32\)$/);
  await cliFails([...run, '--method', 'deeplift', '--baseline', at('wide.npy')], /baseline holds 1e\+300 at flat index 3, which overflows float32/);
  await cliFails([...run, '--method', 'gradient-shap', '--baseline', at('wide.npy')], /baseline holds 1e\+300 at flat index 3, which overflows float32/);
  await cliFails([...run, '--method', 'deeplift', '--baseline', '1e39'], /baseline 1e\+39 overflows float32 \(the model runs in float32\)$/);
  await cliFails([...run, '--method', 'deeplift', '--baseline', 'NaN'], /--baseline NaN: not a finite number \(nor a file\)$/);
  await cliFails(['export-triton', mlp.model, '--out', at('never-repo'), '--max-batch', '99999999999'], /--max-batch: 99999999999 must be from 1 to 2147483647 \(Triton's int32\)$/);
  await apiFails(async () => (await Explainer.load(mlp.model)).attribute({ data: new Float32Array(20), dims: [1, 20] }, { target: 0, reduce: 'max' as 'sum' }), /--reduce max is not 'sum' or 'mean'/, "reduce: 'max'");
  const tunnel = await runCli([...run, '--noise-tunnel', 'smoothgrad', '--seed', '4']);
  assert.is(tunnel.code, 0, tunnel.err.join('\n'));
});

test('rewrite --out equal to the model path leaves the model unchanged', async () => {
  const model = at('mine.onnx');
  await cliFails(['rewrite', model, '--out', model], /is the same file as .* and would overwrite it/);
  await cliFails(['rewrite', model, '--out', path.join(dir, 'ext', '..', 'mine.onnx')], /would overwrite/);
  const rel = path.relative(process.cwd(), model);
  await cliFails(['rewrite', rel, '--out', model], /would overwrite/);
  assert.equal(fs.readdirSync(dir).filter((f) => f.includes('.tmp-')), [], 'no temporary files');
});

test('a command that fails leaves no folder behind for its --out; one that succeeds makes it; a file in the folder\'s place is one line', async () => {
  const fresh = at('made-on-write');
  await cliFails(['attribute', resnet.model, '--input', RESNET_INPUT, '--target', '99', '--out', path.join(fresh, 'sub', 'a.npy')], /target 99 is out of range/);
  await cliFails(['export-triton', resnet.model, '--method', 'nope', '--out', path.join(fresh, 'repo')], /nope/);
  const inputs = at('folder-inputs');
  fs.mkdirSync(inputs, { recursive: true });
  writeNpy(path.join(inputs, 'a.npy'), new Float32Array(40), [2, 20]);
  await cliFails(['attribute', mlp.model, '--input-dir', inputs, '--out-dir', path.join(fresh, 'dir')], /a\.npy: holds 2 rows; folder mode takes one input row per file/);
  assert.not.ok(fs.existsSync(fresh), 'no folder left by the failed commands');
  const ok = await runCli(['attribute', resnet.model, '--input', RESNET_INPUT, '--out', path.join(fresh, 'sub', 'a.npy')]);
  assert.is(ok.code, 0, ok.err.join('|'));
  assert.ok(fs.statSync(path.join(fresh, 'sub', 'a.npy')).isFile());
  fs.writeFileSync(at('plain-file'), 'x');
  await cliFails(['attribute', resnet.model, '--input', RESNET_INPUT, '--out', path.join(at('plain-file'), 'a.npy')], /--out .*a\.npy: cannot create its folder \(.*plain-file is a file\)/);
});

test('--out in a folder a pseudo file system refuses (under /proc) is one error line, not a hang (Node\'s recursive mkdir never returns there)', () => {
  const bin = path.resolve(__dirname, '../../bin/onnx-explain.js');
  const r = spawnSync(process.execPath, [bin, 'attribute', mlp.model, '--input', MLP_INPUT, '--no-cache', '--out', '/proc/onnx-explain-nope/a.npy'], { encoding: 'utf8', timeout: 60_000 });
  assert.is(r.signal, null, 'it hung');
  assert.is(r.status, 1, r.stderr);
  const err = r.stderr.split('\n').filter(Boolean);
  assert.is(err.length, 1, r.stderr);
  assert.match(err[0], /^onnx-explain: error: .*\/proc\/onnx-explain-nope/);
  // Refused before the computation (a sweep ran to its end, printed its results, then failed to write).
  const late = spawnSync(process.execPath, [bin, 'attribute', mlp.model, '--input', MLP_INPUT, '--no-cache', '--method', 'occlusion', '--window', '2', '--out', '/proc/x.npy'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal([late.status, late.stdout, late.stderr], [1, '', 'onnx-explain: error: --out /proc/x.npy: cannot write in /proc (ENOENT)\n']);
});

test('attribute --out equal to the input (or baseline) file leaves it unchanged', async () => {
  const input = at('own-input.npy');
  fs.copyFileSync(MLP_INPUT, input);
  const before = fs.readFileSync(input);
  await cliFails(['attribute', mlp.model, '--input', input, '--out', input], /is the same file as .* and would overwrite it/);
  await cliFails(['attribute', mlp.model, '--input', MLP_INPUT, '--method', 'deeplift', '--baseline', input, '--out', input], /is the same file as .* and would overwrite it/);
  assert.ok(fs.readFileSync(input).equals(before), 'input unchanged');
});

test('--provider cuda does not fail: one-line warning and CPU fallback', async () => {
  const before = snapshot(userFiles());
  const r = await runCli(['attribute', mlp.model, '--input', MLP_INPUT, '--target', '4,0,3', '--provider', 'cuda', '--out', at('cuda.npy')]);
  assert.is(r.code, 0, `exit ${r.code}: ${r.err.join('|')}`);
  assert.equal(r.err, [], 'no error lines');
  // Either CUDA really works here (no warning) or exactly one warning line announces the fallback.
  assert.ok(r.warn.length <= 1, `warnings: ${JSON.stringify(r.warn)}`);
  if (r.warn.length) {
    oneLine(r.warn[0], 'cuda warning');
    assert.match(r.warn[0], /^onnx-explain: warning: execution provider 'cuda' is unavailable .*falling back to cpu$/);
  }
  const cpu = await (await Explainer.load(mlp.model)).attribute(mlp.input, { target: mlp.meta.target });
  assert.ok(relL2(readNpy(at('cuda.npy')).data as Float32Array, cpu.attributions.data) <= 1e-5, 'same result as cpu');
  const after = snapshot(userFiles());
  after.delete(at('cuda.npy'));
  before.delete(at('cuda.npy'));
  assert.equal(after, before, 'user files unchanged');
  await cliFails(['attribute', mlp.model, '--input', MLP_INPUT, '--provider', 'tpu'], /--provider: 'tpu' is not one of cpu, cuda, webgpu/);
});

test('API: provider cuda without CUDA, with ortApi().env.logLevel raised first: the one warning goes to warn, stderr stays empty', () => {
  const api = path.resolve(__dirname, '../runtime');
  const script = `const { Explainer, ortApi, readNpy } = require(${JSON.stringify(api)});
(async () => {
  ortApi().env.logLevel = 'fatal';
  const warns = [];
  const ex = await Explainer.load(${JSON.stringify(mlp.model)}, { provider: 'cuda', warn: (m) => warns.push(m) });
  await ex.attribute(readNpy(${JSON.stringify(MLP_INPUT)}), {});
  // A second Explainer on the provider that failed: told too (it fell back without a word).
  const again = [];
  const second = await Explainer.load(${JSON.stringify(mlp.model)}, { provider: 'cuda', warn: (m) => again.push(m) });
  const r = await second.attribute(readNpy(${JSON.stringify(MLP_INPUT)}), {});
  console.log(JSON.stringify({ warnings: warns.length, provider: ex.executionProvider, second: again.length, inResult: (r.warnings ?? []).length }));
})();`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stderr, '');
  const out = JSON.parse(r.stdout);
  // Either CUDA works here (no warning) or the fallback's one warning went to warn.
  assert.ok(out.provider === 'cuda' ? out.warnings === 0 : out.warnings === 1 && out.provider === 'cpu', r.stdout);
  if (out.provider === 'cpu') assert.equal([out.second, out.inResult], [1, 1], `second Explainer: ${r.stdout}`);
});

test('--provider cuda: the process stderr holds only the one warning line (no native log noise)', () => {
  const bin = path.resolve(__dirname, '../../bin/onnx-explain.js');
  const r = spawnSync(process.execPath, [bin, 'attribute', mlp.model, '--input', MLP_INPUT, '--provider', 'cuda'], { encoding: 'utf8', timeout: 30000 });
  assert.is(r.status, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => l.trim());
  assert.ok(lines.length <= 1, `stderr has ${lines.length} lines:\n${r.stderr}`);
  if (lines.length) assert.match(lines[0], /^onnx-explain: warning: execution provider 'cuda'/);
});

test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

test.run();
