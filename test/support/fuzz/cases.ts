/**
 * Mutation cases over the fixtures: models with absurd attributes, broken weights, graphs and
 * bytes; inputs with NaN, wrong shapes and dtypes; argument lists with malformed values; outputs
 * that link to the user's files and special files in place of regular ones. Each case is a CLI
 * argument list plus the files it must leave unchanged; deterministic for a seed.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { PNG } from 'pngjs';
import { AttributeProto, decodeModel, encodeModel, isFloatType, ModelProto, TensorProto } from '../../../rewriter/proto';
import { readNpy, writeNpy } from '../../../runtime/node/npy-file';
import { writeRawNpy } from '../cli-harness';
import { EXPORTERS, FIXTURES, fixtureNames, loadFixture } from '../fixtures';
import { rng } from '../gradcheck';
import { BAD, Base, commandCase, methodArgs, METHODS, mutateArguments, pick, Rand, tensorNames } from './arguments';
import { mutateValid } from './valid-attributes';

export interface FuzzCase {
  id: number;
  family: 'attribute' | 'valid' | 'initializer' | 'graph' | 'bytes' | 'input' | 'argument' | 'command' | 'file' | 'zeros';
  what: string;
  argv: string[];
  /** Files the run must leave byte-identical (model, input, baseline, link targets). */
  protect: string[];
  /** The --out .npy of a successful attribute run: checked finite (and zero for family 'zeros'). */
  out?: string;
  /** Run twice: the two --out files must be bit-identical. */
  repeat?: boolean;
  /** Must end with the one-line error (a refusal), never a result. */
  refuse?: boolean;
  /** An accepted mutated model: its gradient is checked against central differences (gradient-check.ts). */
  gradcheck?: { model: string; input: string };
}


const INTS = [0, -1, -2, 1, 2, 3, 7, 1000, 65536, 2 ** 31 - 1, -(2 ** 31), '9223372036854775807', '-9223372036854775808'] as const;
const FLOATS = [NaN, Infinity, -Infinity, -1, 0, 1e30, -1e-30, 0.5];
// Names Object.prototype holds stand for any name a model or user may give (they reached prototype members of lookup tables).
const STRINGS = ['BOGUS', '', 'toString', 'SAME_UPPER', 'SAME_LOWER', 'VALID', 'NOTSET', 'cubic', 'nearest', 'linear', 'reflect'];
/** Attributes each op may carry, by kind (ONNX operator specs). */
const KNOWN: Record<string, string[]> = {
  Conv: ['pads', 'strides', 'dilations', 'kernel_shape', 'group', 'auto_pad'],
  ConvTranspose: ['pads', 'strides', 'dilations', 'kernel_shape', 'group', 'auto_pad', 'output_padding', 'output_shape'],
  MaxPool: ['pads', 'strides', 'dilations', 'kernel_shape', 'auto_pad', 'ceil_mode', 'storage_order'],
  AveragePool: ['pads', 'strides', 'kernel_shape', 'auto_pad', 'ceil_mode', 'count_include_pad'],
  Gemm: ['alpha', 'beta', 'transA', 'transB'],
  Softmax: ['axis'], LogSoftmax: ['axis'], Flatten: ['axis'], Concat: ['axis'], Gather: ['axis'], Split: ['axis', 'split'],
  ReduceSum: ['axes', 'keepdims'], ReduceMean: ['axes', 'keepdims'], Squeeze: ['axes'], Unsqueeze: ['axes'], Transpose: ['perm'],
  LeakyRelu: ['alpha'], Elu: ['alpha'], HardSigmoid: ['alpha', 'beta'], BatchNormalization: ['epsilon', 'momentum'],
  LayerNormalization: ['epsilon', 'axis'], InstanceNormalization: ['epsilon'], Clip: ['min', 'max'], LRN: ['size', 'alpha', 'beta', 'bias'],
  Resize: ['mode', 'coordinate_transformation_mode'], Pad: ['mode', 'pads'],
};
const KIND: Record<string, 'ints' | 'int' | 'float' | 'string'> = {
  pads: 'ints', strides: 'ints', dilations: 'ints', kernel_shape: 'ints', axes: 'ints', perm: 'ints', output_padding: 'ints', output_shape: 'ints', split: 'ints',
  group: 'int', ceil_mode: 'int', storage_order: 'int', count_include_pad: 'int', axis: 'int', keepdims: 'int', transA: 'int', transB: 'int', size: 'int',
  alpha: 'float', beta: 'float', epsilon: 'float', momentum: 'float', min: 'float', max: 'float', bias: 'float',
  auto_pad: 'string', mode: 'string', coordinate_transformation_mode: 'string',
};
const ATTR_TYPE = { float: 1, int: 2, string: 3, ints: 7 } as const;

