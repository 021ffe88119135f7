import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DataType, encodeModel, makeTensor, ModelProto, valueInfo } from '../../rewriter/proto';
import { Explainer } from '../../runtime';
import { gradcheck, onesSeedGradient, OpCase, refusal } from '../support/gradcheck';

/** n distinct values 0.05 apart (no near-ties for finite differences); n must be odd, not a multiple of 37. */
const distinct = (n: number) => Array.from({ length: n }, (_, i) => ((i * 37) % n) * 0.05 - n * 0.025);

/** Reference: each window's dY (ones) goes to its first maximum in row-major kernel order. */
function firstMaxGradient(shape: number[], data: number[], k: number[], s: number[], p: number[], d: number[], out: number[]): number[] {
  const sp = shape.slice(2);
  const size = sp.reduce((a, b) => a * b, 1);
  const grad = new Array(data.length).fill(0);
  const iter = (dims: number[]) => dims.reduce<number[][]>((acc, m) => acc.flatMap((o) => Array.from({ length: m }, (_, i) => [...o, i])), [[]]);
  for (let c = 0; c < shape[0] * shape[1]; c++) {
    for (const o of iter(out)) {
      let best = -Infinity;
      let at = -1;
      for (const w of iter(k)) {
        const pos = o.map((oi, i) => oi * s[i] - p[i] + w[i] * d[i]);
        if (pos.some((q, i) => q < 0 || q >= sp[i])) continue;
        const flat = c * size + pos.reduce((acc, q, i) => acc * sp[i] + q, 0);
        if (data[flat] > best) { best = data[flat]; at = flat; }
      }
      if (at >= 0) grad[at] += 1;
    }
  }
  return grad;
}

test('MaxPool 2D kernel 3 stride 2 ceil_mode, opset 11', () =>
  gradcheck({ op: 'MaxPool', opset: 11, inputs: [{ shape: [1, 2, 7, 7], data: distinct(98 + 1).slice(0, 98) }], attrs: { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 } }));

test('MaxPool 2D pads + ceil_mode + asymmetric strides, opset 12', () =>
  gradcheck({ op: 'MaxPool', opset: 12, inputs: [{ shape: [1, 2, 6, 7], data: distinct(85).slice(0, 84) }], attrs: { kernel_shape: [3, 2], strides: [2, 3], pads: [1, 0, 1, 1], ceil_mode: 1 } }));

test('MaxPool 2D dilations, opset 10', () =>
  gradcheck({ op: 'MaxPool', opset: 10, inputs: [{ shape: [1, 1, 8, 7], data: distinct(57).slice(0, 56) }], attrs: { kernel_shape: [2, 3], dilations: [2, 2], strides: [1, 2], pads: [1, 1, 0, 1] } }));

test('MaxPool 2D stride 2 without steps, opset 8', () =>
  gradcheck({ op: 'MaxPool', opset: 8, inputs: [{ shape: [1, 3, 7, 6], data: distinct(127).slice(0, 126) }], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } }));

test('MaxPool 2D SAME_UPPER, opset 7', () =>
  gradcheck({ op: 'MaxPool', opset: 7, inputs: [{ shape: [1, 2, 5, 6], data: distinct(61).slice(0, 60) }], attrs: { kernel_shape: [2, 2], strides: [2, 2], auto_pad: 'SAME_UPPER' } }));

test('MaxPool 1D ceil_mode, opset 13', () =>
  gradcheck({ op: 'MaxPool', opset: 13, inputs: [{ shape: [1, 3, 10], data: distinct(31).slice(0, 30) }], attrs: { kernel_shape: [3], strides: [2], ceil_mode: 1, pads: [1, 0] } }));

test('MaxPool 3D, opset 12', () =>
  gradcheck({ op: 'MaxPool', opset: 12, inputs: [{ shape: [1, 2, 4, 5, 5], data: distinct(201).slice(0, 200) }], attrs: { kernel_shape: [2, 3, 2], strides: [2, 2, 1], pads: [0, 1, 0, 0, 1, 1] } }));


