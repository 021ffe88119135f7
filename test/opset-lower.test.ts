import * as fs from 'fs';
import * as path from 'path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lowerNewOpset, WEBGPU_OPSET } from '../rewriter/opset-lower';
import { parseModel } from '../rewriter/model-io';
import { defaultOpset } from '../rewriter/opset-lift';
import { AttrType, encodeModel, ModelProto, NodeProto } from '../rewriter/proto';
import { nonNativeOps } from '../rewriter/webgpu-ops';
import { Explainer } from '../runtime';
import { runCli, tempDir } from './support/cli-harness';
import { FIXTURES, loadFixture, relL2 } from './support/fixtures';

// onnxruntime-web 1.30's WebGPU backends register Conv, ConvTranspose, the pools, Reshape, Transpose, …
// only up to opset 21 or 22: a model at 22+ whose ops only gained types since is read at 21.
const fx = loadFixture('resnet_bn', FIXTURES);
const original = parseModel(fs.readFileSync(fx.model), 'resnet_bn');

function atOpset(model: ModelProto, opset: number, nodes?: (n: NodeProto[]) => NodeProto[]): ModelProto {
  const graph = model.graph!;
  return {
    ...model,
    ir_version: 10,
    opset_import: model.opset_import!.map((o) => (!o.domain ? { ...o, version: opset } : o)),
    graph: nodes ? { ...graph, node: nodes(graph.node!) } : graph,
  };
}

for (const opset of [22, 23, 24]) {
  test(`resnet_bn at opset ${opset}: read at ${WEBGPU_OPSET}, every emitted op native there, the same attributions`, async () => {
    const ex = await Explainer.load(encodeModel(atOpset(original, opset)));
    assert.is(defaultOpset(ex.view.model), WEBGPU_OPSET);
    const reference = await Explainer.load(fx.model);
    for (const method of ['gradient', 'deeplift', 'guided-backprop']) {
      const { model, prepared } = await ex.augmented(fx.input.dims.slice(1), { method, target: fx.meta.target });
      assert.equal(nonNativeOps(model.graph!.node!, prepared.view.nodes.length, defaultOpset(model)), [], method);
      const [got, want] = await Promise.all([ex, reference].map((e) => e.attribute(fx.input, { method, target: fx.meta.target })));
      assert.ok(relL2(got.attributions.data, want.attributions.data) <= 1e-6, `${method}: rel L2 ${relL2(got.attributions.data, want.attributions.data)}`);
    }
  });
}

// It gave the reason of a model rebound up to opset 21 ("where QuantizeLinear takes 16- and 4-bit types").
test('info says why a model at opset 22 is read at 21', async () => {
  const file = path.join(tempDir('opset-lower'), 'resnet_bn_22.onnx');
  fs.writeFileSync(file, encodeModel(atOpset(original, 22)));
  const info = await runCli(['info', file]);
  assert.ok(info.out.includes(`opsets: ai.onnx 22 (read as opset 21, the newest at which onnxruntime-web's WebGPU kernels run every op; it uses nothing newer)`), info.out.slice(0, 3).join('\n'));
});

test('a model that uses an op, attribute or element type from after opset 21 keeps its opset', () => {
  const last = (nodes: NodeProto[]) => nodes[nodes.length - 1].output![0];
  const appended = (node: (y: string) => NodeProto) => (nodes: NodeProto[]) => [...nodes, node(last(nodes))];
  const swish = atOpset(original, 24, appended((y) => ({ op_type: 'Swish', input: [y], output: ['swished'], name: 'swish' })));
  assert.is(defaultOpset(lowerNewOpset(swish)), 24);
  const roundMode = atOpset(original, 24, appended((y) => ({ op_type: 'Cast', input: [y], output: ['cast'], name: 'cast', attribute: [{ name: 'to', type: AttrType.INT, i: 1 }, { name: 'round_mode', type: AttrType.STRING, s: new TextEncoder().encode('up') }] })));
  assert.is(defaultOpset(lowerNewOpset(roundMode)), 24);
  // float8e8m0 (TensorProto.DataType 24) as a Cast target
  const e8m0 = atOpset(original, 24, appended((y) => ({ op_type: 'Cast', input: [y], output: ['cast'], name: 'cast', attribute: [{ name: 'to', type: AttrType.INT, i: 24 }] })));
  assert.is(defaultOpset(lowerNewOpset(e8m0)), 24);
  const plain = atOpset(original, 24, appended((y) => ({ op_type: 'Cast', input: [y], output: ['cast'], name: 'cast', attribute: [{ name: 'to', type: AttrType.INT, i: 1 }] })));
  assert.is(defaultOpset(lowerNewOpset(plain)), WEBGPU_OPSET);
  assert.is(defaultOpset(lowerNewOpset(original)), defaultOpset(original), 'older opsets unchanged');
});

test.run();
