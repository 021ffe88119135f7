import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildAugmented } from '../../rewriter/augment';
import { GraphView } from '../../rewriter/graph-view';
import { encodeModel } from '../../rewriter/proto';
import { gradient } from '../../rules/methods/gradient';
import { probeFacts } from '../../runtime/probe';
import { gradcheck, gradcheckModel, OpCase, singleOpModel, withNodeOutputs } from '../support/gradcheck';

test('Split attribute lengths, opset 11', () =>
  gradcheck({ op: 'Split', opset: 11, inputs: [{ shape: [1, 6, 2] }], attrs: { axis: 1, split: [1, 2, 3] }, outputs: 3 }));
test('Split equal parts, negative axis, opset 7', () =>
  gradcheck({ op: 'Split', opset: 7, inputs: [{ shape: [2, 3, 4] }], attrs: { axis: -1 }, outputs: 2 }));
test('Split lengths input, opset 13', () =>
  gradcheck({ op: 'Split', opset: 13, inputs: [{ shape: [1, 5, 2] }, { shape: [2], value: [2, 3], int64: true }], attrs: { axis: 1 }, outputs: 2 }));
test('Split num_outputs with an uneven last part, opset 18', () =>
  gradcheck({ op: 'Split', opset: 18, inputs: [{ shape: [1, 7] }], attrs: { axis: 1, num_outputs: 3 }, outputs: 3 }));
// Only the first half read (the second is a node output nothing reads): the second half's gradient is 0.
test('Split with an output nothing reads: its part of the gradient is zero, opset 13', () => {
  const c: OpCase = { op: 'Split', opset: 13, inputs: [{ shape: [1, 6] }, { shape: [2], value: [3, 3], int64: true }], attrs: { axis: 1 }, outputs: 2 };
  return gradcheckModel(withNodeOutputs(c, ['y0', 'y1'], ['y0']), c);
});

test('Split outputs without a gradient contribute zeros, opset 13', async () => {
  const { model, xs } = singleOpModel({ op: 'Split', opset: 13, inputs: [{ shape: [1, 6] }, { shape: [3], value: [1, 2, 3], int64: true }], attrs: { axis: 1 }, outputs: 3 });
  const view = new GraphView(model, 'Split');
  const { facts } = await probeFacts(model, xs, 'Split');
  const aug = buildAugmented({ view, facts, batchDynamic: false, method: gradient, input: 'x0', from: 'y1', options: {} });
  const session = await ort.InferenceSession.create(encodeModel(aug), { logSeverityLevel: 3 });
  const out = await session.run({ x0: new ort.Tensor('float32', new Float32Array(6), [1, 6]), seed: new ort.Tensor('float32', Float32Array.from([2, 3]), [1, 2]) });
  assert.equal(Array.from((out.attribution as ort.Tensor).data as Float32Array), [0, 2, 3, 0, 0, 0]);
  await session.release();
});

test.run();
