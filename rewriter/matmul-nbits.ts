import { attrInt } from './attributes';
import { ExplainError } from './errors';
import { floatMatMul } from './dynamic-quantization';
import { GraphView } from './graph-view';
import { AttrType, DataType, makeTensor, ModelProto, NodeProto, packedCode, TensorProto, tensorArray } from './proto';

/** A block-quantized op read as float ops; the dequantized weights go to `extra`. */
type BlockForm = (view: GraphView, n: NodeProto, extra: TensorProto[], fail: (what: string) => never) => NodeProto[];

/** bitsandbytes' 4-bit code books as onnxruntime's kernel holds them: FP4 (quant_type 0) and NF4 (1). */
const BNB4_VALUES = [
  [0, 5.208333333e-3, 0.66666667, 1, 0.33333333, 0.5, 0.16666667, 0.25, -0, -5.208333333e-3, -0.66666667, -1, -0.33333333, -0.5, -0.16666667, -0.25],
  [-1, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0,
    0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1],
].map((book) => Float32Array.from(book));

/**
 * onnxruntime's weight-only block quantisation (com.microsoft.MatMulNBits: transformers.js'
 * model_q4.onnx, onnxruntime-genai and MatMulNBitsQuantizer models) as a MatMul with the weights
 * dequantized into a float initializer [K, N], then the bias Add. B holds N rows of K codes in
 * blocks of block_size along K, packed low-first into bytes (the last block padded); each block has
 * a scale and a zero point (uint8 codes packed the same way per row, or floats; default
 * 2^(bits−1)); w[k, n] = (q − zp)·s of its block, or of the block g_idx[k] names. The activation
 * is not quantized, so the result is the operator's up to float rounding.
 * Its embedding counterpart (com.microsoft.GatherBlockQuantized: Gemma's and transformers.js'
 * quantized token tables) becomes a Gather from the table dequantized the same way, and the
 * bitsandbytes form (com.microsoft.MatMulBnb4: transformers.js' model_bnb4.onnx) a MatMul.
 */
export function matMulNBitsToMatMul(model: ModelProto, label: string): ModelProto {
  const formOf = (n: NodeProto) => (n.domain === 'com.microsoft' ? FORMS.get(n.op_type ?? '') : undefined);
  if (!(model.graph?.node ?? []).some(formOf)) return model;
  const view = new GraphView(model, label);
  const extra: TensorProto[] = [];
  const node = (model.graph!.node ?? []).flatMap((n) => {
    const form = formOf(n);
    return form ? form(view, n, extra, (what) => { throw new ExplainError(`${view.label}: ${view.nodeLabel(n)}: ${what}`); }) : [n];
  });
  return { ...model, graph: { ...model.graph, node, initializer: [...(model.graph!.initializer ?? []), ...extra] } };
}

/** A float initializer `<name>/dequantized` of the given values, added to `extra`; its name. */
function dequantized(extra: TensorProto[], name: string, dims: number[], values: Float32Array): string {
  extra.push(makeTensor(`${name}/dequantized`, dims, values, DataType.FLOAT));
  return `${name}/dequantized`;
}

/**
 * GatherBlockQuantized with uint8 data [rows, bytes] (bits 4: two codes a byte, low first; or 8),
 * gather_axis 0 and quantize_axis 1: table[r, c] = (q − zp)·s of block ⌊c / block_size⌋ of row
 * r, zero points packed the same way (default 2^(bits−1)); other layouts are refused.
 */
