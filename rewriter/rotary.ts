import { positions } from './attention';
import { attrFloat, attrInt } from './attributes';
import { Emitter } from './emitter';
import { GraphView } from './graph-view';
import { NodeProto, toNumber } from './proto';

/**
 * RotaryEmbedding — the opset-23 function op (input, cos_cache, sin_cache[, position_ids]) and
 * onnxruntime's com.microsoft op (input, position_ids, cos_cache, sin_cache; one position id is
 * the first position of every row) — in standard ops. The input is [B, S, heads·H] (heads from
 * num_heads, or H = twice the caches' width) or [B, heads, S, H]. The first d = rotary_embedding_dim
 * (default H) features of each head turn by their position's angle: (x₁, x₂) → (x₁·cos − x₂·sin,
 * x₁·sin + x₂·cos), with x₁, x₂ the two halves of those features, or the even and odd ones when
 * interleaved; the other features pass unchanged.
 */
export function rotaryEmbedding(em: Emitter, view: GraphView, n: NodeProto, fail: (what: string) => never): void {
  const microsoft = n.domain === 'com.microsoft';
  const [x, cosCache, sinCache, ids] = microsoft ? [n.input![0], n.input![2], n.input![3], n.input![1]] : n.input!;
  if (microsoft && (attrInt(n, 'is_packed_batching', 0) !== 0 || attrFloat(n, 'scale', 1) !== 1)) fail('packed batching and a scale other than 1 are not supported');
  const dims = (t: string) => view.constantDims(t) ?? view.declared(t)?.dims?.map((d) => toNumber(d.dim_value));
  const rank = view.rank(x) ?? fail(`the rank of its input '${x}' is neither declared nor implied by the ops before it`);
  const width = dims(cosCache)?.at(-1) || fail(`the width of cos_cache '${cosCache}' is not declared`);
  const heads = attrInt(n, 'num_heads', 0);
  const given = attrInt(n, 'rotary_embedding_dim', 0);
  if (given && given !== 2 * width) fail(`rotary_embedding_dim ${given} is not twice the caches' width ${width}`);
  // The turned features of each head: twice the caches' width.
  const [half, rotated] = [width, 2 * width];
  // [B, S, heads·H] is read as [B, S, heads, H]; the angles broadcast over the heads' axis.
  const flat = rank === 3;
  if (flat && given && !heads) fail('a three-dimensional input with rotary_embedding_dim needs num_heads');
  const y = flat ? em.reshape(x, [0, 0, ...(heads ? [heads, -1] : [-1, rotated])]) : x;
  const headSize = (flat ? (heads ? (dims(x)?.[2] ?? 0) / heads : rotated) : dims(x)?.[3]) ?? 0;
  if (given && !headSize) fail(`rotary_embedding_dim needs the head size, which the graph does not declare for '${x}'`);
  const offset = !!ids && microsoft && (view.rank(ids) ?? fail(`the rank of position_ids '${ids}' is neither declared nor implied by the ops before it`)) < 2;
  const interleaved = attrInt(n, 'interleaved', 0) !== 0;
  const angle = (cache: string) => {
    // onnxruntime's one-element position_ids: positions first … first + S − 1 for every row.
    const at = offset ? em.add(positions(em, y, flat ? 1 : 2), em.reshape(ids, [])) : ids;
    const c = ids ? em.op('Gather', [cache, at], { axis: 0 }) : cache;
    // [B, S, d/2] or [S, d/2] against [B, S, heads, …] or [B, heads, S, …] (and a pair axis when interleaved).
    const aligned = flat ? em.unsqueeze(c, [offset ? 1 : 2]) : offset ? c : em.unsqueeze(c, [1]);
    return interleaved ? em.unsqueeze(aligned, [flat ? (offset ? 3 : 4) : (offset ? 2 : 4)]) : aligned;
  };
  const out = turnFeatures(em, y, 4, angle(cosCache), angle(sinCache), half, interleaved, headSize);
  em.rename(flat ? em.reshape(out, [0, 0, -1]) : out, n.output![0]);
}

/**
 * (x₁, x₂) → (x₁·cos − x₂·sin, x₁·sin + x₂·cos) on the first 2·half features of t's last axis
 * (t of the given rank): x₁, x₂ are the two halves of those features, or the even and odd ones when
 * interleaved; c and s broadcast against [..., half] ([..., half, 1] when interleaved). The
 * features from 2·half to headSize pass unchanged.
 */
export function turnFeatures(em: Emitter, t: string, rank: number, c: string, s: string, half: number, interleaved: boolean, headSize: number): string {
  const rotated = 2 * half;
  const last = rank - 1;
  const keep = Array(last).fill(0);
  const tail = headSize > rotated;
  const part = tail ? em.slice(t, [0], [rotated], [last]) : t;
  const pairs = interleaved ? em.reshape(part, [...keep, half, 2]) : part;
  const axis = interleaved ? rank : last;
  const [x1, x2] = [em.slice(pairs, [0], [interleaved ? 1 : half], [axis]), em.slice(pairs, [interleaved ? 1 : half], [interleaved ? 2 : rotated], [axis])];
  const turned = em.concat([em.sub(em.mul(c, x1), em.mul(s, x2)), em.add(em.mul(s, x1), em.mul(c, x2))], axis);
  const whole = interleaved ? em.reshape(turned, [...keep, rotated]) : turned;
  return tail ? em.concat([whole, em.slice(t, [rotated], [headSize], [last])], last) : whole;
}
