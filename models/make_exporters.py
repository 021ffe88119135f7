#!/usr/bin/env python3
"""Regenerate the exporter-sweep models under models/exporters/.

Run from the repository root:

    /usr/bin/python3 models/make_exporters.py

Each model is written node by node with the onnx helper in the form a converter other than
torch.onnx emits (tf2onnx, paddle2onnx, onnxruntime's QDQ quantiser, older opsets). The same
graph is evaluated alongside in PyTorch float64, op by op from the ONNX spec, and autograd of
that evaluation gives the reference gradient; the test also checks onnxruntime's outputs against
PyTorch's, so the PyTorch mirror is checked to be the same function. See models/README.md.
"""
import json
import math
import os
import shutil
import sys

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

torch.set_num_threads(2)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_ROOT = os.path.join(HERE, "exporters")
FLOAT = TensorProto.FLOAT


# ----------------------------------------------------------------------------
# Quantisation as onnxruntime computes it, with a straight-through backward
# ----------------------------------------------------------------------------
class _QuantizeSTE(torch.autograd.Function):
    """q = saturate(round_half_even(x / s) + zp); backward dq -> dx = dq / s where the unsaturated
    value lies in [qmin, qmax] (PyTorch's fake-quantise straight-through estimator)."""

    @staticmethod
    def forward(ctx, x, s, zp, qmin, qmax):
        raw = torch.round(x / s) + zp
        ctx.save_for_backward((raw >= qmin) & (raw <= qmax), s)
        return raw.clamp(qmin, qmax)

    @staticmethod
    def backward(ctx, g):
        inside, s = ctx.saved_tensors
        return g * inside.to(g.dtype) / s, None, None, None, None


QRANGE = {TensorProto.UINT8: (0, 255), TensorProto.INT8: (-128, 127), TensorProto.INT32: (-2**31, 2**31 - 1)}
NP_OF = {TensorProto.FLOAT16: np.float16, TensorProto.UINT8: np.uint8, TensorProto.INT8: np.int8, TensorProto.INT32: np.int32,
         TensorProto.INT64: np.int64, TensorProto.FLOAT: np.float32}


def per_axis(v, x, axis):
    """A 1-D per-channel parameter shaped to broadcast along `axis` of x."""
    if v.dim() == 0:
        return v
    shape = [1] * x.dim()
    shape[axis] = -1
    return v.reshape(shape)


# ----------------------------------------------------------------------------
# Resize / Upsample coordinate arithmetic from the ONNX spec (float32 as onnxruntime)
# ----------------------------------------------------------------------------
def source_coordinate(coord, y, scale, out_len, in_len):
    f = np.float32
    if coord == "asymmetric":
        return f(f(y) / f(scale))
    if coord == "half_pixel":
        return f(f(f(y + 0.5) / f(scale)) - f(0.5))
    if coord == "pytorch_half_pixel":
        return f(f(f(y + 0.5) / f(scale)) - f(0.5)) if out_len > 1 else f(0)
    if coord == "tf_half_pixel_for_nn":
        return f(f(y + 0.5) / f(scale))
    if coord == "align_corners":
        return f(0) if out_len == 1 else f(f(y * (in_len - 1)) / f(out_len - 1))
    raise ValueError(coord)


def nearest_index(mode, v):
    if mode == "floor":
        return math.floor(v)
    if mode == "ceil":
        return math.ceil(v)
    if mode == "round_prefer_ceil":
        return math.floor(v + 0.5)
    if mode == "round_prefer_floor":
        return math.ceil(v - 0.5)
    if mode == "":  # Upsample (opset < 11): truncation
        return int(v)
    raise ValueError(mode)


def resize_matrix(mode, coord, nearest, scale, in_len, out_len):
    """A (out_len x in_len): y = A x along one axis."""
    a = np.zeros((out_len, in_len))
    for y in range(out_len):
        src = float(source_coordinate(coord, y, scale, out_len, in_len))
        if mode == "nearest":
            a[y, min(max(nearest_index(nearest, src), 0), in_len - 1)] = 1
            continue
        c = min(max(src, 0.0), in_len - 1)
        i1 = min(int(c), in_len - 1)
        i2 = min(i1 + 1, in_len - 1)
        if i1 == i2:
            a[y, i1] = 1
        else:
            a[y, i1] += abs(c - i2)
            a[y, i2] += abs(c - i1)
    return torch.from_numpy(a)


def resize(x, out_shape, scales, mode, coord, nearest):
    for axis, (n_in, n_out) in enumerate(zip(x.shape, out_shape)):
        if n_in == n_out and scales[axis] == 1:
            continue
        a = resize_matrix(mode, coord, nearest, scales[axis], n_in, n_out)
        x = torch.movedim(torch.tensordot(x, a, dims=([axis], [1])), -1, axis)
    return x


def conv_transpose(x, w, b, strides, pads, output_padding, group, output_shape=None, auto_pad="NOTSET"):
    """ONNX ConvTranspose: full transposed convolution, then output_padding, then the pads cut."""
    k = w.shape[2:]
    y = F.conv_transpose2d(x, w, None, stride=strides, groups=group)
    full = [y.shape[2] + output_padding[0], y.shape[3] + output_padding[1]]
    y = F.pad(y, (0, output_padding[1], 0, output_padding[0]))
    if output_shape is not None:
        pads = [0] * 4
        for i in range(2):
            total = strides[i] * (x.shape[2 + i] - 1) + output_padding[i] + k[i] - output_shape[i]
            if auto_pad == "SAME_UPPER":
                pads[i], pads[i + 2] = total // 2, total - total // 2
            else:
                pads[i], pads[i + 2] = total - total // 2, total // 2
    y = y[:, :, pads[0]:full[0] - pads[2], pads[1]:full[1] - pads[3]]
    return y if b is None else y + b.reshape(1, -1, 1, 1)


def conv(x, w, b, strides=(1, 1), pads=(0, 0, 0, 0), group=1, dilations=(1, 1)):
    x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]))
    return F.conv2d(x, w, b, stride=tuple(strides), dilation=tuple(dilations), groups=group)


def max_pool(x, kernel, strides, pads):
    x = F.pad(x, (pads[1], pads[3], pads[0], pads[2]), value=-math.inf)
    return F.max_pool2d(x, kernel, strides)


def onnx_reshape(x, shape):
    shape = [x.shape[k] if int(d) == 0 else int(d) for k, d in enumerate(shape)]
    return x.reshape(shape)


