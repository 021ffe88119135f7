import { attrFloat, attrFloats, attrInt, attrInts, attrString } from './attributes';
import { Emitter, float } from './emitter';
import { GraphView } from './graph-view';
import { AttrType, DataType, ModelProto, NodeProto } from './proto';
import { readInStandardOps, StandardForm } from './standard-form';
import { afterPast, attend, blockedWhere, defaultScale, dimOf, LOWEST, mergeHeads, positions, splitHeads } from './attention';
import { layerNorm, rootMeanSquare } from './norm-forms';
import { groupQueryAttention } from './group-query-attention';
import { rotaryEmbedding } from './rotary';

const MS = 'com.microsoft';
const FUSED = new Set(['Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'EmbedLayerNormalization', 'FusedConv', 'FusedGemm', 'SkipSimplifiedLayerNormalization', 'RotaryEmbedding']);
const isFused = (n: NodeProto) => n.domain === MS && FUSED.has(n.op_type ?? '');

/**
 * onnxruntime's transformer optimiser fusions that have no backward rule of their own, read as the
 * standard ops they compute (the com.microsoft operator definitions), as optimum's `--optimize`
 * and `onnxruntime.transformers.optimizer` write BERT-style models:
 * - EmbedLayerNormalization: Gathers of the word, position (ids 0…S−1 unless given) and segment
 *   tables (row 0 without segment ids), their sum, layer normalisation over the last axis (ε default
 *   1e-12); mask_index is the mask's row sum (int32; 0 without a mask) and embedding_sum the sum
 *   before normalisation. The word-embedding Gather is then found as in exported float models.
 * - Attention (self-attention, no past state): X·W + b split into Q, K, V (qkv_hidden_sizes or
 *   thirds), heads, softmax(scale·QKᵀ + attention_bias + mask)·V with scale 1/√head_size by
 *   default; the mask adds mask_filter_value (−10000 by default) at masked keys — from a raw mask
 *   [B, T] or [B, S, T] (0 masked), end positions [B] (right padding) or end and start positions
 *   [2B] (both sides) — and the causal mask when unidirectional.
 * - MultiHeadAttention (separate query, key, value; optional bias [q + k + v widths] and
 *   key-padding mask): the same with the heads split from each input.
 * - FusedConv and FusedGemm (what onnxruntime's extended optimisation saves for the CPU): the Conv
 *   (plus FusedConv's sum input Z) or Gemm, then its activation (Relu, Tanh, Sigmoid, LeakyRelu,
 *   HardSigmoid, Clip with their parameters); Conv attributes are written out in full.
 * - SkipSimplifiedLayerNormalization: the RMS normalisation of input + skip (+ bias), the sum also
 *   as its input_skip_bias_sum output, 1/RMS as inv_std_var and zeros as mean (as the kernel).
 * - RotaryEmbedding (`rotary.ts`) and GroupQueryAttention (`group-query-attention.ts`).
 * MultiHeadAttention's past_key and past_value come before the new keys and values (present = past
 * ++ new) and put query i at P + i; a past without the present outputs (which onnxruntime's CPU
 * kernel then ignores), Attention's stacked past and a past shared with present are refused naming
 * the node.
 */
export function unfuseTransformerOps(model: ModelProto, label: string): ModelProto {
  const read: Record<string, StandardForm> = {
    Attention: attention, MultiHeadAttention: multiHeadAttention, GroupQueryAttention: groupQueryAttention, EmbedLayerNormalization: (em, _view, n) => embedLayerNormalization(em, n),
    FusedConv: fused('Conv'), FusedGemm: fused('Gemm'), SkipSimplifiedLayerNormalization: skipRmsNorm, RotaryEmbedding: rotaryEmbedding,
  };
  return readInStandardOps(model, label, 'unfused', isFused, (em, view, n, fail) => read[n.op_type!](em, view, n, fail));
}

function embedLayerNormalization(em: Emitter, n: NodeProto): void {
  const [ids, segments, words, positionTable, segmentTable, gamma, beta, mask, positionIds] = n.input ?? [];
  const [output, maskIndex, embeddingSum] = n.output ?? [];
  const lookup = (table: string, at: string) => em.op('Gather', [table, at], { axis: 0 });
  // The word embeddings get a name of the model's own: token attributions are reported at them.
  const wordEmbeddings = `${output}/word_embeddings`;
  em.nodes.push({ op_type: 'Gather', input: [words, ids], output: [wordEmbeddings], name: wordEmbeddings, attribute: [{ name: 'axis', type: AttrType.INT, i: 0 }] });
  const terms = [wordEmbeddings, lookup(positionTable, positionIds || em.unsqueeze(positions(em, ids, 1), [0]))];
  // Without segment ids, onnxruntime's kernel adds the segment table's row 0 to every token.
  if (segmentTable) terms.push(lookup(segmentTable, segments || em.constInt([0], [])));
  const sum = terms.reduce((a, b) => em.add(a, b));
  if (embeddingSum) em.rename(sum, embeddingSum);
  em.rename(layerNorm(em, sum, gamma, beta, attrFloat(n, 'epsilon', 1e-12)), output);
  if (!maskIndex) return;
  // Without a mask, the kernel's mask_index is 0 for every row.
  const kept = mask ? em.cast(mask, DataType.INT32) : em.sub(em.cast(ids, DataType.INT32), em.cast(ids, DataType.INT32));
  em.rename(em.reduceSum(kept, [1], false), maskIndex);
}

/** Rank of a tensor where the graph says or implies it (GraphView.rank), or EmbedLayerNormalization's mask_index. */
function declaredRank(view: GraphView, t: string): number | undefined {
  const producer = view.producer.get(t);
  if (producer && isFused(producer) && producer.op_type === 'EmbedLayerNormalization' && producer.output![1] === t) return 1;
  return view.rank(t);
}

/**
 * The term a key-padding mask adds to the scores [B, heads, S, T]: `filter` at masked keys, from a
 * raw mask [B, T] or [B, S, T] (0 masked) or a one-dimensional mask_index read as onnxruntime's CPU
 * kernel reads it (attention_helper.h, PrepareMask): its first B entries end each row's keys (keys
 * j ≥ end masked) and, when it holds 2B, the next B start them (keys j < start masked); the keys
 * K [B, heads, T, d] give B and T.
 */
function paddingTerm(em: Emitter, view: GraphView, mask: string, k: string, filter: number, fail: (what: string) => never): string {
  const rank = declaredRank(view, mask) ?? fail(`the rank of the mask '${mask}' is not declared`);
  const raw = () => em.cast(mask, DataType.BOOL);
  const keep = rank === 1 ? keptBetween(em, em.cast(mask, DataType.INT64), k)
    : rank === 2 ? em.unsqueeze(raw(), [1, 2])
      : rank === 3 ? em.unsqueeze(raw(), [1]) : fail(`a mask of rank ${rank} is not supported (1, 2 or 3)`);
  return blockedWhere(em, keep, filter);
}

/** Whether key j lies in [start, end) of its row, [B, 1, 1, T], for a mask_index (int64) of B ends or B ends then B starts. */
function keptBetween(em: Emitter, index: string, k: string): string {
  const rows = dimOf(em, k, 0);
  const ends = em.op('Slice', [index, em.constInt([0]), rows, em.constInt([0])]);
  const zeros = em.sub(ends, ends);
  // Past its B ends, the index padded with B zeros holds the starts, or zeros when it has none.
  const twice = em.add(rows, rows);
  const following = em.op('Slice', [em.concat([index, zeros], 0), rows, twice, em.constInt([0])]);
  const starts = em.where(em.compare('Equal', dimOf(em, index, 0), twice), following, zeros);
  const keys = em.unsqueeze(positions(em, k, 2), [0]);
  const both = em.mul(em.mask('GreaterOrEqual', keys, em.unsqueeze(starts, [1])), em.mask('Less', keys, em.unsqueeze(ends, [1])));
  return em.unsqueeze(em.compare('Greater', both, em.scalar(0.5)), [1, 2]);
}

/**
 * The causal mask of onnxruntime's Attention and MultiHeadAttention kernels: query i (after a past of
 * P keys) does not see keys j > P + i, except the last query, which sees every key (PrepareMask
 * masks rows 0…S − 2 only; the same where the keys are the past and the queries, T = P + S).
 */
function kernelCausalTerm(em: Emitter, q: string, k: string, past?: string): string {
  const here = positions(em, q, 2);
  const queries = em.unsqueeze(past ? em.add(here, past) : here, [1]);
  const last = em.unsqueeze(em.mask('Equal', here, em.sub(dimOf(em, q, 2), em.constInt([1]))), [1]);
  const either = em.add(last, em.mask('LessOrEqual', em.unsqueeze(positions(em, k, 2), [0]), queries));
  return blockedWhere(em, em.compare('Greater', either, em.scalar(0.5)), LOWEST);
}

/**
 * What Attention and MultiHeadAttention add to the scores: the attention bias, the key-padding
 * mask's mask_filter_value (−10000 by default) and (unidirectional) the kernels' causal mask, which
 * they apply in full whatever mask_filter_value is.
 */
function scoreTerms(em: Emitter, view: GraphView, n: NodeProto, t: { attentionBias?: string; mask?: string; q: string; k: string; past?: string }, fail: (what: string) => never): string[] {
  const filter = attrFloat(n, 'mask_filter_value', -10000);
  return [
    ...(t.attentionBias ? [t.attentionBias] : []),
    ...(t.mask ? [paddingTerm(em, view, t.mask, t.k, filter, fail)] : []),
    ...(attrInt(n, 'unidirectional', 0) ? [kernelCausalTerm(em, t.q, t.k, t.past)] : []),
  ];
}

function attention(em: Emitter, view: GraphView, n: NodeProto, fail: (what: string) => never): void {
  const [x, weights, bias, maskIndex, past, attentionBias, pastLength] = n.input ?? [];
  // The stacked past [2, batch, …] has its rows on axis 1, where fed inputs have them on axis 0.
  if (past || pastLength || (n.output ?? []).slice(1).some(Boolean)) fail('past and present state (generation caches stacked as [2, batch, …]) are not supported');
  if (attrInt(n, 'do_rotary', 0)) fail('rotary embeddings are not supported');
  const heads = attrInt(n, 'num_heads', 0) || fail('num_heads is missing');
  const total = view.constantDims(weights)?.[1] ?? fail('the weights must be a constant [input, q + k + v]');
  const sizes = attrInts(n, 'qkv_hidden_sizes') ?? [total / 3, total / 3, total / 3];
  const projected = em.matmul(x, weights);
  const [q, k, v] = em.split(bias ? em.add(projected, bias) : projected, 2, sizes).map((t) => splitHeads(em, t, heads));
  const terms = scoreTerms(em, view, n, { attentionBias, mask: maskIndex, q, k }, fail);
  const scale = em.scalar(attrFloat(n, 'scale', 0) || 1 / Math.sqrt(sizes[0] / heads));
  em.rename(mergeHeads(em, attend(em, q, k, v, scale, terms)), n.output![0]);
}

/**
 * MultiHeadAttention with separate query, key and value [B, L, heads·d] (the packed and
 * cross-attention cache forms are refused): the bias [q + k + v widths] added to the three,
 * past_key and past_value [B, heads, P, d] before the new keys and values (present_key and
 * present_value), a key-padding mask, attention bias, unidirectional masking, scale 1/√d by default.
 */
function multiHeadAttention(em: Emitter, view: GraphView, n: NodeProto, fail: (what: string) => never): void {
  const [query, key, value, bias, keyPadding, attentionBias, pastKey, pastValue, ...rest] = n.input ?? [];
  if (rest.some(Boolean)) fail('a past shared with present (past_sequence_length, cache_indirection) is not supported');
  if (n.output?.[3]) fail('the QK output is not supported');
  if (!!pastKey !== !!pastValue) fail('give both past_key and past_value, or neither');
  if (!key || !value || declaredRank(view, key) === 5 || declaredRank(view, query) === 5) fail('packed query/key/value inputs are not supported (give query, key and value)');
  if (declaredRank(view, key) === 4) fail('key and value as [batch, heads, length, head size] (past-state form) are not supported');
  const [, presentKey, presentValue] = n.output ?? [];
  if (pastKey && !(presentKey && presentValue)) fail('past_key and past_value without the present_key and present_value outputs are not supported (onnxruntime\'s CPU kernel then ignores the past)');
  const heads = attrInt(n, 'num_heads', 0) || fail('num_heads is missing');
  const [q, k0, v0] = [query, key, value].map((t, i) => splitHeads(em, bias ? em.add(t, biasPart(em, bias, query, i)) : t, heads));
  const [k, v] = afterPast(em, k0, v0, pastKey, pastValue);
  const past = pastKey ? dimOf(em, pastKey, 2) : undefined;
  if (presentKey) em.rename(k, presentKey);
  if (presentValue) em.rename(v, presentValue);
  const terms = scoreTerms(em, view, n, { attentionBias, mask: keyPadding, q, k, past }, fail);
  const given = attrFloat(n, 'scale', 0);
  em.rename(mergeHeads(em, attend(em, q, k, v, given ? em.scalar(given) : defaultScale(em, q), terms)), n.output![0]);
}

/** Part i of MultiHeadAttention's bias [q + k + v widths]: query and key are as wide as the query (read from its shape), the value takes the rest. */
function biasPart(em: Emitter, bias: string, query: string, i: number): string {
  const width = dimOf(em, query, 2);
  const bounds = [em.constInt([0]), width, em.add(width, width), em.constInt([Number.MAX_SAFE_INTEGER])];
  return em.op('Slice', [bias, bounds[i], bounds[i + 1], em.constInt([0])]);
}

/** The activation a FusedConv/FusedGemm applies, with its parameters (onnxruntime's defaults where absent). */
function activation(em: Emitter, x: string, kind: string, params: (number | undefined)[], fail: (what: string) => never): string {
  switch (kind) {
    case '': return x;
    case 'Relu': case 'Tanh': case 'Sigmoid': return em.op(kind, [x]);
    case 'LeakyRelu': return em.op(kind, [x], { alpha: float(params[0] ?? 0.01) });
    case 'HardSigmoid': return em.op(kind, [x], { alpha: float(params[0] ?? 0.2), beta: float(params[1] ?? 0.5) });
    case 'Clip': {
      const [lo, hi] = [params[0] ?? -3.4028234663852886e38, params[1] ?? 3.4028234663852886e38];
      return em.opset >= 11 ? em.op(kind, [x, em.scalar(lo), em.scalar(hi)]) : em.op(kind, [x], { min: float(lo), max: float(hi) });
    }
    default: return fail(`activation '${kind}' is not supported (Relu, Tanh, Sigmoid, LeakyRelu, HardSigmoid, Clip)`);
  }
}

const ACTIVATION_ATTRIBUTES = new Set(['activation', 'activation_params', 'activation_alpha', 'activation_beta', 'activation_gamma']);

/** FusedConv / FusedGemm: the op with its own attributes (Conv's defaults written out), FusedConv's Z added, the activation. */
function fused(op: 'Conv' | 'Gemm'): StandardForm {
  return (em, view, n, fail) => {
    const [x, w, b, z] = n.input ?? [];
    const attribute = (n.attribute ?? []).filter((a) => !ACTIVATION_ATTRIBUTES.has(a.name ?? ''));
    if (op === 'Conv') {
      const spatial = (view.constantDims(w) ?? fail('the weights must be a constant')).length - 2;
      const has = (name: string) => attribute.some((a) => a.name === name);
      const ints = (name: string, v: number[]) => ({ name, type: AttrType.INTS, ints: v });
      if (!has('strides')) attribute.push(ints('strides', Array(spatial).fill(1)));
      if (!has('dilations')) attribute.push(ints('dilations', Array(spatial).fill(1)));
      if (!has('pads') && ['', 'NOTSET'].includes(attrString(n, 'auto_pad', ''))) attribute.push(ints('pads', Array(2 * spatial).fill(0)));
      if (!has('group')) attribute.push({ name: 'group', type: AttrType.INT, i: 1 });
    }
    const y = em.fresh(op);
    em.nodes.push({ op_type: op, input: [x, w, ...(b ? [b] : [])], output: [y], name: y, attribute });
    const summed = op === 'Conv' && z ? em.add(y, z) : y;
    const given = (name: string) => (n.attribute?.some((a) => a.name === name) ? attrFloat(n, name, 0) : undefined);
    const params = op === 'Conv' ? attrFloats(n, 'activation_params') ?? [] : [given('activation_alpha'), given('activation_beta')];
    em.rename(activation(em, summed, attrString(n, 'activation', ''), params, fail), n.output![0]);
  };
}

function skipRmsNorm(em: Emitter, _view: GraphView, n: NodeProto): void {
  const [input, skip, gamma, bias] = n.input ?? [];
  const [output, mean, invStd, sum] = n.output ?? [];
  const s = bias ? em.add(em.add(input, skip), bias) : em.add(input, skip);
  if (sum) em.rename(s, sum);
  const rms = rootMeanSquare(em, s, [-1], attrFloat(n, 'epsilon', 1e-12));
  em.rename(em.mul(em.div(s, rms), gamma), output);
  if (invStd) em.rename(em.op('Reciprocal', [rms]), invStd);
  // The kernel writes zeros to the mean output, which RMS normalisation does not take.
  if (mean) em.rename(em.mul(rms, em.scalar(0)), mean);
}
