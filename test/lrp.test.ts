import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../runtime';
import { Emitter, float } from '../rewriter/emitter';
import { DataType, decodeModel, encodeModel } from '../rewriter/proto';
import { tinyGraph, tinyModel } from './support/tiny-model';
import { rejects } from './support/rejects';

// One Gemm layer z = x·W + b: the LRP formulas computed directly for comparison.
const x = [1.5, -0.5, 2];
const W = [0.4, -1, 0.3, 0.8, -0.6, 0.2]; // [3, 2] row-major
const b = [0.1, -0.3];
const seed = [1, 0]; // explain class 0: R_out = seed ⊙ z
const w = (i: number, j: number) => W[i * 2 + j];
const z = [0, 1].map((j) => x.reduce((s, xi, i) => s + xi * w(i, j), b[j]));
const R = z.map((zj, j) => seed[j] * zj);

function model(withBias: boolean): Uint8Array {
  return tinyModel([3], 13, (em, input) => em.op('Gemm', withBias ? [input, em.constFloat(W, [3, 2]), em.constFloat(b, [2])] : [input, em.constFloat(W, [3, 2])]));
}

async function relevance(method: string, withBias: boolean, epsilon?: number): Promise<Float32Array> {
  const ex = await Explainer.load(model(withBias));
  const r = await ex.attribute({ data: Float32Array.from(x), dims: [1, 3] }, { method, target: 0, epsilon });
  return r.attributions.data;
}

const near = (a: ArrayLike<number>, e: number[], tol = 1e-5) => e.every((v, i) => Math.abs(a[i] - v) <= tol * Math.max(1, Math.abs(v)));

test('LRP-ε: R_i = x_i Σ_j w_ij R_j / (z_j + ε·sign z_j), bias inside z', async () => {
  const eps = 0.25;
  const expected = x.map((xi, i) => [0, 1].reduce((s, j) => s + (xi * w(i, j) * R[j]) / (z[j] + eps * (z[j] >= 0 ? 1 : -1)), 0));
  const got = await relevance('lrp-epsilon', true, eps);
  assert.ok(near(got, expected), `got ${Array.from(got)} expected ${expected}`);
});

test('LRP-αβ (α=2, β=1) splits positive and negative contributions', async () => {
  const zb = [0, 1].map((j) => x.reduce((s, xi, i) => s + xi * w(i, j), 0));
  const Rb = zb.map((zj, j) => seed[j] * zj);
  const plus = [0, 1].map((j) => x.reduce((s, xi, i) => s + Math.max(0, xi * w(i, j)), 0));
  const minus = [0, 1].map((j) => x.reduce((s, xi, i) => s + Math.min(0, xi * w(i, j)), 0));
  const expected = x.map((xi, i) => [0, 1].reduce((s, j) => s + (2 * Math.max(0, xi * w(i, j)) / plus[j] - Math.min(0, xi * w(i, j)) / minus[j]) * Rb[j], 0));
  const got = await relevance('lrp-alphabeta', false);
  assert.ok(near(got, expected, 1e-4), `got ${Array.from(got)} expected ${expected}`);
  assert.ok(Math.abs(got.reduce((s, v) => s + v, 0) - Rb[0]) < 1e-4, 'α − β = 1 conserves relevance');
});

test('LRP-z⁺ gives each input its share of the positive contributions', async () => {
  const zb = [0, 1].map((j) => x.reduce((s, xi, i) => s + xi * w(i, j), 0));
  const plus = [0, 1].map((j) => x.reduce((s, xi, i) => s + Math.max(0, xi * w(i, j)), 0));
  const expected = x.map((xi, i) => [0, 1].reduce((s, j) => s + (Math.max(0, xi * w(i, j)) / plus[j]) * seed[j] * zb[j], 0));
  const got = await relevance('lrp-zplus', false);
  assert.ok(near(got, expected, 1e-4), `got ${Array.from(got)} expected ${expected}`);
});

test('LRP passes relevance through Relu unchanged', async () => {
  const bytes = tinyModel([3], 13, (em, input) => em.op('Relu', [em.op('Gemm', [input, em.constFloat(W, [3, 2]), em.constFloat(b, [2])])]));
  const ex = await Explainer.load(bytes);
  const xr = [1.5, -0.5, -2];
  const z0 = xr.reduce((s, xi, i) => s + xi * w(i, 0), b[0]);
  const r = await ex.attribute({ data: Float32Array.from(xr), dims: [1, 3] }, { method: 'lrp-epsilon', target: 0, epsilon: 1e-9 });
  // z_0 > 0, so relu(z_0) = z_0 and the relevance below the Relu is x_i·w_i0 (z_0 / z_0).
  assert.ok(z0 > 0 && near(r.attributions.data, xr.map((xi, i) => xi * w(i, 0))), `got ${Array.from(r.attributions.data)}`);
});


