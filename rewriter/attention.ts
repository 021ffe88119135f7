import { Emitter } from './emitter';
import { DataType } from './proto';

/** Standard-op pieces of scaled dot-product attention, shared by the fused attention ops' readings. */

/** [B, L, heads·d] → [B, heads, L, d]. */
export function splitHeads(em: Emitter, t: string, heads: number): string {
  return em.transpose(em.reshape(t, [0, 0, heads, -1]), [0, 2, 1, 3]);
}

/** [B, heads, L, d] → [B, L, heads·d]. */
export function mergeHeads(em: Emitter, t: string): string {
  return em.reshape(em.transpose(t, [0, 2, 1, 3]), [0, 0, -1]);
}

/** Positions 0…L−1 along `axis` of `like` (int64 [L]). */
export function positions(em: Emitter, like: string, axis: number): string {
  const length = em.op('Gather', [em.op('Shape', [like]), em.constInt([axis], [])], { axis: 0 });
  return em.op('Range', [em.constInt([0], []), length, em.constInt([1], [])]);
}

/** Axis `axis` of t's shape (int64 [1]). */
export function dimOf(em: Emitter, t: string, axis: number): string {
  return em.op('Gather', [em.op('Shape', [t]), em.constInt([axis])], { axis: 0 });
}

/** 1/√d for Q [B, heads, L, d] (d on axis `axis`), d read from its shape. */
export function defaultScale(em: Emitter, q: string, axis = 3): string {
  const d = dimOf(em, q, axis);
  return em.op('Reciprocal', [em.op('Sqrt', [em.cast(d, DataType.FLOAT)])]);
}

/** `value` where the mask is false (or 0), else 0: a mask term to add to the scores. */
export function blockedWhere(em: Emitter, keep: string, value: number): string {
  return em.where(keep, em.scalar(0), em.scalar(value));
}

/** The masked score: float32's lowest value, as PyTorch's masked_fill (−inf would make 0·∞ and ∞ − ∞ in the walk). */
export const LOWEST = -3.4028234663852886e38;

/**
 * True where key j does not come after query i: [S, T] for Q, K [B, heads, L, d]. Query i sits at
 * position i (upper-left aligned), or at past + i after a past of that many keys (int64 [1]).
 */
export function causalKeys(em: Emitter, q: string, k: string, past?: string): string {
  const queries = past ? em.add(positions(em, q, 2), past) : positions(em, q, 2);
  return em.compare('LessOrEqual', em.unsqueeze(positions(em, k, 2), [0]), em.unsqueeze(queries, [1]));
}

/** Keys and values [B, heads, L, d] after a past [B, heads, P, d] of each (present = past ++ new); as they are without one. */
export function afterPast(em: Emitter, k: string, v: string, pastKey?: string, pastValue?: string): [string, string] {
  return pastKey && pastValue ? [em.concat([pastKey, k], 2), em.concat([pastValue, v], 2)] : [k, v];
}

/** c·tanh(scores/c) for a softcap c > 0; the scores themselves otherwise. */
export function capScores(em: Emitter, scores: string, c: number): string {
  return c > 0 ? em.mul(em.op('Tanh', [em.div(scores, em.scalar(c))]), em.scalar(c)) : scores;
}

/**
 * softmax(scale·QKᵀ + Σ terms)·V for Q, K, V [B, heads, L, d]; terms broadcast to [B, heads, S, T].
 * With softcap c > 0 the scaled scores are capped to c·tanh(·/c) before the terms. `allowed`:
 * boolean masks (true: attend) whose blocked scores become LOWEST one after another (never LOWEST
 * added twice, which overflows to −Inf); a query row they leave no key attends to nothing, its
 * weights zero (ONNX Attention-23's errata, PyTorch's _safe_softmax), not the uniform average that
 * equal lowest scores give.
 */
export function attend(em: Emitter, q: string, k: string, v: string, scale: string, terms: string[], softcap = 0, allowed: string[] = []): string {
  const scaled = em.mul(em.matmul(q, em.transpose(k, [0, 1, 3, 2])), scale);
  const added = terms.reduce((s, t) => em.add(s, t), capScores(em, scaled, softcap));
  const scores = allowed.reduce((s, keep) => em.where(keep, s, em.scalar(LOWEST)), added);
  const weights = em.op('Softmax', [scores], { axis: -1 });
  if (!allowed.length) return em.matmul(weights, v);
  const kept = allowed.map((keep) => em.cast(keep, em.floatType)).reduce((a, b) => em.mul(a, b));
  return em.matmul(em.mul(weights, em.mask('Greater', em.reduceSum(kept, [-1]), em.scalar(0))), v);
}
