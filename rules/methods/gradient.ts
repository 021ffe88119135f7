import { Method } from '../../rewriter/augment';
import { gradientRules } from '../registry';

/** Raw input gradient of the seeded output. */
export const gradient: Method<'gradient'> = {
  name: 'gradient', table: gradientRules, reference: false,
  attribution: (_em, { grad }) => grad,
};

/** |∂y/∂x|, as Captum's Saliency. */
export const saliency: Method<'saliency'> = {
  name: 'saliency', table: gradientRules, reference: false,
  attribution: (em, { grad }) => em.op('Abs', [grad]),
};

/** x · ∂y/∂x. */
export const inputXGradient: Method<'input-x-gradient'> = {
  name: 'input-x-gradient', table: gradientRules, reference: false, multipliesByInputs: true,
  attribution: (em, { grad, input }) => em.mul(grad, input),
};
