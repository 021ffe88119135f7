import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter } from '../rewriter/emitter';
import { DataType, encodeModel, makeTensor, ModelProto, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { centralDifferences } from './support/central';
import { relL2 } from './support/fixtures';
import { rng } from './support/gradcheck';
import { rejects } from './support/rejects';
import { tinyGraph, tinyModel } from './support/tiny-model';

/** Gathers at indices computed at run time: from the input's values, from the batch's size, or fed. */
const [N, L, C] = [3, 4, 3];
const W = Array.from({ length: C * 2 }, (_, k) => Math.sin(3 * k + 1));

/**
 * x [N, 4, 3] → the position of each row with the largest sum, picked from the rows flattened
 * with their batch at ArgMax + Range(N)·4 (torch.onnx's logits[arange(N), i]) → Tanh(· W) [N, 2].
 */
const flatBatchPick = tinyModel([L, C], 13, (em, x) => {
  const at = em.op('ArgMax', [em.reduceSum(x, [2], false)], { axis: 1, keepdims: 0 });
  const rows = em.op('Range', [em.constInt([0], []), em.op('Gather', [em.op('Shape', [x]), em.constInt([0], [])], { axis: 0 }), em.constInt([1], [])]);
  const index = em.add(at, em.mul(rows, em.constInt([L], [])));
  const picked = em.op('Gather', [em.op('Flatten', [x], { axis: 2 }), index], { axis: 0 });
  return em.op('Tanh', [em.matmul(picked, em.constFloat(W, [C, 2]))]);
});

/** x [N, 5] → GatherElements(Tanh(x), ArgMax(x) kept) [N, 1]: the indices follow the input's values on a per-row axis. */
const argmaxElement = tinyModel([5], 13, (em, x) => em.op('GatherElements', [em.op('Tanh', [x]), em.op('ArgMax', [x], { axis: 1, keepdims: 1 })], { axis: 1 }));

/** The tuples (n, i_n) for each row n: i_n from `column` [N] (int64), n from a Range over the batch of x. */
function rowTuples(em: Emitter, x: string, column: string): string {
  const rows = em.op('Range', [em.constInt([0], []), em.op('Gather', [em.op('Shape', [x]), em.constInt([0], [])], { axis: 0 }), em.constInt([1], [])]);
  return em.concat([em.unsqueeze(rows, [1]), em.unsqueeze(column, [1])], 1);
}

/** x [N, 4, 3] → GatherND(Tanh(x), (n, ArgMax of row n's sums)) [N, 3] → · W [N, 2]. */
const tupleArgmaxPick = tinyModel([L, C], 13, (em, x) => {
  const at = em.op('ArgMax', [em.reduceSum(x, [2], false)], { axis: 1, keepdims: 0 });
  return em.matmul(em.op('GatherND', [em.op('Tanh', [x]), rowTuples(em, x, at)]), em.constFloat(W, [C, 2]));
});

/**
 * torch.onnx's h[:, 1] = 2·h[:, 3] (slice assignment): ScatterND(h, (n, 1) for each row, 2·h[:, 3])
 * with h = Tanh(x) [N, l, C], tuples from a Range over the batch → Sigmoid, mean over axis 1, · W.
 */
const sliceAssignOf = (l: number) => tinyModel([l, C], 13, (em, x) => {
  const h = em.op('Tanh', [x]);
  const one = em.op('Gather', [em.op('Shape', [x]), em.constInt([0], [])], { axis: 0 });
  const ones = em.op('Expand', [em.constInt([1], []), em.unsqueeze(one, [0])]);
  const updates = em.mul(em.squeeze(em.slice(h, [3], [4], [1]), [1]), em.scalar(2));
  const written = em.op('ScatterND', [h, rowTuples(em, x, ones), updates]);
  return em.matmul(em.reduceMean(em.op('Sigmoid', [written]), [1], false), em.constFloat(W, [C, 2]));
});
const sliceAssign = sliceAssignOf(L);

/**
 * A mixture-of-experts router: TopK(x, 2) [N, 6] → Softmax of the values, times the experts' outputs
 * Tanh(x)·E picked at the TopK indices (GatherElements) → · W [N, 2]. The indices follow the input.
 */
const E = Array.from({ length: 6 * 6 }, (_, k) => Math.cos(5 * k + 2) * 0.6);
const topkRouter = tinyModel([6], 13, (em, x) => {
  const [values, indices] = em.opN('TopK', [x, em.constInt([2], [1])], 2, { axis: 1 });
  const experts = em.op('Tanh', [em.matmul(x, em.constFloat(E, [6, 6]))]);
  const picked = em.op('GatherElements', [experts, indices], { axis: 1 });
  return em.matmul(em.mul(em.op('Softmax', [values], { axis: 1 }), picked), em.constFloat(W.slice(0, 4), [2, 2]));
});

/**
 * Top-k gates written into a dense [N, 6] gate by ScatterElements at the TopK indices (Shazeer et
 * al.'s noisy top-k gating, torch's zeros_like(logits).scatter(1, top_idx, top_gates)), times the
 * experts Tanh(x)·E → · W [N, 2]; written into zeros (ConstantOfShape) or into an activation.
 */
const scatterGate = (into: 'zeros' | 'activation') => tinyModel([6], 13, (em, x) => {
  const logits = em.matmul(x, em.constFloat(E.map((v) => -v), [6, 6]));
  const [values, indices] = em.opN('TopK', [logits, em.constInt([2], [1])], 2, { axis: 1 });
  const data = into === 'zeros' ? em.op('ConstantOfShape', [em.op('Shape', [logits])]) : em.mul(em.op('Tanh', [x]), em.scalar(0.1));
  const gates = em.op('ScatterElements', [data, indices, em.op('Softmax', [values], { axis: 1 })], { axis: 1 });
  return em.matmul(em.mul(gates, em.op('Tanh', [em.matmul(x, em.constFloat(E, [6, 6]))])), em.constFloat(W.concat(W).slice(0, 12), [6, 2]));
});

/** Tanh(x) [N, 5] plus a step of x read as floats: its ArgMax cast to float, or Where(x > 0, 1, 0). */
const steps = {
  ArgMax: tinyModel([5], 13, (em, x) => em.add(em.op('Tanh', [x]), em.cast(em.op('ArgMax', [x], { axis: 1, keepdims: 1 }), DataType.FLOAT))),
  Greater: tinyModel([5], 13, (em, x) => em.mul(em.op('Tanh', [x]), em.where(em.compare('Greater', x, em.scalar(0)), em.scalar(1), em.scalar(0.5)))),
};

/** x [N, 4, 3] and fed int64 k [N, 2, 3] → Sigmoid(GatherElements(x, k, axis 1)) [N, 2, 3]. */
function fedIndices(): Uint8Array {
  const em = new Emitter(13, DataType.FLOAT, 'fed');
  em.rename(em.op('Sigmoid', [em.op('GatherElements', ['x', 'k'], { axis: 1 })]), 'y');
  const model: ModelProto = {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'onnx-explain tests',
    graph: {
      name: 'fed', node: em.nodes, initializer: em.initializers, output: [{ name: 'y' }],
      input: [valueInfo('x', DataType.FLOAT, ['N', L, C]), valueInfo('k', DataType.INT64, ['N', 2, C])],
    },
  };
  return encodeModel(model);
}

const random = (n: number, seed: number) => { const r = rng(seed); return Float32Array.from({ length: n }, () => r() * 4 - 2); };
const outputOf = async (ex: Explainer, x: Float32Array, dims: number[], feeds = {}) => (await ex.forward({ data: x, dims }, feeds)).y.data;

test('Gather from rows flattened with their batch at indices from ArgMax and Range: gradient = central differences; DeepLIFT sums to delta where the two passes pick the same or other positions', async () => {
  const ex = await Explainer.load(flatBatchPick);
  const x = random(N * L * C, 3);
  const target = [0, 1, 0];
  const g = await ex.attribute({ data: x, dims: [N, L, C] }, { target });
  const row = (i: number) => Math.floor(i / (L * C));
  const fd = await centralDifferences(x, 1e-3, (v) => outputOf(ex, v, [N, L, C]), (i) => row(i) * 2 + target[row(i)]);
  assert.ok(relL2(g.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(g.attributions.data, fd)}`);
  assert.ok(g.attributions.data.some((v) => v === 0) && g.attributions.data.some((v) => v !== 0), 'only the picked positions get a gradient');
  const y = await outputOf(ex, x, [N, L, C]);
  for (const [label, x0] of [['same picks', x.map((v) => v * 0.5)], ['other picks', random(N * L * C, 17)]] as const) {
    const y0 = await outputOf(ex, Float32Array.from(x0), [N, L, C]);
    const d = await ex.attribute({ data: x, dims: [N, L, C] }, { target, method: 'deeplift', baseline: { data: Float32Array.from(x0), dims: [N, L, C] } });
    for (let r = 0; r < N; r++) {
      const sum = d.attributions.data.subarray(r * L * C, (r + 1) * L * C).reduce((s, v) => s + v, 0);
      const want = y[r * 2 + target[r]] - y0[r * 2 + target[r]];
      assert.ok(Math.abs(sum - want) < 1e-5, `${label}, row ${r}: Σ attribution ${sum} vs f(x) − f(x⁰) ${want}`);
    }
  }
});

test('GatherElements at indices from the input\'s ArgMax: gradient = central differences; DeepLIFT sums to delta from one shared reference row (picking within each row) and from per-row baselines', async () => {
  const ex = await Explainer.load(argmaxElement);
  const x = random(N * 5, 5);
  const g = await ex.attribute({ data: x, dims: [N, 5] }, { target: 0 });
  const fd = await centralDifferences(x, 1e-3, (v) => outputOf(ex, v, [N, 5]), (i) => Math.floor(i / 5));
  assert.ok(relL2(g.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(g.attributions.data, fd)}`);
  const y = await outputOf(ex, x, [N, 5]);
  const shared = random(5, 9);
  for (const [label, x0, rows] of [['shared row', shared, 1], ['per-row baselines', random(N * 5, 11), N]] as const) {
    const y0 = await outputOf(ex, Float32Array.from(x0), [rows, 5]);
    const d = await ex.attribute({ data: x, dims: [N, 5] }, { target: 0, method: 'deeplift', baseline: { data: Float32Array.from(x0), dims: [rows, 5] } });
    for (let r = 0; r < N; r++) {
      const sum = d.attributions.data.subarray(r * 5, (r + 1) * 5).reduce((s, v) => s + v, 0);
      const want = y[r] - y0[rows === 1 ? 0 : r];
      assert.ok(Math.abs(sum - want) < 1e-6, `${label}, row ${r}: Σ attribution ${sum} vs f(x) − f(x⁰) ${want}`);
    }
  }
});

/**
 * xr, xi [N, 2, 8, 8] → four complex convolutions, each keeping of every K = 4 channels the one of
 * largest magnitude r² + i² (ArgMax, then GatherElements of the real and imaginary parts: a complex
 * max-pool over channels, as complex-valued nets write it) → the real part, flattened [N, 64].
 */
function complexMaxModel(): ModelProto {
  const em = new Emitter(13, DataType.FLOAT, 'cmax');
  const K = 4;
  let [xr, xi, cin] = ['xr', 'xi', 2];
  [4, 4, 4, 1].forEach((cout, layer) => {
    const weight = (phase: number) => em.constFloat(Array.from({ length: cout * K * cin * 9 }, (_, k) => Math.sin(k * 0.71 + phase + layer) / Math.sqrt(cin * 9)), [cout * K, cin, 3, 3]);
    const [wr, wi] = [weight(0), weight(2)];
    const conv = (x: string, w: string) => em.op('Conv', [x, w], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], strides: [1, 1] });
    const [yr, yi] = [em.sub(conv(xr, wr), conv(xi, wi)), em.add(conv(xi, wr), conv(xr, wi))];
    const grouped = (y: string) => em.reshape(y, [0, cout, K, 8, 8]);
    const at = em.op('ArgMax', [grouped(em.add(em.mul(yr, yr), em.mul(yi, yi)))], { axis: 2, keepdims: 1 });
    const pick = (y: string) => em.squeeze(em.op('GatherElements', [grouped(y), at], { axis: 2 }), [2]);
    [xr, xi, cin] = [pick(yr), pick(yi), cout];
  });
  em.rename(em.op('Flatten', [xr], { axis: 1 }), 'y');
  const input = (name: string) => valueInfo(name, DataType.FLOAT, ['N', 2, 8, 8]);
  return { ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'cmax', node: em.nodes, initializer: em.initializers, input: [input('xr'), input('xi')], output: [{ name: 'y' }] } };
}