# ----------------------------------------------------------------------------
# A graph written with the onnx helper and evaluated in PyTorch float64 alongside
# ----------------------------------------------------------------------------
class Graph:
    def __init__(self, opset, x, input_name="input", input_dims=None):
        self.opset = opset
        self.nodes, self.inits, self.vals, self.count = [], [], {}, 0
        self.input_name = input_name
        self.input_dims = input_dims or ["N"] + list(x.shape[1:])
        self.x = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
        self.vals[input_name] = self.x
        self.logits = None

    def name(self, hint):
        self.count += 1
        return "%s_%d" % (hint, self.count)

    def const(self, value, dtype=FLOAT, hint="const"):
        arr = np.asarray(value, dtype=NP_OF[dtype])
        n = self.name(hint)
        self.inits.append(numpy_helper.from_array(arr, n))
        self.vals[n] = torch.from_numpy(arr.astype(np.float64 if dtype != TensorProto.INT64 else np.int64))
        return n

    def op(self, op_type, inputs, fn, n_out=1, **attrs):
        outs = [self.name(op_type) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=outs[0] + "_node", **attrs))
        vals = fn(*[self.vals[i] if i else None for i in inputs])
        for o, v in zip(outs, vals if n_out > 1 else [vals]):
            self.vals[o] = v
        return outs[0] if n_out == 1 else outs

    # --- ops used by several models ---
    def conv(self, x, w, b=None, strides=(1, 1), pads=(0, 0, 0, 0), group=1, dilations=(1, 1)):
        k = list(self.vals[w].shape[2:])
        return self.op("Conv", [x, w] + ([b] if b else []),
                       lambda a, ww, bb=None: conv(a, ww, bb, strides, pads, group, dilations),
                       kernel_shape=k, strides=list(strides), pads=list(pads), group=group,
                       dilations=list(dilations))

    def unary(self, op_type, x, fn, **attrs):
        return self.op(op_type, [x], fn, **attrs)

    def binary(self, op_type, a, b):
        fn = {"Add": torch.add, "Sub": torch.sub, "Mul": torch.mul, "Div": torch.div,
              "Max": torch.maximum, "Min": torch.minimum, "MatMul": torch.matmul}[op_type]
        return self.op(op_type, [a, b], fn)

    def clip(self, x, lo, hi):
        """Clip with constant bounds: attributes before opset 11, inputs after."""
        if self.opset < 11:
            return self.op("Clip", [x], lambda a: a.clamp(lo, hi), min=float(lo), max=float(hi))
        return self.op("Clip", [x, self.const(lo), self.const(hi)], lambda a, l, h: torch.clamp(a, l, h))

    def relu(self, x):
        return self.unary("Relu", x, torch.relu)

    def leaky(self, x, alpha):
        return self.unary("LeakyRelu", x, lambda a: F.leaky_relu(a, alpha), alpha=alpha)

    def transpose(self, x, perm):
        return self.unary("Transpose", x, lambda a: a.permute(*perm), perm=list(perm))

    def gap(self, x):
        return self.unary("GlobalAveragePool", x, lambda a: a.mean(dim=(2, 3), keepdim=True))

    def flatten(self, x):
        return self.unary("Flatten", x, lambda a: a.reshape(a.shape[0], -1), axis=1)

    def gemm(self, x, w, b):
        """Gemm with transB = 1 (weights [out, in]) as most converters write it."""
        return self.op("Gemm", [x, self.const(w), self.const(b)], lambda a, ww, bb: a @ ww.T + bb,
                       alpha=1.0, beta=1.0, transA=0, transB=1)

    def dense(self, x, w, b):
        """tf2onnx / paddle2onnx's MatMul + Add for a dense layer (weights [in, out])."""
        return self.binary("Add", self.binary("MatMul", x, self.const(w)), self.const(b))

    def hard_swish(self, x, divide=False):
        """x · relu6(x + 3) / 6 as Add, Clip, Mul and Mul(1/6) (tf2onnx) or Div(6) (paddle2onnx)."""
        gate = self.clip(self.binary("Add", x, self.const(3.0)), 0.0, 6.0)
        prod = self.binary("Mul", x, gate)
        return self.binary("Div", prod, self.const(6.0)) if divide else self.binary("Mul", prod, self.const(1 / 6))

    def hard_sigmoid_clip(self, x):
        """relu6(x + 3) / 6 as Add, Clip, Mul (tf2onnx's Keras hard_sigmoid in MobileNetV3)."""
        return self.binary("Mul", self.clip(self.binary("Add", x, self.const(3.0)), 0.0, 6.0), self.const(1 / 6))

    def softmax(self, x):
        self.logits = x
        return self.unary("Softmax", x, lambda a: torch.softmax(a, dim=-1 if self.opset >= 13 else 1),
                          axis=-1 if self.opset >= 13 else 1)

    def quantize(self, x, scale, zp, dtype, axis=None):
        qmin, qmax = QRANGE[dtype]
        s, z = self.const(scale), self.const(zp, dtype)
        attrs, ax = ({}, 1) if axis is None else ({"axis": axis}, axis)
        return self.op("QuantizeLinear", [x, s, z], lambda a, ss, zz: _QuantizeSTE.apply(
            a, per_axis(ss, a, ax), per_axis(zz, a, ax), qmin, qmax), **attrs)

    def dequantize(self, q, scale, zp, dtype, axis=None):
        s, z = self.const(scale), self.const(zp, dtype)
        attrs, ax = ({}, 1) if axis is None else ({"axis": axis}, axis)
        return self.op("DequantizeLinear", [q, s, z], lambda a, ss, zz: (a - per_axis(zz, a, ax)) * per_axis(ss, a, ax), **attrs)

    def model(self, out, ir_version=None, inits_as_inputs=False, io_type=FLOAT, input_type=None, domains=()):
        out_vi = helper.make_tensor_value_info("output", io_type, [self.input_dims[0]] + list(self.vals[out].shape[1:]))
        self.nodes.append(helper.make_node("Identity", [out], ["output"], name="output_node"))
        self.vals["output"] = self.vals[out]
        inputs = [helper.make_tensor_value_info(self.input_name, input_type or io_type, self.input_dims)]
        if inits_as_inputs:  # IR < 4 converters also listed every initializer as a graph input
            inputs += [helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)) for t in self.inits]
        g = helper.make_graph(self.nodes, "exporter_sweep", inputs, [out_vi], self.inits)
        ir = ir_version or (7 if self.opset <= 12 else 8)
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", self.opset)] + [helper.make_opsetid(d, 1) for d in domains], ir_version=ir,
                              producer_name="onnx-explain make_exporters.py")
        onnx.checker.check_model(m)
        return m


# ----------------------------------------------------------------------------
# Models
# ----------------------------------------------------------------------------
def rs(seed):
    return np.random.RandomState(seed)


def conv_weights(r, cout, cin, k, scale=None):
    w = r.randn(cout, cin, k, k) * (scale or 1.0 / math.sqrt(cin * k * k))
    return w, r.randn(cout) * 0.1


def folded_bn(r, w, b):
    """A BatchNormalization folded into the Conv's weights and bias, as TF's graph optimiser does."""
    c = w.shape[0]
    gamma, beta = r.rand(c) + 0.5, r.randn(c) * 0.2
    mean, var = r.randn(c) * 0.2, r.rand(c) + 0.5
    k = gamma / np.sqrt(var + 1e-3)
    return w * k.reshape(-1, 1, 1, 1), (b - mean) * k + beta


def tf_mobilenet(x):
    """tf2onnx export of a Keras MobileNetV3-style block: NHWC input, leading Transpose, BN folded
    into Conv biases, TF 'SAME' stride-2 padding (asymmetric pads), Clip-based hard-swish and
    hard-sigmoid, depthwise Conv, squeeze-excitation, unfused NHWC BN as Mul/Add with [C]
    constants, ReduceMean over H, W, MatMul + Add, Softmax."""
    r = rs(21)
    g = Graph(13, x, "input_1")
    h = g.transpose(g.input_name, [0, 3, 1, 2])
    w, b = folded_bn(r, *conv_weights(r, 8, 3, 3))
    h = g.hard_swish(g.conv(h, g.const(w), g.const(b), strides=(2, 2), pads=(0, 0, 1, 1)))
    w, b = folded_bn(r, *conv_weights(r, 8, 1, 3, scale=0.4))
    h = g.clip(g.conv(h, g.const(w), g.const(b), pads=(1, 1, 1, 1), group=8), 0.0, 6.0)
    s = g.op("ReduceMean", [h], lambda a: a.mean(dim=(2, 3), keepdim=True), axes=[2, 3], keepdims=1)
    w, b = conv_weights(r, 4, 8, 1)
    s = g.relu(g.conv(s, g.const(w), g.const(b)))
    w, b = conv_weights(r, 8, 4, 1)
    s = g.hard_sigmoid_clip(g.conv(s, g.const(w), g.const(b)))
    h = g.binary("Mul", h, s)
    h = g.transpose(h, [0, 2, 3, 1])
    h = g.binary("Add", g.binary("Mul", h, g.const(r.rand(8) + 0.5)), g.const(r.randn(8) * 0.2))
    h = g.hard_swish(h)
    h = g.op("ReduceMean", [h], lambda a: a.mean(dim=(1, 2)), axes=[1, 2], keepdims=0)
    h = g.dense(h, r.randn(8, 5) * 0.5, r.randn(5) * 0.1)
    return g, g.softmax(h)


