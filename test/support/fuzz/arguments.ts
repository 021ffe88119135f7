/**
 * Mutated argument lists for every command and method: attribute with each method's options
 * (integrated gradients, noise tunnel, occlusion and feature ablation, CAMs, layer attribution,
 * --output/--target/--reduce, pictures, folder mode), rewrite, export-triton, visualize, filters,
 * maximize, contrast and info. Values are drawn from valid ones and malformed ones; a case is
 * marked BAD (must be refused) only where a value is invalid whatever the model.
 */
import * as fs from 'fs';
import * as path from 'path';
import { decodeModel } from '../../../rewriter/proto';
import { readNpy, writeNpy } from '../../../runtime/node/npy-file';
import { writeRawNpy } from '../cli-harness';

export type Rand = () => number;
/** Appended to a case description when the mutation makes the run invalid: it must be refused. */
export const BAD = ' (invalid)';
export const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];

export interface Base { name: string; model: string; input: string; dims: number[]; data: Float32Array; imageable: boolean; integerInput: boolean }

export const METHODS = [
  'gradient', 'saliency', 'input-x-gradient', 'deeplift', 'guided-backprop', 'deconvnet', 'lrp-epsilon', 'lrp-alphabeta', 'lrp-zplus',
  'lrp-epsilon-plus', 'lrp-epsilon-plus-flat', 'lrp-epsilon-alpha2-beta1', 'lrp-epsilon-alpha2-beta1-flat', 'lrp-epsilon-gamma-box',
  'cam', 'grad-cam', 'guided-grad-cam', 'occlusion', 'feature-ablation', 'layer-activation', 'integrated-gradients',
  'deeplift-shap', 'gradient-shap', 'feature-permutation', 'shapley-values', 'shapley-value-sampling', 'kernel-shap', 'lime',
  'internal-influence', 'layer-conductance', 'neuron-conductance',
];
const TARGETS = ['', '0,,1', '-1', '99999', '1.5', 'nan', ' 1', '0x1', '1e0', '1,2,3,4,5', '0', ',', '2147483648'];
/** Multi-index targets (i:j over the explained tensor's non-batch axes); the malformed ones are BAD. */
const MULTI_TARGETS = ['0:0', '1:2', '0:0,1:1,0:2', '0:0:0', '99:0'];
const BAD_MULTI = [':', '1:', ':1', '1::2', '1:a', '1:2,', '1:2,,0:0'];
const NUMBERS = ['-1', 'nan', 'NaN', 'inf', '-Infinity', '0', '1e-300', '1e300', 'abc', '', '0x10', '1,2'];
const SMALL_COUNTS = ['1', '2', '3'];
const BAD_COUNTS = ['0', '-1', '1.5', 'abc', '', 'nan', '1e400'];
const CHOICES: Record<string, string[]> = {
  '--preprocess': ['torchvision', 'none'], '--provider': ['cpu', 'cuda', 'webgpu', 'wasm'], '--maxpool-rule': ['deeplift', 'shapley'], '--lrp-maxpool': ['winner', 'epsilon'],
  '--ig-method': ['gausslegendre', 'riemann_left', 'riemann_right', 'riemann_middle', 'riemann_trapezoid'],
  '--noise-tunnel': ['smoothgrad', 'smoothgrad_sq', 'vargrad'], '--reduce': ['sum', 'mean'], '--interpolate': ['bilinear', 'nearest'],
  '--vis-method': ['heat_map', 'blended_heat_map', 'masked_image', 'alpha_scaling'], '--sign': ['positive', 'negative', 'absolute', 'all'],
};

interface Mutation { value?: string; bad: boolean }
/** Everything a flag's value may be drawn from: the case's fixture and its folder. */
export interface Ctx { r: Rand; b: Base; at: (f: string) => string; layers: string[]; method?: string }

