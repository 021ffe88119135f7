import * as ort from 'onnxruntime-node';
import * as assert from 'uvu/assert';
import { buildAugmented, IO_NAMES, perInput } from '../../rewriter/augment';
import { Attrs, Emitter } from '../../rewriter/emitter';
import { GraphView } from '../../rewriter/graph-view';
import { DataType, encodeModel, makeTensor, ModelProto, NodeProto, TensorProto, valueInfo } from '../../rewriter/proto';
import { gradient } from '../../rules/methods/gradient';
import { probeFacts, InputSpec } from '../../runtime/probe';
import { relL2 } from './fixtures';
import { Explainer } from '../../runtime';
import { nonNativeOps } from '../../rewriter/webgpu-ops';
import { lowerNewOpset, WEBGPU_OPSET } from '../../rewriter/opset-lower';

export interface InputCase {
  shape: number[];
  /** A constant input (initializer) with these values. */
  value?: number[];
  int64?: boolean;
  int32?: boolean;
  /** A constant boolean input (e.g. Where's condition) with `value` as 0/1. */
  bool?: boolean;
  /** An omitted optional input (empty name). */
  omitted?: boolean;
  /** Range of the random values of a graph input (default [-2, 2]). */
  range?: [number, number];
  /** Exact values of a graph input. */
  data?: number[];
}

export interface OpCase {
  op: string;
  /** The op's domain (version 1 of it is imported), e.g. com.microsoft. */
  domain?: string;
  opset: number;
  inputs: InputCase[];
  attrs?: Attrs;
  /** Number of node outputs (default 1); all are seeded. */
  outputs?: number;
  /** Largest accepted relative L2 error against central differences (default 2e-3). */
  tol?: number;
  /** Finite-difference step (default 1e-2). */
  h?: number;
  seed?: number;
  /**
   * The exact gradient of a one-input op's loss Σ r·y with respect to its input x, in float64 (see
   * `elementwise`): each element is then checked to relative error `tol` against it in place of
   * finite differences (which lose every digit where the op saturates).
   */
  exact?: (x: Float32Array, r: Float32Array) => number[];
  /** The loss weights r of a one-output op (default random): a one-hot r explains one output element. */
  weights?: number[];
}

/** `exact` of an element-wise op with derivative f′. */
export const elementwise = (derivative: (x: number) => number) => (x: Float32Array, r: Float32Array): number[] => Array.from(x, (v, j) => r[j] * derivative(v));

/** A small deterministic generator of uniform numbers in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** A one-node model; non-constant inputs become graph inputs x0, x1, ... */
export function singleOpModel(c: OpCase): { model: ModelProto; xs: InputSpec[]; ys: string[] } {
  const initializer: TensorProto[] = [];
  const xs: InputSpec[] = [];
  const names = c.inputs.map((inp, i) => {
    if (inp.omitted) return '';
    if (inp.value) {
      initializer.push(inp.bool
        ? { name: `c${i}`, dims: inp.shape, data_type: DataType.BOOL, raw_data: Uint8Array.from(inp.value, (v) => (v ? 1 : 0)) }
        : makeTensor(`c${i}`, inp.shape, inp.value, inp.int64 ? DataType.INT64 : inp.int32 ? DataType.INT32 : DataType.FLOAT));
      return `c${i}`;
    }
    xs.push({ name: `x${i}`, elemType: DataType.FLOAT, dims: inp.shape });
    return `x${i}`;
  });
  const ys = Array.from({ length: c.outputs ?? 1 }, (_, k) => `y${k}`);
  const em = new Emitter(c.opset, DataType.FLOAT, 'case');
  em.opN(c.op, names, 1, c.attrs ?? {});
  const node: NodeProto = { ...em.nodes[0], output: ys, name: c.op, ...(c.domain ? { domain: c.domain } : {}) };
  const model: ModelProto = {
    ir_version: c.opset >= 21 ? 10 : c.opset >= 19 ? 9 : 8,
    opset_import: [{ domain: '', version: c.opset }, ...(c.domain ? [{ domain: c.domain, version: 1 }] : [])],
    producer_name: 'gradcheck',
    graph: {
      name: c.op, node: [node], initializer: [...initializer, ...em.initializers],
      input: xs.map((x) => valueInfo(x.name, DataType.FLOAT, x.dims)), output: ys.map((y) => ({ name: y })),
    },
  };
  return { model, xs, ys };
}