def tf_resize(x):
    """tf2onnx forms of tf.image.resize after a Reshape-fed NHWC input: Resize at opset 13 with
    sizes (scales input omitted), nearest 'tf_half_pixel_for_nn', bilinear 'half_pixel' and
    'align_corners', and one with scales and 'asymmetric' / floor; ReduceMean, MatMul + Add."""
    r = rs(22)
    g = Graph(13, x, "input_1")
    h = g.op("Reshape", [g.input_name, g.const([-1, 6, 6, 2], TensorProto.INT64)], onnx_reshape)
    h = g.transpose(h, [0, 3, 1, 2])
    w, b = folded_bn(r, *conv_weights(r, 4, 2, 3))
    h = g.relu(g.conv(h, g.const(w), g.const(b), pads=(1, 1, 1, 1)))
    shape = g.op("Shape", [h], lambda a: torch.tensor(a.shape))
    hw = g.const([12, 12], TensorProto.INT64)
    nc = g.op("Slice", [shape, g.const([0], TensorProto.INT64), g.const([2], TensorProto.INT64)], lambda a, s, e: a[0:2])
    sizes = g.op("Concat", [nc, hw], lambda a, b_: torch.cat([a, b_]), axis=0)

    def by_sizes(mode, coord, nearest=""):
        def fn(a, roi, scales, sz):
            out = [int(v) for v in sz]
            return resize(a, out, [out[k] / a.shape[k] for k in range(4)], mode, coord, nearest)
        attrs = dict(mode=mode, coordinate_transformation_mode=coord)
        if nearest:
            attrs["nearest_mode"] = nearest
        return fn, attrs

    fn, attrs = by_sizes("nearest", "tf_half_pixel_for_nn", "floor")
    a = g.op("Resize", [h, "", "", sizes], fn, **attrs)
    fn, attrs = by_sizes("linear", "half_pixel")
    bl = g.op("Resize", [h, "", "", sizes], fn, **attrs)
    fn, attrs = by_sizes("linear", "align_corners")
    ac = g.op("Resize", [h, "", "", sizes], fn, **attrs)
    h = g.binary("Add", g.binary("Add", a, g.binary("Mul", bl, ac)), bl)
    w, b = conv_weights(r, 4, 4, 3)
    h = g.relu(g.conv(h, g.const(w), g.const(b), strides=(2, 2), pads=(0, 0, 1, 1)))  # 6x6
    scales = [1.0, 1.0, 2.0, 2.0]
    h = g.op("Resize", [h, "", g.const(scales)],
             lambda a, roi, s: resize(a, [a.shape[0], a.shape[1], 12, 12], scales, "nearest", "asymmetric", "floor"),
             mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    h = g.transpose(h, [0, 2, 3, 1])
    h = g.op("ReduceMean", [h], lambda a: a.mean(dim=(1, 2)), axes=[1, 2], keepdims=0)
    return g, g.dense(h, r.randn(4, 3) * 0.5, r.randn(3) * 0.1)


def paddle_op9(x):
    """paddle2onnx at opset 9 (attribute forms): Conv + unfused BatchNormalization, Relu, MaxPool
    with pads, Clip with min/max attributes (relu6), HardSigmoid(1/6, 0.5) gate, hard-swish with
    Div, Pad with a pads attribute, Upsample with a scales input, Slice with attribute
    starts/ends/axes, Unsqueeze/Squeeze with axes attributes, ReduceMean with axes, Flatten,
    Gemm (transB), Softmax(axis 1); initializers also listed as graph inputs (IR 4)."""
    r = rs(23)
    g = Graph(9, x, "x")
    w, b = conv_weights(r, 6, 3, 3)
    h = g.conv(g.input_name, g.const(w), g.const(b), pads=(1, 1, 1, 1))
    c = 6
    gamma, beta, mean, var = r.rand(c) + 0.5, r.randn(c) * 0.2, r.randn(c) * 0.2, r.rand(c) + 0.5
    h = g.op("BatchNormalization", [h] + [g.const(v) for v in (gamma, beta, mean, var)],
             lambda a, gg, bb, mm, vv: (a - mm.reshape(1, -1, 1, 1)) / torch.sqrt(vv.reshape(1, -1, 1, 1) + 1e-5)
             * gg.reshape(1, -1, 1, 1) + bb.reshape(1, -1, 1, 1), epsilon=1e-5, momentum=0.9)
    h = g.relu(h)
    h = g.op("MaxPool", [h], lambda a: max_pool(a, 3, 2, (1, 1, 1, 1)), kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    w, b = conv_weights(r, 6, 6, 3)
    h = g.clip(g.conv(h, g.const(w), g.const(b), pads=(1, 1, 1, 1)), 0.0, 6.0)
    gate = g.unary("HardSigmoid", g.gap(h), lambda a: (a / 6 + 0.5).clamp(0, 1), alpha=1 / 6, beta=0.5)
    h = g.binary("Mul", h, gate)
    h = g.hard_swish(h, divide=True)
    h = g.unary("Pad", h, lambda a: F.pad(a, (0, 1, 0, 1)), pads=[0, 0, 0, 0, 0, 0, 1, 1], mode="constant", value=0.0)
    h = g.op("Upsample", [h, g.const([1.0, 1.0, 2.0, 2.0])],
             lambda a, s: resize(a, [a.shape[0], a.shape[1], 2 * a.shape[2], 2 * a.shape[3]], [1, 1, 2, 2], "nearest", "asymmetric", ""),
             mode="nearest")
    h = g.unary("Slice", h, lambda a: a[:, :, 1:9, 0:8], starts=[1, 0], ends=[9, 8], axes=[2, 3])
    w, b = conv_weights(r, 8, 6, 3)
    h = g.relu(g.conv(h, g.const(w), g.const(b), strides=(2, 2), pads=(1, 1, 1, 1)))
    h = g.op("ReduceMean", [h], lambda a: a.mean(dim=(2, 3)), axes=[2, 3], keepdims=0)
    h = g.unary("Unsqueeze", h, lambda a: a[:, :, None], axes=[2])
    h = g.unary("Squeeze", h, lambda a: a[:, :, 0], axes=[2])
    h = g.flatten(h)
    return g, g.softmax(g.gemm(h, r.randn(4, 8) * 0.5, r.randn(4) * 0.1)), {"inits_as_inputs": True, "ir_version": 4}


def paddle_resize_op11(x):
    """paddle2onnx at opset 11: Resize with an empty roi and a scales constant (nearest,
    asymmetric, floor); Resize with an empty scales tensor and sizes from Shape/Slice/Concat/Cast
    (bilinear half_pixel and asymmetric, paddle's align_mode 0 and 1); Clip with min/max inputs;
    Reshape to [0, -1] (flatten_contiguous_range); MatMul + Add."""
    r = rs(24)
    g = Graph(11, x, "x")
    w, b = conv_weights(r, 4, 3, 3)
    h = g.clip(g.conv(g.input_name, g.const(w), g.const(b), pads=(1, 1, 1, 1)), 0.0, 6.0)  # 8x8
    empty = g.const(np.zeros(0, np.float32))
    scales = [1.0, 1.0, 2.0, 2.0]
    up = g.op("Resize", [h, empty, g.const(scales)],
              lambda a, roi, s: resize(a, [a.shape[0], a.shape[1], 16, 16], scales, "nearest", "asymmetric", "floor"),
              mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
    w, b = conv_weights(r, 4, 4, 3)
    h = g.relu(g.conv(up, g.const(w), g.const(b), strides=(2, 2), pads=(1, 1, 1, 1)))  # 8x8
    shape = g.op("Shape", [h], lambda a: torch.tensor(a.shape))
    nc = g.op("Slice", [shape, g.const([0], TensorProto.INT64), g.const([2], TensorProto.INT64)], lambda a, s, e: a[0:2])
    hw = g.op("Cast", [g.const([12, 12], TensorProto.INT32)], lambda a: a.to(torch.int64), to=TensorProto.INT64)
    sizes = g.op("Concat", [nc, hw], lambda a, b_: torch.cat([a, b_]), axis=0)
    outs = []
    for coord in ("half_pixel", "asymmetric"):
        outs.append(g.op("Resize", [h, empty, empty, sizes],
                         lambda a, roi, s, sz, coord=coord: resize(a, [int(v) for v in sz], [1, 1, 1.5, 1.5], "linear", coord, ""),
                         mode="linear", coordinate_transformation_mode=coord))
    h = g.binary("Sub", outs[0], outs[1])
    w, b = conv_weights(r, 4, 4, 3)
    h = g.relu(g.conv(h, g.const(w), g.const(b), strides=(3, 3)))  # 4x4
    h = g.op("Reshape", [h, g.const([0, -1], TensorProto.INT64)], onnx_reshape)
    return g, g.dense(h, r.randn(64, 5) * 0.2, r.randn(5) * 0.1)


def torch_interpolate(x, opset):
    """F.interpolate(h, size=x.shape[-2:], mode='bilinear') as torch.onnx writes it before opset
    11 (LR-ASPP and FPN heads): scales computed from shapes, Concat of a [1, 1] Constant and
    Div(Cast(the input's H, W from Shape/Gather/Unsqueeze/Concat), Cast(Slice(Shape(h))))."""
    r = rs(25)
    g = Graph(opset, x, "input")
    w, b = conv_weights(r, 4, 3, 3)
    h = g.relu(g.conv(g.input_name, g.const(w), g.const(b), strides=(2, 2), pads=(1, 1, 1, 1)))  # 4x4
    w, b = conv_weights(r, 4, 4, 3)
    h = g.relu(g.conv(h, g.const(w), g.const(b), strides=(2, 2), pads=(1, 1, 1, 1)))  # 2x2
    shape_of = lambda t: g.op("Shape", [t], lambda a: torch.tensor(a.shape))
    dims = [g.unary("Unsqueeze", g.op("Gather", [shape_of(g.input_name), g.const(k, TensorProto.INT64)], lambda a, i: a[i], axis=0), lambda a: a[None], axes=[0])
            for k in (2, 3)]
    size = g.unary("Cast", g.op("Concat", dims, lambda *a: torch.cat(a), axis=0), lambda a: a.to(torch.float64), to=FLOAT)
    if opset < 10:
        spatial = g.unary("Slice", shape_of(h), lambda a: a[2:], starts=[2], ends=[2**63 - 1], axes=[0])
    else:
        spatial = g.op("Slice", [shape_of(h), g.const([2], TensorProto.INT64), g.const([2**63 - 1], TensorProto.INT64), g.const([0], TensorProto.INT64)],
                       lambda a, s, e, ax: a[2:])
    here = g.unary("Cast", spatial, lambda a: a.to(torch.float64), to=FLOAT)
    scales = g.op("Concat", [g.const([1.0, 1.0]), g.binary("Div", size, here)], lambda a, b_: torch.cat([a, b_]), axis=0)
    up = g.op("Upsample" if opset < 10 else "Resize", [h, scales],
              lambda a, s: resize(a, [a.shape[0], a.shape[1], x.shape[2], x.shape[3]], [float(v) for v in s], "linear", "asymmetric", ""),
              mode="linear")
    w, b = conv_weights(r, 3, 4, 1)
    h = g.relu(g.binary("Add", g.conv(up, g.const(w), g.const(b)), g.input_name))
    return g, g.softmax(g.gemm(g.flatten(g.gap(h)), r.randn(4, 3) * 0.5, r.randn(4) * 0.1))


def torch_upsample_op9(x):
    """torch.onnx at opset 9: Upsample (linear) whose scales are computed from shapes (Shape, Gather,
    Unsqueeze, Concat, Cast, Slice, Div, Concat with a [1, 1] Constant), as F.interpolate to another
    tensor's size writes it (LR-ASPP, FPN heads)."""
    return torch_interpolate(x, 9)


def torch_resize_op10(x):
    """torch.onnx at opset 10: the same interpolation as a Resize (linear, asymmetric) with scales
    computed from shapes."""
    return torch_interpolate(x, 10)


def convtranspose_head(x):
    """Upsampling heads as converters write them: ConvTranspose k4 s2 p1 (paddle2onnx
    conv2d_transpose), k3 s2 p1 with output_padding and groups, and one with an output_shape
    attribute and no pads (tf2onnx conv2d_transpose), then a classifier on the upsampled map."""
    r = rs(25)
    g = Graph(11, x, "image")
    w, b = conv_weights(r, 6, 3, 3)
    h = g.relu(g.conv(g.input_name, g.const(w), g.const(b), strides=(2, 2), pads=(1, 1, 1, 1)))  # 4x4
    w, b = r.randn(6, 4, 4, 4) * 0.3, r.randn(4) * 0.1
    h = g.op("ConvTranspose", [h, g.const(w), g.const(b)],
             lambda a, ww, bb: conv_transpose(a, ww, bb, (2, 2), (1, 1, 1, 1), (0, 0), 1),
             kernel_shape=[4, 4], strides=[2, 2], pads=[1, 1, 1, 1], dilations=[1, 1], group=1)  # 8x8
    h = g.leaky(h, 0.1)
    w = r.randn(4, 2, 3, 3) * 0.4
    h = g.op("ConvTranspose", [h, g.const(w)],
             lambda a, ww: conv_transpose(a, ww, None, (2, 2), (1, 1, 1, 1), (1, 1), 2),
             kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1], dilations=[1, 1], group=2)  # 16x16
    h = g.relu(h)
    w, b = r.randn(4, 3, 3, 3) * 0.3, r.randn(3) * 0.1
    h = g.op("ConvTranspose", [h, g.const(w), g.const(b)],
             lambda a, ww, bb: conv_transpose(a, ww, bb, (2, 2), None, (0, 0), 1, output_shape=(32, 32)),
             kernel_shape=[3, 3], strides=[2, 2], output_shape=[32, 32])
    h = g.unary("Sigmoid", h, torch.sigmoid)
    return g, g.gemm(g.flatten(g.gap(h)), r.randn(4, 3) * 2, r.randn(4) * 0.1)


def qdq_cnn(x):
    """onnxruntime's static quantiser in QDQ format (opset 13): activations QuantizeLinear/
    DequantizeLinear to uint8 with zero points, Conv weights int8 per channel (axis 0, zero point
    0), biases int32 with scale s_x·s_w, Gemm weights int8 per tensor; Relu and pooling between
    QDQ pairs; float output from the last DequantizeLinear."""
    r = rs(26)
    g = Graph(13, x, "input")
    U8, I8, I32 = TensorProto.UINT8, TensorProto.INT8, TensorProto.INT32

    def qdq(t, lo, hi):
        s = np.float32((hi - lo) / 255)
        zp = np.uint8(round(-lo / s))
        return g.dequantize(g.quantize(t, s, zp, U8), s, zp, U8), s

    def qconv(t, s_in, cout, cin, k, **kw):
        w, b = conv_weights(r, cout, cin, k)
        s_w = (np.abs(w).reshape(cout, -1).max(1) / 127).astype(np.float32)
        wq = np.round(w / s_w.reshape(-1, 1, 1, 1)).astype(np.int8)
        s_b = (s_in * s_w).astype(np.float32)
        bq = np.round(b / s_b).astype(np.int32)
        wd = g.dequantize(g.const(wq, I8), s_w, np.zeros(cout, np.int8), I8, axis=0)
        bd = g.dequantize(g.const(bq, I32), s_b, np.zeros(cout, np.int32), I32, axis=0)
        return g.conv(t, wd, bd, **kw)

    h, s = qdq(g.input_name, -2.5, 2.5)
    h = qconv(h, s, 6, 3, 3, pads=(1, 1, 1, 1))
    h, s = qdq(g.relu(qdq(h, -3.0, 3.0)[0]), 0.0, 3.0)
    h = g.op("MaxPool", [h], lambda a: max_pool(a, 2, 2, (0, 0, 0, 0)), kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])
    h, s = qdq(h, 0.0, 3.0)
    h = qconv(h, s, 8, 6, 3, strides=(2, 2), pads=(1, 1, 1, 1))
    h, s = qdq(g.relu(qdq(h, -4.0, 4.0)[0]), 0.0, 4.0)
    h, s = qdq(g.flatten(g.gap(h)), 0.0, 2.0)
    w, b = r.randn(5, 8) * 0.5, r.randn(5) * 0.1
    s_w = np.float32(np.abs(w).max() / 127)
    wd = g.dequantize(g.const(np.round(w / s_w).astype(np.int8), I8), s_w, np.int8(0), I8)
    bd = g.dequantize(g.const(np.round(b / (s * s_w)).astype(np.int32), I32), np.float32(s * s_w), np.int32(0), I32)
    h = g.op("Gemm", [h, wd, bd], lambda a, ww, bb: a @ ww.T + bb, alpha=1.0, beta=1.0, transA=0, transB=1)
    return g, qdq(h, -6.0, 6.0)[0]


def tf_speech(x):
    """tf2onnx export of a Keras speech CNN: [N, time, mel] input, Reshape to NHWC and a leading
    Transpose, BN folded into Conv biases, each LeakyRelu clipped by an element-wise Max with a
    constant (a scalar, then a per-channel [1, C, 1, 1] constant), TF's leaky ReLU written as
    Max(x, 0.2·x) (two activations), MaxPool, Transpose back, ReduceMean, MatMul + Add."""
    r = rs(27)
    g = Graph(13, x, "input_1")
    h = g.op("Reshape", [g.input_name, g.const([-1, 16, 20, 1], TensorProto.INT64)], onnx_reshape)
    h = g.transpose(h, [0, 3, 1, 2])
    w, b = folded_bn(r, *conv_weights(r, 6, 1, 3))
    h = g.leaky(g.conv(h, g.const(w), g.const(b), pads=(1, 1, 1, 1)), 0.2)
    h = g.binary("Max", h, g.const(np.float32(-0.1)))
    w, b = folded_bn(r, *conv_weights(r, 6, 6, 3))
    h = g.leaky(g.conv(h, g.const(w), g.const(b), strides=(2, 2), pads=(0, 0, 1, 1)), 0.2)
    h = g.binary("Max", g.const((-0.3 * r.rand(1, 6, 1, 1)).astype(np.float32)), h)
    w, b = folded_bn(r, *conv_weights(r, 8, 6, 3))
    h = g.conv(h, g.const(w), g.const(b), pads=(1, 1, 1, 1))
    h = g.binary("Max", h, g.binary("Mul", h, g.const(np.float32(0.2))))
    h = g.op("MaxPool", [h], lambda a: max_pool(a, 2, 2, (0, 0, 0, 0)), kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])
    h = g.transpose(h, [0, 2, 3, 1])
    h = g.op("ReduceMean", [h], lambda a: a.mean(dim=(1, 2)), axes=[1, 2], keepdims=0)
    return g, g.dense(h, r.randn(8, 4) * 0.5, r.randn(4) * 0.1)