const number = (flag: string, { r }: Ctx, nonNegative = true): Mutation => {
  const value = pick(r, NUMBERS);
  const n = Number(value);
  return { value, bad: !Number.isFinite(n) || value.trim() === '' || value.startsWith('0x') || (nonNegative && n < 0) };
};
const count = ({ r }: Ctx): Mutation => (r() < 0.6 ? { value: pick(r, SMALL_COUNTS), bad: false } : { value: pick(r, BAD_COUNTS), bad: true });
const choice = (flag: string) => ({ r }: Ctx): Mutation => {
  const value = pick(r, ['', 'bogus', 'constructor', ...CHOICES[flag]]);
  return { value, bad: !CHOICES[flag].includes(value) };
};
const layer = ({ r, layers }: Ctx): Mutation => {
  const value = pick(r, [...layers, 'nowhere', '']);
  return { value, bad: !layers.includes(value) };
};
const target = ({ r }: Ctx): Mutation => {
  const k = r();
  if (k < 0.5) { const value = pick(r, TARGETS); return { value, bad: !['0', ' 1', '-1'].includes(value) }; }
  if (k < 0.75) return { value: pick(r, MULTI_TARGETS), bad: false };
  return { value: pick(r, BAD_MULTI), bad: true };
};
/** Occlusion windows and strides: one value per input dimension (without the batch), or one value. */
const perDim = (ctx: Ctx, fit: (d: number) => number): Mutation => {
  const { r, b } = ctx;
  const dims = b.dims.slice(1);
  const k = Math.floor(r() * 6);
  if (k < 2) return { value: dims.map(fit).join(','), bad: false };
  if (k === 2) return { value: String(fit(Math.min(...dims))), bad: false };
  if (k === 3) return { value: dims.map(() => pick(r, ['0', '-1', 'a', '1.5'])).join(','), bad: true };
  if (k === 4) return { value: [...dims, 1].map(fit).join(','), bad: true };
  const value = pick(r, ['', ',', '1,,1', '99999']);
  return { value, bad: value !== '99999' };
};

/** Feature-ablation masks: integer ids broadcastable to the input, or not. */
function featureMask({ r, b, at }: Ctx): Mutation {
  const file = at('mask.npy');
  const row = b.dims.slice(1);
  const n = row.reduce((a, d) => a * d, 1);
  const k = Math.floor(r() * 5);
  const ints = (values: Int32Array, dims: number[]) => writeRawNpy(file, '<i4', dims, new Uint8Array(values.buffer));
  if (k === 0) ints(Int32Array.from({ length: n }, (_, i) => i % 4), [1, ...row]);
  else if (k === 1) ints(Int32Array.from({ length: n / row[0] }, (_, i) => i % 3), [1, 1, ...row.slice(1)]);
  else if (k === 2) writeNpy(file, Float32Array.from({ length: n }, (_, i) => (i === 1 ? NaN : i % 2)), [1, ...row]);
  else if (k === 3) ints(new Int32Array(n + 1), [n + 1]);
  else ints(Int32Array.from({ length: n }, (_, i) => (i % 2 ? -1 : 0)), [1, ...row]);
  return { value: file, bad: k === 2 || k === 3 };
}

/** Baselines with extra axes, NaN, too many rows (BAD, except as the Shap methods' distribution), or one good row. */
function baseline({ r, b, at, method }: Ctx): Mutation {
  const file = at('baseline.npy');
  const row = b.data.length / b.dims[0];
  const how = Math.floor(r() * 5);
  if (how === 0) writeNpy(file, new Float32Array(row), [...b.dims.slice(1), 1]);
  else if (how === 1) writeNpy(file, new Float32Array(b.data.length), [...b.dims, 1]);
  else if (how === 2) writeNpy(file, Float32Array.from({ length: row }, (_, i) => (i % 7 === 3 ? NaN : i === row - 1 ? (r(), NaN) : r())), [1, ...b.dims.slice(1)]);
  else if (how === 3) writeNpy(file, new Float32Array(row * (b.dims[0] + 1)), [b.dims[0] + 1, ...b.dims.slice(1)]);
  else writeNpy(file, Float32Array.from({ length: row }, () => r()), [1, ...b.dims.slice(1)]);
  return { value: file, bad: how < 3 || (how === 3 && !['deeplift-shap', 'gradient-shap'].includes(method ?? '')) };
}

const flag = (): Mutation => ({ bad: false });

