import { RuleEntry } from '../types';
import { Abs } from './Abs';
import { Add } from './Add';
import { ArgMax } from './ArgMax';
import { ArgMin } from './ArgMin';
import { AveragePool } from './AveragePool';
import { BatchNormalization } from './BatchNormalization';
import { Cast } from './Cast';
import { Clip } from './Clip';
import { CenterCropPad } from './CenterCropPad';
import { Col2Im } from './Col2Im';
import { Compress } from './Compress';
import { Concat } from './Concat';
import { Conv } from './Conv';
import { ConvTranspose } from './ConvTranspose';
import { Cos } from './Cos';
import { CumSum } from './CumSum';
import { DepthToSpace } from './DepthToSpace';
import { DequantizeLinear } from './DequantizeLinear';
import { Div } from './Div';
import { Dropout } from './Dropout';
import { Einsum } from './Einsum';
import { Elu } from './Elu';
import { Equal } from './Equal';
import { Erf } from './Erf';
import { Exp } from './Exp';
import { Expand } from './Expand';
import { Flatten } from './Flatten';
import { Gather } from './Gather';
import { GatherElements } from './GatherElements';
import { GatherND } from './GatherND';
import { Gelu } from './Gelu';
import { Gemm } from './Gemm';
import { GlobalAveragePool } from './GlobalAveragePool';
import { GlobalLpPool } from './GlobalLpPool';
import { GlobalMaxPool } from './GlobalMaxPool';
import { Greater } from './Greater';
import { GreaterOrEqual } from './GreaterOrEqual';
import { GroupNormalization } from './GroupNormalization';
import { HardSigmoid } from './HardSigmoid';
import { HardSwish } from './HardSwish';
import { Identity } from './Identity';
import { InstanceNormalization } from './InstanceNormalization';
import { LRN } from './LRN';
import { LayerNormalization } from './LayerNormalization';
import { LeakyRelu } from './LeakyRelu';
import { Less } from './Less';
import { LessOrEqual } from './LessOrEqual';
import { Log } from './Log';
import { LogSoftmax } from './LogSoftmax';
import { LpNormalization } from './LpNormalization';
import { MatMul } from './MatMul';
import { Max } from './Max';
import { MaxPool } from './MaxPool';
import { MaxUnpool } from './MaxUnpool';
import { Mean } from './Mean';
import { Min } from './Min';
import { Mish } from './Mish';
import { Mul } from './Mul';
import { Neg } from './Neg';
import { PRelu } from './PRelu';
import { Pad } from './Pad';
import { Pow } from './Pow';
import { QuantizeLinear } from './QuantizeLinear';
import { Reciprocal } from './Reciprocal';
import { ReduceL1 } from './ReduceL1';
import { ReduceL2 } from './ReduceL2';
import { ReduceLogSumExp } from './ReduceLogSumExp';
import { ReduceMax } from './ReduceMax';
import { ReduceMean } from './ReduceMean';
import { ReduceMin } from './ReduceMin';
import { ReduceProd } from './ReduceProd';
import { ReduceSum } from './ReduceSum';
import { ReduceSumSquare } from './ReduceSumSquare';
import { Relu } from './Relu';
import { Reshape } from './Reshape';
import { Resize } from './Resize';
import { ReverseSequence } from './ReverseSequence';
import { Selu } from './Selu';
import { Sigmoid } from './Sigmoid';
import { Sin } from './Sin';
import { Slice } from './Slice';
import { Softmax } from './Softmax';
import { Softplus } from './Softplus';
import { SpaceToDepth } from './SpaceToDepth';
import { Split } from './Split';
import { Sqrt } from './Sqrt';
import { Squeeze } from './Squeeze';
import { Sub } from './Sub';
import { Sum } from './Sum';
import { Tanh } from './Tanh';
import { Tile } from './Tile';
import { TopK } from './TopK';
import { Transpose } from './Transpose';
import { Trilu } from './Trilu';
import { Unsqueeze } from './Unsqueeze';
import { Upsample } from './Upsample';
import { Where } from './Where';
import { MsBiasAdd } from './com.microsoft.BiasAdd';
import { MsBiasGelu } from './com.microsoft.BiasGelu';
import { Acos } from './Acos';
import { Acosh } from './Acosh';
import { Asin } from './Asin';
import { Asinh } from './Asinh';
import { Atan } from './Atan';
import { Atanh } from './Atanh';
import { Celu } from './Celu';
import { Cosh } from './Cosh';
import { Shrink } from './Shrink';
import { Sinh } from './Sinh';
import { Softsign } from './Softsign';
import { Swish } from './Swish';
import { TensorScatter } from './TensorScatter';
import { STFT } from './STFT';
import { DFT } from './DFT';
import { LpPool } from './LpPool';
import { Sign } from './Sign';
import { Round } from './Round';
import { Floor } from './Floor';
import { Ceil } from './Ceil';
import { Mod } from './Mod';
import { ScatterND } from './ScatterND';
import { ScatterElements } from './ScatterElements';
import { CastLike } from './CastLike';
import { ReduceLogSum } from './ReduceLogSum';
import { EyeLike } from './EyeLike';
import { Hardmax } from './Hardmax';
import { GridSample } from './GridSample';
import { AffineGrid } from './AffineGrid';
import { Tan } from './Tan';
import { ThresholdedRelu } from './ThresholdedRelu';
import { MsFastGelu } from './com.microsoft.FastGelu';
import { MsFusedMatMul } from './com.microsoft.FusedMatMul';
import { MsGelu } from './com.microsoft.Gelu';
import { MsGridSample } from './com.microsoft.GridSample';
import { MsQuickGelu } from './com.microsoft.QuickGelu';
import { MsSkipLayerNormalization } from './com.microsoft.SkipLayerNormalization';
import { MsTransposeMatMul } from './com.microsoft.TransposeMatMul';