function mutateAttribute(r: Rand, m: ModelProto): string {
  const nodes = (m.graph!.node ?? []).filter((n) => KNOWN[n.op_type ?? '']);
  if (!nodes.length) return mutateGraph(r, m);
  const node = pick(r, nodes);
  const name = pick(r, KNOWN[node.op_type!]);
  const kind = KIND[name];
  node.attribute ??= [];
  let a = node.attribute.find((x) => x.name === name);
  if (a && r() < 0.15) {
    node.attribute = node.attribute.filter((x) => x !== a);
    return `${node.op_type} '${node.name}': attribute ${name} removed`;
  }
  if (!a) {
    a = { name, type: ATTR_TYPE[kind] } as AttributeProto;
    if (kind === 'ints') a.ints = Array(2).fill(1);
    node.attribute.push(a);
  }
  let shown: unknown;
  if (kind === 'ints') {
    const v = pick(r, INTS);
    const ints = [...(a.ints ?? [])] as (number | string)[];
    const how = r();
    if (how < 0.4) ints.fill(v);
    else if (how < 0.7 && ints.length) ints[Math.floor(r() * ints.length)] = v;
    else if (how < 0.85) ints.push(v);
    else ints.pop();
    a.ints = ints as never;
    shown = `[${ints}]`;
  } else if (kind === 'int') {
    shown = a.i = pick(r, INTS) as never;
  } else if (kind === 'float') {
    shown = a.f = pick(r, FLOATS);
  } else {
    shown = pick(r, STRINGS);
    a.s = Buffer.from(shown as string);
  }
  return `${node.op_type} '${node.name}': ${name} = ${shown}`;
}

const floatInitializers = (m: ModelProto) => (m.graph!.initializer ?? []).filter((t) => t.data_type === 1 && (t.raw_data?.length ?? 0) >= 4);

function mutateInitializer(r: Rand, m: ModelProto, dir: string): string {
  const inits = floatInitializers(m);
  if (!inits.length) return mutateGraph(r, m);
  const t = pick(r, inits);
  const how = Math.floor(r() * 6);
  if (how === 0 || how === 1) {
    const values = new Float32Array(new Uint8Array(t.raw_data!).buffer);
    const v = pick(r, [NaN, Infinity, -Infinity, 3e38]);
    const at = Math.floor(r() * values.length);
    values[at] = v;
    t.raw_data = new Uint8Array(values.buffer);
    // −Inf among zeros is what a registered attention mask holds: explained where it is read as one, so not marked invalid.
    const maskLike = v === -Infinity && values.every((w) => w === 0 || w === -Infinity);
    return `initializer '${t.name}'[${at}] = ${v}${Number.isFinite(v) || maskLike ? '' : BAD}`;
  }
  if (how === 2) {
    const dims = [...(t.dims ?? [])] as (number | string)[];
    const d = r();
    if (d < 0.3) dims.pop();
    else if (d < 0.6) dims.push(1);
    else if (dims.length) dims[Math.floor(r() * dims.length)] = pick(r, [0, -1, 2 ** 31 - 1, '9223372036854775807']);
    t.dims = dims as never;
    return `initializer '${t.name}' dims [${dims}]`;
  }
  if (how === 3) {
    t.data_type = pick(r, [7, 11, 10, 0, 999]);
    return `initializer '${t.name}' data_type ${t.data_type}`;
  }
  if (how === 4) {
    t.raw_data = t.raw_data!.subarray(0, Math.floor(r() * t.raw_data!.length));
    return `initializer '${t.name}' raw_data truncated to ${t.raw_data.length} bytes`;
  }
  const location = pick(r, ['missing.bin', 'sub', 'fifo', '.', '']);
  delete (t as TensorProto).raw_data;
  t.data_location = 1;
  t.external_data = [{ key: 'location', value: location }];
  if (location === 'sub') fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
  if (location === 'fifo' && !fs.existsSync(path.join(dir, 'fifo'))) execFileSync('mkfifo', [path.join(dir, 'fifo')]);
  return `initializer '${t.name}' external data at '${location}'`;
}