def to_db(g, spec):
    """10·log10(max(x, 1e-10)) as Max, Log, Mul (torchaudio / librosa power_to_db)."""
    h = g.unary("Log", g.binary("Max", spec, g.const(np.float32(1e-10))), torch.log)
    return g.binary("Mul", h, g.const(np.float32(10 / math.log(10))))


def db_classifier(g, r, h):
    w, b = conv_weights(r, 6, 1, 3, scale=0.05)
    h = g.relu(g.conv(h, g.const(w), g.const(b), strides=(2, 2), pads=(1, 1, 1, 1)))
    return g.gemm(g.flatten(g.gap(h)), r.randn(3, 6), r.randn(3) * 0.1)


def logmel_topdb(x):
    """Log-mel front end with torchaudio's AmplitudeToDB(top_db): dB = 10·log10(max(x, 1e-10)),
    then Max(dB, ReduceMax(dB over each row) − 35) (the floor is computed from the input), then a
    Conv classifier."""
    r = rs(28)
    g = Graph(13, x, "spectrogram")
    db = to_db(g, g.input_name)
    top = g.op("ReduceMax", [db], lambda a: a.amax(dim=(1, 2, 3), keepdim=True), axes=[1, 2, 3], keepdims=1)
    h = g.binary("Max", db, g.binary("Sub", top, g.const(np.float32(35))))
    return g, db_classifier(g, r, h)