test('LRP-ε conserves relevance through products of n activations, a divisor that is an activation and Gemm with an activation summand', async () => {
  // A batch-1 model (Gemm's operands hold the row); no biases: Σ R at the input = f(x) (up to ε), whatever the product's number of factors.
  const proj = (em: Emitter, v: string, k: number) => em.matmul(v, em.constFloat(Array.from({ length: 16 }, (_, i) => Math.sin(3 * i + k)), [4, 4]));
  const bodies: Record<string, (em: Emitter, v: string) => string> = {
    'Einsum of three': (em, v) => em.op('Einsum', [proj(em, v, 1), proj(em, v, 2), proj(em, v, 3)], { equation: 'bi,bi,bj->bj' }),
    'Mul of two': (em, v) => em.mul(proj(em, v, 1), proj(em, v, 2)),
    'Div by an activation': (em, v) => em.div(proj(em, v, 1), em.add(em.mul(proj(em, v, 2), proj(em, v, 2)), em.scalar(1))),
    'Gemm of two with an activation C': (em, v) => em.op('Gemm', [proj(em, v, 1), em.reshape(em.op('Tile', [proj(em, v, 2), em.constInt([1, 4])]), [4, 4]), proj(em, v, 3)]),
  };
  const missed: string[] = [];
  for (const [name, body] of Object.entries(bodies)) {
    const ex = await Explainer.load(encodeModel(tinyGraph([1, 4], 13, body).model));
    const r = await ex.attribute({ data: Float32Array.from([0.7, -1.2, 0.4, 1.5]), dims: [1, 4] }, { method: 'lrp-epsilon', target: 2, epsilon: 1e-9 });
    const y = r.outputs[ex.outputNames[0]].data[2];
    if (!(Math.abs(r.delta![0]) <= 1e-5 * Math.max(1, Math.abs(y)))) missed.push(`${name}: Σ R − f(x) = ${r.delta![0]} for f(x) = ${y}`);
  }
  assert.equal(missed, []);
});

// An LSTM's gates took half of every product's relevance and passed it through their pre-activations, whose z is
// near 0 where the bias cancels the input: relevance grew to 10¹⁵ on Keras LSTMs over 30 steps (f(x) of order 1).
test('LRP-ε: a gate (Sigmoid, HardSigmoid, a part of one, one minus a gate) multiplying a signal is a constant weight: the signal keeps the relevance, R_i = x_i·ws_i·g', async () => {
  const ws = [0.7, -0.4, 0.9];
  const wg = [0.3, 0.5, -0.2];
  const dot = (v: number[]) => x.reduce((s, xi, i) => s + xi * v[i], 0);
  const gates: [string, (em: Emitter, a: string) => string, (a: number) => number][] = [
    ['Sigmoid', (em, a) => em.op('Sigmoid', [a]), (a) => 1 / (1 + Math.exp(-a))],
    ['HardSigmoid', (em, a) => em.op('HardSigmoid', [a], { alpha: float(0.2), beta: float(0.5) }), (a) => Math.min(1, Math.max(0, 0.2 * a + 0.5))],
    ['1 − Sigmoid', (em, a) => em.sub(em.scalar(1), em.op('Sigmoid', [a])), (a) => 1 - 1 / (1 + Math.exp(-a))],
    // An unrolled LSTM's i, o and f gates: one Sigmoid over the block, split.
    ['Split of a Sigmoid', (em, a) => em.split(em.op('Sigmoid', [em.concat([a, em.mul(a, em.scalar(2))], 1)]), 1, [1, 1])[0], (a) => 1 / (1 + Math.exp(-a))],
  ];
  for (const [what, gate, value] of gates) {
    const m = tinyModel([3], 13, (em, input) => em.mul(gate(em, em.matmul(input, em.constFloat(wg, [3, 1]))), em.matmul(input, em.constFloat(ws, [3, 1]))));
    const r = await (await Explainer.load(m)).attribute({ data: Float32Array.from(x), dims: [1, 3] }, { method: 'lrp-epsilon', target: 0 });
    const g = value(dot(wg));
    assert.ok(near(r.attributions.data, x.map((xi, i) => xi * ws[i] * g)), `${what}: ${Array.from(r.attributions.data)}`);
  }
});