test('picks made by another tensor\'s values (a complex max by magnitude, four layers): DeepLIFT sums to f(x) − f(0) within float32 rounding of it (all of δy at a pick that barely moved made multipliers of 10⁴ that float32 cancelled)', async () => {
  const ex = await Explainer.load(encodeModel(complexMaxModel()), { wrt: 'xr' });
  const [xr, xi] = [random(2 * 128, 21), random(2 * 128, 22)];
  const feeds = { xi: { data: xi, dims: [2, 2, 8, 8] } };
  const d = await ex.attribute({ data: xr, dims: [2, 2, 8, 8] }, { method: 'deeplift', target: 36, feeds });
  const y = (await ex.forward({ data: xr, dims: [2, 2, 8, 8] }, feeds)).y.data;
  const y0 = (await ex.forward({ data: new Float32Array(2 * 128), dims: [2, 2, 8, 8] }, feeds)).y.data;
  for (let r = 0; r < 2; r++) {
    const a = d.attributions.data.subarray(r * 128, (r + 1) * 128);
    const [sum, want] = [a.reduce((s, v) => s + v, 0), y[r * 64 + 36] - y0[r * 64 + 36]];
    assert.ok(Math.abs(sum - want) <= 1e-5 * Math.abs(want), `row ${r}: Σ attribution ${sum} vs f(x) − f(x⁰) ${want} (Σ|a| ${a.reduce((s, v) => s + Math.abs(v), 0)})`);
  }
});

