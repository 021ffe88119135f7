import { Emitter } from '../../rewriter/emitter';
import { DataType, encodeModel, ModelProto, valueInfo } from '../../rewriter/proto';
import { InputSpec } from '../../runtime/probe';

/** A model with input 'x' [N, ...row] whose graph `body` builds; its result is output 'y'. */
export function tinyModel(row: number[], opset: number, body: (em: Emitter, x: string) => string): Uint8Array {
  return encodeModel(tinyGraph(['N', ...row], opset, body).model);
}

/** The model of tinyModel with input dims as given (numbers or named), with its input and output. */
export function tinyGraph(dims: (number | string)[], opset: number, body: (em: Emitter, x: string) => string, domains: { domain: string; version: number }[] = []): { model: ModelProto; xs: InputSpec[]; ys: string[] } {
  const em = new Emitter(opset, DataType.FLOAT, 'tiny');
  em.rename(body(em, 'x'), 'y');
  const model: ModelProto = {
    ir_version: 8,
    opset_import: [{ domain: '', version: opset }, ...domains],
    producer_name: 'onnx-explain tests',
    graph: { name: 'tiny', node: em.nodes, initializer: em.initializers, input: [valueInfo('x', DataType.FLOAT, dims)], output: [{ name: 'y' }] },
  };
  return { model, xs: [{ name: 'x', elemType: DataType.FLOAT, dims: dims.map((d) => (typeof d === 'number' ? d : 1)) }], ys: ['y'] };
}
