import { attrFloat, attrInt } from '../../rewriter/attributes';
import { RuleEntry } from '../types';

/** Inference form: dX = dY · γ/√(σ²+ε), per channel (per activation when spatial = 0). */
export const BatchNormalization: RuleEntry = {
  opType: 'BatchNormalization', since: 1, category: 'linear',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [x, scale, , , variance] = node.input!;
      if (attrInt(node, 'training_mode', 0) !== 0 || node.output!.slice(1).some(Boolean)) {
        ctx.fail('training-mode batch normalization (statistics of the batch, updated running means) is not supported: export the model in eval mode (model.eval(), torch.onnx.TrainingMode.EVAL)');
      }
      if ([1, 2, 3, 4].some((i) => ctx.needsGrad(i))) ctx.fail('statistics or affine parameters computed from the input are not supported');
      const factor = em.div(scale, em.op('Sqrt', [em.add(variance, em.scalar(attrFloat(node, 'epsilon', 1e-5)))]));
      const rank = ctx.shape(x).length;
      const perChannel = ctx.shape(scale).length === 1;
      const shaped = perChannel && rank > 2 ? em.reshape(factor, [ctx.shape(scale)[0], ...Array(rank - 2).fill(1)]) : factor;
      return [em.mul(dY!, shaped), null, null, null, null];
    },
  },
};
