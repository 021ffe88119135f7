import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter } from '../rewriter/emitter';
import { AttrType, DataType, makeTensor, NodeProto } from '../rewriter/proto';
import { Explainer } from '../runtime';
import { relL2 } from './support/fixtures';
import { tinyModel } from './support/tiny-model';

// x [N, 4] → Linear → Relu → Linear → 3 logits z, then a head: the op, or written out as hand-written torch modules export it.
const W1 = [0.5, -1, 2, 1.5, 0.25, -0.75, -2, 1, 0.5, 0.3, 0.6, -0.9, 0.2, 0.4, -0.6, 1.1, -0.3, 0.7, 0.9, -1.2]; // [4, 5]
const W2 = [0.6, -0.5, 0.3, 0.8, 0.2, -0.4, -0.7, 0.1, 0.9, 0.5, -0.6, 0.2, 0.3, -0.8, 0.4]; // [5, 3]
const x = { data: Float32Array.from([0.5, -1, 2, 0.3, -0.4, 1.2, 0.7, -1.5]), dims: [2, 4] };
const logits = (em: Emitter, v: string) => em.matmul(em.op('Relu', [em.add(em.matmul(v, em.constFloat(W1, [4, 5])), em.constFloat([0.1, -0.2, 0.3, 0, 0.2], [5]))]), em.constFloat(W2, [5, 3]));
const sumExp = (em: Emitter, a: string) => { const e = em.op('Exp', [a]); return [e, em.reduceSum(e, [1])]; };

const heads: [string, 'Softmax' | 'LogSoftmax' | 'Sigmoid', (em: Emitter, z: string) => string][] = [
  ['exp(z)/Σexp(z)', 'Softmax', (em, z) => { const [e, s] = sumExp(em, z); return em.div(e, s); }],
  ['exp(z − max z)/Σ (the spec\'s Softmax-13 body)', 'Softmax', (em, z) => { const [e, s] = sumExp(em, em.sub(z, em.reduce('ReduceMax', z, [1]))); return em.div(e, s); }],
  ['z − ReduceLogSumExp(z)', 'LogSoftmax', (em, z) => em.sub(z, em.op('ReduceLogSumExp', [z], { axes: [1], keepdims: 1 }))],
  ['z − log Σ exp(z)', 'LogSoftmax', (em, z) => em.sub(z, em.op('Log', [sumExp(em, z)[1]]))],
  ['(z − max z) − log Σ exp(z − max z) (the spec\'s LogSoftmax-13 body)', 'LogSoftmax', (em, z) => { const a = em.sub(z, em.reduce('ReduceMax', z, [1])); return em.sub(a, em.op('Log', [sumExp(em, a)[1]])); }],
  ['Reciprocal(1 + exp(−z))', 'Sigmoid', (em, z) => em.op('Reciprocal', [em.add(em.scalar(1), em.op('Exp', [em.neg(z)]))])],
  ['1/(1 + exp(−z))', 'Sigmoid', (em, z) => em.div(em.scalar(1), em.add(em.op('Exp', [em.neg(z)]), em.scalar(1)))],
];

async function explain(head: (em: Emitter, z: string) => string, method: string, extra: Record<string, unknown> = {}): Promise<Float32Array> {
  const ex = await Explainer.load(tinyModel([4], 13, (em, v) => head(em, logits(em, v))));
  return (await ex.attribute(x, { method, target: [2, 0], ...extra })).attributions.data;
}

for (const [form, op, head] of heads) {
  test(`a ${op} head written out as ${form} is explained as the ${op} op is: gradient and DeepLIFT at the logits (LRP too behind a sigmoid), softmaxNormalize over its classes, a softmax's --explain-softmax at its output`, async () => {
    const asOp = (em: Emitter, z: string) => (op === 'Sigmoid' ? em.op('Sigmoid', [z]) : em.op(op, [z], { axis: 1 }));
    const methods: [string, Record<string, unknown>][] = [['gradient', {}], ['deeplift', {}], ['lrp-epsilon', {}], ['deeplift', { softmaxNormalize: true }], ...(op === 'Sigmoid' ? [] : [['gradient', { explainSoftmax: true }] as [string, Record<string, unknown>]])];
    for (const [method, extra] of methods) {
      const [want, got] = [await explain(asOp, method, extra), await explain(head, method, extra)];
      assert.ok(relL2(got, want) < 1e-5, `${method} ${JSON.stringify(extra)}: rel L2 ${relL2(got, want)}`);
    }
  });
}

