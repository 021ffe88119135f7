import { Method } from '../../rewriter/augment';
import { deeplift } from './deeplift';
import { gradient, inputXGradient, saliency } from './gradient';
import { deconvnet, guidedBackprop } from './guided';
import { lrpAlphaBeta, lrpEpsilon, lrpZPlus } from './lrp';

export const methods: Record<string, Method> = {
  [gradient.name]: gradient,
  [saliency.name]: saliency,
  [inputXGradient.name]: inputXGradient,
  [deeplift.name]: deeplift,
  [guidedBackprop.name]: guidedBackprop,
  [deconvnet.name]: deconvnet,
  [lrpEpsilon.name]: lrpEpsilon,
  [lrpAlphaBeta.name]: lrpAlphaBeta,
  [lrpZPlus.name]: lrpZPlus,
};

export const methodNames = Object.keys(methods);
