import { test } from 'uvu';
import { gradcheck } from '../support/gradcheck';

// The forms exporters emit: batched matrix products, attention scores, bilinear and weighted sums.
const cases: [string, number[][]][] = [
  ['bij,bjk->bik', [[2, 3, 4], [2, 4, 5]]],
  ['bhid,bhjd->bhij', [[1, 2, 3, 4], [1, 2, 5, 4]]],
  ['bhij,bhjd->bhid', [[1, 2, 3, 5], [1, 2, 5, 4]]],
  ['ij,j->i', [[3, 4], [4]]],
  ['...ij,...jk->...ik', [[2, 3, 4], [2, 4, 2]]],
  ['bnd,nd->bn', [[2, 3, 4], [3, 4]]],
  ['ij,kj', [[3, 4], [2, 4]]],
  ['bi,bj->bij', [[2, 3], [2, 4]]],
  // Subscripts one operand alone sums away (torch.einsum('nchw,ck->nkw')), also past an ellipsis and over a whole
  // operand; an ellipsis one operand lacks (its gradient sums it away).
  ['nchw,ck->nkw', [[2, 3, 4, 5], [3, 2]]],
  ['...ij,jk->...k', [[2, 3, 4], [4, 5]]],
  ['...ij,jk->...ik', [[2, 3, 4], [4, 5]]],
  ['bi,k->bi', [[2, 3], [4]]],
  // A unit axis that broadcasts (multi-query attention's one key head), both ways; diagonals and traces.
  ['bhqd,bhkd->bhqk', [[2, 4, 3, 5], [2, 1, 6, 5]]],
  ['bhqk,bhkd->bhqd', [[2, 1, 3, 6], [2, 4, 6, 5]]],
  ['nii->ni', [[2, 4, 4]]],
  ['nii->n', [[2, 3, 3]]],
  ['nii,nij->nj', [[2, 3, 3], [2, 3, 4]]],
  ['nij,jj->ni', [[2, 3, 4], [4, 4]]],
];
for (const [equation, shapes] of cases) {
  test(`Einsum '${equation}', both operands, opset 12`, () => gradcheck({ op: 'Einsum', opset: 12, inputs: shapes.map((shape) => ({ shape })), attrs: { equation } }));
}
// Implicit outputs (no '->'): the letters that occur once, in ALPHABETICAL order (onnx spec), not in order of
// appearance: 'ba' is a transpose, 'kj,ji' gives [i, k] (the operands' product transposed).
for (const [equation, shapes] of [['ba', [[3, 4]]], ['kj,ji', [[2, 3], [3, 4]]]] as [string, number[][]][]) {
  test(`Einsum implicit output '${equation}' (letters sorted), opset 13`, () => gradcheck({ op: 'Einsum', opset: 13, inputs: shapes.map((shape) => ({ shape })), attrs: { equation } }));
}
test('Einsum with a constant weight operand, opset 13', () =>
  gradcheck({ op: 'Einsum', opset: 13, inputs: [{ shape: [2, 3, 4] }, { shape: [4, 2], value: [0.5, -1, 2, 0.3, -0.7, 1.1, 0.2, 0.9] }], attrs: { equation: 'bsd,de->bse' } }));

test.run();
