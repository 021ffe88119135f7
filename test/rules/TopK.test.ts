import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Explainer } from '../../runtime';
import { gradcheckModel, OpCase, withNodeOutputs } from '../support/gradcheck';
import { tinyModel } from '../support/tiny-model';

const k = (v: number) => ({ shape: [1], value: [v], int64: true });
/** Values seeded, indices (int64) left unused. */
const values = (c: OpCase) => gradcheckModel(withNodeOutputs(c, ['y0', 'indices'], ['y0']), c);

test('TopK values along the last axis, k input, opset 11', () => values({ op: 'TopK', opset: 11, inputs: [{ shape: [2, 3, 6] }, k(3)]}));
test('TopK smallest along axis 1, opset 11', () => values({ op: 'TopK', opset: 11, inputs: [{ shape: [2, 5, 3] }, k(2)], attrs: { axis: 1, largest: 0 }}));
test('TopK with a k attribute, opset 9', () => values({ op: 'TopK', opset: 9, inputs: [{ shape: [2, 6] }], attrs: { k: 2 }}));

/** TopK (k = 3) of x [N, 6], · w → y [N, 1]. */
const W = [0.5, -2, 3];
const top3 = tinyModel([6], 13, (em, x) => em.matmul(em.opN('TopK', [x, em.constInt([3], [1])], 2, { axis: 1 })[0], em.constFloat(W, [3, 1])));

test('TopK with tied values (k-max pooling over equal activations): each value\'s signal goes to the one position its Indices output holds (lower index first, ONNX TopK-11); DeepLIFT sums to delta', async () => {
  const ex = await Explainer.load(top3);
  // Row 0: 3 at position 1, then the value 1 at positions 0, 2 and 3 (the first two are taken);
  // row 1: no ties.
  const x = { data: Float32Array.from([1, 3, 1, 1, -2, 0, 0.5, -1, 4, 2, -0.1, -0.7]), dims: [2, 6] };
  const g = await ex.attribute(x, { target: 0 });
  assert.equal(Array.from(g.attributions.data), [W[1], W[0], W[2], 0, 0, 0, W[2], 0, W[0], W[1], 0, 0].map(Math.fround));
  for (const baseline of [undefined, { data: Float32Array.from([0.3, -1, 2, -0.5, 0, 0.2]), dims: [1, 6] }]) {
    const d = await ex.attribute(x, { method: 'deeplift', target: 0, baseline });
    d.delta!.forEach((v, r) => assert.ok(Math.abs(v) < 1e-6, `row ${r}: delta ${v}`));
  }
});

test.run();
