import { DataType } from '../../rewriter/proto';
import { attrInt, attrString } from '../../rewriter/attributes';
import { normAxis } from '../op-forms';
import { gradientOf } from '../registry';
import { gatherBackAt, gatherElementsBackAt, gatherNDBackAt } from '../computed-indices';
import { Emitter } from '../../rewriter/emitter';
import { BackwardRule, RuleContext } from '../types';
import { delta } from './delta';

/** Whether computed indices may pick other positions on the reference pass: computed there again, from the input's values. */
const picksMayDiffer = (ctx: RuleContext, indices: string) => ctx.ref(indices) !== indices && ctx.valueDependent(indices);

/**
 * Where the two passes may pick other elements, δy = x[i] − x⁰[i⁰] goes whole to one pick: the
 * input pass's, m = δy/δx[i] (`pickedRef`: x⁰[i]), or the reference pass's, m⁰ = δy/δx[i⁰]
 * (`pickedInput`: x[i⁰]), whichever moved more (the smaller multiplier: picks made by another
 * tensor's values, a complex max by magnitude, may leave one δx far below δy, and such multipliers
 * compound over layers past float32); if both barely moved, δy is not attributed (as DeepLIFT's
 * Where rule). Returns the two multipliers per element of y.
 */
function pickShares(em: Emitter, y: string, y0: string, pickedRef: string, pickedInput: string): { m: string; m0: string } {
  const dy = em.sub(y, y0);
  const atPick = delta(em, y, pickedRef);
  const atPick0 = delta(em, pickedInput, y0);
  const [one, zero] = [em.scalar(1), em.scalar(0)];
  const same = em.compare('Equal', dy, atPick.dx);
  // |δx[i]| where it moved (−1 where not) against |δx[i⁰]| where that moved (0 where not).
  const atInput = em.compare('GreaterOrEqual', em.where(atPick.moved, em.op('Abs', [atPick.dx]), em.scalar(-1)), em.where(atPick0.moved, em.op('Abs', [atPick0.dx]), zero));
  const m = em.where(same, one, em.where(atInput, em.div(dy, atPick.dx), zero));
  const m0 = em.where(same, zero, em.where(atInput, zero, em.where(atPick0.moved, em.div(dy, atPick0.dx), zero)));
  return { m, m0 };
}

/** A reference-pass tensor with one row per input row (the shared reference row expanded to the batch). */
const rowsOf = (ctx: RuleContext, t0: string, like: string) => {
  if (!ctx.batchBroadcasts) return t0;
  const { em } = ctx;
  // A float row broadcast to the batch by a Where (native on WebGPU; Shape and Expand are not for int64).
  const floatRows = (row: string, batch: string) => em.where(em.compare('Equal', batch, batch), row, row);
  // Indices an ArgMax/ArgMin computes: that op again on its float input's reference rows.
  const made = ctx.view.producer.get(like);
  if (made && (made.op_type === 'ArgMax' || made.op_type === 'ArgMin') && t0 === ctx.ref(like)) return em.copyOf(made, [floatRows(ctx.ref(made.input![0]), made.input![0])])[0];
  if (([DataType.FLOAT, DataType.FLOAT16, DataType.DOUBLE] as number[]).includes(ctx.dtype(like) ?? -1)) return floatRows(t0, like);
  return em.op('Expand', [t0, em.op('Shape', [like])]);
};

/**
 * Gathers with indices computed at run time. Indices computed from the same values on both passes
 * (token ids, shapes) pick the same positions: δy is the picked δx and m routes as the gradient.
 * Where the picks may differ (indices computed from the explained input), pickShares.
 */
function runtimePick(back: (ctx: RuleContext, g: string, indices: string) => string, picksWithinRows: (ctx: RuleContext) => boolean): BackwardRule {
  return {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [x, indices] = node.input!;
      if (!ctx.needsGrad(0) || ctx.isConstant(indices)) return gradientOf(ctx).backward(ctx, [dY]);
      if (!picksMayDiffer(ctx, indices)) return [back(ctx, dY!, indices), null];
      // A reference pass on one shared row picks within it for every row (not where the picks run across rows).
      if (ctx.batchBroadcasts && !picksWithinRows(ctx)) ctx.fail('its indices are computed from the explained input and pick across the batch\'s rows, and the reference pass may run on one row; use integrated-gradients or gradient');
      const indices0 = rowsOf(ctx, ctx.ref(indices), indices);
      const pick = (data: string, at: string) => em.copyOf(node, [data, at])[0];
      const y = node.output![0];
      const { m, m0 } = pickShares(em, y, ctx.ref(y), pick(rowsOf(ctx, ctx.ref(x), x), indices), pick(x, indices0));
      return [em.add(back(ctx, em.mul(dY!, m), indices), back(ctx, em.mul(dY!, m0), indices0)), null];
    },
  };
}

