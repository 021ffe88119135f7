import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DataType, encodeModel, makeTensor, valueInfo } from '../rewriter/proto';
import { Explainer } from '../runtime';

/**
 * x → QuantizeLinear → DequantizeLinear on [N, 2, 5]: per tensor (int8, opset 10) or per channel
 * along axis 1 (uint8, opset 13). Output element k is seeded by target k, one row per element.
 */
function qdqModel(opset: number, scale: number[], zeroPoint: number[], type: number): Uint8Array {
  const perChannel = scale.length > 1;
  const dims = perChannel ? [scale.length] : [];
  const attribute = perChannel ? [{ name: 'axis', type: 2, i: 1 }] : [];
  return encodeModel({
    ir_version: 7,
    opset_import: [{ domain: '', version: opset }],
    graph: {
      name: 'qdq',
      node: [
        { op_type: 'QuantizeLinear', input: ['x', 's', 'zp'], output: ['q'], attribute },
        { op_type: 'DequantizeLinear', input: ['q', 's', 'zp'], output: ['d'], attribute },
        { op_type: 'Flatten', input: ['d'], output: ['y'], attribute: [{ name: 'axis', type: 2, i: 1 }] },
      ],
      initializer: [makeTensor('s', dims, scale, DataType.FLOAT), { name: 'zp', dims, data_type: type, int32_data: zeroPoint }],
      input: [valueInfo('x', DataType.FLOAT, ['N', 2, 5])],
      output: [valueInfo('y', DataType.FLOAT, ['N', 10])],
    },
  });
}

/** ONNX rounding: halves to even. */
const roundHalfEven = (v: number) => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));

const cases = [
  { name: 'per tensor, int8, opset 10', opset: 10, scale: [0.1], zeroPoint: [0], type: DataType.INT8, range: [-128, 127] },
  { name: 'per channel, uint8 with zero points, opset 13', opset: 13, scale: [0.1, 0.25], zeroPoint: [100, 3], type: DataType.UINT8, range: [0, 255] },
];
// Both channels reach past both saturation ends (−12.8..12.7 and −10..15.5 for channel 0,
// −0.75..63 for channel 1); no value is within 0.01 steps of a rounding boundary.
const x = [-14.03, -11.2, 0.42, 13.02, 16.33, -3.07, -0.62, 5.11, 62.04, 70.13];
const x0 = [0.52, -0.33, 0.07, 9.04, -2.21, 0.13, -1.34, 5.12, 1.01, 8.46];

for (const c of cases) {
  test(`QuantizeLinear → DequantizeLinear, ${c.name}: straight-through gradient, DeepLIFT exact per element`, async () => {
    const ex = await Explainer.load(qdqModel(c.opset, c.scale, c.zeroPoint, c.type));
    const rows = { data: Float32Array.from({ length: 100 }, (_, i) => x[i % 10]), dims: [10, 2, 5] };
    const target = Array.from({ length: 10 }, (_, k) => k);
    const param = (p: number[], k: number) => p[p.length > 1 ? Math.floor(k / 5) : 0];
    const dq = (v: number, k: number) => {
      const q = Math.min(Math.max(roundHalfEven(v / param(c.scale, k)) + param(c.zeroPoint, k), c.range[0]), c.range[1]);
      return (q - param(c.zeroPoint, k)) * param(c.scale, k);
    };
    const g = await ex.attribute(rows, { method: 'gradient', target });
    const d = await ex.attribute(rows, { method: 'deeplift', target, baseline: { data: Float32Array.from(x0), dims: [1, 2, 5] } });
    let saturated = 0;
    for (let r = 0; r < 10; r++) {
      for (let k = 0; k < 10; k++) {
        const raw = roundHalfEven(x[k] / param(c.scale, k)) + param(c.zeroPoint, k);
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

test.run();