function mutateGraph(r: Rand, m: ModelProto): string {
  const g = m.graph!;
  const nodes = g.node!;
  const node = pick(r, nodes);
  switch (Math.floor(r() * 8)) {
    case 0:
      g.node = nodes.filter((n) => n !== node);
      return `node '${node.name}' (${node.op_type}) removed`;
    case 1:
      node.op_type = pick(r, ['Relu', 'Cos', 'Conv', 'Identity', 'Foo', 'constructor', 'MaxPool', 'Softmax', 'Gemm']);
      return `node '${node.name}' op_type -> ${node.op_type}`;
    case 2: {
      const names = [...(g.initializer ?? []).map((t) => t.name!), ...nodes.flatMap((n) => n.output ?? []), 'nowhere', 'hasOwnProperty'];
      if (!node.input?.length) return `node '${node.name}' unchanged`;
      const k = Math.floor(r() * node.input.length);
      node.input[k] = pick(r, names);
      return `node '${node.name}' input ${k} -> '${node.input[k]}'`;
    }
    case 3:
      m.opset_import![0].version = pick(r, [1, 6, 7, 9, 12, 13, 17, 21, 22, 99, 0, -1]);
      return `opset ${m.opset_import![0].version}`;
    case 4:
      m.ir_version = pick(r, [0, 1, 3, 100, -1]);
      return `ir_version ${m.ir_version}`;
    case 5: {
      const dims = g.input![0].type!.tensor_type!.shape!.dim!;
      const k = Math.floor(r() * dims.length);
      const v = pick(r, [0, -1, 5, 2 ** 31 - 1, 'S']);
      dims[k] = typeof v === 'string' ? { dim_param: v } : { dim_value: v };
      return `input dim ${k} -> ${v}`;
    }
    case 6:
      g.input![0].type!.tensor_type!.elem_type = pick(r, [7, 11, 10, 9, 0]);
      return `input elem_type ${g.input![0].type!.tensor_type!.elem_type}`;
    default:
      node.domain = pick(r, ['com.microsoft', 'bogus.domain']);
      return `node '${node.name}' domain ${node.domain}`;
  }
}

function mutateBytes(r: Rand, bytes: Uint8Array): { bytes: Uint8Array; what: string } {
  const out = Uint8Array.from(bytes);
  if (r() < 0.4) {
    const n = Math.floor(r() * out.length);
    return { bytes: out.subarray(0, n), what: `truncated to ${n} bytes` };
  }
  const k = 1 + Math.floor(r() * 8);
  for (let i = 0; i < k; i++) out[Math.floor(r() * out.length)] = Math.floor(r() * 256);
  return { bytes: out, what: `${k} random bytes changed` };
}

/**
 * Fixtures whose input is one float tensor and whose CLI run is quick (the CAM ones have a pooled
 * linear head; the exporter sweep's are read through the canonical readings: quantized, half, old opsets).
 */
function bases(): Base[] {
  return [FIXTURES, CAM_FIXTURES, EXPORTERS].flatMap((root) => fixtureNames(root).map((name) => {
    const fx = loadFixture(name, root);
    const data = Float32Array.from(fx.input.data);
    const elemType = decodeModel(fs.readFileSync(fx.model)).graph?.input?.[0]?.type?.tensor_type?.elem_type;
    return { name, model: fx.model, input: path.join(root, name, 'input.npy'), dims: fx.input.dims, data, imageable: fx.input.dims.length === 4 && fx.input.dims[1] === 3, integerInput: !isFloatType(elemType) };
  }));
}

/** Methods that take a baseline and give zeros when it equals the input (Captum's completeness or a zero difference). */
const ZERO_METHODS = ['deeplift', 'integrated-gradients', 'occlusion', 'feature-ablation', 'shapley-value-sampling', 'kernel-shap', 'lime', 'layer-conductance'];