// onnxruntime drops a ceil_mode window that would start past the input and its begin padding (here
// the fifth along each axis, and the fourth of kernel 1 stride 3); its shape inference does so from
// opset 22 on, where the gradient is checked; before, every shape after the node is wrong in a graph
// built on it, so the model is refused in one line (fuzz seeds 1 and 1467 of the valid-attribute mutations).
test('MaxPool ceil_mode whose last window would start in the end padding: gradient at opset 22, refused before', async () => {
  await gradcheck({ op: 'MaxPool', opset: 22, inputs: [{ shape: [1, 2, 8, 8], data: distinct(129).slice(0, 128) }], attrs: { kernel_shape: [2, 2], strides: [2, 2], pads: [0, 0, 1, 1], ceil_mode: 1 } });
  await gradcheck({ op: 'MaxPool', opset: 22, inputs: [{ shape: [1, 2, 8, 8], data: distinct(129).slice(0, 128) }], attrs: { kernel_shape: [1, 1], strides: [3, 1], ceil_mode: 1 } });
  assert.match(await refusal({ op: 'MaxPool', opset: 13, inputs: [{ shape: [1, 2, 8, 8] }], attrs: { kernel_shape: [1, 1], strides: [3, 1], ceil_mode: 1 } }),
    /node 'MaxPool' \(MaxPool, opset 13\): ceil_mode: the last window on axis 2 would start past the input and its padding; the kernel runs 3 windows there, the shape inference before opset 22 counts 4 \(export with opset 22\), so onnxruntime's shape inference disagrees with its kernel/);
});

test('MaxPool auto_pad SAME with dilations: onnxruntime pads as if undilated (7 windows, its inference says 8): refused in one line', async () => {
  assert.match(await refusal({ op: 'MaxPool', opset: 13, inputs: [{ shape: [1, 2, 8, 8] }], attrs: { kernel_shape: [2, 2], strides: [1, 2], dilations: [2, 1], auto_pad: 'SAME_LOWER' } }),
    /auto_pad SAME_LOWER with dilations \[2,1\]: onnxruntime's kernel pads as if the kernel were not dilated/);
});

// SAME asks for negative padding where the kernel is shorter than the stride's overhang: onnxruntime's
// MaxPool kernel stops ("padding values must be non-negative") while its inference gives a shape
// (fuzz seed 1495: kernel [1, 3], strides 3 on 8×8 built a backward graph that broke on that shape).
test('MaxPool auto_pad SAME whose padding would be negative (kernel shorter than the stride): refused in one line', async () => {
  for (const opset of [13, 22]) {
    assert.match(await refusal({ op: 'MaxPool', opset, inputs: [{ shape: [1, 2, 8, 8] }], attrs: { kernel_shape: [1, 3], strides: [3, 3], auto_pad: 'SAME_UPPER' } }),
      /auto_pad SAME_UPPER with kernel 1 and stride 3 on axis 2 of size 8: SAME's padding is negative/);
  }
  assert.is(await refusal({ op: 'MaxPool', opset: 13, inputs: [{ shape: [1, 2, 8, 8] }], attrs: { kernel_shape: [2, 3], strides: [3, 3], auto_pad: 'SAME_UPPER' } }), 'accepted');
});

test('a model whose MaxPool drops its last ceil_mode window feeds the right size on (opset 22): validated, explained, DeepLIFT sums', async () => {
  // 8×8 → 4×4 (not 5×5) per channel, so the MatMul after the Flatten takes 2·4·4 = 32.
  const weights = Array.from({ length: 32 * 3 }, (_, i) => Math.sin(i));
  const model: ModelProto = {
    ir_version: 10, opset_import: [{ domain: '', version: 22 }],
    graph: {
      name: 'ceil', input: [valueInfo('x', DataType.FLOAT, ['N', 2, 8, 8])], output: [valueInfo('y', DataType.FLOAT, ['N', 3])],
      initializer: [makeTensor('w', [32, 3], weights, DataType.FLOAT)],
      node: [
        { op_type: 'MaxPool', input: ['x'], output: ['p'], name: 'pool', attribute: [{ name: 'kernel_shape', type: 7, ints: [2, 2] }, { name: 'strides', type: 7, ints: [2, 2] }, { name: 'pads', type: 7, ints: [0, 0, 1, 1] }, { name: 'ceil_mode', type: 2, i: 1 }] as never },
        { op_type: 'Flatten', input: ['p'], output: ['f'], name: 'flat', attribute: [{ name: 'axis', type: 2, i: 1 }] as never },
        { op_type: 'MatMul', input: ['f', 'w'], output: ['y'], name: 'mm' },
      ],
    },
  };
  const ex = await Explainer.load(encodeModel(model));
  const x = { data: Float32Array.from(distinct(257).slice(0, 256)), dims: [2, 2, 8, 8] };
  const r = await ex.attribute(x, { method: 'deeplift', target: [0, 2] });
  for (const d of r.delta!) assert.ok(Math.abs(d) < 1e-5, `delta ${d}`);
});

const tieCases: [string, number, Record<string, number[] | number>][] = [
  ['kernel 3 stride 2 ceil_mode', 11, { kernel_shape: [3, 3], strides: [2, 2], ceil_mode: 1 }],
  ['kernel 3 stride 1 pads 1', 13, { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] }],
  ['kernel 2 stride 2, opset 9 (Equal emulated)', 9, { kernel_shape: [2, 2], strides: [2, 2] }],
  ['kernel 3 stride 2 pads 1, dilation 2', 12, { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], dilations: [2, 2] }],
];
for (const [name, opset, attrs] of tieCases) {
  test(`MaxPool ties go to the first element of each window: ${name}, opset ${opset}`, async () => {
    const shape = [1, 2, 7, 7];
    // ReLU-like data: many exact zeros, some equal ones.
    const data = Array.from({ length: 98 }, (_, i) => [0, 0, 0, 1, 0, 2, 1][(i * 5) % 7]);
    for (const values of [data, new Array(98).fill(0)]) {
      const c: OpCase = { op: 'MaxPool', opset, inputs: [{ shape }], attrs };
      const got = await onesSeedGradient(c, values);
      const k = attrs.kernel_shape as number[];
      const s = (attrs.strides as number[]) ?? [1, 1];
      const p = (attrs.pads as number[]) ?? [0, 0, 0, 0];
      const d = (attrs.dilations as number[]) ?? [1, 1];
      const out = [0, 1].map((i) => {
        const span = 7 + p[i] + p[i + 2] - ((k[i] - 1) * d[i] + 1);
        return (attrs.ceil_mode ? Math.ceil(span / s[i]) : Math.floor(span / s[i])) + 1;
      });
      assert.equal(Array.from(got), firstMaxGradient(shape, values, k, s, p, d, out));
    }
  });
}
// Opset 9 (Equal emulated): windows whose maximum ties only at their LAST offsets (the first of them wins, as
// torch's max_pool2d: [0, 5, 5] with kernel [1, 3] gives [0, 1, 0] in float64), in 1 × 3 and 3 × 3 windows.
test('MaxPool ties at the last two offsets of a window go to the first of them, opset 9', async () => {
  const c: OpCase = { op: 'MaxPool', opset: 9, inputs: [{ shape: [1, 1, 1, 3] }], attrs: { kernel_shape: [1, 3] } };
  assert.equal(Array.from(await onesSeedGradient(c, [0, 5, 5])), [0, 1, 0]);
  const shape = [1, 1, 3, 6];
  const data = [0, 1, 0, 2, 1, 0, 1, 0, 1, 0, 0, 1, -1, 4, 4, 3, 5, 5];
  const square: OpCase = { op: 'MaxPool', opset: 9, inputs: [{ shape }], attrs: { kernel_shape: [3, 3], strides: [3, 3] } };
  assert.equal(Array.from(await onesSeedGradient(square, data)), firstMaxGradient(shape, data, [3, 3], [3, 3], [0, 0], [1, 1], [1, 2]));
});

test.run();
