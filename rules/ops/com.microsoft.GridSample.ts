import { RuleEntry } from '../types';
import { GridSample } from './GridSample';

/** onnxruntime's contrib GridSample (what exporters wrote before opset 16): the standard op's semantics, 2-D. */
export const MsGridSample: RuleEntry = { ...GridSample, domain: 'com.microsoft', since: 1 };