test('a final Softmax behind torch\'s squeeze(dim) of a size unknown at export, If(size == 1, Squeeze, Identity), is explained through its logits, as behind a Squeeze', async () => {
  const W = [0.5, -1, 2, 1.5, 0.25, -0.75, -2, 1, 0.5, 0.3, 0.6, -0.9]; // [4, 3]
  const model = tinyModel([4], 13, (em, v) => {
    const probabilities = em.op('Softmax', [em.reshape(em.matmul(v, em.constFloat(W, [4, 3])), [-1, 3, 1])], { axis: 1 });
    const single = em.op('Equal', [em.op('Gather', [em.op('Shape', [probabilities]), em.constInt([2], [])], { axis: 0 }), em.constInt([1], [])]);
    const branch = (node: NodeProto, extra: NodeProto[] = []) => ({ name: node.op_type!, node: [...extra, node], output: [{ name: node.output![0] }] });
    const axes = { op_type: 'Constant', output: ['axes'], attribute: [{ name: 'value', type: AttrType.TENSOR, t: makeTensor('axes', [1], [2], DataType.INT64) }] };
    const y = em.op('If', [single]);
    em.nodes[em.nodes.length - 1].attribute = [
      { name: 'then_branch', type: AttrType.GRAPH, g: branch({ op_type: 'Squeeze', input: [probabilities, 'axes'], output: ['squeezed'] }, [axes]) },
      { name: 'else_branch', type: AttrType.GRAPH, g: branch({ op_type: 'Identity', input: [probabilities], output: ['kept'] }) },
    ];
    return y;
  });
  const ex = await Explainer.load(model);
  const r = await ex.attribute(x, { method: 'gradient', target: 1 });
  // The logit z₁ = x·W[:, 1]: its gradient is that column in every row (the probability's was up to 0.31 away).
  Array.from(r.attributions.data).forEach((g, i) => assert.ok(Math.abs(g - W[(i % 4) * 3 + 1]) < 1e-6, `feature ${i}: ${g}`));
});

test('a sum of exp over the batch too (exp(z)/Σ exp(z) over every axis) is no row\'s softmax: explained as it is', async () => {
  const ex = await Explainer.load(tinyModel([4], 13, (em, v) => { const e = em.op('Exp', [logits(em, v)]); return em.div(e, em.reduceSum(e, [0, 1])); }));
  assert.is(ex.resolveOutput(undefined).from, 'y');
});

test('LRP of a softmax written out stably, explained at its probabilities (--explain-softmax), or inside a network: z − max z passes the relevance to z, as exp(z)/Σ exp(z) does (the zero at the maximum left its class none)', async () => {
  const [plain, stable] = [heads[0][2], heads[1][2]];
  for (const method of ['lrp-epsilon', 'lrp-zplus']) {
    const [want, got] = [await explain(plain, method, { explainSoftmax: true }), await explain(stable, method, { explainSoftmax: true })];
    assert.ok(relL2(got, want) < 1e-5 && want.some((v) => v !== 0), `${method}: rel L2 ${relL2(got, want)}`);
  }
});

test('near misses are explained as they are, or through what they do compute: a max over other axes than the sum\'s is part of the logits; a sigmoid whose one broadcasts the logits wider is none', async () => {
  // z [N, 3, 2]: exp(z − max over axis 2) / Σ over axis 1 is a softmax over axis 1 of z − max₂ z, which depends on the max.
  let shifted = '';
  const otherMax = await Explainer.load(tinyModel([4], 13, (em, v) => {
    const z = em.reshape(em.matmul(v, em.constFloat(W1.slice(0, 24), [4, 6])), [0, 3, 2]);
    shifted = em.sub(z, em.reduce('ReduceMax', z, [2]));
    const e = em.op('Exp', [shifted]);
    return em.div(e, em.reduceSum(e, [1]));
  }));
  assert.is(otherMax.resolveOutput(undefined).from, shifted);
  const wider = await Explainer.load(tinyModel([4], 13, (em, v) => em.op('Reciprocal', [em.add(em.constFloat([1, 1, 1, 1, 1], [1, 5]), em.op('Exp', [em.neg(em.matmul(v, em.constFloat([0.5, -1, 2, 1.5], [4, 1])))]))])));
  assert.is(wider.resolveOutput(undefined, false, 'lrp-epsilon').from, 'y');
});

test.run();
