import { attrFloat, attrInt, attrInts } from './attributes';
import { Emitter } from './emitter';
import { GraphView } from './graph-view';
import { DataType, ModelProto, NodeProto } from './proto';
import { readInStandardOps } from './standard-form';

const MS = 'com.microsoft';
const FUSED = new Set(['Attention', 'EmbedLayerNormalization']);
const isFused = (n: NodeProto) => n.domain === MS && FUSED.has(n.op_type ?? '');

/**
 * onnxruntime's transformer optimiser fusions that have no backward rule of their own, read as the
 * standard ops they compute (the com.microsoft operator definitions), as optimum's `--optimize`
 * and `onnxruntime.transformers.optimizer` write BERT-style models:
 * - EmbedLayerNormalization: Gathers of the word, position (ids 0…S−1 unless given) and segment
 *   tables, their sum, layer normalisation over the last axis (ε default 1e-12); mask_index is the
 *   mask's row sum (int32) and embedding_sum the sum before normalisation. The word-embedding
 *   Gather is then found as in exported float models.
 * - Attention (self-attention, no past state): X·W + b split into Q, K, V (qkv_hidden_sizes or
 *   thirds), heads, softmax(scale·QKᵀ + attention_bias + mask)·V with scale 1/√head_size by
 *   default; the mask adds mask_filter_value (−10000 by default) at masked keys — from a raw mask
 *   [B, T] or [B, S, T] (0 masked) or sequence lengths [B] (right padding) — and at future keys when
 *   unidirectional.
 * A one-dimensional mask_index is read as lengths (its left-padding form [2B] is not); past and
 * present state and rotary embeddings are refused naming the node.
 */
export function unfuseTransformerOps(model: ModelProto, label: string): ModelProto {
  return readInStandardOps(model, label, 'unfused', isFused, (em, view, n, fail) => (n.op_type === 'Attention' ? attention(em, view, n, fail) : embedLayerNormalization(em, n)));
}

/** (x − mean)/√(var + ε)·γ + β over the last axis, in ops every opset has. */
function layerNorm(em: Emitter, x: string, gamma: string, beta: string, epsilon: number): string {
  const centred = em.sub(x, em.reduceMean(x, [-1]));
  const variance = em.reduceMean(em.mul(centred, centred), [-1]);
  return em.add(em.mul(em.div(centred, em.op('Sqrt', [em.add(variance, em.scalar(epsilon))])), gamma), beta);
}

/** Positions 0…L−1 along `axis` of `like` (int64 [L]). */
export function positions(em: Emitter, like: string, axis = 1): string {
  const length = em.op('Gather', [em.op('Shape', [like]), em.constInt([axis], [])], { axis: 0 });
  return em.op('Range', [em.constInt([0], []), length, em.constInt([1], [])]);
}

function embedLayerNormalization(em: Emitter, n: NodeProto): void {
  const [ids, segments, words, positionTable, segmentTable, gamma, beta, mask, positionIds] = n.input ?? [];
  const [output, maskIndex, embeddingSum] = n.output ?? [];
  const lookup = (table: string, at: string) => em.op('Gather', [table, at], { axis: 0 });
  const terms = [lookup(words, ids), lookup(positionTable, positionIds || em.unsqueeze(positions(em, ids), [0]))];
  if (segments && segmentTable) terms.push(lookup(segmentTable, segments));
  const sum = terms.reduce((a, b) => em.add(a, b));
  if (embeddingSum) em.rename(sum, embeddingSum);
  em.rename(layerNorm(em, sum, gamma, beta, attrFloat(n, 'epsilon', 1e-12)), output);
  if (maskIndex && mask) em.rename(em.cast(em.reduceSum(em.cast(mask, DataType.INT32), [1], false), DataType.INT32), maskIndex);
}

/** Rank of a tensor where the graph says it: an input's or value_info's dims, or EmbedLayerNormalization's mask_index. */
export function declaredRank(view: GraphView, t: string): number | undefined {
  const producer = view.producer.get(t);
  if (producer && isFused(producer) && producer.op_type === 'EmbedLayerNormalization' && producer.output![1] === t) return 1;
  const info = [...(view.graph.input ?? []), ...(view.graph.value_info ?? [])].find((vi) => vi.name === t);
  return info?.type?.tensor_type?.shape?.dim?.length;
}

function attention(em: Emitter, view: GraphView, n: NodeProto, fail: (what: string) => never): void {
  const [x, weights, bias, maskIndex, past, attentionBias, pastLength] = n.input ?? [];
  if (past || pastLength || (n.output ?? []).slice(1).some(Boolean)) fail('past and present state (generation caches) are not supported');
  if (attrInt(n, 'do_rotary', 0)) fail('rotary embeddings are not supported');
  const heads = attrInt(n, 'num_heads', 0) || fail('num_heads is missing');
  const total = view.constantDims(weights)?.[1] ?? fail('the weights must be a constant [input, q + k + v]');
  const sizes = attrInts(n, 'qkv_hidden_sizes') ?? [total / 3, total / 3, total / 3];
  const projected = em.matmul(x, weights);
  const [q, k, v] = em.split(bias ? em.add(projected, bias) : projected, 2, sizes);
  const split = (t: string, size: number, perm: number[]) => em.transpose(em.reshape(t, [0, 0, heads, size / heads]), perm);
  const scale = attrFloat(n, 'scale', 0) || 1 / Math.sqrt(sizes[0] / heads);
  let scores = em.mul(em.matmul(split(q, sizes[0], [0, 2, 1, 3]), split(k, sizes[1], [0, 2, 3, 1])), em.scalar(scale));
  if (attentionBias) scores = em.add(scores, attentionBias);
  const filter = em.scalar(attrFloat(n, 'mask_filter_value', -10000));
  if (maskIndex) {
    const rank = declaredRank(view, maskIndex) ?? fail(`the rank of mask_index '${maskIndex}' is not declared`);
    // Keys kept: j < length (right padding), or the raw mask's non-zero entries.
    const keep = rank === 1
      ? em.unsqueeze(em.cast(em.compare('Less', em.unsqueeze(positions(em, x), [0]), em.unsqueeze(em.cast(maskIndex, DataType.INT64), [1])), DataType.FLOAT), [1, 2])
      : rank === 2 ? em.unsqueeze(em.cast(maskIndex, DataType.FLOAT), [1, 2])
        : rank === 3 ? em.unsqueeze(em.cast(maskIndex, DataType.FLOAT), [1]) : fail(`mask_index of rank ${rank} is not supported (1, 2 or 3)`);
    scores = em.add(scores, em.mul(em.sub(em.scalar(1), keep), filter));
  }
  if (attrInt(n, 'unidirectional', 0)) {
    const pos = positions(em, x);
    const future = em.cast(em.compare('Greater', em.unsqueeze(pos, [0]), em.unsqueeze(pos, [1])), DataType.FLOAT);
    scores = em.add(scores, em.mul(future, filter));
  }
  const context = em.matmul(em.op('Softmax', [scores], { axis: -1 }), split(v, sizes[2], [0, 2, 1, 3]));
  em.rename(em.reshape(em.transpose(context, [0, 2, 1, 3]), [0, 0, sizes[2]]), n.output![0]);
}
