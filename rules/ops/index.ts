import { RuleEntry } from '../types';
import { Abs } from './Abs';
import { Add } from './Add';
import { AveragePool } from './AveragePool';
import { BatchNormalization } from './BatchNormalization';
import { Cast } from './Cast';
import { Clip } from './Clip';
import { Concat } from './Concat';
import { Conv } from './Conv';
import { ConvTranspose } from './ConvTranspose';
import { Div } from './Div';
import { Dropout } from './Dropout';
import { Elu } from './Elu';
import { Erf } from './Erf';
import { Exp } from './Exp';
import { Expand } from './Expand';
import { Flatten } from './Flatten';
import { Gather } from './Gather';
import { Gemm } from './Gemm';
import { GlobalAveragePool } from './GlobalAveragePool';
import { GlobalMaxPool } from './GlobalMaxPool';
import { HardSigmoid } from './HardSigmoid';
import { HardSwish } from './HardSwish';
import { Identity } from './Identity';
import { InstanceNormalization } from './InstanceNormalization';
import { LayerNormalization } from './LayerNormalization';
import { LRN } from './LRN';
import { LeakyRelu } from './LeakyRelu';
import { Log } from './Log';
import { LogSoftmax } from './LogSoftmax';
import { MatMul } from './MatMul';
import { Max } from './Max';
import { MaxPool } from './MaxPool';
import { Mean } from './Mean';
import { Min } from './Min';
import { Mul } from './Mul';
import { Neg } from './Neg';
import { PRelu } from './PRelu';
import { Pad } from './Pad';
import { Pow } from './Pow';
import { Reciprocal } from './Reciprocal';
import { ReduceMean } from './ReduceMean';
import { ReduceSum } from './ReduceSum';
import { Relu } from './Relu';
import { Reshape } from './Reshape';
import { Resize } from './Resize';
import { Selu } from './Selu';
import { Sigmoid } from './Sigmoid';
import { Slice } from './Slice';
import { Softmax } from './Softmax';
import { Softplus } from './Softplus';
import { Split } from './Split';
import { Sqrt } from './Sqrt';
import { Squeeze } from './Squeeze';
import { Sub } from './Sub';
import { Sum } from './Sum';
import { Tanh } from './Tanh';
import { Transpose } from './Transpose';
import { Unsqueeze } from './Unsqueeze';
import { Upsample } from './Upsample';
import { Where } from './Where';

/** Every op rule file's entries; test/rules-registry.test.ts checks that none is missing. */
export const opRules: RuleEntry[] = [
  Abs, Add, AveragePool, BatchNormalization, Cast, Clip, Concat, Conv, ConvTranspose, Div, Dropout, Elu, Erf, Exp,
  Expand, Flatten, Gather, Gemm, GlobalAveragePool, GlobalMaxPool, HardSigmoid, HardSwish,
  Identity, InstanceNormalization, LayerNormalization, LeakyRelu, LRN, Log, LogSoftmax, MatMul, Max,
  MaxPool, Mean, Min, Mul, Neg, PRelu, Pad, Pow, Reciprocal, ReduceMean, ReduceSum, Relu, Reshape,
  Resize, Selu, Sigmoid, Slice, Softmax, Softplus, Split, Sqrt, Squeeze, Sub, Sum, Tanh, Transpose,
  Unsqueeze, Upsample, Where,
];