/** attribute's options (and visualize's, which runs attribute per method). */
const ATTRIBUTE: Record<string, (c: Ctx) => Mutation> = {
  '--target': target, '--contrast': target,
  '--epsilon': (c) => number('--epsilon', c), '--alpha': (c) => number('--alpha', c, false), '--beta': (c) => number('--beta', c, false),
  '--onehot-axis': (c) => { const m = number('--onehot-axis', c, false); return { value: m.value, bad: m.bad || !/^-?\d+$/.test(m.value!) }; },
  '--method': ({ r }) => { const value = pick(r, [...METHODS, 'bogus', '', 'DeepLIFT', 'toString']); return { value, bad: !METHODS.includes(value) }; },
  '--baseline': baseline, '--output': (c) => (c.r() < 0.3 ? { value: pick(c.r, ['', 'bogus']), bad: true } : layer(c)),
  '--neuron': ({ r }) => { const value = pick(r, ['0', '', 'x', '-1', '99999999', '1,2']); return { value, bad: !['0', '-1'].includes(value) }; },
  '--layer': layer, '--no-relu': flag, '--upsample': flag, '--interpolate': choice('--interpolate'),
  '--steps': count, '--ig-method': choice('--ig-method'), '--internal-batch-size': count,
  '--noise-tunnel': choice('--noise-tunnel'), '--noise-std': (c) => number('--noise-std', c), '--samples': count,
  '--window': (c) => perDim(c, (d) => Math.max(1, Math.ceil(d / 2))), '--stride': (c) => perDim(c, (d) => Math.max(1, Math.ceil(d / 3))),
  '--fill': ({ r }) => { const value = pick(r, ['0', '0.5', 'random', 'nan', 'inf', 'abc', '']); return { value, bad: !['0', '0.5', 'random'].includes(value) }; },
  '--feature-mask': featureMask, '--seed': ({ r }) => { const value = pick(r, ['0', '7', '-1', '1.5', 'abc']); return { value, bad: !['0', '7', '-1'].includes(value) }; },
  '--reduce': choice('--reduce'), '--reduce-axes': ({ r }) => { const value = pick(r, ['1', '-1', '2,3', '0', '9', 'a', '', '1,1']); return { value, bad: ['a', ''].includes(value) }; },
  '--explain-softmax': flag, '--softmax-normalize': flag, '--threads': count,
  '--preprocess': choice('--preprocess'), '--provider': choice('--provider'), '--maxpool-rule': choice('--maxpool-rule'), '--lrp-maxpool': choice('--lrp-maxpool'),
  '--wrt': ({ r }) => ({ value: pick(r, ['bogus', '', '__proto__']), bad: true }), '--feed': ({ at }) => ({ value: `x=${at('missing.npy')}`, bad: true }),
  '--shape': ({ r }) => ({ value: pick(r, ['1,2', '', '-1', '1,,2']), bad: true }),
  '--no-cache': flag, '--cache-dir': ({ at }) => ({ value: at('cache'), bad: false }), '--unbatched': flag,
  '--unknown': () => ({ bad: true }),
  '--gamma': (c) => number('--gamma', c, true), '--stabilizer': (c) => number('--stabilizer', c, true), '--no-multiply-by-inputs': flag, '--draw-baseline-from-distrib': flag,
  // A number or one per channel (how many the model's first layer reads decides: not BAD).
  '--box-low': ({ r }) => { const value = pick(r, ['0', '-1', '-2,-2,-2', '', 'a', '1,nan']); return { value, bad: ['', 'a', '1,nan'].includes(value) }; },
  '--box-high': ({ r }) => { const value = pick(r, ['1', '2', '1,1,1', 'inf', '']); return { value, bad: ['inf', ''].includes(value) }; },
  '--lrp-rule': ({ r }) => { const value = pick(r, ['x=flat', 'y=zbox', 'conv1', 'x=bogus', '=gamma']); return { value, bad: ['conv1', 'x=bogus', '=gamma'].includes(value) }; },
};
/** The options each method takes (most mutations use them; the others must be refused). */
const COMMON = ['--target', '--output', '--reduce', '--reduce-axes', '--contrast', '--threads', '--provider', '--explain-softmax'];
const BACKPROP = ['--noise-tunnel', '--noise-std', '--samples', '--seed', '--layer'];
const LRP = ['--epsilon', '--stabilizer', '--alpha', '--beta', '--lrp-maxpool', '--layer', '--gamma', '--box-low', '--box-high', '--lrp-rule'];
const CAMS = ['--layer', '--no-relu', '--upsample', '--interpolate'];
const RELEVANT: Record<string, string[]> = {
  gradient: BACKPROP, saliency: BACKPROP, 'input-x-gradient': BACKPROP, 'guided-backprop': BACKPROP, deconvnet: BACKPROP,
  deeplift: ['--baseline', '--maxpool-rule', '--softmax-normalize', '--onehot-axis', '--no-multiply-by-inputs', '--draw-baseline-from-distrib', ...BACKPROP],
  'lrp-epsilon': LRP, 'lrp-alphabeta': LRP, 'lrp-zplus': LRP, 'lrp-epsilon-plus': LRP, 'lrp-epsilon-plus-flat': LRP,
  'lrp-epsilon-alpha2-beta1': LRP, 'lrp-epsilon-alpha2-beta1-flat': LRP, 'lrp-epsilon-gamma-box': LRP, cam: CAMS, 'grad-cam': CAMS, 'guided-grad-cam': CAMS,
  occlusion: ['--window', '--stride', '--fill', '--seed', '--internal-batch-size', '--baseline'],
  'feature-ablation': ['--feature-mask', '--fill', '--seed', '--internal-batch-size', '--baseline', '--layer'],
  'integrated-gradients': ['--steps', '--ig-method', '--internal-batch-size', '--baseline', '--no-multiply-by-inputs', '--draw-baseline-from-distrib', ...BACKPROP],
  'layer-activation': ['--layer'],
  'deeplift-shap': ['--baseline', '--internal-batch-size', '--layer'],
  'gradient-shap': ['--baseline', '--samples', '--noise-std', '--seed', '--internal-batch-size', '--layer', '--no-multiply-by-inputs'],
  'feature-permutation': ['--feature-mask', '--seed', '--internal-batch-size', '--layer'],
  'shapley-values': ['--feature-mask', '--fill', '--seed', '--internal-batch-size', '--baseline'],
  'shapley-value-sampling': ['--feature-mask', '--fill', '--seed', '--samples', '--internal-batch-size', '--baseline'],
  'kernel-shap': ['--feature-mask', '--fill', '--seed', '--samples', '--internal-batch-size', '--baseline'],
  lime: ['--feature-mask', '--fill', '--seed', '--samples', '--internal-batch-size', '--baseline'],
  'internal-influence': ['--layer', '--steps', '--ig-method', '--internal-batch-size', '--baseline'],
  'layer-conductance': ['--layer', '--steps', '--ig-method', '--internal-batch-size', '--baseline'],
  'neuron-conductance': ['--layer', '--neuron', '--steps', '--ig-method', '--internal-batch-size', '--baseline'],
};

