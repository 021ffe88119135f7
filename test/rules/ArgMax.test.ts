import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { DataType } from '../../rewriter/proto';
import { gradcheckModel } from '../support/gradcheck';
import { tinyGraph } from '../support/tiny-model';

// ArgMax and the comparisons have integer/boolean outputs: a model mixing such a branch into its
// output (y = x·w + Cast(ArgMax)·c + Cast(x > 0.3)) has the gradient of its float branch only,
// which finite differences confirm (inputs are away from the threshold and from ties).
const data = [0.9, -0.7, 0.1, 1.6, -1.2, 0.55, 2.0, -0.4];
for (const [op, opset] of [['ArgMax', 13], ['ArgMin', 11], ['Greater', 13], ['Less', 9], ['Equal', 13], ['GreaterOrEqual', 12], ['LessOrEqual', 16]] as const) {
  test(`${op} is non-differentiable: the gradient comes from the float branch, opset ${opset}`, () => {
    const graph = tinyGraph([2, 4], opset, (em, x) => {
      const step = op.startsWith('Arg')
        ? em.op(op, [x], { axis: 1, keepdims: 1 })
        : em.op(op, [x, em.scalar(0.3)]);
      const branch = em.mul(em.cast(step, DataType.FLOAT), em.scalar(0.5));
      return em.add(em.mul(em.op('Elu', [x], { alpha: float(1) }), em.constFloat([1, -2, 0.5, 3], [4])), branch);
    });
    return gradcheckModel(graph, { op, opset, inputs: [{ shape: [2, 4], data }] });
  });
}

test.run();