test('picks at run-time indices emit no int64 arithmetic (WebGPU runs it on the CPU, and JSEP computed DeepLIFT\'s picks wrong there): the indices are positions gathered as floats, a shared reference row broadcasts by a float Where', async () => {
  const ex = await Explainer.load(argmaxElement);
  for (const method of ['deeplift', 'gradient', 'lrp-epsilon']) {
    const { model } = await ex.augmented([5], { method, target: 0 });
    const producer = new Map(model.graph!.node!.flatMap((n) => (n.output ?? []).map((o) => [o, n] as const)));
    const emitted = model.graph!.node!.filter((n) => (n.name || n.output![0]).startsWith('xpl'));
    const int64 = emitted.filter((n) => n.op_type === 'Shape' || n.op_type === 'Expand' || (n.op_type === 'Cast' && !['Equal', 'Less', 'Greater'].includes(producer.get(n.input![0])?.op_type ?? '')));
    assert.equal(int64.map((n) => `${n.op_type} ${n.name}`), [], method);
  }
});

test('GatherND at tuples (row, ArgMax) and ScatterND at tuples (row, 1) built from the batch\'s size: gradients = central differences; DeepLIFT sums to delta through the slice assignment and refuses the ArgMax tuples in one line', async () => {
  const target = [1, 0, 1];
  const row = (i: number) => Math.floor(i / (L * C));
  for (const model of [tupleArgmaxPick, sliceAssign]) {
    const ex = await Explainer.load(model);
    const x = random(N * L * C, 21);
    const g = await ex.attribute({ data: x, dims: [N, L, C] }, { target });
    const fd = await centralDifferences(x, 1e-3, (v) => outputOf(ex, v, [N, L, C]), (i) => row(i) * 2 + target[row(i)]);
    assert.ok(relL2(g.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(g.attributions.data, fd)}`);
    if (model === sliceAssign) {
      const d = await ex.attribute({ data: x, dims: [N, L, C] }, { target, method: 'deeplift' });
      for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-6, `delta ${delta}`);
      assert.ok(g.attributions.data.every((v, i) => Math.floor(i / C) % L !== 1 || v === 0), 'the overwritten positions get no gradient');
    } else {
      await rejects(() => ex.attribute({ data: x, dims: [N, L, C] }, { target, method: 'deeplift' }), /GatherND.*indices are computed from the explained input/);
    }
  }
});

/** x [N, 4, 3] → GatherND(Tanh(x), ArgMax of each row's sums [N, 1], batch_dims 1) [N, 3] → · W [N, 2] (tf.gather_nd(batch_dims=1)). */
const batchDimsPick = tinyModel([L, C], 13, (em, x) => {
  const at = em.op('ArgMax', [em.reduceSum(x, [2], false)], { axis: 1, keepdims: 1 });
  return em.matmul(em.op('GatherND', [em.op('Tanh', [x]), at], { batch_dims: 1 }), em.constFloat(W, [C, 2]));
});

test('GatherND with batch_dims 1 at ArgMax indices (each row picks within itself): gradient = central differences; DeepLIFT sums to delta', async () => {
  const target = [1, 0, 1];
  const row = (i: number) => Math.floor(i / (L * C));
  const ex = await Explainer.load(batchDimsPick);
  const x = random(N * L * C, 21);
  const g = await ex.attribute({ data: x, dims: [N, L, C] }, { target });
  const fd = await centralDifferences(x, 1e-3, (v) => outputOf(ex, v, [N, L, C]), (i) => row(i) * 2 + target[row(i)]);
  assert.ok(relL2(g.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(g.attributions.data, fd)}`);
  const d = await ex.attribute({ data: x, dims: [N, L, C] }, { target, method: 'deeplift' });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
});

test('ScatterND\'s backward at tuples holding the batch is linear in it: 30,000 rows of 64 positions (a tuples × rows one-hot would hold 5.8·10¹⁰ values) give each row its own gradient', async () => {
  const long = 64;
  const ex = await Explainer.load(sliceAssignOf(long));
  const big = 30000;
  const per = long * C;
  const x = random(big * per, 23);
  const target = Array.from({ length: big }, (_, r) => r % 2);
  const g = await ex.attribute({ data: x, dims: [big, long, C] }, { target });
  const few = await ex.attribute({ data: x.subarray(0, N * per), dims: [N, long, C] }, { target: target.slice(0, N) });
  assert.equal(Array.from(g.attributions.data.subarray(0, N * per)), Array.from(few.attributions.data));
  const last = await ex.attribute({ data: x.subarray((big - 1) * per), dims: [1, long, C] }, { target: [target[big - 1]] });
  assert.equal(Array.from(g.attributions.data.subarray((big - 1) * per)), Array.from(last.attributions.data));
});

/** Gradient = central differences; DeepLIFT sums to delta from a shared reference row and from per-row baselines that pick other positions. */
async function routedSums(model: Uint8Array): Promise<void> {
  const ex = await Explainer.load(model);
  const x = random(N * 6, 31);
  const target = [1, 0, 1];
  const g = await ex.attribute({ data: x, dims: [N, 6] }, { target });
  const fd = await centralDifferences(x, 1e-3, (v) => outputOf(ex, v, [N, 6]), (i) => Math.floor(i / 6) * 2 + target[Math.floor(i / 6)]);
  assert.ok(relL2(g.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(g.attributions.data, fd)}`);
  const y = await outputOf(ex, x, [N, 6]);
  for (const [label, x0, rows] of [['shared row', random(6, 33), 1], ['per-row baselines', random(N * 6, 35), N]] as const) {
    const y0 = await outputOf(ex, Float32Array.from(x0), [rows, 6]);
    const d = await ex.attribute({ data: x, dims: [N, 6] }, { target, method: 'deeplift', baseline: { data: Float32Array.from(x0), dims: [rows, 6] } });
    for (let r = 0; r < N; r++) {
      const sum = d.attributions.data.subarray(r * 6, (r + 1) * 6).reduce((s, v) => s + v, 0);
      const want = y[r * 2 + target[r]] - y0[(rows === 1 ? 0 : r) * 2 + target[r]];
      assert.ok(Math.abs(sum - want) < 1e-5, `${label}, row ${r}: Σ attribution ${sum} vs f(x) − f(x⁰) ${want}`);
    }
  }
}

test('TopK whose indices route to experts (a mixture-of-experts gate): gradient = central differences; DeepLIFT sums to delta through the max rule on the values and the gather at the indices, from a shared row and per-row baselines', () => routedSums(topkRouter));

for (const into of ['zeros', 'activation'] as const) {
  test(`top-k gates scattered into ${into} at the TopK indices (ScatterElements): gradient = central differences; DeepLIFT sums to delta where the passes write other positions`, async () => {
    await routedSums(scatterGate(into));
    // The shared reference row picks other experts than some row of x (so the pick rule, not the gradient's routing, is what sums).
    const top2 = (v: Float32Array, r: number) => {
      const logits = Array.from({ length: 6 }, (_, j) => v.subarray(r * 6, r * 6 + 6).reduce((s, xi, i) => s - xi * E[i * 6 + j], 0));
      return logits.map((l, j) => [l, j]).sort((a, b) => b[0] - a[0]).slice(0, 2).map(([, j]) => j).sort().join();
    };
    const [x, x0] = [random(N * 6, 31), random(6, 33)];
    assert.ok([0, 1, 2].some((r) => top2(x, r) !== top2(x0, 0)), 'some row picks other experts than the reference');
  });
}

test('top-k logits kept in a −Inf mask by ScatterElements, then Softmax: DeepLIFT sums to delta where both passes keep the same positions (blending the written values with the −Inf fill made 0·∞)', async () => {
  const ex = await Explainer.load(tinyModel([6], 13, (em, x) => {
    const logits = em.matmul(x, em.constFloat(E.map((v) => -v), [6, 6]));
    const [values, indices] = em.opN('TopK', [logits, em.constInt([3], [1])], 2, { axis: 1 });
    const masked = em.op('ScatterElements', [em.op('ConstantOfShape', [em.op('Shape', [logits])], { value: makeTensor('value', [1], [-Infinity], DataType.FLOAT) }), indices, values], { axis: 1 });
    return em.matmul(em.op('Softmax', [masked], { axis: 1 }), em.constFloat(W.concat(W).slice(0, 12), [6, 2]));
  }));
  const x = random(N * 6, 39);
  const x0 = x.map((v) => 0.97 * v);
  const [y, y0] = [await outputOf(ex, x, [N, 6]), await outputOf(ex, x0, [N, 6])];
  const d = await ex.attribute({ data: x, dims: [N, 6] }, { target: 1, method: 'deeplift', baseline: { data: x0, dims: [N, 6] } });
  for (let r = 0; r < N; r++) {
    const sum = d.attributions.data.subarray(r * 6, (r + 1) * 6).reduce((s, v) => s + v, 0);
    assert.ok(Math.abs(sum - (y[r * 2 + 1] - y0[r * 2 + 1])) < 1e-6, `row ${r}: Σ attribution ${sum} vs f(x) − f(x⁰) ${y[r * 2 + 1] - y0[r * 2 + 1]}`);
  }
});

test('a scatter-add at indices from the input (the passes add at other positions): gradient = central differences; DeepLIFT refuses in one line', async () => {
  const ex = await Explainer.load(tinyModel([6], 16, (em, x) => {
    const [values, indices] = em.opN('TopK', [x, em.constInt([2], [1])], 2, { axis: 1 });
    return em.op('ScatterElements', [em.op('Tanh', [x]), indices, em.op('Sigmoid', [values])], { axis: 1, reduction: 'add' });
  }));
  const x = random(N * 6, 37);
  const g = await ex.attribute({ data: x, dims: [N, 6] }, { target: 3 });
  const fd = await centralDifferences(x, 1e-3, (v) => outputOf(ex, v, [N, 6]), (i) => Math.floor(i / 6) * 6 + 3);
  assert.ok(relL2(g.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(g.attributions.data, fd)}`);
  await rejects(() => ex.attribute({ data: x, dims: [N, 6] }, { target: 3, method: 'deeplift' }), /\(ScatterElements, opset 16\): its indices are computed from the explained input, so the two passes may write other positions; use integrated-gradients or gradient$/);
});

