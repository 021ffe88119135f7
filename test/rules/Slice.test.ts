import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter } from '../../rewriter/emitter';
import { DataType, encodeModel, valueInfo } from '../../rewriter/proto';
import { Explainer } from '../../runtime';
import { gradcheck, gradcheckModel } from '../support/gradcheck';
import { tinyGraph } from '../support/tiny-model';

const ints = (v: number[]) => ({ shape: [v.length], value: v, int64: true });
const x = { shape: [2, 5, 6] };
const MAX = 9223372036854775807;

test('Slice attributes, opset 7', () => gradcheck({ op: 'Slice', opset: 7, inputs: [x], attrs: { starts: [1, -4], ends: [4, 1000], axes: [1, 2] } }));
test('Slice attributes without axes, opset 9', () => gradcheck({ op: 'Slice', opset: 9, inputs: [x], attrs: { starts: [0, 1], ends: [1, -1] } }));
test('Slice inputs with steps 2 and INT64_MAX ends, opset 10', () =>
  gradcheck({ op: 'Slice', opset: 10, inputs: [x, ints([1, 0]), ints([MAX, MAX]), ints([2, 1]), ints([2, 3])] }));
test('Slice negative steps, opset 13', () =>
  gradcheck({ op: 'Slice', opset: 13, inputs: [x, ints([-1, 4]), ints([-MAX, 0]), ints([2, -2]), ints([-2, -1])] }));
// torch.flip's export: the whole axis reversed (starts −1, ends −INT64_MAX, step −1), reaching index 0.
test('Slice reversing a whole axis (torch.flip: starts -1, ends -INT64_MAX, steps -1), opset 13', () =>
  gradcheck({ op: 'Slice', opset: 13, inputs: [{ shape: [2, 5] }, ints([-1]), ints([-MAX]), ints([1]), ints([-1])] }));
test('Slice clamped starts and omitted axes/steps, opset 11', () =>
  gradcheck({ op: 'Slice', opset: 11, inputs: [x, ints([0, -10, 2]), ints([1, 3, 100])] }));
test('Slice omitted axes with steps, opset 13', () =>
  gradcheck({ op: 'Slice', opset: 13, inputs: [x, ints([0, 1, 1]), ints([2, 5, 6]), { shape: [0], omitted: true }, ints([1, 3, 2])] }));

// An empty slice (starts past the end: onnx's test_slice_start_out_of_bounds; the pass-through
// half x[..., d:] of a rotary embedding with rotary_dim = head_dim d) concatenated back: its
// gradient must add nothing (onnxruntime's MatMul with a contracted length of 0 returns
// uninitialised memory, which tensors of this size expose).
for (const [axis, dims] of [[1, [20, 10, 5]], [2, [20, 5, 10]]] as const) {
  test(`an empty Slice on axis ${axis} concatenated with the rest adds no gradient, opset 13`, () => {
    const graph = tinyGraph([...dims], 13, (em, v) => {
      const empty = em.op('Slice', [v, em.constInt([1000]), em.constInt([1000]), em.constInt([axis])]);
      return em.op('Concat', [em.op('Tanh', [v]), empty], { axis });
    });
    return gradcheckModel(graph, { op: 'Slice', opset: 13, inputs: [{ shape: [...dims] }] });
  });
}

// torch's dynamo export writes some Slices with scalar starts and ends: onnxruntime folds them when optimising a
// model whose data is constant, but rejects them where they run ("Starts must be a 1-D array": an ECG BiLSTM's probe).
test('Slice with scalar starts and ends (dynamo export) on data from the input: read as 1-D, gradient is the slice mask', async () => {
  const em = new Emitter(18, DataType.FLOAT, 'scalars');
  const start = em.constInt([1], []);
  const end = em.constInt([4], []);
  em.rename(em.op('Slice', ['x', start, end, em.constInt([1])]), 'y');
  const model = encodeModel({ ir_version: 8, opset_import: [{ domain: '', version: 18 }], graph: { name: 'scalars', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', 6])], output: [{ name: 'y' }] } });
  const r = await (await Explainer.load(model)).attribute({ data: Float32Array.from([1, 2, 3, 4, 5, 6]), dims: [1, 6] }, { target: 2 });
  assert.equal(Array.from(r.attributions.data), [0, 0, 0, 1, 0, 0]);
  assert.equal(Array.from(r.outputs.y.data), [2, 3, 4]);
});

test.run();
