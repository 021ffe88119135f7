import { test } from 'uvu';
import { Explainer } from '../../runtime';
import { rejects } from '../support/rejects';
import { tinyModel } from '../support/tiny-model';
import { gradcheck } from '../support/gradcheck';

const ints = (dims: number[], v: number[]) => ({ shape: dims, value: v, int64: true });
const x = { shape: [2, 5, 3] };

test('Gather scalar index, opset 11', () => gradcheck({ op: 'Gather', opset: 11, inputs: [x, ints([], [-2])], attrs: { axis: 1 } }));
test('Gather 1-D indices with repeats on axis 0, opset 7', () => gradcheck({ op: 'Gather', opset: 7, inputs: [x, ints([3], [1, 0, 1])] }));
test('Gather 2-D indices on the last axis, opset 13', () =>
  gradcheck({ op: 'Gather', opset: 13, inputs: [x, ints([2, 2], [2, 0, -1, 2])], attrs: { axis: -1 } }));
test('Gather 2-D indices on a middle axis, opset 13', () =>
  gradcheck({ op: 'Gather', opset: 13, inputs: [x, ints([3, 2], [4, 0, 1, 1, 3, 2])], attrs: { axis: 1 } }));


test('Gather of 70,000 constant indices along an axis of 70,000: a scatter matrix beyond JavaScript\'s array limit is refused in one line naming the node', async () => {
  const n = 70000;
  const model = tinyModel([n], 13, (em, x) => em.op('Gather', [x, em.constInt(Array.from({ length: n }, (_, k) => n - 1 - k))], { axis: 1 }));
  await rejects(() => Explainer.load(model).then((ex) => ex.attribute({ data: new Float32Array(n), dims: [1, n] }, { target: 0 })),
    /node '.*' \(Gather, opset 13\): its backward pass would build a constant larger than JavaScript arrays allow \(Invalid typed array length: 4900000000\)$/);
});

test.run();
