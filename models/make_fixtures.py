#!/usr/bin/env python3
"""Regenerate the ONNX test fixtures under models/fixtures/.

Run from the repository root:

    /usr/bin/python3 models/make_fixtures.py

Requires torch (1.13), onnx (1.12) and numpy. Everything is deterministic
(fixed torch / numpy seeds per model). See models/README.md for the layout.
"""
import json
from typing import List
import math
import os
import shutil
import sys
import warnings
from collections import Counter

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn as nn
import torch.nn.functional as F

warnings.filterwarnings("ignore")
torch.set_num_threads(2)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_ROOT = os.path.join(HERE, "fixtures")


# ----------------------------------------------------------------------------
# ReLU backward-rule overrides (guided backprop / deconvnet / DeepLIFT rescale)
# ----------------------------------------------------------------------------
class _ModReLU(torch.autograd.Function):
    """Same forward as ReLU; backward replaced according to `mode`."""

    @staticmethod
    def forward(ctx, x, mode, x0, y0):
        y = x.clamp(min=0)
        ctx.mode = mode
        if mode == "deeplift":
            ctx.save_for_backward(x, y, x0, y0)
        else:
            ctx.save_for_backward(x)
        return y

    @staticmethod
    def backward(ctx, g):
        mode = ctx.mode
        if mode == "guided":
            (x,) = ctx.saved_tensors
            return g.clamp(min=0) * (x > 0).to(g.dtype), None, None, None
        if mode == "deconv":
            return g.clamp(min=0), None, None, None
        if mode == "deeplift":
            x, y, x0, y0 = ctx.saved_tensors
            dx = x - x0
            dy = y - y0
            use = dx.abs() >= 1e-7
            safe_dx = torch.where(use, dx, torch.ones_like(dx))
            m = torch.where(use, dy / safe_dx, (x > 0).to(g.dtype))
            return g * m, None, None, None
        raise ValueError(mode)


class ReLUMode:
    """Context manager: installs forward hooks on every nn.ReLU of `model` that
    swap the module output for a _ModReLU node (identical value, custom
    backward).  mode in {'guided', 'deconv', 'record', 'deeplift'}; 'record'
    stores each ReLU's (input, output) for a later 'deeplift' pass."""

    def __init__(self, model, mode, store=None):
        self.model, self.mode, self.handles = model, mode, []
        self.store = store if store is not None else {}

    def __enter__(self):
        for m in self.model.modules():
            if type(m) is nn.ReLU:
                assert not m.inplace
                self.handles.append(m.register_forward_hook(self._hook))
        return self

    def _hook(self, mod, inputs, output):
        x = inputs[0]
        if self.mode == "record":
            self.store[mod] = (x.detach().clone(), output.detach().clone())
            return output
        if self.mode == "deeplift":
            x0, y0 = self.store[mod]
            return _ModReLU.apply(x, "deeplift", x0, y0)
        return _ModReLU.apply(x, self.mode, None, None)

    def __exit__(self, *a):
        for h in self.handles:
            h.remove()


def has_relu(model):
    return any(type(m) is nn.ReLU for m in model.modules())


# ----------------------------------------------------------------------------
# Models. Every model is Net(body, softmax): `body` produces the logits.
# ----------------------------------------------------------------------------
class Net(nn.Module):
    def __init__(self, body, softmax=False):
        super().__init__()
        self.body = body
        self.softmax = nn.Softmax(dim=1) if softmax else None

    def forward(self, x):
        y = self.body(x)
        return self.softmax(y) if self.softmax is not None else y


def perturb_bn(model, gen):
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            c = m.num_features
            with torch.no_grad():
                m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
                m.running_var.copy_(torch.rand(c, generator=gen) * 1.5 + 0.5)
                m.weight.copy_(torch.rand(c, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(c, generator=gen) * 0.2)


def make_mlp():
    return Net(nn.Sequential(
        nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 5)))


def make_cnn_maxpool():
    return Net(nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, stride=2, padding=1), nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1, ceil_mode=True),  # 4x4 -> 3x3
        nn.Flatten(), nn.Linear(8 * 3 * 3, 6)), softmax=True)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                      nn.BatchNorm2d(cout))
        else:
            self.down = None
        self.relu2 = nn.ReLU()

    def forward(self, x):
        idt = x if self.down is None else self.down(x)
        y = self.bn2(self.conv2(self.relu1(self.bn1(self.conv1(x)))))
        return self.relu2(y + idt)


def make_resnet_bn():
    return Net(nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        BasicBlock(8, 8, 1),           # identity shortcut
        BasicBlock(8, 16, 2),          # 1x1 conv + BN projection, stride 2
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 7)))