// Relevance passed unchanged through an InstanceNorm reached 10¹⁷ in a style-transfer net: inputs near zero took the
// relevance of normalised values that the centring had moved away from zero.
for (const op of ['InstanceNormalization', 'LayerNormalization'] as const) {
  test(`LRP-ε through ${op} with σ held constant (LN-rule): R_x = x/σ · (u − mean u), u = γ·R/(y + ε)`, async () => {
    const [C, L] = [2, 4];
    const gamma = op === 'InstanceNormalization' ? [1.5, -0.5] : [1.5, -0.5, 0.8, 1.1];
    const beta = op === 'InstanceNormalization' ? [0.2, 0.1] : [0.2, 0.1, -0.3, 0.05];
    const V = [0.7, -0.4, 0.9, 0.3, -0.8, 0.5, 0.2, -0.6];
    const ex = await Explainer.load(encodeModel(tinyGraph(['N', C, L], 17, (em, input) => {
      const norm = op === 'InstanceNormalization'
        ? em.op(op, [input, em.constFloat(gamma, [C]), em.constFloat(beta, [C])], { epsilon: float(1e-5) })
        : em.op(op, [input, em.constFloat(gamma, [L]), em.constFloat(beta, [L])], { axis: -1, epsilon: float(1e-5) });
      return em.matmul(em.op('Flatten', [norm], { axis: 1 }), em.constFloat(V, [C * L, 1]));
    }).model));
    const xs = [0.3, -1.2, 0.05, 2.1, -0.4, 0.9, 1.6, -0.7];
    const r = await ex.attribute({ data: Float32Array.from(xs), dims: [1, C, L] }, { method: 'lrp-epsilon', target: 0, epsilon: 1e-9 });
    // Each channel's L values are normalised (InstanceNorm over its length, LayerNorm over the last axis: the same groups here).
    const want = [0, 1].flatMap((c) => {
      const row = xs.slice(c * L, (c + 1) * L);
      const mu = row.reduce((a, v) => a + v, 0) / L;
      const sigma = Math.sqrt(row.reduce((a, v) => a + (v - mu) ** 2, 0) / L + 1e-5);
      const g = (k: number) => (op === 'InstanceNormalization' ? gamma[c] : gamma[k]);
      // The MatMul has no bias: R_y = y·V/(Σ y·V)·f = y·V, so R_y/y = V; u = γ·V.
      const u = row.map((_, k) => g(k) * V[c * L + k]);
      const mean = u.reduce((a, v) => a + v, 0) / L;
      return row.map((v, k) => (v / sigma) * (u[k] - mean));
    });
    assert.ok(near(r.attributions.data, want, 1e-4), `${Array.from(r.attributions.data)} vs ${want}`);
  });
}

test('a layer exported as MatMul and a bias Add (torch\'s Linear on [N, T, d], tf2onnx\'s Dense) or a Sub of the negated bias is one layer, as the same layer as Gemm, and a weight on the left (W·x) is a weight: equal relevance for every LRP method', async () => {
  // Two layers z1 = relu(x·W1 + b1), z2 = z1·W2 + b2 on one position; the Gemm form is the formulas' reference (tests above).
  const W1 = [0.4, -1, 0.3, 0.8, -0.6, 0.2, 0.5, -0.2, 0.7, 0.1, -0.4, 0.9]; // [3, 4]
  const b1 = [0.1, -0.3, 0.2, 0.05];
  const W2 = [0.6, -0.5, -0.3, 0.8, 0.2, 0.4, -0.7, 0.1]; // [4, 2]
  const b2 = [-0.1, 0.2];
  const transpose = (m: number[], rows: number, cols: number) => Array.from({ length: rows * cols }, (_, k) => m[(k % rows) * cols + Math.floor(k / rows)]);
  const gemm = encodeModel(tinyGraph(['N', 3], 13, (em, v) => em.op('Gemm', [em.op('Relu', [em.op('Gemm', [v, em.constFloat(W1, [3, 4]), em.constFloat(b1, [4])])]), em.constFloat(W2, [4, 2]), em.constFloat(b2, [2])])).model);
  const matmulAdd = encodeModel(tinyGraph(['N', 1, 3], 13, (em, v) => em.add(em.matmul(em.op('Relu', [em.add(em.matmul(v, em.constFloat(W1, [3, 4])), em.constFloat(b1, [4]))]), em.constFloat(W2, [4, 2])), em.constFloat(b2, [2]))).model);
  const negated = (b: number[]) => b.map((v) => -v);
  const matmulSub = encodeModel(tinyGraph(['N', 1, 3], 13, (em, v) => em.sub(em.matmul(em.op('Relu', [em.sub(em.matmul(v, em.constFloat(W1, [3, 4])), em.constFloat(negated(b1), [4]))]), em.constFloat(W2, [4, 2])), em.constFloat(negated(b2), [2]))).model);
  // Column vectors: z1ᵀ = relu(W1ᵀ·xᵀ + b1ᵀ), the weight the MatMul's first operand.
  const leftWeights = encodeModel(tinyGraph(['N', 3, 1], 13, (em, v) => em.add(em.matmul(em.constFloat(transpose(W2, 4, 2), [2, 4]), em.op('Relu', [em.add(em.matmul(em.constFloat(transpose(W1, 3, 4), [4, 3]), v), em.constFloat(b1, [4, 1]))])), em.constFloat(b2, [2, 1]))).model);
  const input = [1.5, -0.5, 2, -1, 0.25, 0.75];
  for (const method of ['lrp-epsilon', 'lrp-alphabeta', 'lrp-zplus']) {
    for (const epsilon of [1e-6, 0.1]) {
      const at = async (bytes: Uint8Array, dims: number[], target: number | number[][]) => Array.from((await (await Explainer.load(bytes)).attribute({ data: Float32Array.from(input), dims }, { method, target, epsilon })).attributions.data);
      const want = await at(gemm, [2, 3], 1);
      const got = await at(matmulAdd, [2, 1, 3], [[0, 1], [0, 1]]);
      assert.ok(near(got, want, 1e-6), `${method} ε ${epsilon}: MatMul + Add ${got} vs Gemm ${want}`);
      const subtracted = await at(matmulSub, [2, 1, 3], [[0, 1], [0, 1]]);
      assert.ok(near(subtracted, want, 1e-6), `${method} ε ${epsilon}: MatMul − (−b) ${subtracted} vs Gemm ${want}`);
      const left = await at(leftWeights, [2, 3, 1], [[1, 0], [1, 0]]);
      assert.ok(near(left, want, 1e-6), `${method} ε ${epsilon}: W·x ${left} vs Gemm ${want}`);
    }
  }
});

