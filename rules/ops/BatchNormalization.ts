import { attrFloat, attrInt } from '../../rewriter/attributes';
import { NodeProto } from '../../rewriter/proto';
import { normalizeBackward } from '../op-forms';
import { RuleContext, RuleEntry } from '../types';

/**
 * Training mode (opset 14's training_mode = 1; before it, the optional running-statistics outputs
 * asked for): onnxruntime normalises with the batch's own statistics over axes 0, 2, 3, …, and the
 * mean and var inputs only update the running-statistics outputs. torch.onnx writes this for a
 * BatchNorm with track_running_stats=False, also in eval mode.
 */
export function trainingMode(node: NodeProto, opset: number): boolean {
  return attrInt(node, 'training_mode', 0) !== 0 || (opset < 14 && node.output!.slice(1).some(Boolean));
}

/** The axes a training-mode BatchNormalization's statistics run over; refused where they would hold several explained rows. */
export function statisticsAxes(ctx: RuleContext): number[] {
  const x = ctx.node.input![0];
  if (ctx.batchAxis(x) >= 0) ctx.fail('batch statistics (training mode) mix the rows of the batch, which are explained one by one');
  return ctx.shape(x).map((_, k) => k).filter((k) => k !== 1);
}

/** A tensor shaped as the scale γ ([C], or activation-shaped with spatial = 0), shaped to broadcast against x. */
export function perChannel(ctx: RuleContext, t: string): string {
  const rank = ctx.shape(ctx.node.input![0]).length;
  const dims = ctx.shape(ctx.node.input![1]);
  return dims.length === 1 && rank > 2 ? ctx.em.reshape(t, [dims[0], ...Array(rank - 2).fill(1)]) : t;
}

/**
 * Inference form: dX = dY · γ/√(σ²+ε), per channel (per activation when spatial = 0). Training
 * form: the normalisation's over the statistics axes (normalizeBackward, g = dY·γ).
 */
export const BatchNormalization: RuleEntry = {
  opType: 'BatchNormalization', since: 1, category: 'linear',
  rule: {
    backward(ctx, dY) {
      const { em, node } = ctx;
      const [x, scale, , , variance] = node.input!;
      const epsilon = attrFloat(node, 'epsilon', 1e-5);
      if (trainingMode(node, ctx.opset)) {
        if (dY.slice(1).some(Boolean)) ctx.fail('gradients through the running-statistics outputs (training mode) are not supported');
        if ([1, 2].some((i) => ctx.needsGrad(i))) ctx.fail('scale or bias computed from the input is not supported');
        // The mean and var inputs (torch.onnx computes them from x) reach only the running statistics.
        return [normalizeBackward(em, x, em.mul(dY[0]!, perChannel(ctx, scale)), statisticsAxes(ctx), epsilon), null, null, null, null];
      }
      if ([1, 2, 3, 4].some((i) => ctx.needsGrad(i))) ctx.fail('statistics or affine parameters computed from the input are not supported');
      const factor = em.div(scale, em.op('Sqrt', [em.add(variance, em.scalar(epsilon))]));
      return [em.mul(dY[0]!, perChannel(ctx, factor)), null, null, null, null];
    },
  },
};