class MobileBody(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False),
                                  nn.BatchNorm2d(16), nn.Hardswish())
        self.dw = nn.Sequential(nn.Conv2d(16, 16, 3, padding=1, groups=16, bias=False),
                                nn.BatchNorm2d(16), nn.ReLU6())
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(16, 4, 1), nn.ReLU(),
                                nn.Conv2d(4, 16, 1), nn.Hardsigmoid())
        self.pw = nn.Sequential(nn.Conv2d(16, 24, 3, padding=1, groups=4), nn.Hardswish())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(24, 8))

    def forward(self, x):
        x = self.dw(self.stem(x))
        x = x * self.se(x)
        return self.head(self.pw(x))


def make_mobilenet():
    return Net(MobileBody())


def make_conv1d_onehot():
    return Net(nn.Sequential(
        nn.Conv1d(4, 6, 7), nn.ReLU(), nn.MaxPool1d(4), nn.Flatten(), nn.Linear(6 * 13, 3)))


class TransformerBody(nn.Module):
    def __init__(self, d=8, hidden=16, ncls=4):
        super().__init__()
        self.d = d
        self.ln1 = nn.LayerNorm(d)
        self.q, self.k, self.v = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1, self.act, self.fc2 = nn.Linear(d, hidden), nn.GELU(), nn.Linear(hidden, d)
        self.head = nn.Linear(d, ncls)

    def forward(self, x):
        h = self.ln1(x)
        q, k, v = self.q(h), self.k(h), self.v(h)
        scores = q @ k.transpose(-1, -2) / math.sqrt(self.d)
        attn = torch.softmax(scores, dim=-1)
        x = x + self.proj(attn @ v)
        x = x + self.fc2(self.act(self.fc1(self.ln2(x))))
        return self.head(x.mean(dim=1))


def make_transformer():
    return Net(TransformerBody())


class ResizeBody(nn.Module):
    def __init__(self, align):
        super().__init__()
        self.align = align
        self.conv1, self.relu1 = nn.Conv2d(3, 4, 3, padding=1), nn.ReLU()
        self.pool1 = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=align)
        self.pool2 = nn.AvgPool2d(2)
        self.conv2, self.relu2 = nn.Conv2d(4, 4, 3), nn.ReLU()
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 5))

    def forward(self, x):
        x = self.relu1(self.conv1(x))                          # 8x8
        x = F.interpolate(x, scale_factor=2, mode="nearest")   # 16x16
        x = self.pool1(x)                                      # 8x8
        x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=self.align)  # 16
        x = self.pool2(x)                                      # 8x8
        x = self.relu2(self.conv2(x))                          # 6x6
        return self.head(x)


def make_resize_avgpool():
    return Net(ResizeBody(align=False))


def make_resize_align():
    return Net(ResizeBody(align=True))


