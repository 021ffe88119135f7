import { afterPast, capScores, defaultScale, dimOf, positions } from './attention';
import { attrFloat, attrInt, attrString } from './attributes';
import { Emitter } from './emitter';
import { GraphView } from './graph-view';
import { DataType, NodeProto, toNumber } from './proto';
import { turnFeatures } from './rotary';

/** The attributes the reading reads; a node with any other is refused. */
const READ = new Set(['num_heads', 'kv_num_heads', 'scale', 'softcap', 'do_rotary', 'rotary_interleaved', 'local_window_size', 'causal', 'smooth_softmax', 'qk_output', 'sliding_window_cache', 'kv_cache_bit_width', 'k_quant_type', 'v_quant_type']);

/** What a blocked key's score loses: finite, and its softmax weight is 0. */
const BLOCKED = 1e30;

/**
 * onnxruntime's com.microsoft GroupQueryAttention (the decoders onnxruntime-genai and optimum
 * write: Llama, Mistral, Phi-3, Qwen 2) in standard ops, for caches that are separate from the
 * present outputs. Query [B, S, heads·H] with key and value [B, S, kv_heads·H], or one packed
 * [B, S, (heads + 2·kv_heads)·H]; query head h reads key/value head ⌊h / (heads / kv_heads)⌋.
 * present = past ++ new along the sequence ([B, kv_heads, P + S, H]), the new keys turned first
 * when do_rotary (positions P…P + S − 1; cos_cache and sin_cache [max, rotary_dim / 2], halves or
 * interleaved pairs). Query i sees key j when j ≤ P + i (causal; any j when causal = 0),
 * j ≤ seqlens_k[b] (the row's last token, so right padding) and, with local_window_size w > 0,
 * j > min(P + i, seqlens_k[b]) − w (a padded query has its row's last window, as in onnxruntime's
 * reference kernel; its flash path, taken by default without softcap, gives such queries other
 * values). Scores are scale·QKᵀ (1/√H by default), capped to softcap·tanh(·/softcap) when
 * softcap > 0.
 * A past of P positions is read as every row's past (rows whose past is padded are not); smooth
 * softmax, head sinks, position_ids, attention_bias, the QK output, a sliding-window cache,
 * quantized caches, QK normalisation and attributes it does not know are refused naming the node.
 */
