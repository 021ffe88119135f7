import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DataType, encodeModel, makeTensor, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { rejects } from './support/rejects';

/**
 * x → QuantizeLinear → DequantizeLinear on [N, 2, 5]: per tensor (int8, opset 10) or per channel
 * along axis 1 (uint8, opset 13); with `clip`, a Clip of the integers between them (Brevitas' QCDQ
 * export of fewer bits). Output element k is seeded by target k, one row per element.
 */
function qdqModel(opset: number, scale: number[], zeroPoint: number[], type: number, clip?: [number, number], contrib = false): Uint8Array {
  const perChannel = scale.length > 1;
  const dims = perChannel ? [scale.length] : [];
  const attribute = perChannel ? [{ name: 'axis', type: 2, i: 1 }] : [];
  return encodeModel({
    ir_version: opset >= 21 ? 10 : opset >= 19 ? 9 : 7,
    opset_import: [{ domain: '', version: opset }, ...(contrib ? [{ domain: 'com.microsoft', version: 1 }] : [])],
    graph: {
      name: 'qdq',
      node: [
        { op_type: 'QuantizeLinear', ...(contrib ? { domain: 'com.microsoft' } : {}), input: ['x', 's', 'zp'], output: [clip ? 'q0' : 'q'], attribute },
        ...(clip ? [{ op_type: 'Clip', input: ['q0', 'lo', 'hi'], output: ['q'] }] : []),
        { op_type: 'DequantizeLinear', ...(contrib ? { domain: 'com.microsoft' } : {}), input: ['q', 's', 'zp'], output: ['d'], attribute },
        { op_type: 'Flatten', input: ['d'], output: ['y'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
      ],
      initializer: [
        makeTensor('s', dims, scale, DataType.FLOAT), { name: 'zp', dims, data_type: type, int32_data: zeroPoint },
        ...(clip ? clip.map((v, k) => ({ name: ['lo', 'hi'][k], dims: [], data_type: type, int32_data: [v] })) : []),
      ],
      input: [valueInfo('x', DataType.FLOAT, ['N', 2, 5])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 10])],
    },
  });
}

/** ONNX rounding: halves to even. */
const roundHalfEven = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));

/** Float8 E4M3FN rounding (to nearest, ties to an even mantissa; saturating at ±448): its 126 non-negative finite values searched. */
const E4M3 = Array.from({ length: 127 }, (_, b) => ((b >> 3) ? 1 + (b & 7) / 8 : (b & 7) / 8) * 2 ** (((b >> 3) || 1) - 7));
function roundE4M3(v: number): number {
  const a = Math.min(Math.abs(v), 448);
  let best = 0;
  for (let b = 1; b < E4M3.length; b++) {
    const d = Math.abs(E4M3[b] - a) - Math.abs(E4M3[best] - a);
    if (d < 0 || (d === 0 && b % 2 === 0)) best = b;
  }
  return Math.sign(v) * E4M3[best];
}

const cases = [
  { name: 'per tensor, int8, opset 10', opset: 10, scale: [0.1], zeroPoint: [0], type: DataType.INT8, range: [-128, 127] },
  { name: 'per channel, uint8 with zero points, opset 13', opset: 13, scale: [0.1, 0.25], zeroPoint: [100, 3], type: DataType.UINT8, range: [0, 255] },
  // QCDQ: the Clip's bounds are the range; the estimator passes where round(x/s) + zp lies in it.
  { name: '4-bit narrow range in int8 (QCDQ Clip −7..7), opset 13', opset: 13, scale: [1.5], zeroPoint: [0], type: DataType.INT8, range: [-7, 7], clip: [-7, 7] as [number, number] },
  { name: '4-bit unsigned per channel in uint8 (QCDQ Clip 0..15) with zero points, opset 13', opset: 13, scale: [1.25, 4], zeroPoint: [6, 1], type: DataType.UINT8, range: [0, 15], clip: [0, 15] as [number, number] },
  { name: 'int4 activations per tensor, opset 21', opset: 21, scale: [2], zeroPoint: [0], type: DataType.INT4, range: [-8, 7] },
  // onnxruntime's 16-bit activations (QuantType.QInt16 / QUInt16, as QNN models take them).
  { name: 'int16 per tensor, opset 21', opset: 21, scale: [0.001], zeroPoint: [0], type: DataType.INT16, range: [-32768, 32767] },
  { name: 'uint16 per channel with zero points, opset 21', opset: 21, scale: [0.001, 0.002], zeroPoint: [30000, 100], type: DataType.UINT16, range: [0, 65535] },
  // onnxruntime's contrib quantizers (its quantiser's 16-bit types below opset 21, use_qdq_contrib_ops).
  { name: 'com.microsoft QuantizeLinear/DequantizeLinear, int16 per tensor, opset 17', opset: 17, scale: [0.001], zeroPoint: [0], type: DataType.INT16, range: [-32768, 32767], contrib: true },
  { name: 'com.microsoft QuantizeLinear/DequantizeLinear, uint8 per channel with zero points, opset 11', opset: 11, scale: [0.1, 0.25], zeroPoint: [100, 3], type: DataType.UINT8, range: [0, 255], contrib: true },
  // Float8 (NVIDIA ModelOpt's FP8): no rounding margin, the estimator passes where |x/s| ≤ 448.
  { name: 'float8 E4M3FN per tensor, opset 19', opset: 19, scale: [0.03], zeroPoint: [0], type: DataType.FLOAT8E4M3FN, range: [-448, 448], float8: true },
];
// Both channels reach past both saturation ends (−12.8..12.7 and −10..15.5 for channel 0,
// −0.75..63 for channel 1); no value is within 0.01 steps of a rounding boundary.
const x = [-14.03, -11.2, 0.42, 13.02, 16.33, -3.07, -0.62, 5.11, 62.04, 70.13];
const x0 = [0.52, -0.33, 0.07, 9.04, -2.21, 0.13, -1.34, 5.12, 1.01, 8.46];