def logmel_clip(x):
    """The same front end exported for one utterance (batch fixed to 1):
    Clip(dB, min = ReduceMax(dB) − 35) with the bound a scalar computed from the input."""
    r = rs(28)
    g = Graph(13, x, "spectrogram", input_dims=list(x.shape))
    db = to_db(g, g.input_name)
    top = g.op("ReduceMax", [db], lambda a: a.amax(), keepdims=0)
    h = g.op("Clip", [db, g.binary("Sub", top, g.const(np.float32(35))), ""], lambda a, lo, hi: torch.maximum(a, lo))
    return g, db_classifier(g, r, h)


def power_spectrogram(r, shape):
    """Non-negative powers over about 50 dB, a few exactly zero."""
    x = np.exp(2 * r.randn(*shape))
    x[r.rand(*shape) < 0.03] = 0
    return x


def bn_params(g, r, shape):
    """scale, bias, mean, variance constants of the given shape for a BatchNormalization."""
    return [g.const(v) for v in (r.uniform(0.5, 1.5, shape), r.uniform(-0.2, 0.2, shape), r.uniform(-0.2, 0.2, shape), r.uniform(0.5, 1.5, shape))]


def zoo_resnet_op7(x):
    """The ONNX Model Zoo's classic opset-7 forms (CoreML/Caffe2 converters): an experimental
    ImageScaler on the input, Conv with bias, BatchNormalization with the opset-7 spatial
    attribute (1, and 0 with per-activation statistics after the pooling), Relu, MaxPool, a
    residual Add, Upsample with scales as an attribute, GlobalAveragePool, Reshape, Gemm, Softmax."""
    r = rs(31)
    g = Graph(7, x, "data")
    bias = [-0.5, 0.1, 0.4]
    h = g.op("ImageScaler", [g.input_name], lambda a: a * 0.8 + torch.tensor(bias, dtype=a.dtype).reshape(1, 3, 1, 1), scale=0.8, bias=bias)

    def bn(h, shape, spatial):
        ps = bn_params(g, r, shape)
        view = (1,) + tuple(shape) if spatial == 0 else (1, -1, 1, 1)
        fn = lambda a, s, b, m, v: (a - m.reshape(view)) / torch.sqrt(v.reshape(view) + 1e-5) * s.reshape(view) + b.reshape(view)
        return g.op("BatchNormalization", [h] + ps, fn, epsilon=1e-5, momentum=0.9, spatial=spatial)

    w, b = conv_weights(r, 6, 3, 3)
    h = g.relu(bn(g.conv(h, g.const(w), g.const(b), strides=(2, 2), pads=(1, 1, 1, 1)), [6], 1))  # 8x8
    h = g.op("MaxPool", [h], lambda a: F.max_pool2d(a, 2, 2), kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])  # 4x4
    w, b = conv_weights(r, 6, 6, 3)
    y = bn(g.conv(h, g.const(w), g.const(b), pads=(1, 1, 1, 1)), [6], 1)
    h = g.relu(g.binary("Add", h, y))
    h = g.op("Upsample", [h], lambda a: a.repeat_interleave(2, 2).repeat_interleave(2, 3), mode="nearest", scales=[1.0, 1.0, 2.0, 2.0])  # 8x8
    w, b = conv_weights(r, 8, 6, 3)
    h = g.relu(g.conv(h, g.const(w), g.const(b), pads=(1, 1, 1, 1)))
    h = bn(g.gap(h), [8, 1, 1], 0)
    h = g.op("Reshape", [h, g.const([0, -1], TensorProto.INT64)], lambda a, s: a.reshape(a.shape[0], -1))
    return g, g.softmax(g.gemm(h, r.randn(5, 8) * 0.8, r.randn(5) * 0.1))


def zoo_mnist_op8(x):
    """The ONNX Model Zoo's mnist-8 form (CNTK at opset 8): input fixed to batch 1, Conv without
    bias then Add of a [C,1,1] bias, Relu, MaxPool, Sum-8 of two branches (broadcasting, new in
    opset 8), Reshape to the hard-coded [1, -1], MatMul and Add."""
    r = rs(32)
    g = Graph(8, x, "Input3", input_dims=list(x.shape))
    w, _ = conv_weights(r, 4, 1, 3)
    h = g.binary("Add", g.conv(g.input_name, g.const(w), pads=(1, 1, 1, 1)), g.const(r.randn(4, 1, 1) * 0.1))
    h = g.relu(h)
    h = g.op("MaxPool", [h], lambda a: F.max_pool2d(a, 2, 2), kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])  # 6x6
    w1, _ = conv_weights(r, 4, 4, 3)
    w2, _ = conv_weights(r, 4, 4, 1)
    a = g.conv(h, g.const(w1), pads=(1, 1, 1, 1))
    b = g.conv(h, g.const(w2))
    h = g.relu(g.op("Sum", [a, b, g.const(r.randn(4, 1, 1) * 0.1)], lambda p, q, c: p + q + c))
    h = g.op("MaxPool", [h], lambda a: F.max_pool2d(a, 2, 2), kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])  # 3x3
    h = g.op("Reshape", [h, g.const([1, -1], TensorProto.INT64)], lambda a, s: a.reshape(1, -1))
    return g, g.dense(h, r.randn(36, 10) * 0.3, r.randn(10) * 0.1)


def torch_op6(x):
    """PyTorch 0.3/0.4 at opset 6 (IR 3, every initializer also a graph input): Conv without bias
    then Add of its [C] bias with the legacy broadcast=1, axis=1; BatchNormalization with is_test;
    PRelu with one slope per channel ([C], the legacy per-channel form); a squeeze-excitation gate
    ReduceMean(keepdims=0) -> Sigmoid multiplied in with broadcast=1, axis=0 ([N, C] aligned at
    the batch axis); MaxPool; Dropout with is_test; Mul by a one-value tensor and Sub of a [W] row
    with broadcast=1 and no axis (trailing alignment); Reshape; Gemm with broadcast=1; Softmax."""
    r = rs(33)
    g = Graph(6, x, "0")
    chan = lambda v: v.reshape(1, -1, 1, 1)
    w, b = conv_weights(r, 6, 3, 3)
    h = g.conv(g.input_name, g.const(w), pads=(1, 1, 1, 1))
    h = g.op("Add", [h, g.const(b)], lambda a, c: a + chan(c), broadcast=1, axis=1)
    ps = bn_params(g, r, [6])
    h = g.op("BatchNormalization", [h] + ps, lambda a, s, c, m, v: (a - chan(m)) / torch.sqrt(chan(v) + 1e-5) * chan(s) + chan(c),
             epsilon=1e-5, momentum=0.9, is_test=1)
    h = g.op("PRelu", [h, g.const(r.uniform(0.05, 0.3, 6))], lambda a, s: torch.where(a >= 0, a, a * chan(s)))
    gate = g.unary("Sigmoid", g.op("ReduceMean", [h], lambda a: a.mean(dim=(2, 3)), axes=[2, 3], keepdims=0), torch.sigmoid)
    h = g.op("Mul", [h, gate], lambda a, s: a * s.reshape(s.shape[0], -1, 1, 1), broadcast=1, axis=0)
    h = g.op("MaxPool", [h], lambda a: F.max_pool2d(a, 2, 2), kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])  # 4x4
    h = g.op("Dropout", [h], lambda a: a, ratio=0.5, is_test=1)
    h = g.op("Mul", [h, g.const([1.5])], lambda a, s: a * s, broadcast=1)
    h = g.op("Sub", [h, g.const(r.randn(4) * 0.2)], lambda a, c: a - c, broadcast=1)
    h = g.op("Reshape", [h, g.const([0, -1], TensorProto.INT64)], lambda a, s: a.reshape(a.shape[0], -1))
    w, c = g.const(r.randn(5, 96) * 0.3), g.const(r.randn(5) * 0.1)
    h = g.op("Gemm", [h, w, c], lambda a, ww, cc: a @ ww.T + cc, alpha=1.0, beta=1.0, transB=1, broadcast=1)
    return g, g.softmax(h), {"ir_version": 3, "inits_as_inputs": True}


