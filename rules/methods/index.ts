import { Method } from '../../rewriter/augment';
import { lookupTable } from '../../rewriter/lookup-table';
import { deeplift } from './deeplift';
import { gradient, inputXGradient, saliency } from './gradient';
import { deconvnet, guidedBackprop } from './guided';
import { lrpAlphaBeta, lrpComposites, lrpEpsilon, lrpZPlus } from './lrp';

const backpropMethods = [gradient, saliency, inputXGradient, deeplift, guidedBackprop, deconvnet, lrpEpsilon, lrpAlphaBeta, lrpZPlus, ...lrpComposites] as const;

/** The methods that are one rule-modified backward pass. */
export type BackpropMethodName = (typeof backpropMethods)[number]['name'];

export const methods: Record<string, Method> = lookupTable(Object.fromEntries(backpropMethods.map((m) => [m.name, m])));

export const methodNames: BackpropMethodName[] = backpropMethods.map((m) => m.name);
