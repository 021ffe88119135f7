import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Attrs, Emitter, float } from '../rewriter/emitter';
import { upgradeOpset } from '../rewriter/opset-upgrade';
import { encodeModel, ModelProto } from '../rewriter/proto';
import { tinyGraph } from './support/tiny-model';

interface UpgradeCase { name: string; opset: number; row: number[]; body: (em: Emitter, x: string) => string; target?: number[] }

const raw = (em: Emitter, op: string, inputs: string[], attrs: Attrs) => em.op(op, inputs, attrs);

/** Each op in its attribute form of an old opset, whose signature or meaning changed later (ONNX Changelog). */
const CASES: UpgradeCase[] = [
  { name: 'Slice-9 (starts/ends/axes attributes)', opset: 9, row: [4, 6], body: (em, x) => raw(em, 'Slice', [x], { starts: [1, -4], ends: [3, 100], axes: [1, 2] }) },
  { name: 'TopK-9 (k attribute)', opset: 9, row: [7], body: (em, x) => em.opN('TopK', [x], 2, { k: 3, axis: 1 })[0] },
  { name: 'Upsample-9 nearest', opset: 9, row: [2, 3, 4], body: (em, x) => raw(em, 'Upsample', [x, em.constFloat([1, 1, 2, 3], [4])], { mode: 'nearest' }), target: [11, 13, 17] },
  { name: 'Upsample-9 linear', opset: 9, row: [2, 3, 4], body: (em, x) => raw(em, 'Upsample', [x, em.constFloat([1, 1, 2, 1.5], [4])], { mode: 'linear' }), target: [11, 13, 17] },
  { name: 'Resize-10 nearest', opset: 10, row: [2, 3, 4], body: (em, x) => raw(em, 'Resize', [x, em.constFloat([1, 1, 2.5, 2], [4])], { mode: 'nearest' }) },
  { name: 'Resize-10 nearest downsampling (onnxruntime ceils those taps)', opset: 10, row: [2, 5, 7], body: (em, x) => raw(em, 'Resize', [x, em.constFloat([1, 1, 0.6, 0.75], [4])], { mode: 'nearest' }) },
  { name: 'Resize-10 nearest up- and downsampling', opset: 10, row: [2, 5, 7], body: (em, x) => raw(em, 'Resize', [x, em.constFloat([1, 1, 2.5, 0.75], [4])], { mode: 'nearest' }) },
  { name: 'GridSample-16 bilinear and bicubic (renamed at 20)', opset: 16, row: [2, 4, 5], body: (em, x) => {
    // the grid holds the two rows the test runs
    const grid = em.constFloat(Array.from({ length: 48 }, (_, k) => Math.sin(k) * 1.1), [2, 3, 4, 2]);
    return em.add(raw(em, 'GridSample', [x, grid], { mode: 'bilinear', padding_mode: 'border' }), raw(em, 'GridSample', [x, grid], { mode: 'bicubic', align_corners: 1 }));
  }, target: [18, 20, 21] },
  { name: 'Resize-10 linear', opset: 10, row: [2, 3, 4], body: (em, x) => raw(em, 'Resize', [x, em.constFloat([1, 1, 2, 3], [4])], { mode: 'linear' }) },
  { name: 'Pad-9 (pads and value attributes)', opset: 9, row: [2, 3, 3], body: (em, x) => raw(em, 'Pad', [x], { pads: [0, 0, 1, 2, 0, 0, 2, 0], value: float(0.5) }) },
  { name: 'Pad-9 reflect', opset: 9, row: [2, 4, 4], body: (em, x) => raw(em, 'Pad', [x], { pads: [0, 0, 1, 2, 0, 0, 2, 1], mode: 'reflect' }) },
  { name: 'Clip-9 min and max', opset: 9, row: [6], body: (em, x) => raw(em, 'Clip', [x], { min: float(-0.3), max: float(0.4) }) },
  { name: 'Clip-9 max only', opset: 9, row: [6], body: (em, x) => raw(em, 'Clip', [x], { max: float(0.1) }) },
  { name: 'Clip-9 min only', opset: 9, row: [6], body: (em, x) => raw(em, 'Clip', [x], { min: float(0.1) }) },
  { name: 'Scatter-9', opset: 9, row: [3, 4], body: (em, x) => raw(em, 'Scatter', [x, em.constInt([2, 0, 1, 0, 1, 2], [1, 2, 3]), em.constFloat([9, 8, 7, 6, 5, 4], [1, 2, 3])], { axis: 1 }), target: [11, 13] },
  { name: 'Dropout-10 (ratio attribute)', opset: 10, row: [5], body: (em, x) => raw(em, 'Dropout', [x], { ratio: float(0.3) }) },
  { name: 'Squeeze-11 and Unsqueeze-11 (axes attributes)', opset: 11, row: [1, 4, 1], body: (em, x) => raw(em, 'Unsqueeze', [raw(em, 'Squeeze', [x], { axes: [1, -1] })], { axes: [0, 3] }) },
  { name: 'Split-11 (split attribute)', opset: 11, row: [7], body: (em, x) => { const [a, b] = em.opN('Split', [x], 2, { axis: 1, split: [3, 4] }); return em.op('Concat', [b, a], { axis: 1 }); } },
  { name: 'Split-11 into equal parts', opset: 11, row: [6], body: (em, x) => { const [a, b, c] = em.opN('Split', [x], 3, { axis: 1 }); return em.op('Concat', [c, a, b], { axis: 1 }); } },
  { name: 'Split-13 into equal parts (no sizes input)', opset: 13, row: [6], body: (em, x) => { const [a, b] = em.opN('Split', [x], 2, { axis: 1 }); return em.op('Concat', [b, a], { axis: 1 }); }, target: [18, 21] },
  { name: 'ReduceSum-11 (axes attribute)', opset: 11, row: [3, 4], body: (em, x) => raw(em, 'ReduceSum', [x], { axes: [1], keepdims: 0 }) },
  { name: 'ReduceSum-11 over every axis', opset: 11, row: [3, 4], body: (em, x) => raw(em, 'ReduceSum', [x], {}) },
  { name: 'ReduceMean-13 and ReduceMax-13 (axes attributes)', opset: 13, row: [3, 4], body: (em, x) => raw(em, 'ReduceMax', [raw(em, 'ReduceMean', [x], { axes: [2] })], { axes: [-2], keepdims: 0 }), target: [18, 21] },
  { name: 'Softmax-11 at axis 1 of a 3-D input (coerced to 2-D)', opset: 11, row: [3, 4], body: (em, x) => raw(em, 'Softmax', [x], { axis: 1 }) },
  { name: 'LogSoftmax-11 default axis of a 4-D input', opset: 11, row: [2, 3, 2], body: (em, x) => raw(em, 'LogSoftmax', [x], {}) },
  { name: 'Softmax-11 at the last axis', opset: 11, row: [3, 4], body: (em, x) => raw(em, 'Softmax', [x], { axis: 2 }) },
  { name: 'Hardmax-11 at axis 1 of a 3-D input', opset: 11, row: [3, 4], body: (em, x) => raw(em, 'Hardmax', [x], { axis: 1 }) },
];