for (const c of cases) {
  test(`QuantizeLinear → DequantizeLinear, ${c.name}: straight-through gradient, DeepLIFT exact per element`, async () => {
    const ex = await Explainer.load(qdqModel(c.opset, c.scale, c.zeroPoint, c.type, c.clip, c.contrib));
    const rows = { data: Float32Array.from({ length: 100 }, (_, i) => x[i % 10]), dims: [10, 2, 5] };
    const target = Array.from({ length: 10 }, (_, k) => k);
    const param = (p: number[], k: number) => p[p.length > 1 ? Math.floor(k / 5) : 0];
    const dq = (v: number, k: number) => {
      if (c.float8) return roundE4M3(v / param(c.scale, k)) * param(c.scale, k);
      const q = Math.min(Math.max(roundHalfEven(v / param(c.scale, k)) + param(c.zeroPoint, k), c.range[0]), c.range[1]);
      return (q - param(c.zeroPoint, k)) * param(c.scale, k);
    };
    const g = await ex.attribute(rows, { method: 'gradient', target });
    const d = await ex.attribute(rows, { method: 'deeplift', target, baseline: { data: Float32Array.from(x0), dims: [1, 2, 5] } });
    let saturated = 0;
    for (let r = 0; r < 10; r++) {
      for (let k = 0; k < 10; k++) {
        const raw = c.float8 ? x[k] / param(c.scale, k) : roundHalfEven(x[k] / param(c.scale, k)) + param(c.zeroPoint, k);
        const inside = raw >= c.range[0] && raw <= c.range[1] ? 1 : 0;
        if (r === k && !inside) saturated++;
        assert.ok(Math.abs(g.attributions.data[r * 10 + k] - (r === k ? inside : 0)) < 1e-6, `gradient row ${r} element ${k}: ${g.attributions.data[r * 10 + k]}, expected ${r === k ? inside : 0}`);
        const want = r === k ? dq(x[k], k) - dq(x0[k], k) : 0;
        assert.ok(Math.abs(d.attributions.data[r * 10 + k] - want) < 1e-5, `DeepLIFT row ${r} element ${k}: ${d.attributions.data[r * 10 + k]}, expected ${want}`);
      }
    }
    assert.ok(saturated >= 2, `only ${saturated} saturated values`);
  });
}

/**
 * An opset-10 QDQ Conv (input and int8 weights dequantized, a float bias, its output quantized)
 * explained at its float output: onnxruntime's optimiser quantises the bias with a Round, which opset 10 lacks, and then
 * rejects its own graph (tract's qtdnn test model). The graph runs unoptimised, with a warning.
 */