test('LRP through the forms exporters write: GELU as x·(1 + erf(x/√2))·½ passes relevance as the GELU op does, x·(1/σ) (RMSNorm\'s x·rsqrt) as x/σ does, and a weight read through a Transpose (no constant folding) is a weight', async () => {
  const W1 = [0.4, -1, 0.3, 0.8, -0.6, 0.2, 0.5, -0.2, 0.7, 0.1, -0.4, 0.9]; // [3, 4]
  const b1 = [0.1, -0.3, 0.2, 0.05];
  const W2 = [0.6, -0.5, -0.3, 0.8, 0.2, 0.4, -0.7, 0.1]; // [4, 2]
  const transpose = (m: number[], rows: number, cols: number) => Array.from({ length: rows * cols }, (_, k) => m[(k % rows) * cols + Math.floor(k / rows)]);
  const input = [1.5, -0.5, 2, -1, 0.25, 0.75];
  const net = (middle: (em: Emitter, h: string) => string, first?: (em: Emitter, v: string) => string, domains: { domain: string; version: number }[] = []) => encodeModel(tinyGraph(['N', 1, 3], 13, (em, v) => {
    const h = first ? first(em, v) : em.add(em.matmul(v, em.constFloat(W1, [3, 4])), em.constFloat(b1, [4]));
    return em.add(em.matmul(middle(em, h), em.constFloat(W2, [4, 2])), em.constFloat([-0.1, 0.2], [2]));
  }, domains).model);
  const lrp = async (bytes: Uint8Array, method: string, epsilon: number) => Array.from((await (await Explainer.load(bytes)).attribute({ data: Float32Array.from(input), dims: [2, 1, 3] }, { method, target: [[0, 1], [0, 0]], epsilon })).attributions.data);
  const gelu = net((em, h) => em.op('Gelu', [h], {}, 'Gelu'), undefined, [{ domain: 'com.microsoft', version: 1 }]);
  const geluNode = (bytes: Uint8Array) => { const m = decodeModel(bytes); m.graph!.node!.find((n) => n.op_type === 'Gelu')!.domain = 'com.microsoft'; return encodeModel(m); };
  const exportedGelu = net((em, h) => em.mul(em.mul(h, em.add(em.op('Erf', [em.div(h, em.scalar(Math.SQRT2))]), em.scalar(1))), em.scalar(0.5)));
  const sigma = (em: Emitter, h: string) => em.op('Sqrt', [em.add(em.reduceMean(em.mul(h, h), [-1], true), em.scalar(1e-5))]);
  const divided = net((em, h) => em.div(h, sigma(em, h)));
  const reciprocal = net((em, h) => em.mul(h, em.op('Reciprocal', [sigma(em, h)])));
  const folded = net((em, h) => em.op('Relu', [h]));
  const transposed = net((em, h) => em.op('Relu', [h]), (em, v) => em.add(em.matmul(v, em.op('Transpose', [em.constFloat(transpose(W1, 3, 4), [4, 3])], { perm: [1, 0] })), em.constFloat(b1, [4])));
  for (const method of ['lrp-epsilon', 'lrp-alphabeta', 'lrp-zplus']) {
    const [want, got] = [await lrp(geluNode(gelu), method, 1e-6), await lrp(exportedGelu, method, 1e-6)];
    assert.ok(near(got, want, 1e-4), `${method} GELU: exported ${got} vs op ${want}`);
    for (const epsilon of [1e-6, 0.1]) {
      const [byDiv, byReciprocal] = [await lrp(divided, method, epsilon), await lrp(reciprocal, method, epsilon)];
      assert.ok(near(byReciprocal, byDiv, 1e-5), `${method} ε ${epsilon}: x·(1/σ) ${byReciprocal} vs x/σ ${byDiv}`);
      const [constant, throughTranspose] = [await lrp(folded, method, epsilon), await lrp(transposed, method, epsilon)];
      assert.ok(near(throughTranspose, constant, 1e-6), `${method} ε ${epsilon}: W through a Transpose ${throughTranspose} vs W ${constant}`);
    }
  }
});

