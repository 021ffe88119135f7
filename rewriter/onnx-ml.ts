import { attrFloat, attrFloats, attrInt, attrInts, attrString, attrStrings } from './attributes';
import { Emitter } from './emitter';
import { GraphView } from './graph-view';
import { DataType, ModelProto, NodeProto } from './proto';
import { readInStandardOps } from './standard-form';
import { lookupTable } from './lookup-table';

const ML = 'ai.onnx.ml';

/**
 * skl2onnx's linear pipeline ops (ai.onnx.ml Scaler, Normalizer, LinearClassifier and LinearRegressor, as in
 * StandardScaler + LogisticRegression / LinearSVC exports) in standard ops, as onnxruntime's kernels
 * compute them: Scaler (x − offset)·scale; Normalizer x/max x, x/Σ|x| or x/√Σx² per row (a row
 * whose norm is 0 kept as it is); LinearClassifier scores x·Cᵀ + intercepts, then Sigmoid
 * (LOGISTIC) or Softmax (SOFTMAX), and its integer label the ArgMax's class (one score: its sign).
 * The column ops of its preprocessing (ColumnTransformer, SimpleImputer, Binarizer) become
 * standard ops too: ArrayFeatureExtractor a Gather of the listed columns; Imputer a Where that
 * takes the imputed value (one, or one per column) where x is the replaced value (or NaN, when
 * that is NaN); Binarizer x > threshold as 1 or 0; FeatureVectorizer the Concat of each input's
 * rows, flattened, cut or padded with zeros to its inputdimensions entry.
 * A LinearClassifier with string labels keeps its node for the labels. LinearRegressor (linear
 * regression exports) is x·Cᵀ + intercepts for its `targets` outputs, then the same transforms.
 * Other forms (PROBIT, SOFTMAX_ZERO, a post transform on one class score) are refused naming the node.
 */
export function onnxMlToStandard(model: ModelProto, label: string): ModelProto {
  const isMl = (n: NodeProto) => n.domain === ML && ['Scaler', 'Normalizer', 'LinearClassifier', 'LinearRegressor', ...Object.keys(COLUMN_OPS)].includes(n.op_type ?? '');
  return readInStandardOps(model, label, 'onnx-ml', isMl, (em, view, n, fail) => {
    const column = COLUMN_OPS[n.op_type!];
    if (!column) return standardForm(n, em, fail);
    em.rename(column(em, view, n, fail), n.output![0]);
  });
}

/** Emits the node's standard form into `em`; returns what stays of the node itself (none, or its label part). */
function standardForm(node: NodeProto, em: Emitter, fail: (what: string) => never): NodeProto[] {
  const x = node.input![0];
  const [y, scores] = node.output!;
  if (node.op_type === 'Scaler') {
    const offset = attrFloats(node, 'offset') ?? [0];
    const scale = attrFloats(node, 'scale') ?? [1];
    em.rename(em.mul(em.sub(x, em.constFloat(offset, [offset.length])), em.constFloat(scale, [scale.length])), y);
    return [];
  }
  if (node.op_type === 'Normalizer') {
    const norm = attrString(node, 'norm', 'MAX');
    const z = norm === 'MAX' ? em.reduce('ReduceMax', x, [-1])
      : norm === 'L1' ? em.reduceSum(em.op('Abs', [x]), [-1])
        : norm === 'L2' ? em.op('Sqrt', [em.reduceSum(em.mul(x, x), [-1])]) : fail(`norm '${norm}' is not MAX, L1 or L2`);
    const zero = em.compare('Equal', z, em.scalar(0));
    em.rename(em.div(x, em.where(zero, em.scalar(1), z)), y);
    return [];
  }
  const transform = attrString(node, 'post_transform', 'NONE');
  if (node.op_type === 'LinearRegressor') {
    em.rename(transformed(em, linearScores(em, x, node, attrInt(node, 'targets', 1), fail), transform, fail), y);
    return [];
  }
  const intercepts = attrFloats(node, 'intercepts') ?? fail('has no intercepts');
  const classes = intercepts.length;
  const raw = linearScores(em, x, node, classes, fail);
  const labels = attrInts(node, 'classlabels_ints');
  if (classes === 1) {
    if (transform !== 'NONE') fail(`post_transform ${transform} on one score is not supported`);
    // onnxruntime: two labels make the scores [1 − s, s]; the label is the second one where s > 0.
    const two = (labels ?? attrStrings(node, 'classlabels_strings') ?? []).length === 2;
    if (scores) em.rename(two ? em.concat([em.sub(em.scalar(1), raw), raw], 1) : raw, scores);
    if (labels && y) em.rename(em.where(em.compare('Greater', em.squeeze(raw, [1]), em.scalar(0)), em.constInt([two ? labels[1] : 1], []), em.constInt([two ? labels[0] : 0], [])), y);
  } else {
    if (scores) em.rename(transformed(em, raw, transform, fail), scores);
    if (labels && y) em.rename(em.op('Gather', [em.constInt(labels), em.op('ArgMax', [raw], { axis: 1, keepdims: 0 })], { axis: 0 }), y);
  }
  // String labels: the kernel still computes them; its scores go to an unused name.
  return labels || !y ? [] : [{ ...node, output: [y, `${scores || y}/kernel`] }];
}

