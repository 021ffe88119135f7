import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { float } from '../../rewriter/emitter';
import { gradcheckModel, refusal } from '../support/gradcheck';
import { tinyGraph } from '../support/tiny-model';

// EyeLike's values depend only on its input's shape: a model adding it to a float branch has that branch's gradient.
for (const k of [0, 1, -2]) {
  test(`EyeLike (k = ${k}) passes no gradient: the gradient comes from the float branch`, () => {
    const graph = tinyGraph([3, 4], 13, (em, x) => em.add(em.op('Elu', [x], { alpha: float(1) }), em.mul(em.op('EyeLike', [x], { k }), em.scalar(0.5))));
    return gradcheckModel(graph, { op: 'EyeLike', opset: 13, inputs: [{ shape: [3, 4] }] });
  });
}

test('an output computed only through EyeLike is refused saying its values follow from the shape', async () => {
  const message = await refusal({ op: 'EyeLike', opset: 13, inputs: [{ shape: [1, 4] }], attrs: { k: 1 } });
  assert.match(message, /only through node 'EyeLike' \(EyeLike, opset 13\), whose values follow from its input's shape alone; explain a tensor computed before that node$/);
});

test.run();