/** Seeds every output with random weights r_k (or the given ones): loss = Σ_k Σ r_k·y_k, appended as tensor 'loss'. */
function withLoss(model: ModelProto, ys: string[], shapes: number[][], opset: number, rand: () => number, weights?: number[]): { model: ModelProto; r: Float32Array[] } {
  const em = new Emitter(opset, DataType.FLOAT, 'loss');
  const r = shapes.map((s) => Float32Array.from(weights ?? { length: s.reduce((a, b) => a * b, 1) }, (v) => v ?? rand() * 2 - 1));
  const terms = ys.map((y, k) => em.reduceSum(em.mul(y, em.constFloat(r[k], shapes[k])), shapes[k].map((_, i) => i), false));
  em.rename(em.sum(terms), 'loss');
  const g = model.graph!;
  return {
    model: { ...model, graph: { ...g, node: [...g.node!, ...em.nodes], initializer: [...g.initializer!, ...em.initializers], output: [...g.output!, { name: 'loss' }] } },
    r,
  };
}

function lossOf(out: ort.InferenceSession.OnnxValueMapType, ys: string[], r: Float32Array[]): number {
  let total = 0;
  ys.forEach((y, k) => {
    const d = (out[y] as ort.Tensor).data as Float32Array;
    for (let i = 0; i < d.length; i++) total += d[i] * r[k][i];
  });
  return total;
}

/** The gradient graph of c's single op (its first input's gradient, Y 'y0' seeded with ones) at `data`, run on onnxruntime. */
export async function onesSeedGradient(c: OpCase, data: number[]): Promise<Float32Array> {
  const base = singleOpModel(c);
  const view = new GraphView(base.model, c.op);
  const { facts } = await probeFacts(base.model, base.xs, c.op);
  const aug = buildAugmented({ view, facts, batchDynamic: false, method: gradient, input: base.xs[0].name, from: 'y0', options: {} });
  const ys = facts.shapes.get('y0')!;
  const session = await ort.InferenceSession.create(encodeModel(aug), { logSeverityLevel: 3 });
  const out = await session.run({
    [base.xs[0].name]: new ort.Tensor('float32', Float32Array.from(data), c.inputs[0].shape),
    seed: new ort.Tensor('float32', new Float32Array(ys.reduce((a, b) => a * b, 1)).fill(1), ys),
  });
  await session.release();
  return (out.attribution as ort.Tensor).data as Float32Array;
}

/** Asserts the augmented graph's input gradients equal central finite differences. */
export async function gradcheck(c: OpCase): Promise<void> {
  return gradcheckModel(singleOpModel(c), c);
}

/**
 * The same for any model whose float inputs are `base.xs` (described in order by the non-constant
 * entries of c.inputs; c.op names the case) and whose outputs `base.ys` are all seeded.
 * `runnable` rewrites what onnxruntime runs (the model for probing and finite differences, the
 * augmented graph's forward nodes) where it has no kernel for an op; the backward pass is always
 * the one the op's rule emits.
 */
