import { RuleEntry } from '../types';
import { MsFusedMatMul } from './com.microsoft.FusedMatMul';

/** TransposeMatMul: FusedMatMul's name in models onnxruntime's optimiser saved before the rename (same attributes). */
export const MsTransposeMatMul: RuleEntry = { ...MsFusedMatMul, opType: 'TransposeMatMul' };