test('LRP through hard-swish written out, x·Clip(x + 3, 0, 6)/6 (paddle2onnx, tf2onnx\'s Relu6) or x·(Clip(x + 3, 0, 6)·⅙) and x·(Clip(x + 3, 0, 6)/6), with bounds as inputs or attributes, or with Min, Max and Relu: the clip is a gate, so the relevance passes as through the HardSwish op; so is an SE gate moved by Reshape and Expand', async () => {
  const W1 = [0.4, -1, 0.3, 0.8, -0.6, 0.2, 0.5, -0.2, 0.7, 0.1, -0.4, 0.9]; // [3, 4]
  const W2 = [0.6, -0.5, -0.3, 0.8, 0.2, 0.4, -0.7, 0.1]; // [4, 2]
  const input = [1.5, -0.5, 2, -1, 0.25, 0.75, 4, -5, 3];
  const net = (opset: number, middle: (em: Emitter, h: string) => string) => encodeModel(tinyGraph(['N', 1, 3], opset, (em, v) => {
    const h = em.add(em.matmul(v, em.constFloat(W1, [3, 4])), em.constFloat([0.1, -0.3, 0.2, 0.05], [4]));
    return em.add(em.matmul(middle(em, h), em.constFloat(W2, [4, 2])), em.constFloat([-0.1, 0.2], [2]));
  }).model);
  const lrp = async (bytes: Uint8Array, method: string) => Array.from((await (await Explainer.load(bytes)).attribute({ data: Float32Array.from(input), dims: [3, 1, 3] }, { method, target: [[0, 1], [0, 0], [0, 1]], epsilon: 1e-6 })).attributions.data);
  const shifted = (em: Emitter, h: string) => em.add(h, em.scalar(3));
  const forms = {
    'x·Clip/6': net(14, (em, h) => em.div(em.mul(h, em.op('Clip', [shifted(em, h), em.scalar(0), em.scalar(6)])), em.scalar(6))),
    'x·(Clip·⅙)': net(14, (em, h) => em.mul(h, em.mul(em.op('Clip', [shifted(em, h), em.scalar(0), em.scalar(6)]), em.scalar(1 / 6)))),
    'x·(Clip/6)': net(14, (em, h) => em.mul(h, em.div(em.op('Clip', [shifted(em, h), em.scalar(0), em.scalar(6)]), em.scalar(6)))),
    'x·Clip/6 at opset 9': net(9, (em, h) => em.div(em.mul(h, em.op('Clip', [shifted(em, h)], { min: float(0), max: float(6) })), em.scalar(6))),
    'x·Min(Relu(x + 3), 6)/6': net(14, (em, h) => em.div(em.mul(h, em.op('Min', [em.op('Relu', [shifted(em, h)]), em.scalar(6)])), em.scalar(6))),
    'x·Min(Max(x + 3, 0), 6)/6': net(14, (em, h) => em.div(em.mul(h, em.op('Min', [em.op('Max', [shifted(em, h), em.scalar(0)]), em.scalar(6)])), em.scalar(6))),
    'x·Max(Min(x + 3, 6), 0)/6': net(14, (em, h) => em.div(em.mul(h, em.op('Max', [em.scalar(0), em.op('Min', [shifted(em, h), em.scalar(6)])])), em.scalar(6))),
  };
  // The classic squeeze-excitation block, x · y.view(N, 1, 1).expand_as(x): a gate moved by Reshape and Expand is a gate.
  const squeezed = (em: Emitter, h: string, keepdims: boolean) => em.op('Sigmoid', [em.mul(em.reduceMean(h, [2], keepdims), em.scalar(0.7))]);
  const se = net(14, (em, h) => em.mul(h, squeezed(em, h, true)));
  const moved = net(14, (em, h) => em.mul(h, em.op('Expand', [em.reshape(squeezed(em, h, false), [-1, 1, 1]), em.constInt([1, 1, 4])])));
  for (const method of ['lrp-epsilon', 'lrp-alphabeta', 'lrp-zplus']) {
    const [want, got] = [await lrp(se, method), await lrp(moved, method)];
    assert.ok(near(got, want, 1e-5), `${method} SE gate through Reshape and Expand: ${got} vs ${want}`);
  }
  const op = net(14, (em, h) => em.op('HardSwish', [h]));
  for (const method of ['lrp-epsilon', 'lrp-alphabeta', 'lrp-zplus']) {
    const want = await lrp(op, method);
    for (const [form, bytes] of Object.entries(forms)) {
      const got = await lrp(bytes, method);
      assert.ok(near(got, want, 1e-4), `${method} ${form}: ${got} vs HardSwish ${want}`);
    }
  }
});

test('LRP through smooth activations written out — σ as 1/(1 + e^−x) by Div or Reciprocal, softplus as log(1 + eˣ), tanh as 2σ(2x) − 1 — passes relevance as their ops do (the added constants took a share: from 0 to 4.2 times f(x) conserved)', async () => {
  const W1 = [0.4, -1, 0.3, 0.8, -0.6, 0.2, 0.5, -0.2, 0.7, 0.1, -0.4, 0.9]; // [3, 4]
  const W2 = [0.6, -0.5, -0.3, 0.8, 0.2, 0.4, -0.7, 0.1]; // [4, 2]
  const input = [1.5, -0.5, 2, -1, 0.25, 0.75];
  const net = (middle: (em: Emitter, h: string) => string) => encodeModel(tinyGraph(['N', 1, 3], 13, (em, v) => {
    const h = em.add(em.matmul(v, em.constFloat(W1, [3, 4])), em.constFloat([0.1, -0.3, 0.2, 0.05], [4]));
    return em.add(em.matmul(middle(em, h), em.constFloat(W2, [4, 2])), em.constFloat([-0.1, 0.2], [2]));
  }).model);
  const lrp = async (bytes: Uint8Array, method: string) => Array.from((await (await Explainer.load(bytes)).attribute({ data: Float32Array.from(input), dims: [2, 1, 3] }, { method, target: [[0, 1], [0, 0]], epsilon: 1e-9 })).attributions.data);
  const written: [string, (em: Emitter, h: string) => string, (em: Emitter, h: string) => string][] = [
    ['σ as 1/(1 + e^−x)', (em, h) => em.op('Sigmoid', [h]), (em, h) => em.div(em.scalar(1), em.add(em.scalar(1), em.op('Exp', [em.neg(h)])))],
    ['σ as Reciprocal(e^−x + 1)', (em, h) => em.op('Sigmoid', [h]), (em, h) => em.op('Reciprocal', [em.add(em.op('Exp', [em.neg(h)]), em.scalar(1))])],
    ['softplus as log(1 + eˣ)', (em, h) => em.op('Softplus', [h]), (em, h) => em.op('Log', [em.add(em.scalar(1), em.op('Exp', [h]))])],
    ['tanh as 2σ(2x) − 1', (em, h) => em.op('Tanh', [h]), (em, h) => em.sub(em.mul(em.scalar(2), em.op('Sigmoid', [em.mul(h, em.scalar(2))])), em.scalar(1))],
  ];
  for (const method of ['lrp-epsilon', 'lrp-alphabeta', 'lrp-zplus']) {
    for (const [form, op, out] of written) {
      const [want, got] = [await lrp(net(op), method), await lrp(net(out), method)];
      assert.ok(near(got, want, 1e-4), `${method} ${form}: ${got} vs the op ${want}`);
    }
  }
});

