import { attrInts } from '../../rewriter/attributes';
import { intsOf, normAxis, scatterAlongAxis } from '../op-forms';
import { RuleEntry } from '../types';

/** Input indices a Slice takes along one axis, with ONNX's clamping of start/end. */
function sliceIndices(start: number, end: number, step: number, dim: number): number[] {
  const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);
  const s = start < 0 ? start + dim : start;
  const e = end < 0 ? end + dim : end;
  const out: number[] = [];
  if (step > 0) for (let i = clamp(s, 0, dim), to = clamp(e, 0, dim); i < to; i += step) out.push(i);
  else for (let i = clamp(s, 0, dim - 1), to = clamp(e, -1, dim - 1); i > to; i += step) out.push(i);
  return out;
}

/**
 * dX: dY padded back with zeros on unit-step axes; other steps scatter each taken index back
 * to its source position along the axis.
 */
export const Slice: RuleEntry = {
  opType: 'Slice', since: 1, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const x = node.input![0];
      const xs = ctx.shape(x);
      const rank = xs.length;
      // Bounds computed from the batch's size on the batch axis: a batch holding two inputs' rows (RAFT's torch.cat then torch.chunk on dim 0).
      const computed = [1, 2].some((i) => node.input?.[i] && !ctx.isConstant(node.input[i]));
      const given = node.input?.[3] ? ctx.constant(node.input[3])?.values : attrInts(node, 'axes');
      if (computed && ctx.batchAxis(x) >= 0 && (given ?? [0]).some((a) => normAxis(ctx, a, rank) === ctx.batchAxis(x))) {
        ctx.fail('slices the batch axis at positions computed from the batch\'s size (a batch that holds the rows of two inputs, as torch.cat then torch.chunk on dim 0 write), which is not supported; export the model with a static batch of 1 (its rows then run one at a time)');
      }
      const starts = intsOf(ctx, 'starts', 1) ?? ctx.fail('starts are missing');
      const ends = intsOf(ctx, 'ends', 2) ?? ctx.fail('ends are missing');
      const axes = (intsOf(ctx, 'axes', 3) ?? starts.map((_, k) => k)).map((a) => normAxis(ctx, a, rank));
      const steps = ctx.opset >= 10 ? intsOf(ctx, 'steps', 4) : undefined;
      const pads = Array(2 * rank).fill(0);
      let g = dY!;
      axes.forEach((axis, k) => {
        const dim = xs[axis];
        const step = steps?.[k] ?? 1;
        if (step === 0) ctx.fail('slice step 0');
        if (axis === ctx.batchAxis(x)) {
          // Only a slice that keeps any batch whole is allowed there.
          if (step !== 1 || starts[k] !== 0 || ends[k] < 2 ** 31 - 1) ctx.fail('slicing the batch axis is not supported');
          return;
        }
        const taken = sliceIndices(starts[k], ends[k], step, dim);
        if (taken.length === dim && taken.every((t, i) => t === i)) return;
        if (step === 1 && taken.length > 0) {
          pads[axis] = taken[0];
          pads[axis + rank] = dim - 1 - taken[taken.length - 1];
        } else {
          g = scatterAlongAxis(em, g, axis, rank, taken, dim);
        }
      });
      return [em.pad(g, pads)];
    },
  },
};
