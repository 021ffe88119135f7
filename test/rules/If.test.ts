import * as ort from 'onnxruntime-node';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Emitter } from '../../rewriter/emitter';
import { AttrType, DataType, encodeModel, GraphProto, ModelProto, valueInfo } from '../../rewriter/proto';
import { ExplainError, Explainer } from '../../runtime';
import { relL2 } from '../support/fixtures';
import { rng } from '../support/gradcheck';

const r = rng(5);
const W = Array.from({ length: 12 }, () => r() * 2 - 1);

/** A branch graph reading x from the enclosing scope. */
function branch(name: string, body: (em: Emitter) => string): GraphProto {
  const em = new Emitter(13, DataType.FLOAT, name);
  const out = body(em);
  return { name, node: em.nodes, initializer: em.initializers, input: [], output: [valueInfo(out, DataType.FLOAT)] };
}

/** y = 2·If(cond(x), Relu(x·W), −x·W) for x [1, 4]. */
function ifModel(cond: (em: Emitter) => string): ModelProto {
  const em = new Emitter(13, DataType.FLOAT, 'main');
  const c = cond(em);
  const thenB = branch('then', (b) => b.op('Relu', [b.matmul('x', b.constFloat(W, [4, 3]))]));
  const elseB = branch('else', (b) => b.neg(b.matmul('x', b.constFloat(W, [4, 3]))));
  em.nodes.push({ op_type: 'If', input: [c], output: ['branch_out'], name: 'choose', attribute: [
    { name: 'then_branch', type: AttrType.GRAPH, g: thenB }, { name: 'else_branch', type: AttrType.GRAPH, g: elseB },
  ] });
  em.rename(em.mul('branch_out', em.scalar(2)), 'y');
  return {
    ir_version: 8, opset_import: [{ domain: '', version: 13 }], producer_name: 'test',
    graph: { name: 'if', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, [1, 4])], output: [{ name: 'y' }] },
  };
}

const x = Float32Array.from([0.7, -1.2, 0.4, 1.5]);

async function finiteDifferences(model: ModelProto, target: number): Promise<Float64Array> {
  const s = await ort.InferenceSession.create(encodeModel(model));
  const f = async (v: Float32Array) => ((await s.run({ x: new ort.Tensor('float32', v, [1, 4]) })).y.data as Float32Array)[target];
  const g = new Float64Array(4);
  for (let i = 0; i < 4; i++) {
    const [p, m] = [Float32Array.from(x), Float32Array.from(x)];
    p[i] += 1e-2;
    m[i] -= 1e-2;
    g[i] = (await f(p) - await f(m)) / 2e-2;
  }
  return g;
}

// Condition from the input's shape (x.shape[1] == 4 → then) and from constants (1 > 2 → else).
const conditions: [string, (em: Emitter) => string][] = [
  ['shape-only condition (then branch)', (em) => em.op('Equal', [em.op('Gather', [em.op('Shape', ['x']), em.constInt([1], [])], { axis: 0 }), em.constInt([4], [])])],
  ['constant condition (else branch)', (em) => em.compare('Greater', em.scalar(1), em.scalar(2))],
];
for (const [what, cond] of conditions) {
  test(`If with a ${what} is inlined: gradient and DeepLIFT through the taken branch, opset 13`, async () => {
    const model = ifModel(cond);
    const ex = await Explainer.load(encodeModel(model));
    for (const target of [0, 2]) {
      const res = await ex.attribute({ data: x, dims: [1, 4] }, { target, method: 'gradient' });
      const fd = await finiteDifferences(model, target);
      assert.ok(relL2(res.attributions.data as Float32Array, fd) < 2e-3, `target ${target}: ${Array.from(res.attributions.data as Float32Array)} vs ${Array.from(fd)}`);
      const dl = await ex.attribute({ data: x, dims: [1, 4] }, { target, method: 'deeplift', baseline: { data: new Float32Array(4), dims: [1, 4] } });
      assert.ok(Math.abs(dl.delta![0]) < 1e-5, `DeepLIFT delta ${dl.delta![0]}`);
    }
  });
}

test('If on a condition computed from the input values: one line naming the condition\'s step node and the If, op and opset', async () => {
  const ex = await Explainer.load(encodeModel(ifModel((em) => em.compare('Greater', em.reduceSum('x', [0, 1], false), em.scalar(0)))));
  const err = await ex.attribute({ data: x, dims: [1, 4] }, { target: 0 }).then(() => undefined, (e) => e);
  assert.instance(err, ExplainError);
  assert.not.match(err.message, /\n/);
  assert.match(err.message, /'y' has no gradient with respect to 'x': it depends on it only through node '[^']+' \(Greater, opset 13\), whose output is boolean.*; node 'choose' \(If, opset 13\) reads the input inside its subgraphs, which are not differentiated/);
});

test.run();
