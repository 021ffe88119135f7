import { attrFloat, attrInt, attrInts, attrString, hasAttr } from './attributes';
import { GraphView, mapSubgraphs } from './graph-view';
import { toAttribute } from './emitter';
import { defaultOpset, liftOldOpset, nodeRebinding, opTypes, withAttrs } from './opset-lift';
import { DataType, GraphProto, isDefault, ModelProto, NodeProto, TensorProto } from './proto';
import { lookupTable } from './lookup-table';

/** Reductions whose `axes` became an input at opset 13 (ReduceSum) or 18 (the others). */
const REDUCE_AXES_INPUT: Record<string, number> = lookupTable({
  ReduceSum: 13, ReduceMean: 18, ReduceMax: 18, ReduceMin: 18, ReduceProd: 18, ReduceL1: 18, ReduceL2: 18,
  ReduceLogSum: 18, ReduceLogSumExp: 18, ReduceSumSquare: 18,
});

/** Ops whose meaning changed at an opset in a way not rewritten here (ONNX Changelog). */
const NOT_UPGRADED: Record<string, number> = lookupTable({ GroupNormalization: 21, DFT: 20, Scan: 9 });

/**
 * A model rebound from its default-domain opset to a later one, `target`, with the same outputs —
 * as onnx.version_converter does — so that it can share a graph with a model of that opset (a
 * CDeepEx generator and classifier exported apart). Below opset 9 it is lifted to 9 first
 * (opset-lift.ts). From 9 the default domain changed these signatures:
 * - 10: Slice's starts/ends/axes became inputs; TopK's k an input; Upsample was deprecated (from
 *   11 it is written as Resize: asymmetric coordinates, nearest taps floored, or ceiled along the
 *   axes Resize-10 downsamples — what onnxruntime computes for Upsample and Resize-10);
 * - 11: Pad's pads and value became inputs, Clip's min and max; Resize gained roi and the
 *   coordinate modes;
 *   Scatter became ScatterElements;
 * - 12: Dropout's ratio became an input (unused at inference);
 * - 13: Squeeze's, Unsqueeze's and ReduceSum's axes and Split's split became inputs; Softmax,
 *   LogSoftmax and Hardmax stopped flattening their input into [outer, inner] at `axis` (default 1),
 *   so those are written as Flatten, the op on axis 1 and a Reshape back, unless `axis` is the last;
 * - 18: the other reductions' axes became inputs; Split without sizes needs `num_outputs`;
 * - 20: GridSample's modes bilinear and bicubic were renamed linear and cubic.
 * GroupNormalization (its scale per channel from 21), DFT (its axis an input from 20) and Scan
 * before 9 are refused when the range crosses their change; other ops only gained types or
 * attributes whose defaults keep the old behaviour.
 */
export function upgradeOpset(model: ModelProto, target: number, label: string): ModelProto {
  const lifted = liftOldOpset(model, label);
  const entry = (lifted.opset_import ?? []).find((o) => isDefault(o.domain));
  const from = Number(entry?.version ?? target);
  if (from >= target) return lifted;
  const view = new GraphView(lifted, label);
  const extra: TensorProto[] = [];
  const upgrade = (graph: GraphProto): GraphProto => ({
    ...graph,
    node: (graph.node ?? []).flatMap((n) => upgradeNode(n, view, from, target, extra).map((m) => mapSubgraphs(m, upgrade))),
  });
  const graph = upgrade(lifted.graph!);
  return {
    ...lifted,
    opset_import: (lifted.opset_import ?? []).map((o) => (isDefault(o.domain) ? { ...o, version: target } : o)),
    graph: { ...graph, initializer: [...(graph.initializer ?? []), ...extra] },
  };
}

/** Where QuantizeLinear and DequantizeLinear take an axis (per-channel and per-row scales): readings that need one rebind a model to it. */
export const QDQ_AXIS_OPSET = 13;

/** Where a model of opset 9 or 10 is read when an op's gradient needs GatherElements (see gatherOpsAtOpset11). */
export const GATHER_ELEMENTS_OPSET = 11;

/** Ops of opsets 9–10 whose gradients gather with GatherElements: Scatter (ScatterElements from 11) and MaxUnpool. */
const GATHERING_BACKWARD = ['Scatter', 'MaxUnpool'];

/**
 * A model of opset 9 or 10 that holds the deprecated Scatter (torch.onnx's scatter below opset 11,
 * ScatterElements from 11) or MaxUnpool (MATLAB's SegNet exports at opset 8), rebound to opset 11:
 * their gradients gather with GatherElements, which opset 11 brought.
 */
export function gatherOpsAtOpset11(model: ModelProto, label: string): ModelProto {
  const opset = defaultOpset(model);
  if (opset < 9 || opset >= GATHER_ELEMENTS_OPSET || !opTypes(model.graph!).some((op) => GATHERING_BACKWARD.includes(op))) return model;
  return upgradeOpset(model, GATHER_ELEMENTS_OPSET, label);
}