/**
 * Scatters without reduction that write a position twice (torch.onnx's scatter_add below opset 16):
 * onnxruntime keeps the last write. x [N, 6] → Tanh(x) with Sigmoid(x·E[:, :4]) written at columns
 * 1, 3, 1, 5 (the indices Expanded to the batch: computed at run time) → · W [N, 2]; the same
 * through ScatterND's constant tuples on the transposed [6, N] rows (0, 2, 0); and a fixed-shape
 * ScatterElements whose constant indices repeat per row, explained unbatched.
 */
const repeatedWrites = {
  elements: tinyModel([6], 13, (em, x) => {
    const updates = em.op('Sigmoid', [em.matmul(x, em.constFloat(E.slice(0, 24), [6, 4]))]);
    const indices = em.op('Expand', [em.constInt([1, 3, 1, 5], [1, 4]), em.op('Shape', [updates])]);
    return em.matmul(em.op('ScatterElements', [em.op('Tanh', [x]), indices, updates], { axis: 1 }), em.constFloat(W.concat(W), [6, 2]));
  }),
  nd: tinyModel([6], 13, (em, x) => {
    const t = em.transpose(x, [1, 0]);
    const updates = em.op('Sigmoid', [em.slice(em.matmul(em.constFloat(E, [6, 6]), t), [0], [3], [0])]);
    const written = em.op('ScatterND', [em.op('Tanh', [t]), em.constInt([0, 2, 0], [3, 1]), updates]);
    return em.matmul(em.transpose(written, [1, 0]), em.constFloat(W.concat(W), [6, 2]));
  }),
  fixed: encodeModel(tinyGraph([4, 6], 13, (em, x) => {
    const updates = em.op('Sigmoid', [em.slice(x, [0], [3], [1])]);
    const indices = em.constInt([0, 4, 0, 2, 2, 5, 1, 1, 1, 3, 5, 3], [4, 3]);
    return em.matmul(em.op('ScatterElements', [em.op('Tanh', [x]), indices, updates], { axis: 1 }), em.constFloat(W.concat(W), [6, 2]));
  }).model),
};