const CAM_FIXTURES = path.resolve(FIXTURES, '..', 'cam-fixtures');
const CDEEPEX = path.resolve(FIXTURES, '..', 'cdeepex');

/** The cases, deterministic for a seed; mutated files go into `dir`. */
export function makeCases(seed: number, count: number, dir: string): FuzzCase[] {
  const r = rng(seed);
  const all = bases();
  const cases: FuzzCase[] = [];
  let argumentCases = 0;
  for (let id = 0; id < count; id++) {
    const b = pick(r, all);
    const caseDir = path.join(dir, `c${id}`);
    fs.mkdirSync(caseDir);
    const at = (f: string) => path.join(caseDir, f);
    const out = at('out.npy');
    const method = pick(r, METHODS);
    const needs = methodArgs(method, { r, b, at, layers: tensorNames(b.model) });
    const plain = (model: string, input: string) => ['attribute', model, '--input', input, '--method', method, ...needs, '--out', out];
    const family = pick(r, ['attribute', 'valid', 'valid', 'initializer', 'graph', 'bytes', 'input', 'input', 'argument', 'argument', 'command', 'command', 'file', 'zeros'] as const);
    const c: FuzzCase = { id, family, what: `${b.name}: `, argv: [], protect: [b.model, b.input] };
    if (family === 'attribute' || family === 'valid' || family === 'initializer' || family === 'graph') {
      const m = decodeModel(fs.readFileSync(b.model));
      const mutated = { attribute: mutateAttribute, valid: (rr: Rand, mm: ModelProto) => mutateValid(rr, mm) ?? mutateAttribute(rr, mm), initializer: (rr: Rand, mm: ModelProto) => mutateInitializer(rr, mm, caseDir), graph: mutateGraph }[family];
      c.what += mutated(r, m);
      c.refuse = c.what.endsWith(BAD);
      fs.writeFileSync(at('model.onnx'), encodeModel(m));
      c.protect.push(at('model.onnx'));
      // Valid mutations are attributed, half of them by DeepLIFT (its summation is judged).
      const command = family === 'valid' ? 0 : r();
      const deeplift = family === 'valid' && r() < 0.5;
      c.argv = deeplift ? ['attribute', at('model.onnx'), '--input', b.input, '--method', 'deeplift', '--out', out]
        : command < 0.75 ? plain(at('model.onnx'), b.input) : command < 0.9 ? ['rewrite', at('model.onnx'), '--method', method, '--out', at('aug.onnx')] : ['info', at('model.onnx')];
      c.out = command < 0.75 ? out : undefined;
      // Huge mutated values leave central differences in float32 no precision.
      if (c.out && !/e\+(1\d|2\d|3\d)\b/.test(c.what)) c.gradcheck = { model: at('model.onnx'), input: b.input };
      // info describes a model; it need not refuse what attribute and rewrite refuse.
      if (c.argv[0] === 'info') c.refuse = false;
      c.repeat = r() < 0.3;
    } else if (family === 'bytes') {
      const { bytes, what } = mutateBytes(r, fs.readFileSync(b.model));
      fs.writeFileSync(at('model.onnx'), bytes);
      c.what += `model ${what}`;
      c.protect.push(at('model.onnx'));
      c.argv = plain(at('model.onnx'), b.input);
      c.out = out;
    } else if (family === 'input') {
      c.what += mutateInput(r, b, at);
      c.refuse = c.what.endsWith(BAD);
      c.protect.push(...fs.readdirSync(caseDir).map(at).filter((f) => fs.statSync(f).isFile()));
      const input = fs.readdirSync(caseDir).map(at).find((f) => /input\.(npy|png|jpg)$/.test(f)) ?? at('input.npy');
      c.argv = plain(b.model, input);
      c.out = out;
      if (input.endsWith('.npy') && !/e\+(1\d|2\d|3\d)\b/.test(c.what)) c.gradcheck = { model: b.model, input };
      c.repeat = r() < 0.3;
    } else if (family === 'argument' || family === 'command') {
      // Argument lists take the methods in turn, so every method's options are mutated in a short run.
      const m = family === 'argument' ? { ...mutateArguments(r, b, at, METHODS[argumentCases++ % METHODS.length]), protect: [] } : commandCase(r, b, at, method, CDEEPEX);
      c.what += m.what;
      c.argv = m.argv;
      c.refuse = m.what.includes(BAD);
      c.protect.push(...fs.readdirSync(caseDir).map(at).filter((f) => fs.statSync(f).isFile()), ...m.protect);
      c.out = m.out;
      c.repeat = r() < 0.3;
    } else if (family === 'file') {
      const { argv, what, out: written } = fileCase(r, b, at, method);
      c.what += what;
      c.argv = argv;
      c.protect.push(...fs.readdirSync(caseDir).map(at));
      c.refuse = !written;
      c.out = written;
    } else {
      // Every method with a baseline, in turn; its arguments drawn from a stream of its own, so
      // that the other families' cases stay what they were for a seed.
      const zeroMethod = ZERO_METHODS[id % ZERO_METHODS.length];
      fs.copyFileSync(b.input, at('baseline.npy'));
      c.what += `${zeroMethod} with baseline == input`;
      c.argv = ['attribute', b.model, '--input', b.input, '--method', zeroMethod, ...methodArgs(zeroMethod, { r: rng(id), b, at, layers: tensorNames(b.model) }), '--baseline', at('baseline.npy'), '--out', out];
      c.protect.push(at('baseline.npy'));
      c.out = out;
      c.repeat = true;
    }
    cases.push(c);
  }
  return cases;
}