/** Picture options, meaningful with --out .png. */
const PICTURE: Record<string, (c: Ctx) => Mutation> = {
  '--vis-method': choice('--vis-method'), '--sign': choice('--sign'),
  '--outlier-perc': ({ r }) => { const value = pick(r, ['2', '0', '50', '-1', '101', 'nan', '']); return { value, bad: !['2', '0', '50'].includes(value) }; },
  '--display-size': ({ r }) => { const value = pick(r, ['32', '64', '0', '-5', 'abc', '1.5']); return { value, bad: !['32', '64'].includes(value) }; },
};

/** Applies 0–2 mutations from `table` to argv; returns the description, BAD-marked where invalid. */
function mutate(ctx: Ctx, argv: string[], table: Record<string, (c: Ctx) => Mutation>): string[] {
  const what: string[] = [];
  const n = Math.floor(ctx.r() * 3);
  for (let i = 0; i < n; i++) {
    const name = pick(ctx.r, [...Object.keys(table), 'positional']);
    if (name === 'positional') {
      argv.push(pick(ctx.r, [ctx.b.model, 'extra', '--']));
      what.push(`extra positional ${argv[argv.length - 1]}${BAD}`);
      continue;
    }
    const { value, bad } = table[name](ctx);
    argv.push(...(value === undefined ? [name] : ctx.r() < 0.5 ? [name, value] : [`${name}=${value}`]));
    what.push(`${value === undefined ? name : `${name} ${JSON.stringify(value)}`}${bad ? BAD : ''}`);
  }
  return what;
}

