import * as fs from 'fs';
import * as path from 'path';
import { DataType, decodeModel, encodeModel } from '../../rewriter/proto';

/**
 * A conditional generator G'(z, y, scale) = G((z + T[y]) · scale) from the clean digits generator G:
 * y int64 [N] picks a row of a table T [10, 12]; scale is a scalar input without a batch axis.
 */
export function conditionalGenerator(): Uint8Array {
  const g = decodeModel(fs.readFileSync(path.resolve(__dirname, '../../../models/cdeepex/clean/generator.onnx')));
  const graph = g.graph!;
  for (const n of graph.node!) n.input = n.input!.map((t) => (t === 'z' ? 'z_shifted' : t));
  const table = Float32Array.from({ length: 120 }, (_, k) => 0.3 * Math.sin(k * 1.7));
  graph.initializer!.push({ name: 'class_table', dims: [10, 12], data_type: DataType.FLOAT, raw_data: new Uint8Array(table.buffer) });
  graph.node!.unshift(
    { op_type: 'Gather', input: ['class_table', 'y'], output: ['class_code'], attribute: [{ name: 'axis', type: 2, i: 0 }] },
    { op_type: 'Add', input: ['z', 'class_code'], output: ['z_coded'] },
    { op_type: 'Mul', input: ['z_coded', 'scale'], output: ['z_shifted'] },
  );
  const info = (name: string, type: number, dim: ({ dim_param: string } | { dim_value: number })[]) => ({ name, type: { tensor_type: { elem_type: type, shape: { dim } } } });
  graph.input = [graph.input![0], info('y', DataType.INT64, [{ dim_param: 'N' }]), info('scale', DataType.FLOAT, [])];
  return encodeModel(g);
}