test('an opset-10 QDQ Conv whose bias onnxruntime\'s optimiser breaks (a Round at opset 10) runs unoptimised with one warning: gradient = the dequantized kernel (straight through)', async () => {
  const kernel = Array.from({ length: 3 * 2 * 3 }, (_, k) => ((k * 37) % 19) - 9);
  const one = (name: string, v: number, type: number) => ({ name, dims: [], data_type: type, ...(type === DataType.FLOAT ? { float_data: [v] } : { int32_data: [v] }) });
  const model = encodeModel({
    ir_version: 5, opset_import: [{ domain: '', version: 10 }],
    graph: {
      name: 'qconv',
      node: [
        { op_type: 'QuantizeLinear', input: ['x', 'xs', 'xz'], output: ['xq'] },
        { op_type: 'DequantizeLinear', input: ['xq', 'xs', 'xz'], output: ['xd'] },
        { op_type: 'DequantizeLinear', input: ['wq', 'ws', 'xz'], output: ['wd'] },
        { op_type: 'Conv', input: ['xd', 'wd', 'b'], output: ['y'], attribute: [{ name: 'kernel_shape', type: 7, ints: [3] }, { name: 'strides', type: 7, ints: [1] }, { name: 'pads', type: 7, ints: [0, 0] }] },
        { op_type: 'QuantizeLinear', input: ['y', 'xs', 'xz'], output: ['yq'] },
        { op_type: 'DequantizeLinear', input: ['yq', 'xs', 'xz'], output: ['out'] },
      ],
      initializer: [one('xs', 0.03125, DataType.FLOAT), one('xz', 0, DataType.INT8), one('ws', 0.0625, DataType.FLOAT), { name: 'wq', dims: [3, 2, 3], data_type: DataType.INT8, int32_data: kernel }, makeTensor('b', [3], [0.5, -0.25, 1], DataType.FLOAT)],
      input: [valueInfo('x', DataType.FLOAT, ['N', 2, 5])],
      output: [valueInfo('out', DataType.FLOAT, ['N', 3, 3])],
    },
  });
  const warnings: string[] = [];
  const ex = await Explainer.load(model, { warn: (m) => warnings.push(m) });
  const input = { data: Float32Array.from({ length: 10 }, (_, k) => 0.1 * Math.sin(k)), dims: [1, 2, 5] };
  const g = await ex.attribute(input, { output: 'y', target: [[2, 1]] });
  // ∂y[c = 2, t = 1] / ∂x[f, t'] = 0.0625·kernel[2, f, t' − 1].
  const want = Array.from({ length: 10 }, (_, k) => {
    const [f, t] = [Math.floor(k / 5), k % 5];
    return t >= 1 && t <= 3 ? 0.0625 * kernel[12 + f * 3 + (t - 1)] : 0;
  });
  assert.equal(Array.from(g.attributions.data), want);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0], /onnxruntime's graph optimiser failed on this graph \(.*No Op registered for Round.*\); it runs unoptimised/);
});

/**
 * Float8 weights (NVIDIA ModelOpt's FP8: E4M3FN weights dequantized into a MatMul, the activations
 * quantized and dequantized) on x [N, 4] → MatMul [4, 3] → Relu → MatMul [3, 1]. onnxruntime's
 * optimiser fuses the backward MatMul of the transposed float8 weights into a MatMulIntegerToFloat,
 * which takes no float8, and rejects its own graph: it runs unoptimised, with one warning.
 */
