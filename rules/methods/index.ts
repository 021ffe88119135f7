import { Method } from '../../rewriter/augment';
import { gradient, inputXGradient, saliency } from './gradient';

export const methods: Record<string, Method> = {
  [gradient.name]: gradient,
  [saliency.name]: saliency,
  [inputXGradient.name]: inputXGradient,
};

export const methodNames = Object.keys(methods);