for (const [form, model] of Object.entries(repeatedWrites)) {
  test(`a scatter without reduction that writes a position twice (${form}): only the write onnxruntime keeps (the last) gets the gradient = central differences; DeepLIFT sums to delta`, async () => {
    const unbatched = form === 'fixed';
    const ex = await Explainer.load(model, { unbatched });
    const dims = unbatched ? [1, 4, 6] : [N, 6];
    const rows = unbatched ? 4 : N;
    const x = random(rows * 6, 43);
    const target = unbatched ? [[2, 1]] : 1;
    const g = await ex.attribute({ data: x, dims }, { target });
    const fd = await centralDifferences(x, 1e-3, (v) => outputOf(ex, v, dims), (i) => (unbatched ? 2 * 2 + 1 : Math.floor(i / 6) * 2 + 1));
    assert.ok(relL2(g.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(g.attributions.data, fd)}`);
    const d = await ex.attribute({ data: x, dims }, { target, method: 'deeplift' });
    d.delta!.forEach((delta, r) => assert.ok(Math.abs(delta) < 1e-6, `row ${r}: delta ${delta}`));
  });
}

for (const [step, model] of Object.entries(steps)) {
  test(`a float read of a step of the input (${step}): the gradient = central differences; DeepLIFT, whose attributions could not sum to delta, refuses naming the step`, async () => {
    const ex = await Explainer.load(model);
    const x = random(N * 5, 41);
    const g = await ex.attribute({ data: x, dims: [N, 5] }, { target: 2 });
    const fd = await centralDifferences(x, 1e-3, (v) => outputOf(ex, v, [N, 5]), (i) => Math.floor(i / 5) * 5 + 2);
    assert.ok(relL2(g.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(g.attributions.data, fd)}`);
    await rejects(() => ex.attribute({ data: x, dims: [N, 5] }, { target: 2, method: 'deeplift' }), new RegExp(`a step function of 'x' \\(through node '[^']*' \\(${step}, opset 13\\)\\), which differs between the input's and the reference's passes on row 0.*would not sum to f\\(x\\) − f\\(x⁰\\): give a baseline on which it keeps its value .*, or use integrated-gradients or gradient`));
  });
}