test('LRP through a squeeze-and-excitation gate over a ReLU6 signal (MobileNet\'s Clip(conv, 0, 6) · σ(…)): the signal takes all, as with the gate\'s values held constant', async () => {
  const W1 = [0.4, -1, 0.3, 0.8, -0.6, 0.2, 0.5, -0.2, 0.7, 0.1, -0.4, 0.9]; // [3, 4]
  const W2 = [0.6, -0.5, -0.3, 0.8, 0.2, 0.4, -0.7, 0.1]; // [4, 2]
  const input = [1.5, -0.5, 2];
  const hidden = (em: Emitter, v: string) => em.op('Clip', [em.add(em.matmul(v, em.constFloat(W1, [3, 4])), em.constFloat([0.1, -0.3, 0.2, 0.05], [4])), em.scalar(0), em.scalar(6)]);
  const net = (gate: (em: Emitter, s: string) => string) => encodeModel(tinyGraph(['N', 1, 3], 13, (em, v) => {
    const s = hidden(em, v);
    return em.add(em.matmul(em.mul(s, gate(em, s)), em.constFloat(W2, [4, 2])), em.constFloat([-0.1, 0.2], [2]));
  }).model);
  const sigma = (em: Emitter, s: string) => em.op('Sigmoid', [em.mul(em.reduceMean(s, [2], true), em.scalar(0.7))]);
  const h = [0, 1, 2, 3].map((j) => Math.min(6, Math.max(0, input.reduce((a, xi, i) => a + xi * W1[i * 4 + j], [0.1, -0.3, 0.2, 0.05][j]))));
  const g = 1 / (1 + Math.exp(-0.7 * (h.reduce((a, b) => a + b, 0) / 4)));
  for (const method of ['lrp-epsilon', 'lrp-zplus']) {
    const lrp = async (bytes: Uint8Array) => Array.from((await (await Explainer.load(bytes)).attribute({ data: Float32Array.from(input), dims: [1, 1, 3] }, { method, target: [[0, 1]], epsilon: 1e-9 })).attributions.data);
    const [want, got] = [await lrp(net((em) => em.scalar(g))), await lrp(net(sigma))];
    assert.ok(near(got, want, 1e-5), `${method}: ${got} vs the gate held constant ${want}`);
  }
});

test('LRP-ε through onnxruntime\'s BiasGelu and FastGelu with a bias: the bias is the MatMul\'s, in its z, as with Add then Gelu', async () => {
  const W1 = [0.4, -1, 0.3, 0.8, -0.6, 0.2, 0.5, -0.2, 0.7, 0.1, -0.4, 0.9]; // [3, 4]
  const W2 = [0.6, -0.5, -0.3, 0.8, 0.2, 0.4, -0.7, 0.1]; // [4, 2]
  const bias = [0.9, -1.3, 0.6, -0.8];
  const net = (gelu: (em: Emitter, m: string, b: string) => string) => {
    const model = tinyGraph(['N', 1, 3], 13, (em, v) => em.matmul(gelu(em, em.matmul(v, em.constFloat(W1, [3, 4])), em.constFloat(bias, [4])), em.constFloat(W2, [4, 2])), [{ domain: 'com.microsoft', version: 1 }]).model;
    for (const n of model.graph!.node!) if (['Gelu', 'BiasGelu', 'FastGelu'].includes(n.op_type!)) n.domain = 'com.microsoft';
    return encodeModel(model);
  };
  const lrp = async (bytes: Uint8Array) => Array.from((await (await Explainer.load(bytes)).attribute({ data: Float32Array.from([1.5, -0.5, 2, 0.1, 0.25, -0.3]), dims: [2, 1, 3] }, { method: 'lrp-epsilon', target: [[0, 1], [0, 0]], epsilon: 1e-9 })).attributions.data);
  const cases: [string, (em: Emitter, m: string, b: string) => string, (em: Emitter, m: string, b: string) => string][] = [
    ['BiasGelu', (em, m, b) => em.op('Gelu', [em.add(m, b)]), (em, m, b) => em.op('BiasGelu', [m, b])],
    ['FastGelu', (em, m, b) => em.op('FastGelu', [em.add(m, b)]), (em, m, b) => em.op('FastGelu', [m, b])],
  ];
  for (const [op, unfused, fused] of cases) {
    const [want, got] = [await lrp(net(unfused)), await lrp(net(fused))];
    assert.ok(near(got, want, 1e-5), `${op}: ${got} vs Add then the op: ${want}`);
  }
});

