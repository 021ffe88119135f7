import { Method } from '../../rewriter/augment';
import { deeplift } from './deeplift';
import { gradient, inputXGradient, saliency } from './gradient';

export const methods: Record<string, Method> = {
  [gradient.name]: gradient,
  [saliency.name]: saliency,
  [inputXGradient.name]: inputXGradient,
  [deeplift.name]: deeplift,
};

export const methodNames = Object.keys(methods);
