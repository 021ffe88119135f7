import * as fs from 'fs';
import * as path from 'path';
import { Emitter } from '../rewriter/emitter';
import { DataType, encodeModel, makeTensor, ModelProto, TensorProto, valueInfo } from '../rewriter/proto';

/** Deterministic PRNG (mulberry32) with a Box–Muller normal. */
function rng(seed: number): { uniform: () => number; normal: () => number } {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  let spare: number | undefined;
  const normal = () => {
    if (spare !== undefined) { const v = spare; spare = undefined; return v; }
    const u = Math.max(uniform(), 1e-12);
    const v = uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
  return { uniform, normal };
}

export interface ResNet18Options {
  /** Number of classes (default 1000). */
  classes?: number;
  /** Spatial size written into the input's shape (default 224). */
  size?: number;
  /** PRNG seed for the weights (default 18). */
  seed?: number;
}

/**
 * torchvision's resnet18 topology (opset 13) with deterministic He-initialised weights and
 * non-trivial BatchNormalization statistics, BN kept as separate nodes (as a TrainingMode.PRESERVE
 * export has them). Input 'input' [N,3,size,size] with dynamic N, output 'logits' [N,classes].
 */
export function buildResNet18(options: ResNet18Options = {}): ModelProto {
  const classes = options.classes ?? 1000;
  const size = options.size ?? 224;
  const { uniform, normal } = rng(options.seed ?? 18);
  const em = new Emitter(13, DataType.FLOAT, 'resnet18');
  const inits: TensorProto[] = [];
  const param = (name: string, dims: number[], gen: () => number): string => {
    const n = dims.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    for (let i = 0; i < n; i++) values[i] = gen();
    inits.push(makeTensor(name, dims, values, DataType.FLOAT));
    return name;
  };

  const conv = (x: string, name: string, cin: number, cout: number, k: number, stride: number, pad: number): string => {
    // torchvision: kaiming_normal_(mode='fan_out', nonlinearity='relu').
    const std = Math.sqrt(2 / (cout * k * k));
    const w = param(`${name}.weight`, [cout, cin, k, k], () => normal() * std);
    return em.op('Conv', [x, w], { kernel_shape: [k, k], strides: [stride, stride], pads: [pad, pad, pad, pad], dilations: [1, 1], group: 1 }, name);
  };
  const bn = (x: string, name: string, c: number): string => {
    const scale = param(`${name}.weight`, [c], () => 0.5 + uniform());
    const bias = param(`${name}.bias`, [c], () => 0.2 * (uniform() - 0.5));
    const mean = param(`${name}.running_mean`, [c], () => 0.1 * normal());
    const variance = param(`${name}.running_var`, [c], () => 0.5 + uniform());
    return em.op('BatchNormalization', [x, scale, bias, mean, variance], { epsilon: { float: 1e-5 }, momentum: { float: 0.9 } }, name);
  };
  const relu = (x: string, name: string): string => em.op('Relu', [x], {}, name);

  const block = (x: string, name: string, cin: number, cout: number, stride: number): string => {
    let y = relu(bn(conv(x, `${name}.conv1`, cin, cout, 3, stride, 1), `${name}.bn1`, cout), `${name}.relu1`);
    y = bn(conv(y, `${name}.conv2`, cout, cout, 3, 1, 1), `${name}.bn2`, cout);
    const shortcut = stride !== 1 || cin !== cout
      ? bn(conv(x, `${name}.downsample.0`, cin, cout, 1, stride, 0), `${name}.downsample.1`, cout)
      : x;
    return relu(em.op('Add', [y, shortcut], {}, `${name}.add`), `${name}.relu2`);
  };

  let x = relu(bn(conv('input', 'conv1', 3, 64, 7, 2, 3), 'bn1', 64), 'relu');
  x = em.op('MaxPool', [x], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }, 'maxpool');
  const widths = [64, 128, 256, 512];
  let cin = 64;
  widths.forEach((c, s) => {
    for (let b = 0; b < 2; b++) {
      x = block(x, `layer${s + 1}.${b}`, cin, c, s > 0 && b === 0 ? 2 : 1);
      cin = c;
    }
  });
  x = em.op('GlobalAveragePool', [x], {}, 'avgpool');
  x = em.op('Flatten', [x], { axis: 1 }, 'flatten');
  const bound = 1 / Math.sqrt(512);
  const fcW = param('fc.weight', [classes, 512], () => (2 * uniform() - 1) * bound);
  const fcB = param('fc.bias', [classes], () => (2 * uniform() - 1) * bound);
  em.op('Gemm', [x, fcW, fcB], { alpha: { float: 1 }, beta: { float: 1 }, transB: 1 }, 'fc');
  const last = em.nodes[em.nodes.length - 1];
  last.output = ['logits'];

  return {
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'onnx-explain-bench',
    graph: {
      name: 'resnet18',
      node: em.nodes,
      initializer: [...inits, ...em.initializers],
      input: [valueInfo('input', DataType.FLOAT, ['N', 3, size, size])],
      output: [valueInfo('logits', DataType.FLOAT, ['N', classes])],
    },
  };
}

/** Returns `file`, writing the ResNet-18 model there first unless it already exists. */
export function ensureResNet18(file: string, options: ResNet18Options = {}): { file: string; built: boolean; ms: number } {
  if (fs.existsSync(file)) return { file, built: false, ms: 0 };
  const t0 = performance.now();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const bytes = encodeModel(buildResNet18(options));
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, bytes);
  fs.renameSync(tmp, file);
  return { file, built: true, ms: performance.now() - t0 };
}