/** What each method needs to run at all, so that mutations start from a valid run. */
export function methodArgs(method: string, ctx: Ctx, graph = false): string[] {
  const { b, r, layers } = ctx;
  const inner = layers.slice(0, -1);
  if (['grad-cam', 'guided-grad-cam', 'layer-activation'].includes(method) && inner.length) return ['--layer', pick(r, inner)];
  if (['internal-influence', 'layer-conductance'].includes(method) && inner.length) return ['--layer', pick(r, inner), '--steps', '4'];
  if (method === 'neuron-conductance' && inner.length) return ['--layer', pick(r, inner), '--neuron', '0', '--steps', '4'];
  // rewrite and export-triton save one graph: the perturbation methods' options are not theirs.
  if (graph) return method === 'integrated-gradients' ? ['--steps', '4'] : [];
  if (method === 'occlusion') return ['--window', b.dims.slice(1).map((d) => Math.max(1, Math.ceil(d / 2))).join(','), '--stride', b.dims.slice(1).map((d) => Math.max(1, Math.ceil(d / 2))).join(',')];
  if (['feature-ablation', 'feature-permutation', 'shapley-values', 'shapley-value-sampling', 'kernel-shap', 'lime'].includes(method)) return ['--feature-mask', featureMask({ ...ctx, r: () => 0 }).value!];
  if (method === 'gradient-shap') return ['--samples', '2'];
  if (method === 'integrated-gradients') return ['--steps', pick(r, ['2', '4', '8'])];
  return [];
}

/** The model's computed tensors, in graph order (the last is usually an output). */
export function tensorNames(model: string): string[] {
  return (decodeModel(fs.readFileSync(model)).graph?.node ?? []).flatMap((n) => n.output ?? []).filter((t) => t);
}

/** A mutated attribute argument list (`out`: the .npy result to check, if the run writes one). */
export function mutateArguments(r: Rand, b: Base, at: (f: string) => string, method: string): { argv: string[]; what: string; out?: string } {
  const ctx: Ctx = { r, b, at, layers: tensorNames(b.model), method };
  const png = r() < 0.15;
  const out = at(png ? 'out.png' : 'out.npy');
  const argv = ['attribute', b.model, '--input', b.input, '--method', method, ...methodArgs(method, ctx), '--out', out];
  const table = r() < 0.7 ? pickKeys(ATTRIBUTE, [...RELEVANT[method], ...COMMON]) : ATTRIBUTE;
  const what = mutate(ctx, argv, png ? { ...table, ...PICTURE } : table);
  if (r() < 0.1) {
    argv.splice(argv.indexOf('--input'), 2);
    what.push(`no --input${BAD}`);
  }
  return { argv, what: what.join(' '), out: png ? undefined : out };
}