function mutateInput(r: Rand, b: Base, at: (f: string) => string): string {
  // Descriptions ending in BAD are inputs the CLI must refuse.
  const data = Float32Array.from(b.data);
  const file = at('input.npy');
  switch (Math.floor(r() * 10)) {
    case 0: case 1: {
      const k = Math.floor(r() * data.length);
      const v = pick(r, [NaN, Infinity, -Infinity, 3e38, -3e38]);
      data[k] = v;
      writeNpy(file, data, b.dims);
      return `input[${k}] = ${v}${Number.isFinite(v) ? '' : BAD}`;
    }
    case 2: {
      const k = Math.floor(r() * 5);
      const dims = [[...b.dims, 1], [1, ...b.dims], [0, ...b.dims.slice(1)], b.dims.slice(1), [...b.dims.slice(0, -1), b.dims[b.dims.length - 1] + 1]][k];
      const n = dims.reduce((a, d) => a * d, 1);
      writeNpy(file, Float32Array.from({ length: n }, (_, i) => data[i % data.length]), dims);
      return `input shape [${dims}]${k < 3 ? BAD : ''}`;
    }
    case 3: {
      const descr = pick(r, ['<f8', '<i8', '<i4', '>f4', '|b1', '<f2', '<c8']);
      const width = { '<f8': 8, '<i8': 8, '<i4': 4, '>f4': 4, '|b1': 1, '<f2': 2, '<c8': 8 }[descr]!;
      writeRawNpy(file, descr, b.dims, new Uint8Array(data.length * width).fill(0x3f));
      // An integer input read only through Casts to float takes integer files (its values, explained as float32).
      const valid = ['<f8', '<f2', '|b1', '>f4', ...(b.integerInput ? ['<i8', '<i4'] : [])].includes(descr);
      return `input dtype ${descr}${valid ? ` ${CONSTANT_INPUT}` : BAD}`;
    }
    case 4: {
      writeNpy(file, data, b.dims);
      const bytes = fs.readFileSync(file);
      fs.writeFileSync(file, mutateBytes(r, bytes).bytes);
      return `input .npy bytes mutated${hugeValues(file)}`;
    }
    case 5:
      writeRawNpy(file, '<f4', [2 ** 31, 1e6], new Uint8Array(16));
      return `input header claims a huge shape${BAD}`;
    case 6:
      fs.writeFileSync(file, '');
      return `empty input file${BAD}`;
    case 7: {
      if (!b.imageable) return mutateInput(r, b, at);
      const png = new PNG({ width: 5 + Math.floor(r() * 40), height: 5 + Math.floor(r() * 40) });
      for (let i = 0; i < png.data.length; i++) png.data[i] = Math.floor(r() * 256);
      const bytes = PNG.sync.write(png);
      fs.writeFileSync(at('input.png'), r() < 0.5 ? bytes : mutateBytes(r, bytes).bytes);
      return 'PNG input (maybe mutated)';
    }
    case 8:
      fs.writeFileSync(at('input.jpg'), Buffer.from([0xff, 0xd8, 0xff, 0xe0, ...Array.from({ length: 64 }, () => Math.floor(r() * 256))]));
      return `garbage JPEG input${BAD}`;
    default: {
      writeRawNpy(file, '<f4', b.dims, new Uint8Array(data.buffer));
      const text = fs.readFileSync(file).toString('latin1').replace('False', 'True');
      fs.writeFileSync(file, Buffer.from(text, 'latin1'));
      return 'Fortran-order input (read transposed, as numpy.load reads it)';
    }
  }
}