export function groupQueryAttention(em: Emitter, view: GraphView, n: NodeProto, fail: (what: string) => never): void {
  const [query, key, value, pastKey, pastValue, seqlensK, , cosCache, sinCache, positionIds, attentionBias, headSink, ...later] = n.input ?? [];
  const [output, presentKey, presentValue, qk] = n.output ?? [];
  const heads = attrInt(n, 'num_heads', 0);
  const kvHeads = attrInt(n, 'kv_num_heads', 0);
  if (heads <= 0 || kvHeads <= 0 || heads % kvHeads) fail(`num_heads ${heads} must be a positive multiple of kv_num_heads ${kvHeads}`);
  const unread = (n.attribute ?? []).map((a) => a.name ?? '').filter((a) => !READ.has(a));
  if (unread.length) fail(`attribute '${unread[0]}' is not read`);
  // onnxruntime's kernels smooth the softmax only when smooth_softmax is 1 (its schema default is −1).
  if (attrInt(n, 'smooth_softmax', 0) === 1 || headSink) fail('smooth softmax and head sinks are not supported');
  if (positionIds || attentionBias || qk) fail('position_ids, attention_bias and the QK output are not supported');
  if (attrInt(n, 'sliding_window_cache', 0)) fail('a sliding-window cache (sliding_window_cache = 1) is not supported');
  if (attrString(n, 'k_quant_type', 'NONE') !== 'NONE' || attrString(n, 'v_quant_type', 'NONE') !== 'NONE' || later.some(Boolean)) fail('quantized caches (k_scale, v_scale) and QK normalisation (q_norm_weight, k_norm_weight) are not supported');
  const causal = attrInt(n, 'causal', 1) !== 0;
  if (!seqlensK) fail('seqlens_k is missing');
  if (!!pastKey !== !!pastValue) fail('give both past_key and past_value, or neither');
  const group = heads / kvHeads;

  // Q as [B, kv_heads, group, S, H] and K, V as [B, kv_heads, S, H] (given a group axis of 1 below, for MatMul to broadcast).
  const toQ = (t: string) => em.transpose(em.reshape(t, [0, 0, kvHeads, group, -1]), [0, 2, 3, 1, 4]);
  const toKV = (t: string) => em.transpose(em.reshape(t, [0, 0, kvHeads, -1]), [0, 2, 1, 3]);
  let q: string;
  let k: string;
  let v: string;
  if (!key && !value) {
    const [pq, pk, pv] = em.split(em.reshape(query, [0, 0, heads + 2 * kvHeads, -1]), 2, [heads, kvHeads, kvHeads]);
    [q, k, v] = [toQ(pq), toKV(pk), toKV(pv)];
  } else if (key && value) {
    [q, k, v] = [toQ(query), toKV(key), toKV(value)];
  } else {
    fail('give both key and value, or neither (packed query, key and value)');
  }
  const past = pastKey ? dimOf(em, pastKey, 2) : em.constInt([0]);
  const here = positions(em, q, 3);
  const at = em.add(here, em.reshape(past, []));

  if (attrInt(n, 'do_rotary', 0)) {
    if (!cosCache || !sinCache) fail('do_rotary needs cos_cache and sin_cache');
    const width = view.constantDims(cosCache)?.at(-1) ?? view.declared(cosCache)?.dims?.map((d) => toNumber(d.dim_value)).at(-1);
    if (!width) fail(`the width of cos_cache '${cosCache}' is not declared`);
    const queryWidth = view.declared(query)?.dims?.map((d) => toNumber(d.dim_value)).at(-1);
    // Without a declared width, the features past the turned ones are sliced to the end, whatever their count.
    const headSize = queryWidth ? queryWidth / (key ? heads : heads + 2 * kvHeads) : Number.MAX_SAFE_INTEGER;
    const interleaved = attrInt(n, 'rotary_interleaved', 0) !== 0;
    const angle = (cache: string) => {
      const c = em.op('Gather', [cache, at], { axis: 0 });
      return interleaved ? em.unsqueeze(c, [2]) : c;
    };
    const [c, s] = [angle(cosCache), angle(sinCache)];
    q = turnFeatures(em, q, 5, c, s, width, interleaved, headSize);
    k = turnFeatures(em, k, 4, c, s, width, interleaved, headSize);
  }
  const [allK, allV] = afterPast(em, k, v, pastKey, pastValue);
  if (presentKey) em.rename(allK, presentKey);
  if (presentValue) em.rename(allV, presentValue);

  // 1 where query i may see key j, as [B, 1, 1, S, T] against the scores [B, kv_heads, group, S, T].
  const keys = positions(em, allK, 2);
  const queries = em.unsqueeze(at, [1]);
  const rowKeys = em.reshape(keys, [1, 1, 1, 1, -1]);
  const last = em.reshape(em.cast(seqlensK, DataType.INT64), [-1, 1, 1, 1, 1]);
  const window = attrInt(n, 'local_window_size', -1);
  const keep = [
    ...(causal ? [em.mask('LessOrEqual', em.unsqueeze(keys, [0]), queries)] : []),
    em.mask('LessOrEqual', rowKeys, last),
    ...(window > 0 ? [inWindow(em, em.unsqueeze(keys, [0]), queries, rowKeys, last, window)] : []),
  ].reduce((a, b) => em.mul(a, b));

  const given = attrFloat(n, 'scale', 0);
  const scaled = em.mul(em.matmul(q, em.transpose(em.unsqueeze(allK, [2]), [0, 1, 2, 4, 3])), given ? em.scalar(given) : defaultScale(em, q, 4));
  // Blocked keys get −10³⁰ before the softmax and weight 0 after it (all of them when a query sees none).
  const scores = em.add(capScores(em, scaled, attrFloat(n, 'softcap', 0)), em.mul(em.sub(keep, em.scalar(1)), em.scalar(BLOCKED)));
  const weights = em.mul(em.op('Softmax', [scores], { axis: -1 }), keep);
  const context = em.matmul(weights, em.unsqueeze(allV, [2]));
  em.rename(em.reshape(em.transpose(context, [0, 3, 1, 2, 4]), [0, 0, -1]), output);
}

/**
 * 1 where key j lies in the window of w keys that ends at query i, min(P + i, seqlens_k[b]): a padded
 * query's window is its row's last token's, as onnxruntime's kernel caps the causal length at the
 * row's length. j > min(a, b) − w holds where j > a − w or j > b − w.
 */
function inWindow(em: Emitter, keys: string, queries: string, rowKeys: string, last: string, w: number): string {
  const width = em.constInt([w], []);
  const either = em.add(em.mask('Greater', keys, em.sub(queries, width)), em.mask('Greater', rowKeys, em.sub(last, width)));
  return em.mask('Greater', either, em.scalar(0.5));
}