def caffe2_op1(x):
    """The opset-1 forms of early converters (Caffe2, CNTK; IR 3, initializers as inputs):
    consumed_inputs on Conv's successors, Pad with `paddings`, BatchNormalization with is_test,
    Relu, Add of a [C] bias with broadcast=1, axis=1, Split with its sizes as a constant input,
    Concat without axis (1 before opset 4), Selu with its opset-1 defaults, Tile with (tiles,
    axis) inputs, Cast to 'FLOAT' by name, MaxPool, the experimental Upsample with height_scale and
    width_scale, Reshape with `shape` as an attribute, Gemm
    with broadcast=1, Softmax."""
    r = rs(34)
    g = Graph(1, x, "data")
    chan = lambda v: v.reshape(1, -1, 1, 1)
    h = g.op("Pad", [g.input_name], lambda a: F.pad(a, (1, 1, 1, 1)), paddings=[0, 0, 1, 1, 0, 0, 1, 1], mode="constant", value=0.0)
    w, b = conv_weights(r, 6, 3, 3)
    h = g.conv(h, g.const(w))  # 8x8
    h = g.op("Add", [h, g.const(b)], lambda a, c: a + chan(c), broadcast=1, axis=1, consumed_inputs=[1, 0])
    ps = bn_params(g, r, [6])
    h = g.op("BatchNormalization", [h] + ps, lambda a, s, c, m, v: (a - chan(m)) / torch.sqrt(chan(v) + 1e-5) * chan(s) + chan(c),
             epsilon=1e-5, momentum=0.9, is_test=1, consumed_inputs=[0, 0, 0, 1, 1])
    h = g.op("Relu", [h], torch.relu, consumed_inputs=[1])
    a, b2 = g.op("Split", [h, g.const([2, 4], TensorProto.INT64)], lambda t, s: torch.split(t, [2, 4], dim=1), n_out=2, axis=1)
    a = g.op("Selu", [a], lambda t: torch.where(t > 0, 1.0507 * t, 1.0507 * 1.6732 * (torch.exp(t) - 1)))
    h = g.op("Concat", [b2, a], lambda p, q: torch.cat([p, q], 1))
    h = g.op("MaxPool", [h], lambda t: F.max_pool2d(t, 2, 2), kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])  # 3x3
    h = g.op("Upsample", [h], lambda t: t.repeat_interleave(2, 2).repeat_interleave(2, 3), height_scale=2.0, width_scale=2.0, mode="nearest")  # 6x6
    tiles, axis = g.const(2.0), g.const(3.0)
    h = g.op("Tile", [h, tiles, axis], lambda t, n, ax: t.repeat(1, 1, 1, 2))  # 6x12
    h = g.op("Cast", [h], lambda t: t, to="FLOAT")
    h = g.op("Reshape", [h], lambda t: t.reshape(t.shape[0], -1), shape=[0, -1], consumed_inputs=[0])
    w, c = g.const(r.randn(5, 432) * 0.1), g.const(r.randn(5) * 0.1)
    h = g.op("Gemm", [h, w, c], lambda t, ww, cc: t @ ww.T + cc, alpha=1.0, beta=1.0, transB=1, broadcast=1)
    return g, g.softmax(h), {"ir_version": 3, "inits_as_inputs": True}


def half_cnn(x):
    """onnxconverter-common's convert_float_to_float16: float16 input, output, weights and
    Constant node values; Conv, Relu, MaxPool, Mul by a Constant, Sigmoid, GlobalAveragePool,
    Flatten, Gemm. Evaluated in float64 with the half-rounded weights (explained in float32)."""
    r = rs(41)
    g = Graph(13, x, "input")
    H = TensorProto.FLOAT16
    w, b = conv_weights(r, 6, 3, 3)
    h = g.relu(g.conv(g.input_name, g.const(w, H), g.const(b, H), pads=(1, 1, 1, 1)))
    h = g.op("MaxPool", [h], lambda a: F.max_pool2d(a, 2, 2), kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])
    half = g.op("Constant", [], lambda: torch.tensor(0.5, dtype=torch.float64), value=numpy_helper.from_array(np.array(0.5, np.float16)))
    h = g.binary("Mul", h, half)
    w, b = conv_weights(r, 4, 6, 3)
    h = g.unary("Sigmoid", g.conv(h, g.const(w, H), g.const(b, H), pads=(1, 1, 1, 1)), torch.sigmoid)
    h = g.flatten(g.gap(h))
    w, b = r.randn(5, 4), r.randn(5) * 0.1
    h = g.op("Gemm", [h, g.const(w, H), g.const(b, H)], lambda a, ww, bb: a @ ww.T + bb, transB=1)
    return g, h, {"io_type": H}


def half_mixed(x):
    """convert_float_to_float16 with keep_io_types: float32 input and output, Cast to float16 after
    the input and back before the output, float16 weights, and a bfloat16 bias cast to float16."""
    r = rs(42)
    g = Graph(13, x, "input")
    H = TensorProto.FLOAT16
    h = g.op("Cast", [g.input_name], lambda a: a, to=H)
    w, _ = conv_weights(r, 4, 3, 3)
    h = g.conv(h, g.const(w, H), pads=(1, 1, 1, 1))
    bias = np.array([0.5, -0.25, 0.125, 1.5], np.float32).reshape(1, 4, 1, 1)
    bf16 = g.name("bias_bf16")
    g.inits.append(helper.make_tensor(bf16, TensorProto.BFLOAT16, bias.shape, bias.ravel().tolist()))
    g.vals[bf16] = torch.from_numpy(bias.astype(np.float64))
    h = g.relu(g.binary("Add", h, g.op("Cast", [bf16], lambda a: a, to=H)))
    h = g.flatten(g.gap(h))
    w, b = r.randn(3, 4), r.randn(3) * 0.1
    h = g.op("Gemm", [h, g.const(w, H), g.const(b, H)], lambda a, ww, bb: a @ ww.T + bb, transB=1)
    return g, g.op("Cast", [h], lambda a: a, to=FLOAT)


def half_inputs(r, shape):
    """Inputs exactly representable in float16."""
    return r.randn(*shape).astype(np.float16).astype(np.float32)


def tf_uint8(x):
    """tf2onnx export of a Keras model with a uint8 serving signature: uint8 NHWC image, Cast to
    float, (x − 127.5)/127.5 as Sub and Mul, Transpose to NCHW, Conv, Relu, ReduceMean, MatMul +
    Add, Softmax. Explained with respect to the pixel values."""
    r = rs(43)
    g = Graph(13, x, "image")
    h = g.op("Cast", [g.input_name], lambda a: a, to=FLOAT)
    h = g.binary("Mul", g.binary("Sub", h, g.const(127.5)), g.const(1 / 127.5))
    h = g.transpose(h, (0, 3, 1, 2))
    w, b = conv_weights(r, 6, 3, 3)
    h = g.relu(g.conv(h, g.const(w), g.const(b), pads=(1, 1, 1, 1)))
    h = g.op("ReduceMean", [h], lambda a: a.mean(dim=(2, 3)), axes=[2, 3], keepdims=0)
    return g, g.softmax(g.dense(h, r.randn(6, 4), r.randn(4) * 0.1)), {"input_type": TensorProto.UINT8}


