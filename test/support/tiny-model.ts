import { Emitter } from '../../rewriter/emitter';
import { DataType, encodeModel, ModelProto, valueInfo } from '../../rewriter/proto';

/** A model with input 'x' [N, ...row] whose graph `body` builds; its result is output 'y'. */
export function tinyModel(row: number[], opset: number, body: (em: Emitter, x: string) => string): Uint8Array {
  const em = new Emitter(opset, DataType.FLOAT, 'tiny');
  em.rename(body(em, 'x'), 'y');
  const model: ModelProto = {
    ir_version: 8,
    opset_import: [{ domain: '', version: opset }],
    producer_name: 'onnx-explain tests',
    graph: { name: 'tiny', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, ['N', ...row])], output: [{ name: 'y' }] },
  };
  return encodeModel(model);
}
