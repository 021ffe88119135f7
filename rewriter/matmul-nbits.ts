import { attrInt } from './attributes';
import { ExplainError } from './errors';
import { GraphView } from './graph-view';
import { DataType, makeTensor, ModelProto, NodeProto, TensorProto, tensorArray } from './proto';

const isNBits = (n: NodeProto) => n.domain === 'com.microsoft' && n.op_type === 'MatMulNBits';

/**
 * onnxruntime's weight-only block quantisation (com.microsoft.MatMulNBits: transformers.js'
 * model_q4.onnx, onnxruntime-genai and MatMulNBitsQuantizer models) as a MatMul with the weights
 * dequantized into a float initializer [K, N], then the bias Add. B holds N rows of K codes in
 * blocks of block_size along K, packed low-first into bytes (the last block padded); each block has
 * a scale and a zero point (uint8 codes packed the same way per row, or floats; default
 * 2^(bits−1)); w[k, n] = (q − zp)·s of its block, or of the block g_idx[k] names. The activation
 * is not quantized, so the result is the operator's up to float rounding.
 */
export function matMulNBitsToMatMul(model: ModelProto, label: string): ModelProto {
  if (!(model.graph?.node ?? []).some(isNBits)) return model;
  const view = new GraphView(model, label);
  const extra: TensorProto[] = [];
  const node = (model.graph!.node ?? []).flatMap((n) => (isNBits(n) ? floatForm(view, n, extra) : [n]));
  return { ...model, graph: { ...model.graph, node, initializer: [...(model.graph!.initializer ?? []), ...extra] } };
}

function floatForm(view: GraphView, n: NodeProto, extra: TensorProto[]): NodeProto[] {
  const fail = (what: string): never => { throw new ExplainError(`${view.label}: ${view.nodeLabel(n)}: ${what}`); };
  const [a, b, s, z, g, bias] = n.input ?? [];
  const [K, N, bits, block] = [attrInt(n, 'K', 0), attrInt(n, 'N', 0), attrInt(n, 'bits', 4), attrInt(n, 'block_size', 0)];
  if (![2, 4, 8].includes(bits) || block <= 0 || K <= 0 || N <= 0) fail(`bits ${bits}, block_size ${block}, K ${K}, N ${N} do not describe a weight (bits 2, 4 or 8)`);
  const constant = (t: string, what: string) => view.constant(t) ?? fail(`${what} must be a constant`);
  const packed = view.initializers.get(b);
  const codes = packed ? tensorArray(packed) : constant(b, 'B').values;
  const scales = constant(s, 'the scales').values;
  const blocks = Math.ceil(K / block);
  const rowBytes = (block * bits / 8) * blocks;
  if (codes.length !== N * rowBytes || scales.length !== N * blocks) fail(`B has ${codes.length} bytes and ${scales.length} scales where K ${K}, N ${N}, bits ${bits} and block_size ${block} need ${N * rowBytes} and ${N * blocks}`);
  const mask = (1 << bits) - 1;
  // The bits-bit code at index i of a row that starts at byte `start`.
  const code = (packed: ArrayLike<number>, start: number, i: number) => (packed[start + Math.floor((i * bits) / 8)] >> ((i * bits) % 8)) & mask;
  const zeros = z ? constant(z, 'the zero points') : undefined;
  const zeroBytes = Math.ceil((blocks * bits) / 8);
  const packedZeros = zeros && view.initializers.get(z)?.data_type === DataType.UINT8;
  if (zeros && zeros.values.length !== N * (packedZeros ? zeroBytes : blocks)) fail(`the zero points have ${zeros.values.length} values where ${N * (packedZeros ? zeroBytes : blocks)} are needed`);
  const zeroPoint = (row: number, blk: number) => (!zeros ? 2 ** (bits - 1) : packedZeros ? code(zeros.values, row * zeroBytes, blk) : zeros.values[row * blocks + blk]);
  const groups = g ? constant(g, 'g_idx').values : undefined;
  const weights = new Float32Array(K * N);
  for (let row = 0; row < N; row++) {
    for (let k = 0; k < K; k++) {
      const blk = groups ? groups[k] : Math.floor(k / block);
      weights[k * N + row] = (code(codes, row * rowBytes, k) - zeroPoint(row, blk)) * scales[row * blocks + blk];
    }
  }
  const out = n.output![0];
  const w = `${b}/dequantized`;
  extra.push(makeTensor(w, [K, N], weights, DataType.FLOAT));
  const name = n.name || out;
  if (!bias) return [{ op_type: 'MatMul', input: [a, w], output: [out], name }];
  return [
    { op_type: 'MatMul', input: [a, w], output: [`${out}/matmul`], name },
    { op_type: 'Add', input: [`${out}/matmul`, bias], output: [out], name: `${name}/bias` },
  ];
}
