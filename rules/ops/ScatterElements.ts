import { attrInt, attrString } from '../../rewriter/attributes';
import { gatherElementsBackAt } from '../computed-indices';
import { normAxis } from '../op-forms';
import { RuleEntry } from '../types';

/**
 * data with the elements at `indices` along `axis` replaced by (reduction add: increased by)
 * updates: torch.onnx's scatter and scatter_add. dUpdates = GatherElements(dY, indices); dData =
 * dY where nothing was written (everywhere for add). The written positions are the scatter of
 * ones, computed as GatherElements' gradient (no ScatterElements: not on the default WebGPU bundle).
 */
export const ScatterElements: RuleEntry = {
  opType: 'ScatterElements', since: 11, category: 'shape',
  rule: {
    backward(ctx, [dY]) {
      const { em, node } = ctx;
      const [data, indices, updates] = node.input!;
      const [ds, is] = [ctx.shape(data), ctx.shape(indices)];
      const axis = normAxis(ctx, attrInt(node, 'axis', 0), ds.length);
      if (is.some((d, k) => k !== axis && d !== ds[k])) ctx.fail(`indices of shape [${is}] narrower than the data [${ds}] off the scatter axis are not supported`);
      const reduction = attrString(node, 'reduction', 'none');
      if (reduction !== 'none' && reduction !== 'add') ctx.fail(`reduction '${reduction}' is not supported (none and add are)`);
      let dData: string | null = null;
      if (ctx.needsGrad(0)) {
        const written = em.mask('Greater', gatherElementsBackAt(ctx, em.onesLike(updates), indices), em.scalar(0));
        dData = reduction === 'add' ? dY! : em.mul(dY!, em.sub(em.scalar(1), written));
      }
      const dUpdates = ctx.needsGrad(2) ? em.op('GatherElements', [dY!, indices], { axis }) : null;
      return [dData, null, dUpdates];
    },
  },
};