const gatherForm: BlockForm = (view, n, extra, fail) => {
  const [data, indices, s, z] = n.input ?? [];
  const [bits, block] = [attrInt(n, 'bits', 4), attrInt(n, 'block_size', 128)];
  const packed = view.initializers.get(data) ?? fail('data must be a constant');
  const dims = (packed.dims ?? []).map(Number);
  if (packed.data_type !== DataType.UINT8 || dims.length !== 2 || ![4, 8].includes(bits)) fail(`data of type ${packed.data_type} and shape [${dims}] with bits ${bits} is not supported (uint8 [rows, bytes], bits 4 or 8)`);
  if (attrInt(n, 'gather_axis', 0) !== 0 || ![1, -1].includes(attrInt(n, 'quantize_axis', 1))) fail('only gather_axis 0 and quantize_axis 1 are supported');
  if (block <= 0) fail(`block_size ${block} is not positive`);
  const [rows, rowBytes] = dims;
  const cols = (rowBytes * 8) / bits;
  const blocks = Math.ceil(cols / block);
  const scales = (view.constant(s) ?? fail('the scales must be a constant')).values;
  if (scales.length !== rows * blocks) fail(`the scales have ${scales.length} values where ${rows} rows of ${blocks} blocks need ${rows * blocks}`);
  const zeros = z ? (view.constant(z) ?? fail('the zero points must be a constant')).values : undefined;
  const zeroBytes = Math.ceil((blocks * bits) / 8);
  if (zeros && zeros.length !== rows * zeroBytes) fail(`the zero points have ${zeros.length} values where ${rows * zeroBytes} are needed`);
  const codes = tensorArray(packed);
  const table = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const blk = Math.floor(c / block);
      const zp = zeros ? packedCode(zeros, r * zeroBytes, blk, bits) : 2 ** (bits - 1);
      table[r * cols + c] = (packedCode(codes, r * rowBytes, c, bits) - zp) * scales[r * blocks + blk];
    }
  }
  const w = dequantized(extra, data, [rows, cols], table);
  return [{ op_type: 'Gather', input: [w, indices], output: [n.output![0]], name: n.name || n.output![0], attribute: [{ name: 'axis', type: AttrType.INT, i: 0 }] }];
};

const floatForm: BlockForm = (view, n, extra, fail) => {
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
  const zeros = z ? constant(z, 'the zero points') : undefined;
  const zeroBytes = Math.ceil((blocks * bits) / 8);
  const packedZeros = zeros && view.initializers.get(z)?.data_type === DataType.UINT8;
  if (zeros && zeros.values.length !== N * (packedZeros ? zeroBytes : blocks)) fail(`the zero points have ${zeros.values.length} values where ${N * (packedZeros ? zeroBytes : blocks)} are needed`);
  const zeroPoint = (row: number, blk: number) => (!zeros ? 2 ** (bits - 1) : packedZeros ? packedCode(zeros.values, row * zeroBytes, blk, bits) : zeros.values[row * blocks + blk]);
  const groups = g ? constant(g, 'g_idx').values : undefined;
  const weights = new Float32Array(K * N);
  for (let row = 0; row < N; row++) {
    for (let k = 0; k < K; k++) {
      const blk = groups ? groups[k] : Math.floor(k / block);
      weights[k * N + row] = (packedCode(codes, row * rowBytes, k, bits) - zeroPoint(row, blk)) * scales[row * blocks + blk];
    }
  }
  return floatMatMul(n, a, dequantized(extra, b, [K, N], weights), bias);
};

/**
 * MatMulBnb4: B holds the N×K weight transposed ([N, K] row-major, as bitsandbytes quantizes it),
 * two 4-bit codes a byte with the high nibble first, and one absmax per block of block_size
 * consecutive values of that layout: w[k, n] = book[code of e]·absmax[⌊e / block_size⌋] with
 * e = n·K + k. The product is A·w as the kernel computes it (which transposes B whatever transB says).
 */
const bnb4Form: BlockForm = (view, n, extra, fail) => {
  const [a, b, absmax] = n.input ?? [];
  const [K, N, block, type] = [attrInt(n, 'K', 0), attrInt(n, 'N', 0), attrInt(n, 'block_size', 0), attrInt(n, 'quant_type', -1)];
  if (K <= 0 || N <= 0 || block <= 0 || !BNB4_VALUES[type]) fail(`K ${K}, N ${N}, block_size ${block} and quant_type ${type} do not describe a weight (quant_type 0 for FP4 or 1 for NF4)`);
  const codes = tensorArray(view.initializers.get(b) ?? fail('B must be a constant'));
  const scales = (view.constant(absmax) ?? fail('absmax must be a constant')).values;
  const [bytes, blocks] = [Math.ceil((N * K) / 2), Math.ceil((N * K) / block)];
  if (codes.length !== bytes || scales.length !== blocks) fail(`B has ${codes.length} bytes and absmax ${scales.length} values where K ${K}, N ${N} and block_size ${block} need ${bytes} and ${blocks}`);
  const book = BNB4_VALUES[type];
  const weights = new Float32Array(K * N);
  for (let e = 0; e < N * K; e++) {
    const nibble = e % 2 ? codes[e >> 1] & 15 : codes[e >> 1] >> 4;
    weights[(e % K) * N + Math.floor(e / K)] = book[nibble] * Math.fround(scales[Math.floor(e / block)]);
  }
  return floatMatMul(n, a, dequantized(extra, b, [K, N], weights));
};

const FORMS = new Map<string, BlockForm>([['MatMulNBits', floatForm], ['GatherBlockQuantized', gatherForm], ['MatMulBnb4', bnb4Form]]);
