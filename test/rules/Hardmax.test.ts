import { test } from 'uvu';
import { float } from '../../rewriter/emitter';
import { gradcheckModel } from '../support/gradcheck';
import { tinyGraph } from '../support/tiny-model';

// Hardmax's one-hot is piecewise constant: a model adding it to a float branch has that branch's
// gradient only (inputs away from ties).
const data = [0.9, -0.7, 0.1, 1.6, -1.2, 0.55, 2.0, -0.4];
for (const opset of [11, 13]) {
  test(`Hardmax is non-differentiable: the gradient comes from the float branch, opset ${opset}`, () => {
    const graph = tinyGraph([2, 4], opset, (em, x) => em.add(em.op('Elu', [x], { alpha: float(1) }), em.mul(em.op('Hardmax', [x], { axis: 1 }), em.scalar(0.5))));
    return gradcheckModel(graph, { op: 'Hardmax', opset, inputs: [{ shape: [2, 4], data }] });
  });
}

test.run();