/** Outputs that are links to the user's files, folders and special files in place of regular ones: refused, except a missing output folder (created). */
function fileCase(r: Rand, b: Base, at: (f: string) => string, method: string): { argv: string[]; what: string; out?: string } {
  const copy = (from: string, to: string) => { fs.copyFileSync(from, at(to)); return at(to); };
  const model = copy(b.model, 'model.onnx');
  const input = copy(b.input, 'input.npy');
  const fifo = () => { execFileSync('mkfifo', [at('fifo')]); return at('fifo'); };
  const attribute = (m: string, i: string, out: string, extra: string[] = []) => ['attribute', m, '--input', i, '--method', method, '--out', out, ...extra];
  switch (Math.floor(r() * 12)) {
    case 0: fs.symlinkSync(input, at('out.npy')); return { argv: attribute(model, input, at('out.npy')), what: '--out is a symlink to the input' };
    case 1: fs.linkSync(input, at('out.npy')); return { argv: attribute(model, input, at('out.npy')), what: '--out is a hard link to the input' };
    case 2: fs.linkSync(model, at('aug.onnx')); return { argv: ['rewrite', model, '--method', method, '--out', at('aug.onnx')], what: 'rewrite --out is a hard link to the model' };
    case 3: fs.symlinkSync(model, at('aug.onnx')); return { argv: ['rewrite', model, '--method', method, '--out', at('aug.onnx')], what: 'rewrite --out is a symlink to the model' };
    case 4: {
      const baseline = copy(b.input, 'baseline.npy');
      fs.linkSync(baseline, at('out.npy'));
      return { argv: attribute(model, input, at('out.npy'), ['--baseline', baseline]), what: '--out is a hard link to the baseline' };
    }
    case 5: fs.mkdirSync(at('dir.npy')); return { argv: attribute(model, input, at('dir.npy')), what: '--out is a folder' };
    case 6: return { argv: attribute(model, input, at('missing/out.npy')), what: '--out in a missing folder (created)', out: at('missing/out.npy') };
    case 7: return { argv: attribute(fifo(), input, at('out.npy')), what: 'model is a FIFO' };
    case 8: return { argv: attribute(model, fifo(), at('out.npy')), what: 'input is a FIFO' };
    case 9: return { argv: attribute(model, input, fifo()), what: '--out is a FIFO' };
    case 10: fs.mkdirSync(at('model-dir')); return { argv: attribute(at('model-dir'), input, at('out.npy')), what: 'model is a folder' };
    default: fs.mkdirSync(at('input-dir.npy')); return { argv: attribute(model, at('input-dir.npy'), at('out.npy')), what: 'input is a folder' };
  }
}

/** Noted on cases whose input holds one value throughout (bytes filled with one pattern). */
export const CONSTANT_INPUT = '(a constant input)';

/** ' (values up to 2.0e+21)' where a mutated input still parses and holds values of 1e10 or more (float32 precision then runs out), else ''. */
function hugeValues(file: string): string {
  let most = 0;
  try {
    for (const v of Array.from(readNpy(file).data as ArrayLike<number | bigint>, Number)) most = Math.max(most, Math.abs(v));
  } catch {
    return '';
  }
  return most >= 1e10 ? ` (values up to ${most.toExponential(1)})` : '';
}