test('a bias Add is not the layer\'s bias where the relevance enters at the layer\'s output (the MatMul output explained) or where the constant broadcasts that output to a larger shape', async () => {
  // m = x·W [N, 1, 4], y = m + c; explained at m, LRP-ε of one bias-free layer: R_i = x_i·W[i, t] (Σ = m_t).
  const W = [0.4, -1, 0.3, 0.8, -0.6, 0.2, 0.5, -0.2, 0.7, 0.1, -0.4, 0.9]; // [3, 4]
  const x = [1.5, -0.5, 2];
  let m = '';
  const model = (constant: number[], dims: number[]) => encodeModel(tinyGraph(['N', 1, 3], 13, (em, v) => {
    m = em.matmul(v, em.constFloat(W, [3, 4]));
    return em.op('Flatten', [em.add(m, em.constFloat(constant, dims))], { axis: 1 });
  }).model);
  const want = (t: number) => x.map((xi, i) => xi * W[i * 4 + t]);
  const bias = model([0.1, -0.3, 0.2, 0.05], [4]);
  const atM = await (await Explainer.load(bias)).attribute({ data: Float32Array.from(x), dims: [1, 1, 3] }, { method: 'lrp-epsilon', output: m, target: [[0, 2]], epsilon: 1e-9 });
  assert.ok(near(atM.attributions.data, want(2), 1e-6), `at m: ${Array.from(atM.attributions.data)} vs ${want(2)}`);
  // A constant [1, 3, 4] (three positions) added to m [N, 1, 4]: y [N, 3, 4], flattened; target 5 = position 1, column 1.
  const positions = model(Array.from({ length: 12 }, (_, k) => 0.05 * (k - 6)), [1, 3, 4]);
  const spread = await (await Explainer.load(positions)).attribute({ data: Float32Array.from(x), dims: [1, 1, 3] }, { method: 'lrp-epsilon', target: 5, epsilon: 1e-9 });
  assert.equal(spread.attributions.dims, [1, 1, 3]);
  // The Add an ε layer of its own: R_m = m·y/y = m at that position, then R_i = x_i·W[i, 1].
  assert.ok(near(spread.attributions.data, want(1), 1e-5), `broadcast: ${Array.from(spread.attributions.data)} vs ${want(1)}`);
});

test('LRP starts at the logit behind a final Sigmoid (a binary classifier), as behind a Softmax: a row the model calls negative keeps the logit\'s signs; explainSoftmax starts at the probability', async () => {
  const wb = [0.8, -1.2, 0.5];
  const bias = 0.3;
  const ex = await Explainer.load(tinyModel([3], 13, (em, input) => em.op('Sigmoid', [em.op('Gemm', [input, em.constFloat(wb, [3, 1]), em.constFloat([bias], [1])])])));
  const rows = [[1, 0.5, 2], [-2, 0.5, 1]];
  for (const method of ['lrp-epsilon', 'lrp-zplus']) {
    const r = await ex.attribute({ data: Float32Array.from(rows.flat()), dims: [2, 3] }, { method, target: 0, epsilon: 1e-9 });
    const p = await ex.attribute({ data: Float32Array.from(rows.flat()), dims: [2, 3] }, { method, target: 0, epsilon: 1e-9, explainSoftmax: true });
    rows.forEach((row, n) => {
      const logit = row.reduce((a, v, i) => a + v * wb[i], bias);
      const prob = 1 / (1 + Math.exp(-logit));
      const positive = row.reduce((a, v, i) => a + Math.max(0, v * wb[i]), 0);
      // ε: R_i = x_i·w_i·z/z; z⁺: R_i = (x_i·w_i)⁺/Σ(x·w)⁺ · z (the bias left out).
      const share = (v: number, i: number) => (method === 'lrp-epsilon' ? v * wb[i] / logit : Math.max(0, v * wb[i]) / positive);
      const got = Array.from(r.attributions.data.subarray(3 * n, 3 * n + 3));
      const want = row.map((v, i) => share(v, i) * logit);
      assert.ok(near(got, want, 1e-5), `${method} row ${n} (logit ${logit}): ${got} vs ${want}`);
      const atProbability = Array.from(p.attributions.data.subarray(3 * n, 3 * n + 3));
      assert.ok(near(atProbability, row.map((v, i) => share(v, i) * prob), 1e-5), `${method} row ${n} at p: ${atProbability}`);
    });
  }
});