class Batch1Body(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.relu = nn.Conv2d(3, 4, 3), nn.ReLU()
        self.fc = nn.Linear(4 * 6 * 6, 5)

    def forward(self, x):
        return self.fc(self.relu(self.conv(x)).view(1, -1))


def make_batch1_reshape():
    return Net(Batch1Body())


class FixedBatchBody(Batch1Body):
    def forward(self, x):
        return self.fc(self.relu(self.conv(x)).view(x.size(0), -1))


def make_batch4_reshape():
    return Net(FixedBatchBody())


class ChannelShuffleBody(nn.Module):
    """ShuffleNetV2's channel shuffle (x.size() unpacked, then view(batch, groups, ...))."""

    def __init__(self):
        super().__init__()
        self.conv, self.group_conv, self.relu = nn.Conv2d(3, 6, 3), nn.Conv2d(6, 6, 3, groups=2), nn.ReLU()
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        h = self.relu(self.conv(x))
        batch, channels, height, width = h.size()
        h = h.view(batch, 2, channels // 2, height, width).transpose(1, 2).contiguous().view(batch, -1, height, width)
        return self.fc(self.relu(self.group_conv(h)).mean((2, 3)))


def make_batch4_shuffle():
    return Net(ChannelShuffleBody())


class NhwcBody(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.relu = nn.Conv2d(3, 6, 3), nn.ReLU()
        self.fc = nn.Linear(6, 4)

    def forward(self, x):
        x = x.permute(0, 3, 1, 2)
        x = self.relu(self.conv(x))
        x = x.permute(0, 2, 3, 1)
        return self.fc(x.mean(dim=(1, 2)))


def make_nhwc():
    return Net(NhwcBody())


class MiscBody(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 12, 3)
        self.elu = nn.ELU()
        self.lrelu = nn.LeakyReLU(0.1)
        self.prelu = nn.PReLU(num_parameters=12)
        self.inorm = nn.InstanceNorm2d(12, affine=True)
        # A fixed spatial pattern ahead of InstanceNorm: with an all-zeros input every channel
        # would otherwise be spatially constant there, and normalising a zero-variance channel in
        # float32 amplifies rounding by 1/sqrt(eps) (no attribution method can sum exactly then).
        pos = torch.sin(torch.arange(12 * 8 * 10, dtype=torch.float32) * 0.37).reshape(1, 12, 8, 10)
        self.register_buffer('pos', pos)
        self.fc = nn.Linear(24, 5)

    def forward(self, x):
        x = F.pad(x, (1, 1, 2, 0))                  # [N,4,12,12]
        x = self.elu(self.conv(x))                  # [N,12,10,10]
        x = x[:, :, 1:-1, :]                        # [N,12,8,10]
        x = torch.cat([x, torch.sigmoid(x)], dim=1)  # [N,24,8,10]
        h1, h2 = torch.chunk(x, 2, dim=1)           # 2 x [N,12,8,10]
        a = torch.tanh(h1)
        b = F.softplus(h2)
        c = a * b + a / (b.abs() + 1.5) - F.selu(b - 1.0)
        c = self.prelu(self.lrelu(c))
        c = torch.exp(-c.abs()) * torch.sqrt(c * c + 1) + c.pow(3) * 0.01
        c = torch.log(c.abs() + 1) + c
        c = -c
        c = c.unsqueeze(2).squeeze(2)
        c = self.inorm(c + self.pos)
        s = c.sum(dim=3)                            # [N,12,8]
        g = torch.cat([s[:, :, 0], s[:, :, 5]], dim=1)  # Gather x2 -> [N,24]
        return self.fc(g)


def make_misc_ops():
    m = Net(MiscBody())
    with torch.no_grad():
        m.body.prelu.weight.copy_(torch.linspace(0.1, 0.4, 12))
        m.body.inorm.weight.copy_(torch.linspace(0.5, 1.5, 12))
        m.body.inorm.bias.copy_(torch.linspace(-0.3, 0.3, 12))
    return m


def make_fig1():
    l1, l2, l3 = nn.Linear(2, 1), nn.Linear(1, 1), nn.Linear(1, 1)
    with torch.no_grad():
        l1.weight.copy_(torch.tensor([[1.0, 1.0]])); l1.bias.zero_()
        l2.weight.copy_(torch.tensor([[-1.0]])); l2.bias.fill_(1.0)
        l3.weight.copy_(torch.tensor([[-1.0]])); l3.bias.fill_(1.0)
    return Net(nn.Sequential(l1, l2, nn.ReLU(), l3))


class FunctionBlock(nn.Module):
    """Conv-BN-activation, exported as one model-local function."""

    def __init__(self, cin, cout, act):
        super().__init__()
        self.conv, self.bn, self.act = nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), act

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


MODULE_FUNCTIONS = {FunctionBlock, nn.GELU, nn.LayerNorm}


def make_module_functions():
    return Net(nn.Sequential(
        FunctionBlock(3, 8, nn.ReLU()), nn.MaxPool2d(2), FunctionBlock(8, 8, nn.ReLU()), FunctionBlock(8, 8, nn.GELU()),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.LayerNorm(8), nn.Linear(8, 5)))


class AudioBody(nn.Module):
    """wav2vec2-style audio classifier on a raw waveform [N, T]."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv1d(1, 16, 10, 5, bias=False), nn.GroupNorm(16, 16), nn.GELU(),
                                      nn.Conv1d(16, 16, 3, 2, bias=False), nn.GELU())
        self.proj, self.ln = nn.Linear(16, 32), nn.LayerNorm(32)
        self.pos = nn.utils.weight_norm(nn.Conv1d(32, 32, 8, padding=4, groups=4), name="weight", dim=2)
        self.encoder = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, activation="gelu", batch_first=True)
        self.head = nn.Linear(32, 5)
        with torch.no_grad():
            gn = self.features[1]
            gn.weight.uniform_(0.5, 1.5)
            gn.bias.uniform_(-0.2, 0.2)

    def forward(self, x):
        h = self.ln(self.proj(self.features(x.unsqueeze(1)).transpose(1, 2)))
        p = self.pos(h.transpose(1, 2))[:, :, :-1]  # even kernel: the last step is dropped (SamePad)
        h = self.encoder(h + nn.functional.gelu(p).transpose(1, 2))
        return self.head(h.mean(1))


def make_audio():
    return Net(AudioBody())


class TensorSplitBody(nn.Module):
    """Tokens with a class token split off by torch.tensor_split, as torchvision's MViT pools do
    (torch.onnx 1.13: a Loop inserting one Slice per piece into a sequence, read by SequenceAt)."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 8)
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        h = torch.tanh(self.proj(x))
        cls, rest = torch.tensor_split(h, (1,), dim=1)
        a, b, c = torch.tensor_split(rest, (1, 3), dim=1)
        return self.head(torch.cat([cls[:, 0] + a[:, 0], (b * c).mean(1)], dim=-1))


def make_tensor_split():
    return Net(TensorSplitBody())


class ScriptedLoopBody(nn.Module):
    """A recurrence over the tokens written as a Python loop and scripted: torch.onnx keeps it as a
    Loop (trip count from Shape) whose carried list becomes a sequence, stacked by ConcatFromSequence."""

    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(8, 8)
        self.w = nn.Parameter(torch.randn(8) * 0.5)
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        h = torch.tanh(self.proj(x))
        state = torch.tanh(h[:, 0])
        states: List[torch.Tensor] = []
        for i in range(h.size(1)):
            state = torch.tanh(state * self.w + h[:, i])
            states.append(state)
        return self.head(torch.stack(states, 1).mean(1) + state)


def make_scripted_loop():
    return torch.jit.script(Net(ScriptedLoopBody()))


def perturb_layernorm(model, gen):
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            with torch.no_grad():
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)


# ----------------------------------------------------------------------------
# Reference computations
# ----------------------------------------------------------------------------
def grad_ref(model, x, target, mode=None, store=None):
    """d logit[n, target[n]] / d x[n] in float64; mode=None plain gradient."""
    md = model.double()
    xd = torch.from_numpy(x.astype(np.float64)).requires_grad_(True)
    t = torch.as_tensor(target)
    if mode is None:
        logits = md.body(xd)
    else:
        with ReLUMode(md, mode, store):
            logits = md.body(xd)
    sel = logits.gather(1, t.view(-1, 1)).sum()
    (g,) = torch.autograd.grad(sel, xd)
    model.float()
    return g.detach().numpy(), logits.detach().numpy()


def deeplift_ref(model, x, target):
    base = np.zeros_like(x)
    store = {}
    md = model.double()
    with torch.no_grad(), ReLUMode(md, "record", store):
        logits0 = md.body(torch.from_numpy(base.astype(np.float64))).numpy()
    model.float()
    mult, logits = grad_ref(model, x, target, "deeplift", store)
    attr = mult * (x.astype(np.float64) - base)
    rows = np.arange(len(target))
    delta = logits[rows, target] - logits0[rows, target]
    sums = attr.reshape(len(target), -1).sum(1)
    assert np.allclose(sums, delta, rtol=1e-6, atol=1e-12), (sums, delta)
    return attr, float(np.abs(sums - delta).max())


# ----------------------------------------------------------------------------
# Export / write
# ----------------------------------------------------------------------------
def op_hist(m):
    return Counter(n.op_type for n in m.graph.node)


def export(model, x, path, opset, dynamic=True, preserve=False, functions=None, fold=True):
    kw = dict(opset_version=opset, input_names=["input"], output_names=["output"],
              do_constant_folding=fold)
    if functions:
        kw["export_modules_as_functions"] = functions
    if dynamic:
        kw["dynamic_axes"] = {"input": {0: "N"}, "output": {0: "N"}}
    if preserve:
        kw["training"] = torch.onnx.TrainingMode.PRESERVE
    torch.onnx.export(model.eval(), torch.from_numpy(x), path, **kw)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return m


def logits_name(m, softmax):
    if not softmax:
        return "output"
    for n in m.graph.node:
        if n.op_type == "Softmax" and "output" in n.output:
            return n.input[0]
    raise AssertionError("softmax model without final Softmax node")


SUMMARY = []


def write_fixture(name, model, x, opset, num_classes, description, *, dynamic=True,
                  preserve=False, deeplift=False, target=None, check=None, functions=None, fold=True):
    d = os.path.join(OUT_ROOT, name)
    os.makedirs(d, exist_ok=True)
    model.eval()
    x = np.ascontiguousarray(x, dtype=np.float32)
    if target is None:
        target = np.random.RandomState(0).randint(num_classes, size=x.shape[0])
    target = np.asarray(target, dtype=np.int64)
    path = os.path.join(d, "model.onnx")
    m = export(model, x, path, opset, dynamic=dynamic, preserve=preserve, functions=functions, fold=fold)
    if check is not None:
        check(m)
    with torch.no_grad():
        out = model(torch.from_numpy(x)).numpy().astype(np.float32)
    np.save(os.path.join(d, "input.npy"), x)
    np.save(os.path.join(d, "output.npy"), out)
    g, _ = grad_ref(model, x, target)
    np.save(os.path.join(d, "grad.npy"), g.astype(np.float32))
    files = ["model.onnx", "input.npy", "output.npy", "grad.npy"]
    if has_relu(model):
        gg, _ = grad_ref(model, x, target, "guided")
        gd, _ = grad_ref(model, x, target, "deconv")
        np.save(os.path.join(d, "guided.npy"), gg.astype(np.float32))
        np.save(os.path.join(d, "deconv.npy"), gd.astype(np.float32))
        files += ["guided.npy", "deconv.npy"]
    dl_err = None
    if deeplift:
        attr, dl_err = deeplift_ref(model, x, target)
        np.save(os.path.join(d, "deeplift.npy"), attr.astype(np.float32))
        files.append("deeplift.npy")
    softmax = model.softmax is not None
    meta = {"opset": opset, "target": [int(t) for t in target], "softmax": softmax,
            "batch_fixed": not dynamic, "description": description,
            "logits_name_hint": logits_name(m, softmax)}
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    files.append("meta.json")
    size = sum(os.path.getsize(os.path.join(d, fn)) for fn in files)
    SUMMARY.append((name, opset, list(x.shape), size, dict(sorted(op_hist(m).items())),
                    files, dl_err))
    return m


# ----------------------------------------------------------------------------
# Hand check of the hook machinery on the MLP (numpy re-implementation)
# ----------------------------------------------------------------------------
def hand_check_mlp(model, x, target):
    L = [l for l in model.body if isinstance(l, nn.Linear)]
    W = [l.weight.detach().double().numpy() for l in L]
    B = [l.bias.detach().double().numpy() for l in L]

    def fwd(v):
        z1 = W[0] @ v + B[0]; a1 = np.maximum(z1, 0)
        z2 = W[1] @ a1 + B[1]; a2 = np.maximum(z2, 0)
        return z1, a1, z2, a2

    res = {"grad": [], "guided": [], "deconv": [], "deeplift": []}
    z10, a10, z20, a20 = fwd(np.zeros(20))
    for v, t in zip(x.astype(np.float64), target):
        z1, a1, z2, a2 = fwd(v)
        g2 = W[2][t]
        # plain
        h = W[1].T @ (g2 * (z2 > 0)); res["grad"].append(W[0].T @ (h * (z1 > 0)))
        # guided
        h = W[1].T @ (np.maximum(g2, 0) * (z2 > 0))
        res["guided"].append(W[0].T @ (np.maximum(h, 0) * (z1 > 0)))
        # deconv
        h = W[1].T @ np.maximum(g2, 0); res["deconv"].append(W[0].T @ np.maximum(h, 0))
        # deeplift rescale
        def m_(z, a, z0, a0):
            dz = z - z0
            return np.where(np.abs(dz) >= 1e-7, (a - a0) / np.where(np.abs(dz) >= 1e-7, dz, 1), z > 0)
        h = W[1].T @ (g2 * m_(z2, a2, z20, a20))
        res["deeplift"].append((W[0].T @ (h * m_(z1, a1, z10, a10))) * v)
    for k in res:
        res[k] = np.array(res[k])
    return res


# ----------------------------------------------------------------------------
def main():
    if os.path.isdir(OUT_ROOT):
        shutil.rmtree(OUT_ROOT)
    os.makedirs(OUT_ROOT)

    def seeded(fn, seed):
        torch.manual_seed(seed)
        m = fn()
        gen = torch.Generator().manual_seed(seed + 1000)
        perturb_bn(m, gen)
        perturb_layernorm(m, gen)
        return m.eval()

    def randn(seed, *shape):
        return np.random.RandomState(seed).randn(*shape).astype(np.float32)

    # 1. mlp -----------------------------------------------------------------
    m = seeded(make_mlp, 1)
    x = randn(101, 3, 20)
    write_fixture("mlp", m, x, 9, 5,
                  "MLP Linear(20,32)-ReLU-Linear(32,16)-ReLU-Linear(16,5); Gemm/Relu only.",
                  deeplift=True)
    d = os.path.join(OUT_ROOT, "mlp")
    tgt = json.load(open(os.path.join(d, "meta.json")))["target"]
    hand = hand_check_mlp(m, x, tgt)
    for k in hand:
        ref = np.load(os.path.join(d, k + ".npy"))
        assert np.allclose(ref, hand[k], rtol=1e-5, atol=1e-6), k
    assert not np.allclose(hand["grad"], hand["guided"]), "guided hook had no effect"
    assert not np.allclose(hand["grad"], hand["deconv"]), "deconv hook had no effect"
    assert not np.allclose(hand["grad"] * x, hand["deeplift"]), "deeplift hook had no effect"

    # 2. cnn_maxpool -------------------------------------------------------------
    m = seeded(make_cnn_maxpool, 2)
    write_fixture("cnn_maxpool", m, randn(102, 3, 3, 16, 16), 11, 6,
                  "Conv-ReLU-MaxPool(2)-Conv(s2)-ReLU-MaxPool(3,s2,p1,ceil_mode)-Flatten-Gemm-Softmax. "
                  "output.npy is post-softmax; gradients are of the pre-softmax logits. "
                  "Note: some MaxPool windows are all-zero after ReLU (ties); deconv.npy routes "
                  "the gradient to the FIRST max in row-major window order (PyTorch/ORT).")

    # 3. resnet_bn -----------------------------------------------------------------
    def chk_bn(mm):
        assert op_hist(mm)["BatchNormalization"] >= 5, op_hist(mm)
    m = seeded(make_resnet_bn, 3)
    write_fixture("resnet_bn", m, randn(103, 3, 3, 16, 16), 13, 7,
                  "Tiny ResNet: stem Conv-BN-ReLU, identity basic block, stride-2 basic block with "
                  "1x1 Conv-BN projection, GlobalAveragePool, Gemm. Exported with "
                  "TrainingMode.PRESERVE (model in eval) so BatchNormalization nodes are kept unfused.",
                  preserve=True, deeplift=True, check=chk_bn)

    # 4. mobilenet -----------------------------------------------------------------
    def chk_mb(mm):
        h = op_hist(mm)
        assert h["HardSwish"] >= 1 and h["Clip"] >= 1 and h["HardSigmoid"] >= 1, h
    m = seeded(make_mobilenet, 4)
    write_fixture("mobilenet", m, randn(104, 3, 3, 16, 16), 14, 8,
                  "MobileNetV3-style: Conv(s2)+BN+HardSwish, depthwise Conv+BN+ReLU6(Clip), "
                  "squeeze-excitation (GAP-Conv1x1-ReLU-Conv1x1-HardSigmoid, Mul gate), grouped "
                  "Conv(groups=4)+HardSwish, GAP, Gemm. BN folded into Conv by the exporter.",
                  check=chk_mb)

    # 5. conv1d_onehot -------------------------------------------------------------
    m = seeded(make_conv1d_onehot, 5)
    rs = np.random.RandomState(105)
    idx = rs.randint(4, size=(3, 60))
    x = np.zeros((3, 4, 60), np.float32)
    for n in range(3):
        x[n, idx[n], np.arange(60)] = 1.0
    write_fixture("conv1d_onehot", m, x, 10, 3,
                  "Genomics-style Conv1d(4,6,7)-ReLU-MaxPool1d(4)-Flatten-Gemm on one-hot DNA [N,4,60]. "
                  "Some MaxPool windows are all-zero after ReLU (ties); deconv.npy routes the "
                  "gradient to the FIRST max in the window (PyTorch/ORT convention).")

    # 6. transformer ---------------------------------------------------------------
    def chk_tr(mm):
        h = op_hist(mm)
        assert h["LayerNormalization"] == 2 and h["Erf"] >= 1 and h["MatMul"] >= 1, h
    def chk_tr13(mm):
        h = op_hist(mm)
        assert "LayerNormalization" not in h and h["ReduceMean"] >= 2 and h["Erf"] >= 1, h
    xt = randn(106, 3, 6, 8)
    m = seeded(make_transformer, 6)
    write_fixture("transformer", m, xt, 17, 4,
                  "Pre-LN transformer block on [N,6,8]: LayerNorm, single-head attention "
                  "(MatMul/Softmax/scale), residual, LayerNorm, MLP with exact-erf GELU, residual, "
                  "mean over tokens, Gemm. Opset 17 -> LayerNormalization nodes.", check=chk_tr)
    m = seeded(make_transformer, 6)
    write_fixture("transformer_op13", m, xt, 13, 4,
                  "Same weights/input as `transformer`, exported at opset 13: LayerNorm decomposed "
                  "into ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add.", check=chk_tr13)

    # 7. resize_avgpool / resize_align ---------------------------------------------
    def chk_rs(mm):
        h = op_hist(mm)
        assert h["Resize"] == 2 and h["AveragePool"] >= 2, h
    m = seeded(make_resize_avgpool, 7)
    write_fixture("resize_avgpool", m, randn(107, 3, 3, 8, 8), 11, 5,
                  "Conv-ReLU, Resize nearest x2, AveragePool(3,s2,p1,count_include_pad=0), Resize "
                  "bilinear x2 (align_corners=False), AveragePool(2), Conv-ReLU, GAP, Gemm.",
                  check=chk_rs)
    m = seeded(make_resize_align, 7)
    write_fixture("resize_align", m, randn(107, 3, 3, 8, 8), 13, 5,
                  "As resize_avgpool (same weights/input) but bilinear align_corners=True and "
                  "AvgPool(3,s2,p1,count_include_pad=True).", check=chk_rs)

    # 8. batch1_reshape -------------------------------------------------------------
    def chk_b1(mm):
        consts = {i.name: onnx.numpy_helper.to_array(i) for i in mm.graph.initializer}
        for n in mm.graph.node:
            if n.op_type == "Constant":
                for a in n.attribute:
                    if a.name == "value":
                        consts[n.output[0]] = onnx.numpy_helper.to_array(a.t)
        shapes = [consts.get(n.input[1]) for n in mm.graph.node if n.op_type == "Reshape"]
        assert any(s is not None and s.size and int(s.reshape(-1)[0]) == 1 for s in shapes), shapes
    m = seeded(make_batch1_reshape, 8)
    write_fixture("batch1_reshape", m, randn(108, 1, 3, 8, 8), 12, 5,
                  "Conv-ReLU then x.view(1,-1): Reshape with constant shape [1,-1] hard-codes batch 1; "
                  "exported without dynamic axes.", dynamic=False, check=chk_b1)

    # 8b. batch4_reshape: the dummy input's batch (4) fixed in the input and in a Reshape
    def chk_b4(mm):
        assert mm.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 4
        consts = {i.name: onnx.numpy_helper.to_array(i) for i in mm.graph.initializer}
        for n in mm.graph.node:
            if n.op_type == "Constant":
                consts[n.output[0]] = onnx.numpy_helper.to_array(n.attribute[0].t)
        shapes = [consts.get(n.input[1]) for n in mm.graph.node if n.op_type == "Reshape"]
        assert any(s is not None and s.size and int(s.reshape(-1)[0]) == 4 for s in shapes), shapes
    m = seeded(make_batch4_reshape, 8)
    write_fixture("batch4_reshape", m, randn(118, 4, 3, 8, 8), 13, 5,
                  "Conv-ReLU then x.view(x.size(0),-1) exported without dynamic axes on a batch of 4: "
                  "the input's batch and the Reshape's shape constant [4,-1] are fixed to 4.",
                  dynamic=False, check=chk_b4)

    # 8c. batch4_shuffle_nofold: a fixed batch in Reshape shapes built from Constant nodes
    def chk_b4s(mm):
        ops = op_hist(mm)
        assert mm.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 4
        assert ops.get("Reshape") == 2 and ops.get("Concat") == 2 and ops.get("Unsqueeze", 0) >= 9, ops
    m = seeded(make_batch4_shuffle, 18)
    write_fixture("batch4_shuffle_nofold", m, randn(119, 4, 3, 10, 10), 13, 5,
                  "ShuffleNetV2's channel shuffle (view(batch, 2, c/2, h, w), transpose, view(batch, -1, h, w)) "
                  "exported on a batch of 4 without dynamic axes and without constant folding: the Reshape "
                  "shapes are Concats of Unsqueezed Constant nodes holding 4.",
                  dynamic=False, fold=False, check=chk_b4s)

    # 9. nhwc -------------------------------------------------------------------------
    def chk_nh(mm):
        assert op_hist(mm)["Transpose"] == 2, op_hist(mm)
    m = seeded(make_nhwc, 9)
    write_fixture("nhwc", m, randn(109, 3, 12, 12, 3), 13, 4,
                  "Keras-style NHWC input [N,12,12,3]: Transpose to NCHW, Conv-ReLU, Transpose back, "
                  "ReduceMean over H,W, Gemm.", check=chk_nh)

    # 10. misc_ops ---------------------------------------------------------------------
    xm = randn(110, 3, 4, 10, 10)
    for op in (9, 11, 13):
        m = seeded(make_misc_ops, 10)
        write_fixture("misc_ops_op%d" % op, m, xm, op, 5,
                      "Many elementwise/shape ops on the activation path (same weights/input for "
                      "op9/op11/op13): Pad, Conv, Elu, Slice, Sigmoid, Concat, Split, Tanh, "
                      "Softplus, Mul, Div, Abs, Selu, Sub, LeakyRelu, PRelu, Exp, Neg, Sqrt, Pow, "
                      "Log, Unsqueeze/Squeeze, InstanceNormalization, ReduceSum, Gather, Gemm. At "
                      "opset>=11 the exporter adds integer shape subgraphs (Shape/Gather/Slice/"
                      "ConstantOfShape/Cast...) computing Pad amounts and Split sizes.")

    # 11. fig1 ---------------------------------------------------------------------------
    m = seeded(make_fig1, 11)
    write_fixture("fig1", m, np.array([[1.0, 2.0], [0.25, 0.5], [0.0, 0.0]], np.float32), 11, 1,
                  "DeepLIFT paper Fig.1: h=x1+x2; r=ReLU(1-h); y=1-r. Output [N,1], target 0, "
                  "baseline zeros. Row 0 saturates the ReLU (gradient 0, DeepLIFT [1/3,2/3]). "
                  "Layers 2 and 3 have identical weights, so the exporter deduplicates them: "
                  "the last Gemm reads its weight/bias through Identity nodes.",
                  target=[0, 0, 0], deeplift=True)
    dl = np.load(os.path.join(OUT_ROOT, "fig1", "deeplift.npy"))
    assert np.allclose(dl[0], [1 / 3, 2 / 3]) and np.allclose(np.load(
        os.path.join(OUT_ROOT, "fig1", "grad.npy"))[0], 0), dl

    # 12. module_functions ---------------------------------------------------------------
    def chk_fn(mm):
        names = {f.name: [n.op_type for n in f.node] for f in mm.functions}
        assert {"GELU", "LayerNorm"} <= set(names) and ["Conv", "GELU"] in names.values(), names
        calls = [c for op, c in op_hist(mm).items() if op.startswith("FunctionBlock")]
        assert sorted(calls) == [1, 2], op_hist(mm)  # the two ReLU blocks call one function
    m = seeded(make_module_functions, 12)
    write_fixture("module_functions", m, randn(112, 3, 3, 12, 12), 15, 5,
                  "torch.onnx's export_modules_as_functions: two Conv-BN-ReLU blocks (one function called twice) "
                  "and a Conv-BN-GELU block, "
                  "GELU and LayerNorm as model-local functions (GELU called inside a block), "
                  "MaxPool, GlobalAveragePool, Flatten, Gemm in the main graph.",
                  check=chk_fn, functions=MODULE_FUNCTIONS)

    # 13. audio ------------------------------------------------------------------------
    def chk_audio(mm):
        ops = op_hist(mm)
        assert ops.get("InstanceNormalization") == 1 and ops.get("Conv") == 3, ops  # GroupNorm as InstanceNormalization
        pos_w = next(n.input[1] for n in mm.graph.node if n.op_type == "Conv" and n.input[1] not in
                     {i.name for i in mm.graph.initializer})
        assert pos_w, "the weight-normalised Conv reads a computed weight"
    m = seeded(make_audio, 13)
    write_fixture("audio", m, randn(113, 3, 400), 14, 5,
                  "wav2vec2-style audio classifier on a waveform [N,400]: Conv1d feature extractor with "
                  "GroupNorm (torch.onnx: Reshape-InstanceNormalization-Reshape-Mul-Add) and erf GELU, Linear + "
                  "LayerNorm, a weight-normalised grouped positional Conv1d (even kernel, last step sliced off) "
                  "exported without constant folding, so its weight g·v/||v|| is computed in the graph, a "
                  "TransformerEncoderLayer (batch_first, GELU), mean over time, Linear.",
                  check=chk_audio, fold=False)

    # 14. tensor_split -----------------------------------------------------------------
    def chk_loops(mm):
        ops = op_hist(mm)
        assert ops.get("Loop") == 2 and ops.get("SequenceAt", 0) >= 3 and ops.get("SequenceEmpty") == 2, ops
    m = seeded(make_tensor_split, 14)
    write_fixture("tensor_split", m, randn(114, 3, 6, 8), 13, 4,
                  "Tokens [N,6,8]: Linear, Tanh, torch.tensor_split at (1,) and then (1,3) on the token axis "
                  "(each a Loop of Slices inserted into a sequence, read by SequenceAt), a product of two "
                  "pieces, Concat, Linear.", check=chk_loops)

    # 15. scripted_loop ----------------------------------------------------------------
    def chk_scripted(mm):
        ops = op_hist(mm)
        assert ops.get("Loop") == 1 and ops.get("ConcatFromSequence") == 1, ops
    m = seeded(make_scripted_loop, 15)
    write_fixture("scripted_loop", m, randn(115, 3, 6, 8), 13, 3,
                  "Tokens [N,6,8]: Linear, Tanh, a scripted Python loop over the tokens (a Loop whose trip "
                  "count comes from Shape, carrying a Tanh recurrence and a list that becomes a sequence), "
                  "ConcatFromSequence (torch.stack), mean, Linear.", check=chk_scripted)

    # Summary --------------------------------------------------------------------------
    total = 0
    for name, opset, shape, size, hist, files, dl_err in SUMMARY:
        total += size
        print("%-18s opset %-2d input %-15s %7d B  files=%s%s" % (
            name, opset, shape, size, ",".join(f.split(".")[0] for f in files if f.endswith(".npy")),
            "" if dl_err is None else "  deeplift|sum-delta|=%.1e" % dl_err))
        print("    ops: " + ", ".join("%s:%d" % kv for kv in hist.items()))
    print("total fixture bytes: %d" % total)


if __name__ == "__main__":
    sys.exit(main())