/** The scores after the node's post_transform. */
function transformed(em: Emitter, raw: string, transform: string, fail: (what: string) => never): string {
  if (!['NONE', 'LOGISTIC', 'SOFTMAX'].includes(transform)) fail(`post_transform ${transform} is not supported (NONE, LOGISTIC, SOFTMAX are)`);
  return transform === 'LOGISTIC' ? em.op('Sigmoid', [raw]) : transform === 'SOFTMAX' ? em.op('Softmax', [raw], { axis: 1 }) : raw;
}

/** x·Cᵀ + intercepts with the node's coefficients as C [rows, features] (intercepts default 0). */
function linearScores(em: Emitter, x: string, node: NodeProto, rows: number, fail: (what: string) => never): string {
  const coefficients = attrFloats(node, 'coefficients') ?? fail('has no coefficients');
  const intercepts = attrFloats(node, 'intercepts') ?? new Array<number>(rows).fill(0);
  if (rows < 1 || coefficients.length % rows || intercepts.length !== rows) fail(`${coefficients.length} coefficients and ${intercepts.length} intercepts do not make ${rows} rows`);
  return em.op('Gemm', [x, em.constFloat(coefficients, [rows, coefficients.length / rows]), em.constFloat(intercepts, [rows])], { transB: 1 });
}

type ColumnOp = (em: Emitter, view: GraphView, node: NodeProto, fail: (what: string) => never) => string;

const COLUMN_OPS: Record<string, ColumnOp> = lookupTable({
  ArrayFeatureExtractor(em, view, n) {
    const [x, columns] = n.input!;
    const listed = view.constant(columns);
    return em.op('Gather', [x, listed ? em.constInt(listed.values) : em.reshape(columns, [-1])], { axis: -1 });
  },
  Imputer(em, _view, n, fail) {
    const x = n.input![0];
    const imputed = attrFloats(n, 'imputed_value_floats') ?? fail('has no imputed_value_floats (integer imputation is not differentiable)');
    const replaced = attrFloat(n, 'replaced_value_float', 0);
    const values = em.constFloat(imputed, [imputed.length]);
    // NaN is the one value that differs from itself.
    return Number.isNaN(replaced) ? em.where(em.compare('Equal', x, x), x, values) : em.where(em.compare('Equal', x, em.scalar(replaced)), values, x);
  },
  // Relu(Sign(x − t)): element-wise steps, so DeepLIFT's rescale rule still sums to delta across the threshold.
  Binarizer(em, _view, n) {
    return em.op('Relu', [em.op('Sign', [em.sub(n.input![0], em.scalar(attrFloat(n, 'threshold', 0)))])]);
  },
  FeatureVectorizer(em, _view, n, fail) {
    const sizes = attrInts(n, 'inputdimensions') ?? fail('has no inputdimensions');
    if (sizes.length !== (n.input ?? []).length) fail(`has ${(n.input ?? []).length} inputs and ${sizes.length} inputdimensions`);
    const rows = n.input!.map((x, k) => {
      const flat = em.reshape(em.cast(x, DataType.FLOAT), [0, -1]);
      return em.slice(em.pad(flat, [0, 0, 0, sizes[k]]), [0], [sizes[k]], [1]);
    });
    return em.concat(rows, 1);
  },
});