function upgradeNode(node: NodeProto, view: GraphView, from: number, target: number, extra: TensorProto[]): NodeProto[] {
  if (!isDefault(node.domain)) return [node];
  const op = node.op_type ?? '';
  const crosses = (version: number) => from < version && version <= target;
  const out = node.output![0];
  const { fail, constant } = nodeRebinding(node, view, extra);
  const ints = (suffix: string, values: number[]) => constant(suffix, [values.length], values, DataType.INT64);
  const scalar = (suffix: string, value: number) => constant(suffix, [], [value]);
  const inputs = node.input ?? [];
  /** The node with attribute `name` moved to input position `at` (an int64 constant; '' where the attribute is absent). */
  const attrToInput = (n: NodeProto, name: string, at: number): NodeProto => {
    const values = attrInts(n, name);
    const moved = [...(n.input ?? [])];
    while (moved.length < at) moved.push('');
    moved[at] = values ? ints(name, values) : '';
    while (moved.length && moved[moved.length - 1] === '') moved.pop();
    return { ...withAttrs(n, [name], {}), input: moved };
  };
  if (op in NOT_UPGRADED && crosses(NOT_UPGRADED[op])) fail(`${op} changed its meaning at opset ${NOT_UPGRADED[op]}, which this model would have to be rebound to (opset ${from} → ${target}); export it at opset ${target}`);
  let n = node;
  if (op === 'Slice' && crosses(10)) {
    n = attrToInput(attrToInput(attrToInput(n, 'starts', 1), 'ends', 2), 'axes', 3);
  } else if (op === 'TopK' && crosses(10)) {
    n = { ...withAttrs(n, ['k'], {}), input: [inputs[0], ints('k', [attrInt(n, 'k', 1)])] };
  } else if ((op === 'Upsample' && target >= 11) || (op === 'Resize' && crosses(11))) {
    // Upsample (7–10) and Resize-10: scales only, asymmetric coordinates; onnxruntime floors the
    // nearest tap, or ceils it along an axis it downsamples (scale < 1).
    const mode = attrString(n, 'mode', 'nearest');
    const resize = (x: string, scales: string, nearest: 'floor' | 'ceil', output: string, name = n.name): NodeProto => ({
      ...withAttrs(n, ['mode', 'scales'], { mode, coordinate_transformation_mode: 'asymmetric', ...(mode === 'nearest' ? { nearest_mode: nearest } : {}) }),
      op_type: 'Resize', name, output: [output, ...(n.output ?? []).slice(1)],
      // roi is required at 11 and 12 (empty: unused by these modes), optional from 13.
      input: [x, target < 13 ? constant('roi', [0], []) : '', scales],
    });
    const scales = mode === 'nearest' && op === 'Resize' ? view.constant(inputs[1])?.values ?? fail('nearest Resize-10 with computed scales: onnxruntime ceils the taps along the axes it downsamples, which opset 11 cannot say without knowing them') : [];
    const down = scales.map((v) => v < 1);
    if (!down.some(Boolean)) return [resize(inputs[0], inputs[1], 'floor', out)];
    if (down.every((d, i) => d || scales[i] === 1)) return [resize(inputs[0], inputs[1], 'ceil', out)];
    // Both kinds of axes: nearest resizing is separable, the upsampled axes first, then the others.
    const up = `${out}/upsampled`;
    return [
      resize(inputs[0], constant('scales_up', [scales.length], scales.map((v) => Math.max(v, 1))), 'floor', up),
      resize(up, constant('scales_down', [scales.length], scales.map((v) => Math.min(v, 1))), 'ceil', out, `${n.name ?? out}/downsample`),
    ];
  } else if (op === 'GridSample' && crosses(20)) {
    // GridSample-20 renamed its modes (and its default, the same interpolation).
    const mode = attrString(n, 'mode', '');
    const renamed = ({ bilinear: 'linear', bicubic: 'cubic' } as Record<string, string>)[mode];
    if (renamed) n = withAttrs(n, [], { mode: renamed });
  } else if (op === 'Pad' && crosses(11)) {
    const pads = attrInts(n, 'pads') ?? fail('Pad without pads');
    n = { ...withAttrs(n, ['pads', 'value'], {}), input: [inputs[0], ints('pads', pads), scalar('value', attrFloat(n, 'value', 0))] };
  } else if (op === 'Clip' && crosses(11)) {
    const bound = (name: string) => (hasAttr(n, name) ? scalar(name, attrFloat(n, name, 0)) : '');
    n = { ...withAttrs(n, ['min', 'max'], {}), input: [inputs[0], bound('min'), bound('max')].filter((v, k, all) => v || all.slice(k).some(Boolean)) };
  } else if (op === 'Scatter' && crosses(11)) {
    n = { ...n, op_type: 'ScatterElements' };
  } else if (op === 'Dropout' && crosses(12)) {
    n = withAttrs(n, ['ratio'], {});
  } else if ((op === 'Squeeze' || op === 'Unsqueeze') && crosses(13)) {
    n = attrToInput(n, 'axes', 1);
  } else if (op === 'Split' && crosses(13)) {
    n = attrToInput(n, 'split', 1);
  } else if (op in REDUCE_AXES_INPUT && crosses(REDUCE_AXES_INPUT[op])) {
    n = attrToInput(n, 'axes', 1);
  } else if ((op === 'Softmax' || op === 'LogSoftmax' || op === 'Hardmax') && crosses(13)) {
    const axis = attrInt(n, 'axis', 1);
    const rank = view.rank(inputs[0]);
    if (rank !== undefined && (axis === rank - 1 || axis === -1)) return [withAttrs(n, [], { axis: -1 })];
    // The old meaning: the op over the input flattened into [outer, inner] at `axis`.
    const [shape, flat, flatOut] = ['shape', 'flat', 'flat_out'].map((s) => `${out}/${s}`);
    return [
      { op_type: 'Shape', name: shape, input: [inputs[0]], output: [shape] },
      { op_type: 'Flatten', name: flat, input: [inputs[0]], output: [flat], attribute: [toAttribute('axis', axis)] },
      { ...withAttrs(n, [], { axis: 1 }), input: [flat], output: [flatOut] },
      { op_type: 'Reshape', name: `${out}/reshape`, input: [flatOut, shape], output: [out] },
    ];
  }
  if (op === 'Split' && crosses(18) && !(n.input ?? [])[1]) {
    // From 18 an even split names its number of outputs.
    n = withAttrs(n, [], { num_outputs: (n.output ?? []).length });
  }
  return [n];
}
