/**
 * Mutations that keep a node valid on its own (ONNX operator specs): other strides, dilations,
 * pads below the kernel, ceil_mode, Resize modes, activation constants. What they do downstream
 * (a Flatten that no longer fits) may still be refused; what is accepted exercises the rules on
 * attribute combinations the fixtures do not hold, judged by the gradient check, DeepLIFT's
 * summation and x == baseline.
 */
import { AttributeProto, ModelProto, NodeProto } from '../../../rewriter/proto';
import { pick, Rand } from './arguments';

type Mutator = (r: Rand, node: NodeProto) => string;

const ATTR_TYPE = { float: 1, int: 2, string: 3, ints: 7 } as const;

function set(node: NodeProto, name: string, value: number | number[] | string, type: keyof typeof ATTR_TYPE): string {
  node.attribute = (node.attribute ?? []).filter((a) => a.name !== name);
  const a: AttributeProto = { name, type: ATTR_TYPE[type] } as AttributeProto;
  if (type === 'ints') a.ints = value as never;
  else if (type === 'int') a.i = value as never;
  else if (type === 'float') a.f = value as number;
  else a.s = Buffer.from(value as string);
  node.attribute.push(a);
  return `${name} = ${Array.isArray(value) ? `[${value}]` : value}`;
}

const ints = (node: NodeProto, name: string) => (node.attribute ?? []).find((a) => a.name === name)?.ints?.map(Number);

/** Strides, dilations, pads below the (dilated) kernel and ceil_mode of a sliding window; or an auto_pad in their place. */
function window(options: { dilations: boolean; ceil: boolean; countPad?: boolean; kernel?: boolean }): Mutator {
  return (r, node) => {
    let kernel = ints(node, 'kernel_shape') ?? [];
    if (!kernel.length) return 'unchanged (no kernel_shape)';
    const spatial = kernel.length;
    const what: string[] = [];
    if (options.kernel && r() < 0.4) {
      kernel = kernel.map(() => 1 + Math.floor(r() * 3));
      what.push(set(node, 'kernel_shape', kernel, 'ints'));
    }
    const dilations = options.dilations && r() < 0.4 ? kernel.map(() => 1 + Math.floor(r() * 2)) : kernel.map(() => 1);
    if (options.dilations) what.push(set(node, 'dilations', dilations, 'ints'));
    what.push(set(node, 'strides', kernel.map(() => 1 + Math.floor(r() * 3)), 'ints'));
    if (r() < 0.2) {
      node.attribute = node.attribute!.filter((a) => a.name !== 'pads');
      what.push(set(node, 'auto_pad', pick(r, ['SAME_UPPER', 'SAME_LOWER', 'VALID']), 'string'));
    } else {
      node.attribute = node.attribute!.filter((a) => a.name !== 'auto_pad');
      const pads = [...kernel, ...kernel].map((k, i) => Math.floor(r() * ((k - 1) * dilations[i % spatial] + 1)));
      what.push(set(node, 'pads', pads, 'ints'));
    }
    if (options.ceil && r() < 0.5) what.push(set(node, 'ceil_mode', 1, 'int'));
    if (options.countPad && r() < 0.5) what.push(set(node, 'count_include_pad', 1, 'int'));
    return what.join(', ');
  };
}

const constant = (name: string, values: number[]): Mutator => (r, node) => set(node, name, pick(r, values), 'float');

const MUTATORS: Record<string, Mutator> = {
  Conv: window({ dilations: true, ceil: false }),
  MaxPool: window({ dilations: true, ceil: true, kernel: true }),
  AveragePool: window({ dilations: false, ceil: true, countPad: true, kernel: true }),
  LpPool: window({ dilations: false, ceil: false, kernel: true }),
  Gemm: (r, node) => set(node, pick(r, ['alpha', 'beta']), pick(r, [0.5, 2, -1, 0]), 'float'),
  LeakyRelu: constant('alpha', [0, 0.3, -0.5, 2]),
  Elu: constant('alpha', [0.5, 2, 0]),
  Celu: constant('alpha', [0.5, 2]),
  Selu: constant('gamma', [0.5, 2]),
  HardSigmoid: (r, node) => set(node, pick(r, ['alpha', 'beta']), pick(r, [0.1, 0.5, 1]), 'float'),
  ThresholdedRelu: constant('alpha', [0, 0.5, -1]),
  BatchNormalization: constant('epsilon', [1e-3, 0.1, 0]),
  InstanceNormalization: constant('epsilon', [1e-3, 0.1]),
  LayerNormalization: constant('epsilon', [1e-3, 0.1]),
  LRN: (r, node) => (r() < 0.5 ? set(node, 'size', pick(r, [1, 2, 3, 5]), 'int') : set(node, pick(r, ['alpha', 'beta', 'bias']), pick(r, [0.1, 0.75, 2]), 'float')),
  Resize: (r, node) => {
    const mode = pick(r, ['nearest', 'linear', 'cubic']);
    const what = [set(node, 'mode', mode, 'string'), set(node, 'coordinate_transformation_mode', pick(r, ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric']), 'string')];
    if (mode === 'nearest') what.push(set(node, 'nearest_mode', pick(r, ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']), 'string'));
    if (mode === 'cubic') what.push(set(node, 'cubic_coeff_a', pick(r, [-0.5, -0.75]), 'float'), set(node, 'exclude_outside', pick(r, [0, 1]), 'int'));
    return what.join(', ');
  },
  Softmax: (r, node) => set(node, 'axis', pick(r, [-1, 1]), 'int'),
  LogSoftmax: (r, node) => set(node, 'axis', pick(r, [-1, 1]), 'int'),
};

/** One valid mutation of a node the table knows (`undefined` where the model has none). */
export function mutateValid(r: Rand, m: ModelProto): string | undefined {
  const nodes = (m.graph!.node ?? []).filter((n) => MUTATORS[n.op_type ?? ''] && !n.domain);
  if (!nodes.length) return undefined;
  const node = pick(r, nodes);
  return `${node.op_type} '${node.name}': ${MUTATORS[node.op_type!](r, node)}`;
}