/** One of the other commands (or attribute's folder mode), with its options mutated. */
export function commandCase(r: Rand, b: Base, at: (f: string) => string, method: string, cdeepex: string): { argv: string[]; what: string; out?: string; protect: string[] } {
  const ctx: Ctx = { r, b, at, layers: tensorNames(b.model) };
  const command = pick(r, ['rewrite', 'export-triton', 'visualize', 'filters', 'maximize', 'contrast', 'attribute-dir', 'info'] as const);
  const count = (values: readonly string[]) => ({ r: rr }: Ctx): Mutation => { const value = pick(rr, values); return { value, bad: !/^[1-9]\d*$/.test(value) }; };
  switch (command) {
    case 'rewrite': {
      const argv = ['rewrite', b.model, '--method', method, ...methodArgs(method, ctx, true), '--out', at('aug.onnx')];
      const what = mutate(ctx, argv, {
        ...pickKeys(ATTRIBUTE, ['--method', '--output', '--layer', '--epsilon', '--steps', '--ig-method', '--window', '--explain-softmax', '--maxpool-rule', '--no-relu', '--upsample']),
        '--shape': ({ r: rr }) => { const value = pick(rr, [b.dims.join(','), `1,${b.dims.slice(1).join(',')}`, '', '-1', '1,,2', '0']); return { value, bad: ['', '1,,2'].includes(value) }; },
        '--zero-baseline': flag,
      });
      return { argv, what: `rewrite ${what.join(' ')}`, protect: [] };
    }
    case 'export-triton': {
      const argv = ['export-triton', b.model, '--method', method, ...methodArgs(method, ctx, true), '--out', at('repo')];
      const what = mutate(ctx, argv, {
        '--name': ({ r: rr }) => { const value = pick(rr, ['m', 'my-model', '', '../up', 'a/b', '.']); return { value, bad: !['m', 'my-model'].includes(value) }; },
        '--max-batch': count(['1', '4', '0', '-1', 'abc', '1.5']),
        '--shape': ({ r: rr }) => ({ value: pick(rr, ['', '1,,2']), bad: true }),
        '--method': ATTRIBUTE['--method'],
      });
      return { argv, what: `export-triton ${what.join(' ')}`, protect: [] };
    }
    case 'visualize': {
      const methods = Array.from({ length: 1 + Math.floor(r() * 2) }, () => pick(r, ['gradient', 'deeplift', 'saliency', 'guided-backprop', 'lrp-epsilon']));
      const argv = ['visualize', b.model, '--input', b.input, '--methods', methods.join(','), '--out', at('fig.png')];
      const what = mutate(ctx, argv, {
        ...PICTURE, '--target': target,
        '--methods': ({ r: rr }) => ({ value: pick(rr, ['bogus', '', ',', 'gradient,,deeplift']), bad: true }),
      });
      return { argv, what: `visualize ${what.join(' ')}`, protect: [] };
    }
    case 'filters': {
      const inner = ctx.layers.slice(0, -1);
      const argv = ['filters', b.model, '--input', b.input, '--layer', pick(r, inner.length ? inner : ctx.layers), '--json', at('report.json')];
      const what = mutate(ctx, argv, {
        '--top': count(['1', '3', '0', '-2', 'x']),
        '--occlude': ({ r: rr }) => { const value = pick(rr, ['grid', '0:2,0:2', '0:2,0:2;2:4,2:4', '', '2:1', 'a:b', '0:99999']); return { value, bad: ['', 'a:b', '2:1'].includes(value) }; },
        '--window': ATTRIBUTE['--window'], '--stride': ATTRIBUTE['--stride'], '--fill': ATTRIBUTE['--fill'], '--seed': ATTRIBUTE['--seed'],
        '--internal-batch-size': count(['1', '4', '0', '-3']), '--out': ({ r: rr }) => ({ value: at(pick(rr, ['chart.png', 'chart.bmp'])), bad: false }),
      });
      return { argv, what: `filters ${what.join(' ')}`, protect: [] };
    }
    case 'maximize': {
      const out = at('max.npy');
      const aim = r() < 0.5 || ctx.layers.length < 2 ? ['--target', '0'] : ['--layer', pick(r, ctx.layers.slice(0, -1)), '--channel', '0'];
      const argv = ['maximize', b.model, ...aim, '--stages', '2', '--steps', '2', '--out', out];
      const what = mutate(ctx, argv, {
        '--lr': (c) => number('--lr', c), '--beta1': (c) => number('--beta1', c), '--blur': (c) => number('--blur', c),
        '--lp-weight': (c) => number('--lp-weight', c), '--tv-weight': (c) => number('--tv-weight', c),
        '--range': ({ r: rr }) => { const value = pick(rr, ['0,1', '-1,1', '1,0', 'a,b', '0', '0,nan', '']); return { value, bad: !['0,1', '-1,1'].includes(value) }; },
        '--growth': (c) => number('--growth', c), '--upscale': (c) => number('--upscale', c), '--seed': ATTRIBUTE['--seed'],
        '--channel': ({ r: rr }) => ({ value: pick(rr, ['-1', '99999', 'x', '']), bad: true }),
        '--preprocess': ATTRIBUTE['--preprocess'], '--output': ATTRIBUTE['--output'],
      });
      return { argv, what: `maximize ${what.join(' ')}`, out, protect: [] };
    }
    case 'contrast': {
      const sample = at('sample.npy');
      const samples = readNpy(path.join(cdeepex, 'samples.npy'));
      writeNpy(sample, Float32Array.from((samples.data as Float32Array).subarray(15 * 256, 16 * 256)), [1, 1, 16, 16]);
      const dir = at('contrast');
      const argv = ['contrast', '--classifier', path.join(cdeepex, 'clean', 'classifier.onnx'), '--generator', path.join(cdeepex, 'clean', 'generator.onnx'),
        '--input', sample, '--true', '3', '--probe', '8', '--starts', '1', '--steps', '5', '--max-outer', '2', '--inner', '3', '--retries', '0', '--out-dir', dir];
      const what = mutate(ctx, argv, {
        '--true': ({ r: rr }) => ({ value: pick(rr, ['8', '-1', '10', 'a', '']), bad: true }), '--probe': ({ r: rr }) => ({ value: pick(rr, ['3', '99', 'x']), bad: true }),
        '--method': ({ r: rr }) => { const value = pick(rr, ['cdeepex', 'xgems', 'gems', '']); return { value, bad: !['cdeepex', 'xgems'].includes(value) }; },
        '--lr': (c) => number('--lr', c), '--tolerance': (c) => number('--tolerance', c), '--seed': ATTRIBUTE['--seed'],
        '--generator': ({ r: rr }) => ({ value: pick(rr, [b.model, at('missing.onnx')]), bad: true }),
      });
      return { argv, what: `contrast ${what.join(' ')}`, out: path.join(dir, 'explanation.npy'), protect: [sample] };
    }
    case 'attribute-dir': {
      const dir = at('inputs');
      fs.mkdirSync(dir);
      const row = b.data.length / b.dims[0];
      for (let i = 0; i < b.dims[0]; i++) writeNpy(path.join(dir, `x${i}.npy`), b.data.subarray(i * row, (i + 1) * row), [1, ...b.dims.slice(1)]);
      let what = '';
      const spoil = Math.floor(r() * 6);
      if (spoil === 0) { writeNpy(path.join(dir, 'x9.npy'), new Float32Array(row).fill(NaN), [1, ...b.dims.slice(1)]); what = `a NaN input${BAD} `; }
      if (spoil === 1) { writeNpy(path.join(dir, 'x9.npy'), new Float32Array(row + 1), [row + 1]); what = 'a wrongly shaped input '; }
      if (spoil === 2) { fs.mkdirSync(path.join(dir, 'sub.npy')); what = 'a folder named .npy '; }
      if (spoil === 3) { fs.writeFileSync(path.join(dir, 'x9.npy'), ''); what = 'an empty .npy '; }
      const outDir = at('outs');
      const argv = ['attribute', b.model, '--input-dir', dir, '--out-dir', outDir, '--method', method, ...methodArgs(method, ctx)];
      // The method is known here: a baseline of N + 1 rows is the Shap methods' distribution.
      const more = mutate({ ...ctx, method }, argv, {
        '--batch-size': count(['1', '2', '0', '-1', 'x']),
        '--input': ({ at: a }) => ({ value: a('x.npy'), bad: true }), '--target': target, '--baseline': baseline,
      });
      return { argv, what: `attribute folder mode, ${what}${more.join(' ')}`, out: spoil >= 4 ? path.join(outDir, 'x0.npy') : undefined, protect: fs.readdirSync(dir).map((f) => path.join(dir, f)) };
    }
    default: {
      const argv = ['info', b.model];
      const what = mutate(ctx, argv, { '--layers': flag });
      return { argv, what: `info ${what.join(' ')}`, protect: [] };
    }
  }
}

function pickKeys<T>(table: Record<string, T>, keys: string[]): Record<string, T> {
  return Object.fromEntries(keys.map((k) => [k, table[k]]));
}
