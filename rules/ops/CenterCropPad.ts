import { attrInts } from '../../rewriter/attributes';
import { constantPadBack, normAxis } from '../op-forms';
import { RuleEntry } from '../types';

/**
 * A constant pad per axis toward `shape`: a centred crop starting at ⌊(d − s)/2⌋ where the axis
 * is longer, zeros ⌊(s − d)/2⌋ before it where shorter (the spec's function body).
 */
export const CenterCropPad: RuleEntry = {
  opType: 'CenterCropPad', since: 18, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const [x, shape] = ctx.node.input!;
      const xs = ctx.shape(x);
      const target = ctx.requireConstant(shape, 'shape').values;
      const axes = (attrInts(ctx.node, 'axes') ?? xs.map((_, k) => k)).map((a) => normAxis(ctx, a, xs.length));
      const begin = xs.map(() => 0);
      const end = xs.map(() => 0);
      axes.forEach((a, k) => {
        const grow = target[k] - xs[a];
        begin[a] = grow >= 0 ? Math.floor(grow / 2) : -Math.floor(-grow / 2);
        end[a] = grow - begin[a];
      });
      const b = ctx.batchAxis(x);
      if (b >= 0 && (begin[b] !== 0 || end[b] !== 0)) ctx.fail('cropping or padding the batch axis is not supported');
      return [constantPadBack(ctx.em, dY!, xs, begin, end), null];
    },
  },
};