async function run(model: ModelProto, x: Float32Array, dims: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(encodeModel(model));
  const out = await session.run({ x: new ort.Tensor('float32', x, dims) });
  await session.release();
  return { data: out.y.data as Float32Array, dims: out.y.dims };
}

for (const c of CASES) {
  test(`upgradeOpset: ${c.name} computes the same at later opsets`, async () => {
    const { model } = tinyGraph(['N', ...c.row], c.opset, c.body);
    const dims = [2, ...c.row];
    const x = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, k) => Math.sin(1.7 * k + 0.3) * 2);
    const want = await run(model, x, dims);
    for (const target of c.target ?? [c.opset + 1, 13, 18, 21]) {
      if (target <= c.opset) continue;
      const upgraded = upgradeOpset(model, target, c.name);
      assert.equal(upgraded.opset_import!.find((o) => !o.domain)!.version, target);
      const got = await run(upgraded, x, dims);
      assert.equal([...got.dims], [...want.dims], `opset ${target}: dims`);
      got.data.forEach((v, k) => assert.ok(Math.abs(v - want.data[k]) <= 1e-6 * (1 + Math.abs(want.data[k])), `opset ${target}: [${k}] ${v} vs ${want.data[k]}`));
    }
  });
}

test('upgradeOpset: a nearest Resize-10 whose scales are computed is refused in one line (which axes it downsamples is unknown)', () => {
  const { model } = tinyGraph(['N', 2, 4, 4], 10, (em, x) => raw(em, 'Resize', [x, em.add(em.constFloat([1, 1, 0.5, 1], [4]), em.constFloat([0, 0, 0, 1], [4]))], { mode: 'nearest' }));
  assert.throws(() => upgradeOpset(model, 13, 'rs'), (e: Error) => /^rs: .*nearest Resize-10 with computed scales: onnxruntime ceils the taps along the axes it downsamples/.test(e.message) && !e.message.includes('\n'));
});

test('upgradeOpset: GroupNormalization-18 rebound to 21 is refused in one line naming the node', () => {
  const { model } = tinyGraph(['N', 4, 3], 18, (em, x) => raw(em, 'GroupNormalization', [x, em.constFloat([1, 2], [2]), em.constFloat([0, 1], [2])], { num_groups: 2 }));
  assert.throws(() => upgradeOpset(model, 21, 'gn'), (e: Error) => /^gn: .*GroupNormalization changed its meaning at opset 21.*export it at opset 21$/.test(e.message) && !e.message.includes('\n'));
});

test.run();