def pixels(r, shape):
    """uint8 pixel values (stored as float32 in input.npy)."""
    return r.randint(0, 256, size=shape).astype(np.float32)


def qop_cnn(x):
    """onnxruntime's static quantiser in QOperator format (the ONNX Model Zoo's int8 models), with
    calibration-like irregular ranges (round ones put averages and sums exactly on rounding ties):
    QuantizeLinear of the input, QLinearConv with int8 per-channel weights and an int32 bias (the
    ReLU folded into a uint8 output range from 0), a residual com.microsoft QLinearAdd,
    QLinearGlobalAveragePool, Flatten of the uint8 tensor, QLinearMatMul with per-tensor int8
    weights, DequantizeLinear; a MaxPool run on the uint8 values themselves (as the quantiser leaves
    it: the Model Zoo's int8 ResNets) on one branch of the residual. Evaluated as each op's
    definition: dequantize, float op, quantize; the MaxPool on the integers."""
    r = rs(27)
    g = Graph(13, x, "input")
    U8, I8, I32 = TensorProto.UINT8, TensorProto.INT8, TensorProto.INT32
    g.margins = []
    MS = "com.microsoft"

    def params(lo, hi):
        s = np.float32((hi - lo) / 255)
        return s, np.uint8(round(-lo / s))

    def deq(q, s, zp):
        return (q - zp) * s

    def requant(y, s, zp):
        g.margins.append((y / s).detach().numpy())
        return _QuantizeSTE.apply(y, s, zp, 0, 255)

    def out_params(lo, hi):
        s, zp = params(lo, hi)
        return [g.const(s), g.const(zp, U8)]

    def qconv(q, q_params, cout, cin, k, lo, hi, pads):
        w, b = conv_weights(r, cout, cin, k)
        s_w = (np.abs(w).reshape(cout, -1).max(1) / 127).astype(np.float32)
        bq = np.round(b / (g.vals[q_params[0]].item() * s_w)).astype(np.int32)
        ins = [q, *q_params, g.const(np.round(w / s_w.reshape(-1, 1, 1, 1)).astype(np.int8), I8), g.const(s_w), g.const(np.zeros(cout, np.int8), I8), *out_params(lo, hi), g.const(bq, I32)]

        def fn(a, a_s, a_z, wq, ws, wz, y_s, y_z, bb):
            y = conv(deq(a, a_s, a_z), deq(wq, ws.reshape(-1, 1, 1, 1), wz.reshape(-1, 1, 1, 1)), bb * a_s * ws, pads=pads)
            return requant(y, y_s, y_z)
        return g.op("QLinearConv", ins, fn, kernel_shape=[k, k], strides=[1, 1], pads=list(pads), dilations=[1, 1], group=1), ins[-3:-1]

    x_params = out_params(-2.53, 2.47)
    q = g.op("QuantizeLinear", [g.input_name, *x_params], lambda a, s, z: requant(a, s, z))
    h1, p1 = qconv(q, x_params, 6, 3, 3, 0.0, 3.07, (1, 1, 1, 1))
    m1 = g.op("MaxPool", [h1], lambda a: max_pool(a, 3, 1, (1, 1, 1, 1)), kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
    h2, p2 = qconv(m1, p1, 6, 6, 3, -2.93, 3.11, (1, 1, 1, 1))
    p3 = out_params(0.0, 4.13)
    h = g.op("QLinearAdd", [h2, *p2, h1, *p1, *p3], lambda a, a_s, a_z, b, b_s, b_z, y_s, y_z: requant(deq(a, a_s, a_z) + deq(b, b_s, b_z), y_s, y_z), domain=MS)
    p4 = out_params(0.0, 2.09)
    h = g.op("QLinearGlobalAveragePool", [h, *p3, *p4], lambda a, a_s, a_z, y_s, y_z: requant(deq(a, a_s, a_z).mean(dim=(2, 3), keepdim=True), y_s, y_z), domain=MS, channels_last=0)
    h = g.flatten(h)
    w = r.randn(6, 5) * 0.5
    s_w = np.float32(np.abs(w).max() / 127)
    ins = [h, *p4, g.const(np.round(w / s_w).astype(np.int8), I8), g.const(s_w), g.const(np.int8(0), I8), *out_params(-6.17, 5.83)]
    h = g.op("QLinearMatMul", ins, lambda a, a_s, a_z, b, b_s, b_z, y_s, y_z: requant(deq(a, a_s, a_z) @ deq(b, b_s, b_z), y_s, y_z))
    y = g.op("DequantizeLinear", [h, *ins[-2:]], lambda a, s, z: deq(a, s, z))
    return g, y, {"domains": (MS,)}


def dynq_cnn(x):
    """onnxruntime's dynamic quantiser (quantize_dynamic, IntegerOps, as transformers.js'
    model_quantized.onnx): each quantized op's float input goes through DynamicQuantizeLinear
    (uint8, scale and zero point from the tensor's range), then ConvInteger / MatMulInteger with
    integer weights and zero points, Cast to float, Mul by the product of the two scales (a Mul
    node), float bias Add. ConvInteger with uint8 weights (zero point 131); two MatMulIntegers
    sharing one quantized activation with int8 per-column weights; one with uint8 per-tensor
    weights (zero point 119). Evaluated with the statistics of each row (as each row run alone)."""
    r = rs(28)
    g = Graph(13, x, "input")
    U8, I8 = TensorProto.UINT8, TensorProto.INT8
    g.margins = []

    def dynamic_quantize(t):
        def fn(a):
            axes = tuple(range(1, a.dim()))
            lo = a.detach().amin(dim=axes, keepdim=True).clamp(max=0)
            hi = a.detach().amax(dim=axes, keepdim=True).clamp(min=0)
            s = torch.where(hi == lo, torch.ones_like(hi), (hi - lo) / 255)
            zp = torch.round((-lo / s).clamp(0, 255))
            g.margins += [(a / s).detach().numpy(), (-lo / s).numpy()]
            return _QuantizeSTE.apply(a, s, zp, 0, 255), s, zp
        return g.op("DynamicQuantizeLinear", [t], fn, n_out=3)

    def integer_op(op_type, q, w_q, w_zp, w_scale, fn, **attrs):
        y, s, zp = q
        dtype = U8 if w_q.dtype == np.uint8 else I8
        w, wz, ws = g.const(w_q, dtype), g.const(w_zp, dtype), g.const(w_scale)
        acc = g.op(op_type, [y, w, zp, wz], lambda a, b, az, bz: fn(a - az, b - per_axis_last(bz, b, op_type)), **attrs)
        cast = g.op("Cast", [acc], lambda a: a, to=FLOAT)
        return g.binary("Mul", cast, g.binary("Mul", s, ws))

    def per_axis_last(z, b, op_type):
        return z if op_type == "ConvInteger" or z.dim() == 0 else z.reshape(1, -1)

    def quantize_weights(w, signed, axis=None):
        if signed:
            ws = (np.abs(w).max(axis=axis) / 127).astype(np.float32)
            return np.round(w / ws).astype(np.int8), np.zeros(ws.shape, np.int8), ws
        lo, hi = min(w.min(), 0), max(w.max(), 0)
        ws = np.float32((hi - lo) / 255)
        zp = np.uint8(round(-lo / ws))
        return np.clip(np.round(w / ws) + zp, 0, 255).astype(np.uint8), zp, ws

    w, b = conv_weights(r, 6, 3, 3)
    wq, wz, ws = quantize_weights(w, signed=False)
    h = integer_op("ConvInteger", dynamic_quantize(g.input_name), wq, wz, ws,
                   lambda a, ww: conv(a, ww, None, pads=(1, 1, 1, 1)),
                   kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1], dilations=[1, 1], group=1)
    h = g.relu(g.binary("Add", h, g.const(b.reshape(6, 1, 1))))
    h = g.op("MaxPool", [h], lambda a: max_pool(a, 2, 2, (0, 0, 0, 0)), kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])
    q = dynamic_quantize(g.flatten(g.gap(h)))
    branches = []
    for act in (("Tanh", torch.tanh), ("Sigmoid", torch.sigmoid)):
        w = r.randn(6, 5) * 0.8
        wq, wz, ws = quantize_weights(w, signed=True, axis=0)
        m = integer_op("MatMulInteger", q, wq, wz, ws, torch.matmul)
        branches.append(g.unary(act[0], g.binary("Add", m, g.const(r.randn(5) * 0.1)), act[1]))
    h = g.binary("Mul", *branches)
    wq, wz, ws = quantize_weights(r.randn(5, 4) * 1.5, signed=False)
    logits = g.binary("Add", integer_op("MatMulInteger", dynamic_quantize(h), wq, wz, ws, torch.matmul), g.const(r.randn(4) * 0.1))
    return g, g.softmax(logits)


