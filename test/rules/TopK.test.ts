import { test } from 'uvu';
import { gradcheckModel, OpCase, withNodeOutputs } from '../support/gradcheck';

const k = (v: number) => ({ shape: [1], value: [v], int64: true });
/** Values seeded, indices (int64) left unused. */
const values = (c: OpCase) => gradcheckModel(withNodeOutputs(c, ['y0', 'indices'], ['y0']), c);

test('TopK values along the last axis, k input, opset 11', () => values({ op: 'TopK', opset: 11, inputs: [{ shape: [2, 3, 6] }, k(3)]}));
test('TopK smallest along axis 1, opset 11', () => values({ op: 'TopK', opset: 11, inputs: [{ shape: [2, 5, 3] }, k(2)], attrs: { axis: 1, largest: 0 }}));
test('TopK with a k attribute, opset 9', () => values({ op: 'TopK', opset: 9, inputs: [{ shape: [2, 6] }], attrs: { k: 2 }}));

test.run();