test('float8 E4M3FN weights and activations (opset 19): onnxruntime\'s optimiser breaks the backward graph, which runs unoptimised with one warning; gradient = straight-through estimate of the float8 network, DeepLIFT sums to delta', async () => {
  // E4M3FN bytes of ±0.5, ±1, ±1.5, ±2, 3 (sign, 4 exponent bits biased by 7, 3 mantissa bits).
  const byte: Record<number, number> = { 0.5: 0x30, 1: 0x38, 1.5: 0x3c, 2: 0x40, 3: 0x44, [-0.5]: 0xb0, [-1]: 0xb8, [-1.5]: 0xbc, [-2]: 0xc0 };
  const w1 = [1, -1, 2, 0.5, 1.5, -2, -0.5, 3, 1, 2, -1.5, 0.5];
  const w2 = [1.5, -2, 1];
  const fp8 = (name: string, dims: number[], v: number[]) => ({ name, dims, data_type: DataType.FLOAT8E4M3FN, raw_data: Uint8Array.from(v, (e) => byte[e]) });
  const model = encodeModel({
    ir_version: 9, opset_import: [{ domain: '', version: 19 }],
    graph: {
      name: 'fp8',
      node: [
        { op_type: 'QuantizeLinear', input: ['x', 's', 'zp'], output: ['q'] },
        { op_type: 'DequantizeLinear', input: ['q', 's', 'zp'], output: ['d'] },
        { op_type: 'DequantizeLinear', input: ['w1q', 'ws', 'zp'], output: ['w1'] },
        { op_type: 'MatMul', input: ['d', 'w1'], output: ['h'] },
        { op_type: 'Relu', input: ['h'], output: ['r'] },
        { op_type: 'DequantizeLinear', input: ['w2q', 'ws', 'zp'], output: ['w2'] },
        { op_type: 'MatMul', input: ['r', 'w2'], output: ['y'] },
      ],
      initializer: [
        makeTensor('s', [], [0.0625], DataType.FLOAT), makeTensor('ws', [], [0.25], DataType.FLOAT), { name: 'zp', dims: [], data_type: DataType.FLOAT8E4M3FN, raw_data: new Uint8Array([0]) },
        fp8('w1q', [4, 3], w1), fp8('w2q', [3, 1], w2),
      ],
      input: [valueInfo('x', DataType.FLOAT, ['N', 4])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 1])],
    },
  });
  const warnings: string[] = [];
  const ex = await Explainer.load(model, { warn: (m) => warnings.push(m) });
  // 448·0.0625 = 28 bounds the activations: the last one saturates.
  const x = [3.1, -7.3, 12.9, 40];
  const input = { data: Float32Array.from(x), dims: [1, 4] };
  const g = await ex.attribute(input, { target: 0 });
  const d = x.map((v) => roundE4M3(v / 0.0625) * 0.0625);
  const h = [0, 1, 2].map((j) => d.reduce((a, v, i) => a + v * 0.25 * w1[i * 3 + j], 0));
  const want = x.map((v, i) => (Math.abs(v / 0.0625) <= 448 ? [0, 1, 2].reduce((a, j) => a + (h[j] > 0 ? 0.25 * w1[i * 3 + j] * 0.25 * w2[j] : 0), 0) : 0));
  assert.ok(h.some((v) => v > 0) && h.some((v) => v < 0), `h ${h}`);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(g.attributions.data[i] - want[i]) < 1e-6, `gradient ${i}: ${g.attributions.data[i]}, expected ${want[i]}`);
  assert.is(want[3], 0);
  const y = [0, 1, 2].reduce((a, j) => a + Math.max(h[j], 0) * 0.25 * w2[j], 0);
  assert.ok(Math.abs(g.outputs.y.data[0] - y) < 1e-5, `y ${g.outputs.y.data[0]}, expected ${y}`);
  const dl = await ex.attribute(input, { target: 0, method: 'deeplift' });
  assert.ok(Math.abs(dl.delta![0]) < 1e-5, `delta ${dl.delta![0]}`);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0], /onnxruntime's graph optimiser failed on this graph \(.*MatMulIntegerToFloat.*\); it runs unoptimised/);
});

/** x [N, 4] → Cast to float8 E4M3FN → Cast to float32 (a simulated float8 rounding). */
test('a Cast to float8 and back passes the gradient (as PyTorch autograd does) and DeepLIFT is exact through its rounding', async () => {
  const cast = (input: string, output: string, to: number) => ({ op_type: 'Cast', input: [input], output: [output], name: output, attribute: [{ name: 'to', type: 2, i: to }] });
  const model = encodeModel({
    ir_version: 9, opset_import: [{ domain: '', version: 19 }],
    graph: {
      name: 'float8-cast', node: [cast('x', 'c', DataType.FLOAT8E4M3FN), cast('c', 'y', DataType.FLOAT)],
      input: [valueInfo('x', DataType.FLOAT, ['N', 4])], output: [valueInfo('y', DataType.FLOAT, ['N', 4])],
    },
  });
  const ex = await Explainer.load(model);
  // Values between float8 steps (0.2 → 0.203125, 13.7 → 14, −3.3 → −3.25), one past 448.
  const x = [0.2, 13.7, -3.3, 500];
  const input = { data: Float32Array.from([...x, ...x, ...x, ...x]), dims: [4, 4] };
  const target = [0, 1, 2, 3];
  const g = await ex.attribute(input, { target });
  const d = await ex.attribute(input, { target, method: 'deeplift' });
  for (let r = 0; r < 4; r++) {
    for (let k = 0; k < 4; k++) {
      assert.is(g.attributions.data[r * 4 + k], r === k ? 1 : 0, `gradient [${r}, ${k}]`);
      const want = r === k ? roundE4M3(x[k]) : 0;
      assert.ok(Math.abs(d.attributions.data[r * 4 + k] - want) < 1e-6, `DeepLIFT [${r}, ${k}] ${d.attributions.data[r * 4 + k]}, expected ${want}`);
    }
  }
  assert.is(roundE4M3(500), 448);
});

/**
 * QONNX's IntQuant (Brevitas' export_qonnx, FINN; domain qonnx.custom_op.general), which
 * onnxruntime cannot run, on x [N, 4] at opset 11: activations signed 4-bit with zero point 2 and
 * weights [4, 3] narrow signed 4-bit with one scale per column, then MatMul.
 */