export async function gradcheckModel(base: { model: ModelProto; xs: InputSpec[]; ys: string[] }, c: OpCase, runnable = (m: ModelProto) => m): Promise<void> {
  const rand = rng(c.seed ?? 7);
  const probe = await probeFacts(runnable(base.model), base.xs, c.op);
  const yShapes = base.ys.map((y) => probe.facts.shapes.get(y)!);
  const { model, r } = withLoss(base.model, base.ys, yShapes, c.opset, rand, c.weights);
  // Read at opset 21 where the explainer reads it so (rewriter/opset-lower.ts).
  const view = new GraphView(lowerNewOpset(model), c.op);
  const { facts } = await probeFacts(runnable(model), base.xs, c.op);
  const names = base.xs.map((x) => x.name);
  const aug = buildAugmented({ view, facts, batchDynamic: false, method: gradient, input: names[0], inputs: names, from: 'loss', options: {} });
  // A model that keeps an op from after opset 21 (Swish, TensorScatter) stays past the last kernel
  // versions of some WebGPU ops: there every emitted op must still be one of the native kinds.
  const foreign = nonNativeOps(aug.graph!.node!, view.nodes.length, Math.min(view.opset, WEBGPU_OPSET));
  assert.equal(foreign, [], `${c.op}: emitted ops outside the WebGPU-native list`);
  const values = base.xs.map((x, i) => {
    const inp = c.inputs.filter((q) => !q.omitted && !q.value)[i];
    const [lo, hi] = inp.range ?? [-2, 2];
    const n = x.dims.reduce((a, b) => a * b, 1);
    return Float32Array.from(inp.data ?? Array.from({ length: n }, () => lo + (hi - lo) * rand()));
  });
  const feeds = (vals: Float32Array[]) => Object.fromEntries(base.xs.map((x, i) => [x.name, new ort.Tensor('float32', vals[i], x.dims)]));
  const augSession = await ort.InferenceSession.create(encodeModel(runnable(aug)), { logSeverityLevel: 3 });
  const got = await augSession.run({ ...feeds(values), seed: new ort.Tensor('float32', Float32Array.from([1]), []) });
  const fwd = await ort.InferenceSession.create(encodeModel(runnable(base.model)), { logSeverityLevel: 3 });
  const h = c.h ?? 1e-2;
  for (let i = 0; i < base.xs.length; i++) {
    const analytic = (got[perInput(IO_NAMES.attribution, base.xs[i].name)] as ort.Tensor).data as Float32Array;
    if (c.exact) {
      c.exact(values[i], r[0]).forEach((expected, j) => {
        assert.ok(Math.abs(analytic[j] - expected) <= (c.tol ?? 2e-3) * Math.abs(expected), `${c.op} at x[${j}] = ${values[i][j]}: ${analytic[j]} against ${expected}`);
      });
      continue;
    }
    const numeric = new Float64Array(values[i].length);
    for (let j = 0; j < values[i].length; j++) {
      const plus = values.map((v) => Float32Array.from(v));
      const minus = values.map((v) => Float32Array.from(v));
      plus[i][j] += h;
      minus[i][j] -= h;
      numeric[j] = (lossOf(await fwd.run(feeds(plus)), base.ys, r) - lossOf(await fwd.run(feeds(minus)), base.ys, r)) / (2 * h);
    }
    const err = relL2(analytic, numeric);
    assert.ok(err <= (c.tol ?? 2e-3), `${c.op} opset ${c.opset} input ${i}: relative L2 error ${err.toExponential(2)} vs finite differences\n analytic ${Array.from(analytic.slice(0, 8)).map((v) => v.toFixed(4))}\n numeric  ${Array.from(numeric.slice(0, 8)).map((v) => v.toFixed(4))}`);
  }
  await augSession.release();
  await fwd.release();
}

/** The one-node model of c with node outputs named `outputs` ('' for omitted ones), `ys` its seeded graph outputs. */
export function withNodeOutputs(c: OpCase, outputs: string[], ys = outputs.filter(Boolean)): { model: ModelProto; xs: InputSpec[]; ys: string[] } {
  const base = singleOpModel(c);
  const g = base.model.graph!;
  return { ...base, ys, model: { ...base.model, graph: { ...g, node: [{ ...g.node![0], output: outputs }], output: ys.map((name) => ({ name })) } } };
}

/** The one-line error explaining a single-op model gives, through the Explainer (validation first), or 'accepted'. */
export async function refusal(c: OpCase): Promise<string> {
  const ex = await Explainer.load(encodeModel(singleOpModel(c).model));
  const shape = c.inputs[0].shape;
  return ex.attribute({ data: new Float32Array(shape.reduce((a, b) => a * b, 1)), dims: shape }, { method: 'gradient', target: 0 }).then(() => 'accepted', (e: Error) => e.message);
}
