import { capScores, defaultScale, dimOf, positions } from './attention';
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
 * Row b's past is the first p_b = seqlens_k[b] + 1 − S positions of the past buffer [B, kv_heads,
 * P, H] (P where the row is full; 0 in a prompt): present holds it, then the S new keys and values
 * ([B, kv_heads, P + S, H]; past ++ new where every row is full), the new keys turned first when
 * do_rotary (positions p_b…p_b + S − 1; cos_cache and sin_cache [max, rotary_dim / 2], halves or
 * interleaved pairs). Query i sits at a = p_b + i and sees key j when j ≤ a (causal; any j when
 * causal = 0), j ≤ seqlens_k[b] (the row's last token, so right padding) and, with
 * local_window_size w > 0, j > min(a, seqlens_k[b]) − w (a padded query has its row's last window,
 * as in onnxruntime's reference kernel; its flash path, taken by default without softcap, gives
 * such queries other values). Scores are scale·QKᵀ (1/√H by default), capped to
 * softcap·tanh(·/softcap) when softcap > 0. Smooth softmax, head sinks, position_ids,
 * attention_bias, the QK output, a sliding-window cache, quantized caches, QK normalisation and
 * attributes it does not know are refused naming the node.
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
  const here = positions(em, q, 3);
  const last = em.cast(seqlensK, DataType.INT64);
  // Row b's past: seqlens_k[b] + 1 − S positions (0 in a prompt, whose padded rows give less).
  const sinceStart = em.sub(em.add(last, em.constInt([1], [])), dimOf(em, q, 3));
  const rowPast = em.where(em.compare('Less', sinceStart, em.constInt([0], [])), em.constInt([0], []), sinceStart);
  // Query i of row b at rowPast[b] + i: [B, S].
  const at = em.add(em.unsqueeze(rowPast, [1]), em.unsqueeze(here, [0]));

  if (attrInt(n, 'do_rotary', 0)) {
    if (!cosCache || !sinCache) fail('do_rotary needs cos_cache and sin_cache');
    const width = view.constantDims(cosCache)?.at(-1) ?? view.declared(cosCache)?.dims?.map((d) => toNumber(d.dim_value)).at(-1);
    if (!width) fail(`the width of cos_cache '${cosCache}' is not declared`);
    const queryWidth = view.declared(query)?.dims?.map((d) => toNumber(d.dim_value)).at(-1);
    // Without a declared width, the features past the turned ones are sliced to the end, whatever their count.
    const headSize = queryWidth ? queryWidth / (key ? heads : heads + 2 * kvHeads) : Number.MAX_SAFE_INTEGER;
    const interleaved = attrInt(n, 'rotary_interleaved', 0) !== 0;
    // The angles at each row's positions [B, S, half], as [B, 1, 1, S, half] against Q and [B, 1, S, half] against K (a trailing 1 when interleaved).
    const angles = (cache: string, axes: number[]) => em.unsqueeze(em.op('Gather', [cache, at], { axis: 0 }), interleaved ? [...axes, axes.length + 3] : axes);
    q = turnFeatures(em, q, 5, angles(cosCache, [1, 2]), angles(sinCache, [1, 2]), width, interleaved, headSize);
    k = turnFeatures(em, k, 4, angles(cosCache, [1]), angles(sinCache, [1]), width, interleaved, headSize);
  }
  const [allK, allV] = pastKey && pastValue ? [k, v].map((t, i) => afterRowPast(em, [pastKey, pastValue][i], t, rowPast)) : [k, v];
  if (presentKey) em.rename(allK, presentKey);
  if (presentValue) em.rename(allV, presentValue);

  // 1 where query i may see key j, as [B, 1, 1, S, T] against the scores [B, kv_heads, group, S, T].
  const rowKeys = em.reshape(positions(em, allK, 2), [1, 1, 1, 1, -1]);
  const queries = em.reshape(at, [0, 1, 1, -1, 1]);
  const lastKey = em.reshape(last, [-1, 1, 1, 1, 1]);
  const window = attrInt(n, 'local_window_size', -1);
  const keep = [
    ...(causal ? [em.mask('LessOrEqual', rowKeys, queries)] : []),
    em.mask('LessOrEqual', rowKeys, lastKey),
    ...(window > 0 ? [inWindow(em, rowKeys, queries, lastKey, window)] : []),
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
function inWindow(em: Emitter, keys: string, queries: string, last: string, w: number): string {
  const width = em.constInt([w], []);
  const either = em.add(em.mask('Greater', keys, em.sub(queries, width)), em.mask('Greater', keys, em.sub(last, width)));
  return em.mask('Greater', either, em.scalar(0.5));
}

/**
 * present = the row's past, then its S new keys or values, at positions rowPast[b] … rowPast[b] + S − 1
 * of a buffer of P + S ([B, kv_heads, P + S, H] from past [B, kv_heads, P, H] and new [B, kv_heads,
 * S, H]), as onnxruntime writes a row whose past is shorter than the buffer (its padding is
 * overwritten); the positions after its new ones hold zeros, where the kernel leaves its buffer as
 * it was allocated. Where every row's past is P, past ++ new.
 */
function afterRowPast(em: Emitter, past: string, fresh: string, rowPast: string): string {
  const slots = em.reshape(positions(em, em.concat([past, fresh], 2), 2), [1, -1, 1]);
  const start = em.reshape(rowPast, [-1, 1, 1]);
  // [B, 1, P + S, P] and [B, 1, P + S, S]: 1 where slot t keeps past position p (t = p < rowPast[b]), takes new position s (t = rowPast[b] + s).
  const keeps = em.mul(em.mask('Equal', slots, em.reshape(positions(em, past, 2), [1, 1, -1])), em.mask('Less', slots, start));
  const takes = em.mask('Equal', slots, em.add(start, em.reshape(positions(em, fresh, 2), [1, 1, -1])));
  return em.add(em.matmul(em.unsqueeze(keeps, [1]), past), em.matmul(em.unsqueeze(takes, [1]), fresh));
}
