import { attrFloat, attrInt, attrInts } from './attributes';
import { Emitter } from './emitter';
import { GraphView } from './graph-view';
import { afterPast, attend, causalKeys, defaultScale, dimOf, LOWEST, mergeHeads, splitHeads } from './attention';
import { rootMeanSquareNorm } from './norm-forms';
import { DataType, isFloatType, ModelProto, NodeProto, toNumber } from './proto';
import { rotaryEmbedding } from './rotary';
import { readInStandardOps, StandardForm } from './standard-form';

const FUNCTIONS = new Set(['Attention', 'RMSNormalization', 'SimplifiedLayerNormalization', 'RotaryEmbedding', 'MeanVarianceNormalization']);
const isFunction = (n: NodeProto) => !n.domain && FUNCTIONS.has(n.op_type ?? '');

/**
 * ONNX function ops of opset 23–24 that newer exporters write (torch.onnx's dynamo exporter for
 * scaled_dot_product_attention and RMSNorm), read as their function bodies in standard ops:
 * - RMSNormalization: x / √(mean(x², axes from `axis`) + ε) · scale (and onnxruntime's
 *   SimplifiedLayerNormalization, the same op its transformer optimiser writes at any opset);
 * - Attention: Q, K, V as [B, heads, L, d] or, with q_num_heads and kv_num_heads, [B, L, heads·d];
 *   grouped-query K and V heads repeated; softmax(scale·QKᵀ + mask)·V, scale 1/√d by default, a
 *   boolean attn_mask (true: attend) or a float one added, is_causal masking keys after the query
 *   (upper-left aligned; after past_key and past_value of P positions, which come before the new
 *   keys and values as present_key and present_value, query i sits at P + i). Masked scores get
 *   float32's lowest value (a float mask's −Inf and lowest block their keys), and a query no key is left to attends to
 *   nothing (zeros, the opset-23 errata); softcap c > 0 caps the scaled scores to c·tanh(·/c) before the masks.
 * nonpad_kv_seqlen and the qk_matmul output are refused naming the node.
 * Also the older function op MeanVarianceNormalization (CoreML and Caffe converters), as its body:
 * (x − E[x]) / (√(E[x²] − E[x]²) + 10⁻⁹) over `axes` (default 0, 2, 3).
 */
export function expandFunctionOps(model: ModelProto, label: string): ModelProto {
  const read: Record<string, StandardForm> = {
    Attention: attention, RMSNormalization: rmsNormalization, SimplifiedLayerNormalization: rmsNormalization, RotaryEmbedding: rotaryEmbedding,
    MeanVarianceNormalization: meanVarianceNormalization,
  };
  return readInStandardOps(model, label, 'function', isFunction, (em, view, n, fail) => read[n.op_type!](em, view, n, fail));
}

/** RMSNormalization, and onnxruntime's SimplifiedLayerNormalization (the same op, written before opset 23 by its optimiser). */
function rmsNormalization(em: Emitter, view: GraphView, n: NodeProto, fail: (what: string) => never): void {
  const [x, scale] = n.input!;
  if ((n.output ?? []).slice(1).some(Boolean)) fail('the inv_std_var output is not supported');
  const axis = attrInt(n, 'axis', -1);
  const rank = axis < 0 ? -axis : (view.rank(x) ?? fail(`axis ${axis} needs the input's rank, which the graph does not declare`)) - axis;
  em.rename(rootMeanSquareNorm(em, x, scale, Array.from({ length: rank }, (_, k) => k - rank), attrFloat(n, 'epsilon', 1e-5)), n.output![0]);
}

function meanVarianceNormalization(em: Emitter, _view: GraphView, n: NodeProto): void {
  const x = n.input![0];
  const axes = attrInts(n, 'axes') ?? [0, 2, 3];
  const mean = em.reduceMean(x, axes);
  const deviation = em.op('Sqrt', [em.sub(em.reduceMean(em.mul(x, x), axes), em.mul(mean, mean))]);
  em.rename(em.div(em.sub(x, mean), em.add(deviation, em.scalar(1e-9))), n.output![0]);
}