/** Whether the gathered axis is not the batch's: a shared reference row's picks then hold for every row. */
const offBatchAxis = (ctx: RuleContext) => {
  const x = ctx.node.input![0];
  const b = ctx.batchAxis(x);
  return b < 0 || normAxis(ctx, attrInt(ctx.node, 'axis', 0), ctx.shape(x).length) !== b;
};

export const deepliftGather = runtimePick(gatherBackAt, offBatchAxis);
export const deepliftGatherElements = runtimePick(gatherElementsBackAt, offBatchAxis);
// GatherND's tuples hold the row with batch_dims 0; with batch_dims B the batch among the first B axes picks within rows.
export const deepliftGatherND = runtimePick(gatherNDBackAt, (ctx) => {
  const b = attrInt(ctx.node, 'batch_dims', 0);
  return b > 0 && ctx.batchAxis(ctx.node.input![0]) < b;
});

/**
 * ScatterND and ScatterElements (reduction none or add) are linear in data and updates for fixed
 * indices: the gradient, unless the indices follow the input's values.
 */
export const deepliftScatter: BackwardRule = {
  backward(ctx, dY) {
    const indices = ctx.node.input![1];
    const reduction = attrString(ctx.node, 'reduction', 'none');
    if (reduction === 'mul' && ctx.needsGrad(2)) ctx.fail('DeepLIFT has no rule for its reduction mul with updates that depend on the explained input (a product of the values written to each position); use integrated-gradients or gradient');
    if (reduction === 'max' || reduction === 'min') ctx.fail(`DeepLIFT has no rule for its reduction ${reduction} (a ${reduction} over the values written to each position); use integrated-gradients or gradient`);
    if (picksMayDiffer(ctx, indices)) ctx.fail('its indices are computed from the explained input, so the two passes may write other positions; use integrated-gradients or gradient');
    return gradientOf(ctx).backward(ctx, dY);
  },
};

/**
 * ScatterElements (reduction none) at indices computed from the input (a top-k gate written into
 * zeros, k-winners-take-all): each output element is a pick — the update written there, or data
 * where nothing is — so δy is split by pickShares. The reference value of the input pass's pick
 * is upd⁰ written at the input pass's indices where they write, data⁰ elsewhere; and the other way
 * round. Indices are taken as distinct, as ONNX requires for reduction none (TopK's are).
 */
export const deepliftScatterElements: BackwardRule = {
  backward(ctx, [dY]) {
    const { em, node } = ctx;
    const [data, indices, updates] = node.input!;
    if (attrString(node, 'reduction', 'none') !== 'none' || !picksMayDiffer(ctx, indices)) return deepliftScatter.backward(ctx, [dY]);
    const axis = normAxis(ctx, attrInt(node, 'axis', 0), ctx.shape(data).length);
    if (axis === ctx.batchAxis(data)) ctx.fail('its indices are computed from the explained input and write across the batch\'s rows; use integrated-gradients or gradient');
    const indices0 = rowsOf(ctx, ctx.ref(indices), indices);
    const [data0, updates0] = [rowsOf(ctx, ctx.ref(data), data), rowsOf(ctx, ctx.ref(updates), updates)];
    // Written at `at`: `values` there (a scatter as GatherElements' gradient), `elsewhere` off them
    // (selected, not blended: data may be −Inf where the updates go, as in a top-k mask).
    const scattered = (values: string, at: string, elsewhere: string) => {
      const written = em.compare('Greater', gatherElementsBackAt(ctx, em.onesLike(values), at), em.scalar(0));
      return { written, value: em.where(written, gatherElementsBackAt(ctx, values, at), elsewhere) };
    };
    const [pass, pass0] = [scattered(updates0, indices, data0), scattered(updates, indices0, data)];
    const y = node.output![0];
    const { m, m0 } = pickShares(em, y, ctx.ref(y), pass.value, pass0.value);
    const [g, g0] = [em.mul(dY!, m), em.mul(dY!, m0)];
    const notWritten = (t: string, written: string) => em.where(written, em.scalar(0), t);
    const gather = (t: string, at: string) => em.op('GatherElements', [t, at], { axis });
    return [
      ctx.needsGrad(0) ? em.add(notWritten(g, pass.written), notWritten(g0, pass0.written)) : null,
      null,
      ctx.needsGrad(2) ? em.add(gather(g, indices), gather(g0, indices0)) : null,
    ];
  },
};

/** GridSample is linear in its input for a fixed grid: the gradient; a grid computed from the explained input samples other pixels on the reference pass. */
export const deepliftGridSample: BackwardRule = {
  backward(ctx, dY) {
    if (ctx.needsGrad(1)) ctx.fail('its grid is computed from the explained input (a spatial transformer), so the two passes sample other pixels; use integrated-gradients or gradient');
    return gradientOf(ctx).backward(ctx, dY);
  },
};