def pack_bits(values, bits):
    """Unsigned `bits`-bit codes packed low-first into bytes along the last axis (padded to whole bytes)."""
    per = 8 // bits
    pad = -values.shape[-1] % per
    v = np.concatenate([values, np.zeros(values.shape[:-1] + (pad,))], -1).reshape(*values.shape[:-1], -1, per).astype(np.uint16)
    return sum(v[..., k] << (k * bits) for k in range(per)).astype(np.uint8)


def block_quantize(w, bits, block, symmetric=False):
    """MatMulNBits' weight layout for W [K, N]: B [N, k_blocks, block·bits/8] codes q = round(w/s) + zp
    in [0, 2^bits − 1] per block of K (the last block padded with zeros), scales and zero points
    [N, k_blocks] (symmetric: zero point 2^(bits−1), the operator's default); returns B, scales,
    zero points and the dequantized W."""
    k, n = w.shape
    blocks = -(-k // block)
    padded = np.zeros((blocks * block, n))
    padded[:k] = w
    wb = padded.T.reshape(n, blocks, block)
    top = 2 ** bits - 1
    if symmetric:
        scale = (np.abs(wb).max(-1) / (2 ** (bits - 1) - 1)).astype(np.float32)
        zp = np.full(scale.shape, 2 ** (bits - 1))
    else:
        lo, hi = np.minimum(wb.min(-1), 0), np.maximum(wb.max(-1), 0)
        scale = ((hi - lo) / top).astype(np.float32)
        zp = np.clip(np.round(-lo / scale), 0, top)
    q = np.clip(np.round(wb / scale[..., None]) + zp[..., None], 0, top)
    deq = ((q - zp[..., None]) * scale[..., None]).reshape(n, -1)[:, :k].T
    return pack_bits(q, bits), scale, zp, deq


def nbits_mlp(x):
    """onnxruntime's weight-only block quantisation (MatMulNBitsQuantizer, as in transformers.js'
    model_q4.onnx and onnxruntime-genai models), com.microsoft.MatMulNBits: 4-bit weights in blocks
    of 16 along K = 40 (the last block padded) with packed uint8 zero points and a bias input,
    erf-GELU; 8-bit weights with uint8 zero points, Tanh; 4-bit symmetric weights (no zero-point
    input: 8); Add, Softmax."""
    r = rs(29)
    g = Graph(13, x, "input")
    MS = "com.microsoft"

    def matmul_nbits(t, w, bits, block, bias=None, symmetric=False):
        b, scale, zp, deq = block_quantize(w, bits, block, symmetric)
        ins = [t, g.const(b, TensorProto.UINT8), g.const(scale.reshape(-1))]
        ins += [""] if symmetric else [g.const(pack_bits(zp, bits), TensorProto.UINT8)]
        if bias is not None:
            ins += ["", g.const(bias)]  # g_idx (deprecated) left empty
        wd = torch.from_numpy(deq)
        return g.op("MatMulNBits", ins, lambda a, *rest: a @ wd + (rest[-1] if bias is not None else 0),
                    domain=MS, K=w.shape[0], N=w.shape[1], bits=bits, block_size=block)

    h = matmul_nbits(g.input_name, r.randn(40, 24) * 0.3, 4, 16, bias=(r.randn(24) * 0.1).astype(np.float32))
    h = g.binary("Mul", g.binary("Mul", h, g.const(0.5)), g.binary("Add", g.unary("Erf", g.binary("Div", h, g.const(math.sqrt(2))), torch.erf), g.const(1.0)))
    h = g.unary("Tanh", matmul_nbits(h, r.randn(24, 16) * 0.4, 8, 16), torch.tanh)
    h = matmul_nbits(h, r.randn(16, 5) * 0.6, 4, 16, symmetric=True)
    return g, g.softmax(g.binary("Add", h, g.const(r.randn(5) * 0.1))), {"domains": (MS,)}

MODELS = [
    ("tf_mobilenet", tf_mobilenet, (3, 12, 12, 3)),
    ("tf_resize", tf_resize, (3, 72)),
    ("paddle_op9", paddle_op9, (3, 3, 8, 8)),
    ("paddle_resize_op11", paddle_resize_op11, (3, 3, 8, 8)),
    ("torch_upsample_op9", torch_upsample_op9, (3, 3, 8, 8)),
    ("torch_resize_op10", torch_resize_op10, (3, 3, 8, 8)),
    ("convtranspose_head", convtranspose_head, (3, 3, 8, 8)),
    ("qdq_cnn", qdq_cnn, (3, 3, 8, 8)),
    ("tf_speech", tf_speech, (3, 16, 20)),
    ("logmel_topdb", logmel_topdb, (3, 1, 16, 20), power_spectrogram),
    ("logmel_clip", logmel_clip, (1, 1, 16, 20), power_spectrogram),
    ("zoo_resnet_op7", zoo_resnet_op7, (3, 3, 16, 16)),
    ("zoo_mnist_op8", zoo_mnist_op8, (1, 1, 12, 12)),
    ("torch_op6", torch_op6, (3, 3, 8, 8)),
    ("caffe2_op1", caffe2_op1, (3, 3, 6, 6)),
    ("half_cnn", half_cnn, (3, 3, 8, 8), half_inputs),
    ("half_mixed", half_mixed, (3, 3, 8, 8), half_inputs),
    ("tf_uint8", tf_uint8, (3, 8, 8, 3), pixels),
    ("qop_cnn", qop_cnn, (2, 3, 6, 6)),
    ("dynq_cnn", dynq_cnn, (3, 3, 8, 8)),
    ("nbits_mlp", nbits_mlp, (3, 40)),
]


def rounding_margin(g):
    """Smallest distance, in quantisation steps, of a QuantizeLinear input (or a QLinear op's
    requantised value) from a rounding boundary: float32 (onnxruntime) and float64 (here) may round
    differently when it is tiny."""
    margin = min([math.inf] + [float(np.abs(v - np.floor(v) - 0.5).min()) for v in getattr(g, "margins", [])])
    for n in g.nodes:
        if n.op_type == "QuantizeLinear":
            v = (g.vals[n.input[0]] / per_axis(g.vals[n.input[1]], g.vals[n.input[0]], 1)).detach().numpy()
            margin = min(margin, float(np.abs(v - np.floor(v) - 0.5).min()))
    return margin


def write(name, build, shape, inputs=lambda r, shape: r.randn(*shape)):
    d = os.path.join(OUT_ROOT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for seed in range(100):
        x = inputs(rs(1000 + seed), shape).astype(np.float32)
        built = build(x)
        g, out = built[0], built[1]
        if rounding_margin(g) > 1e-3:
            break
    else:
        raise AssertionError("%s: every seed puts a quantised value within 1e-3 steps of a rounding boundary" % name)
    model = g.model(out, **(built[2] if len(built) > 2 else {}))
    onnx.save(model, os.path.join(d, "model.onnx"))
    logits = g.vals[g.logits or out]
    n, classes = logits.shape
    target = rs(0).randint(classes, size=n)
    (grad,) = torch.autograd.grad(logits[torch.arange(n), torch.from_numpy(target)].sum(), g.x)
    np.save(os.path.join(d, "input.npy"), x)
    np.save(os.path.join(d, "output.npy"), g.vals["output"].detach().numpy().astype(np.float32))
    np.save(os.path.join(d, "grad.npy"), grad.numpy().astype(np.float32))
    meta = {"opset": g.opset, "target": [int(t) for t in target], "softmax": g.logits is not None,
            "batch_fixed": g.input_dims[0] != "N", "description": " ".join(build.__doc__.split())}
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    ops = sorted({nd.op_type for nd in model.graph.node})
    size = sum(os.path.getsize(os.path.join(d, fn)) for fn in os.listdir(d))
    print("%-20s opset %-2d %6d B  |grad| %.2e  %s" % (name, g.opset, size, float(grad.abs().mean()), ", ".join(ops)))


def main():
    only = set(sys.argv[1:])
    unknown = only - {name for name, *_ in MODELS}
    if unknown:
        sys.exit("make_exporters.py: no model named %s (models: %s)" % (", ".join(sorted(unknown)), ", ".join(name for name, *_ in MODELS)))
    if not only:
        shutil.rmtree(OUT_ROOT, ignore_errors=True)
    for name, *spec in MODELS:
        if not only or name in only:
            write(name, *spec)


if __name__ == "__main__":
    main()