test('DeepLIFT\'s refusal of a step under joint attribution names the inputs the step reads (a categorical one-hot), not every explained input', async () => {
  // y = a·w + b + Cast(Equal(Round(b), 1))·3: the numeric a passes no step; b does too.
  const em = new Emitter(13, DataType.FLOAT, 'step');
  const onehot = em.op('Cast', [em.op('Equal', [em.op('Round', ['b']), em.scalar(1)])], { to: DataType.FLOAT });
  em.rename(em.add(em.add(em.matmul('a', em.constFloat([1, -2, 0.5], [3, 1])), 'b'), em.mul(onehot, em.scalar(3))), 'y');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph: { name: 'step', node: em.nodes, initializer: em.initializers, input: [valueInfo('a', DataType.FLOAT, ['N', 3]), valueInfo('b', DataType.FLOAT, ['N', 1])], output: [{ name: 'y' }] } });
  const ex = await Explainer.load(model, { wrt: ['a', 'b'] });
  await rejects(() => ex.attribute({ a: { data: Float32Array.of(1, 2, 3), dims: [1, 3] }, b: { data: Float32Array.of(1), dims: [1, 1] } }, { target: 0, method: 'deeplift' }), /a step function of 'b' \(through node/);
});

test('GatherElements at fed indices (repeats and negative ones): gradient = central differences; DeepLIFT routes as the gradient and sums to delta', async () => {
  const ex = await Explainer.load(fedIndices());
  const x = random(N * L * C, 9);
  const k = { data: BigInt64Array.from([0, 3, -1, 2, 2, 0, 1, 1, 1, -4, 3, 0, 3, 2, 0, 0, -2, 1].map(BigInt)), dims: [N, 2, C] };
  const feeds = { k };
  const target = [[1, 2], [0, 0], [1, 1]];
  const g = await ex.attribute({ data: x, dims: [N, L, C] }, { target, feeds });
  const row = (i: number) => Math.floor(i / (L * C));
  const at = (r: number) => r * 2 * C + target[r][0] * C + target[r][1];
  const fd = await centralDifferences(x, 1e-3, (v) => outputOf(ex, v, [N, L, C], feeds), (i) => at(row(i)));
  assert.ok(relL2(g.attributions.data, fd) < 2e-3, `gradient vs central differences: rel L2 ${relL2(g.attributions.data, fd)}`);
  const d = await ex.attribute({ data: x, dims: [N, L, C] }, { target, feeds, method: 'deeplift' });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-6, `delta ${delta}`);
});

// The passes pick other positions (ArgMax of z = x[3:6]) of h = x[0:3], and h did not move at either pick:
// δy = h[0] − h[1] = −1 has no δx to go to and is not attributed (documented: as DeepLIFT's Where rule). The
// multipliers must not divide δy by those zero δx: every attribution is finite (and 0, δh and z's gradient being 0).
test('GatherElements at indices from another part of the input, where neither pass\'s pick moved: DeepLIFT gives finite (zero) attributions', async () => {
  const model = tinyModel([6], 13, (em, x) => {
    const part = (a: number) => em.slice(x, [a], [a + 3], [1]);
    return em.op('GatherElements', [part(0), em.op('ArgMax', [part(3)], { axis: 1, keepdims: 1 })], { axis: 1 });
  });
  const ex = await Explainer.load(model);
  const r = await ex.attribute({ data: Float32Array.from([1, 2, 3, 5, 0, 0]), dims: [1, 6] }, { method: 'deeplift', target: 0, baseline: { data: Float32Array.from([1, 2, 3, 0, 5, 0]), dims: [1, 6] } });
  assert.equal(Array.from(r.attributions.data), [0, 0, 0, 0, 0, 0]);
});

test.run();