function qonnxModel(rounding = 'ROUND', bits = 4): Uint8Array {
  const quant = (input: string, output: string, scale: string, zero: string, narrow: number) => ({
    op_type: 'Quant', domain: 'qonnx.custom_op.general', input: [input, scale, zero, 'bits'], output: [output], name: output,
    attribute: [{ name: 'signed', type: 2, i: 1 }, { name: 'narrow', type: 2, i: narrow }, { name: 'rounding_mode', type: 3, s: new TextEncoder().encode(rounding) }],
  });
  return encodeModel({
    ir_version: 7, opset_import: [{ domain: '', version: 11 }, { domain: 'qonnx.custom_op.general', version: 1 }],
    graph: {
      name: 'qonnx',
      node: [quant('x', 'xq', 's', 'z', 0), quant('w', 'wq', 'ws', 'wz', 1), { op_type: 'MatMul', input: ['xq', 'wq'], output: ['y'], name: 'matmul' }],
      initializer: [
        makeTensor('s', [], [0.5], DataType.FLOAT), makeTensor('z', [], [2], DataType.FLOAT), makeTensor('bits', [], [bits], DataType.FLOAT),
        makeTensor('w', [4, 3], QONNX_W, DataType.FLOAT), makeTensor('ws', [1, 3], [0.1, 0.25, 0.05], DataType.FLOAT), makeTensor('wz', [], [0], DataType.FLOAT),
      ],
      input: [valueInfo('x', DataType.FLOAT, ['N', 4])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 3])],
    },
  });
}
const QONNX_W = [0.31, -0.52, 0.12, -0.07, 0.9, -0.33, 0.55, 2.4, 0.02, -0.8, -0.11, 0.21];

/** qonnx's int_quant: x/s + z clamped to [lo, hi], rounded half to even, then (· − z)·s. */
const intQuant = (v: number, s: number, z: number, lo: number, hi: number) => (roundHalfEven(Math.min(Math.max(v / s + z, lo), hi)) - z) * s;

test('QONNX IntQuant (Brevitas export_qonnx) at opset 11: read at opset 13 as QuantizeLinear → Clip → DequantizeLinear, outputs equal qonnx\'s int_quant, the gradient is the straight-through estimate, DeepLIFT sums to delta', async () => {
  const ex = await Explainer.load(qonnxModel());
  // x/0.5 + 2 against [−8, 7]: 5.3 and −6.2 saturate, −4.7 rounds to −7 (inside), 1.9 and 0.26 inside.
  const x = [5.3, -4.7, 1.9, 0.26, -6.2, 0.7, -1.1, 2.45];
  const input = { data: Float32Array.from(x), dims: [2, 4] };
  const wq = QONNX_W.map((v, k) => intQuant(v, [0.1, 0.25, 0.05][k % 3], 0, -7, 7));
  const r = await ex.attribute(input, { target: [1, 2] });
  for (let row = 0; row < 2; row++) {
    const xq = x.slice(row * 4, row * 4 + 4).map((v) => intQuant(v, 0.5, 2, -8, 7));
    for (let j = 0; j < 3; j++) {
      const y = xq.reduce((a, v, i) => a + v * wq[i * 3 + j], 0);
      assert.ok(Math.abs(r.outputs.y.data[row * 3 + j] - y) < 1e-5, `y[${row}, ${j}] ${r.outputs.y.data[row * 3 + j]}, expected ${y}`);
    }
    const t = [1, 2][row];
    for (let i = 0; i < 4; i++) {
      const rounded = roundHalfEven(x[row * 4 + i] / 0.5 + 2);
      const want = rounded >= -8 && rounded <= 7 ? wq[i * 3 + t] : 0;
      assert.ok(Math.abs(r.attributions.data[row * 4 + i] - want) < 1e-6, `gradient [${row}, ${i}] ${r.attributions.data[row * 4 + i]}, expected ${want}`);
    }
  }
  const d = await ex.attribute(input, { target: [1, 2], method: 'deeplift' });
  for (const delta of d.delta!) assert.ok(Math.abs(delta) < 1e-5, `delta ${delta}`);
});

test('QONNX IntQuant forms without a QuantizeLinear equivalent are refused in one line naming the node', async () => {
  await rejects(() => Explainer.load(qonnxModel('FLOOR')), /node 'xq' \(qonnx\.custom_op\.general\.Quant.*rounding_mode FLOOR is not supported/);
  await rejects(() => Explainer.load(qonnxModel('ROUND', 12)), /node 'xq' .*a bit width of 12 is not supported \(2 to 8\)/);
});

test.run();