/** Every op rule file's entries; test/rules-registry.test.ts checks that none is missing. */
export const opRules: RuleEntry[] = [
  Abs, Add, ArgMax, ArgMin, AveragePool, BatchNormalization, Cast, Clip, Col2Im, Concat, Conv, ConvTranspose, Cos,
  CumSum, DepthToSpace, DequantizeLinear, Div, Dropout, Einsum, Elu, Equal, Erf, Exp, Expand, Flatten, Gather, GatherElements,
  GatherND, Gelu, Gemm, GlobalAveragePool, GlobalLpPool, GlobalMaxPool, Greater, GreaterOrEqual, GroupNormalization,
  HardSigmoid, HardSwish, Identity, InstanceNormalization, LRN, LayerNormalization, LeakyRelu, Less,
  LessOrEqual, Log, LogSoftmax, LpNormalization, MatMul, Max, MaxPool, Mean, Min, Mish, Mul, Neg, PRelu, Pad,
  Pow, QuantizeLinear, Reciprocal, ReduceL1, ReduceL2, ReduceLogSumExp, ReduceMax, ReduceMean, ReduceMin, ReduceProd,
  ReduceSum, ReduceSumSquare, Relu, Reshape, Resize, Selu, Sigmoid, Sin, Slice, Softmax, Softplus,
  SpaceToDepth, Split, Sqrt, Squeeze, Sub, Sum, Tanh, Tile, TopK, Transpose, Trilu, Unsqueeze, Upsample,
  Where, Acos, Acosh, Asin, Asinh, Atan, Atanh, Celu, Cosh, Shrink, Sinh, Softsign, Tan, ThresholdedRelu,
  Sign, Round, Floor, Ceil, Mod, ScatterND, GridSample, AffineGrid, ScatterElements, CastLike, ReduceLogSum, Hardmax, EyeLike, Swish, STFT, DFT, LpPool,
  CenterCropPad, Compress, MaxUnpool, ReverseSequence, TensorScatter,
  MsBiasAdd, MsBiasGelu, MsFastGelu, MsFusedMatMul, MsGelu, MsGridSample, MsQuickGelu, MsSkipLayerNormalization, MsTransposeMatMul,
];
