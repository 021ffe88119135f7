import { test } from 'uvu';
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

test.run();