function attention(em: Emitter, view: GraphView, n: NodeProto, fail: (what: string) => never): void {
  const [q, k, v, mask, pastKey, pastValue, nonpad] = n.input ?? [];
  const [y, presentKey, presentValue, qk] = n.output ?? [];
  if (nonpad || qk) fail('nonpad_kv_seqlen and the qk_matmul output are not supported');
  if (!!pastKey !== !!pastValue) fail('give both past_key and past_value, or neither');
  const softcap = attrFloat(n, 'softcap', 0);
  if (softcap < 0) fail(`softcap ${softcap} is negative`);
  const [qHeads, kvHeads] = [attrInt(n, 'q_num_heads', 0), attrInt(n, 'kv_num_heads', 0)];
  const flat = (view.rank(q) ?? (qHeads ? 3 : 4)) === 3;
  if (flat && !(qHeads && kvHeads)) fail('three-dimensional Q, K, V need q_num_heads and kv_num_heads');
  const heads = (t: string, count: number) => (flat ? splitHeads(em, t, count) : t);
  // Grouped-query attention: each K/V head serves qHeads/kvHeads consecutive query heads (4-D
  // inputs without the attributes: the head counts their declared shapes give, or their shapes at run time).
  const headCount = (t: string) => toNumber(view.declared(t)?.dims?.[1]?.dim_value);
  const [qCount, kvCount] = qHeads && kvHeads ? [qHeads, kvHeads] : [headCount(q), headCount(k)];
  const qh = heads(q, qHeads);
  const repeat = (t: string) => {
    if (qCount && kvCount === qCount) return t;
    const dim = (i: number) => dimOf(em, t, i);
    const [group, count] = qCount && kvCount ? [em.constInt([qCount / kvCount]), em.constInt([qCount])] : [em.div(dimOf(em, qh, 1), dim(1)), dimOf(em, qh, 1)];
    const widened = em.op('Expand', [em.unsqueeze(t, [2]), em.concat([em.constInt([1, 1]), group, em.constInt([1, 1])], 0)]);
    return em.op('Reshape', [widened, em.concat([dim(0), count, dim(2), dim(3)], 0)]);
  };
  const [kAll, vAll] = afterPast(em, heads(k, kvHeads), heads(v, kvHeads), pastKey, pastValue);
  if (presentKey) em.rename(kAll, presentKey);
  if (presentValue) em.rename(vAll, presentValue);
  const [kh, vh] = [repeat(kAll), repeat(vAll)];
  const terms: string[] = [];
  const allowed: string[] = [];
  if (mask) {
    const type = view.declared(mask)?.elemType ?? fail(`the type of attn_mask '${mask}' is not declared (boolean or float)`);
    if (type !== DataType.BOOL && !isFloatType(type)) fail(`attn_mask '${mask}' has ONNX type ${type}; the Attention op takes a boolean mask or a float one added to the scores`);
    if (type === DataType.BOOL) allowed.push(mask);
    else {
      // A float mask's −Inf (torch's causal buffer) and float32's lowest (torch.finfo.min, Hugging Face's padding)
      // block their key, as in onnxruntime's kernel; added as LOWEST (−Inf makes ∞ − ∞ in the walk).
      terms.push(em.op('Clip', [mask, em.scalar(LOWEST)]));
      allowed.push(em.compare('Greater', mask, em.scalar(LOWEST)));
    }
  }
  // After a past of P keys, query i sits at P + i (onnxruntime's kernel; upper-left without a past).
  if (attrInt(n, 'is_causal', 0)) allowed.push(causalKeys(em, qh, kh, pastKey ? dimOf(em, pastKey, 2) : undefined));
  const given = attrFloat(n, 'scale', 0);
  const context = attend(em, qh, kh, vh, given ? em.scalar(given) : defaultScale(em, qh), terms, softcap, allowed);
  em.rename(flat ? mergeHeads(em, context) : context, y);
}