test('LRP finds the logits behind a final Sigmoid or Softmax written in other forms (HardSigmoid, a float16 export\'s Casts, torch\'s reshape(-1, C), Squeeze): R_i = x_i·w_it as for the plain op, not the probability\'s share with its sign flipped on negative rows', async () => {
  const W = [0.8, -1.2, 0.5, -0.3, 0.6, 1.1, -0.9, 0.4, 0.2, -0.7, 1.3, -0.5];
  const rows = [[1, 0.5, 2], [-2, 0.5, 1]];
  const logits = (em: Emitter, x: string, c: number) => em.matmul(x, em.constFloat(W.slice(0, 3 * c), [3, c]));
  const forms: [string, (em: Emitter, x: string) => string, number, number[]?][] = [
    ['HardSigmoid', (em, x) => em.op('HardSigmoid', [logits(em, x, 1)], { alpha: float(1 / 6), beta: float(0.5) }), 1],
    ['Sigmoid, Cast to float16 and back', (em, x) => em.op('Cast', [em.op('Cast', [em.op('Sigmoid', [logits(em, x, 1)])], { to: DataType.FLOAT16 })], { to: DataType.FLOAT }), 1],
    ['Softmax between reshape(-1, 1, C) and reshape(-1, C)', (em, x) => em.reshape(em.op('Softmax', [em.reshape(logits(em, x, 4), [-1, 1, 4])], { axis: -1 }), [-1, 4]), 4],
    ['Softmax over axis 1 of [N, C, 1], squeezed', (em, x) => em.op('Squeeze', [em.op('Softmax', [em.unsqueeze(logits(em, x, 4), [2])], { axis: 1 }), em.constInt([2])]), 4],
    ['Softmax, unsqueeze(-1)', (em, x) => em.op('Unsqueeze', [em.op('Softmax', [logits(em, x, 4)], { axis: 1 }), em.constInt([-1])]), 4, [4, 1]],
  ];
  for (const [form, head, classes, dims = [classes]] of forms) {
    const ex = await Explainer.load(tinyModel([3], 13, head));
    // Targets index the chosen tensor ([N, C]; [N, C, 1] after the unsqueeze), not the logits behind it.
    assert.equal((await ex.targetSpaceFor([3], { method: 'lrp-epsilon' })).dims, dims, form);
    for (const target of classes === 1 ? [0] : [0, 3]) {
      const r = await ex.attribute({ data: Float32Array.from(rows.flat()), dims: [2, 3] }, { method: 'lrp-epsilon', target, epsilon: 1e-9 });
      const want = rows.flatMap((row) => row.map((v, i) => v * W[i * classes + target]));
      assert.ok(near(r.attributions.data, want, 1e-5), `${form}, target ${target}: ${Array.from(r.attributions.data)} vs ${want}`);
    }
  }
  // A reshape to [−1, C] that splits each row in two ([N, 2, 2] → [2N, 2]) holds no rows: refused, naming the tensor before it.
  const split = await Explainer.load(tinyModel([3], 13, (em, x) => em.reshape(em.op('Softmax', [em.reshape(logits(em, x, 4), [-1, 2, 2])], { axis: -1 }), [-1, 2])));
  await rejects(() => split.attribute({ data: Float32Array.from(rows.flat()), dims: [2, 3] }, { method: 'lrp-epsilon', target: 0 }), /explained tensor 'y' has shape \[2,2\] at batch 1 with no batch on axis 0/);
});

test('LRP through com.microsoft SkipLayerNormalization of two activations: each operand of the sum s = a + b gets its ε-share a_k·R_k/(s_k + ε·sign s_k)', async () => {
  // x [N, 1, 8] split into a = x[..., :4] and b = x[..., 4:]; y = LayerNorm(a + b)·γ + β, class k = y_k, so R_k = y_k.
  const gamma = [1, 0.5, -1, 2];
  const beta = [0.1, -0.2, 0.3, 0];
  const bytes = encodeModel(tinyGraph(['N', 1, 8], 17, (em, v) => {
    const [a, b] = [em.slice(v, [0], [4], [2]), em.slice(v, [4], [8], [2])];
    const y = em.op('SkipLayerNormalization', [a, b, em.constFloat(gamma, [4]), em.constFloat(beta, [4])], { epsilon: float(1e-5) });
    em.nodes[em.nodes.length - 1].domain = 'com.microsoft';
    return em.op('Flatten', [y], { axis: 1 });
  }, [{ domain: 'com.microsoft', version: 1 }]).model);
  const input = [1.5, -0.5, 2, 0.8, 0.5, 1.5, -1, 0.4];
  const s = [0, 1, 2, 3].map((k) => input[k] + input[k + 4]);
  const mu = s.reduce((t, v) => t + v, 0) / 4;
  const sigma = Math.sqrt(s.reduce((t, v) => t + (v - mu) ** 2, 0) / 4 + 1e-5);
  const ex = await Explainer.load(bytes);
  for (const k of [1, 2]) {
    const yk = ((s[k] - mu) / sigma) * gamma[k] + beta[k];
    const want = input.map((v, i) => (i % 4 === k ? (v * yk) / s[k] : 0));
    const r = await ex.attribute({ data: Float32Array.from(input), dims: [1, 1, 8] }, { method: 'lrp-epsilon', target: k, epsilon: 1e-9 });
    assert.ok(near(r.attributions.data, want, 1e-5), `class ${k}: ${Array.from(r.attributions.data)} vs ${want}`);
  }
});

test.run();
