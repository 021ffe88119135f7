#!/usr/bin/env python3
"""Regenerate models/max-rules/: a CNN with overlapping, padded and adjacent-to-ReLU max pools, and
DeepLIFT references for both max-pool rules computed window by window in float64.

Run from the repository root:

    /usr/bin/python3 models/make_max_rules.py

Requires torch (1.13), onnx (1.12) and numpy; deterministic. See models/README.md.
"""
import json
import os
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn

warnings.filterwarnings("ignore")
torch.set_num_threads(2)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "max-rules")


class Net(nn.Module):
    """conv → ReLU → MaxPool(3, stride 2, pad 1) → conv → MaxPool(2) → ReLU → linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.pool1 = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(4, 3, 3, padding=1)
        self.pool2 = nn.MaxPool2d(2)
        self.fc = nn.Linear(27, 5)

    def forward(self, x):
        h = self.pool1(torch.relu(self.conv1(x)))
        return self.fc(torch.relu(self.pool2(self.conv2(h))).flatten(1))


def windows(shape, k, s, p):
    """(output index, list of input (i, j) in row-major order) of each window of a 2-D max pool."""
    H, W = shape
    for oi in range((H + 2 * p - k) // s + 1):
        for oj in range((W + 2 * p - k) // s + 1):
            cells = [(i, j) for i in range(oi * s - p, oi * s - p + k) for j in range(oj * s - p, oj * s - p + k)
                     if 0 <= i < H and 0 <= j < W]
            yield (oi, oj), cells


def pool(a, k, s, p):
    """Max pool of a [N, C, H, W] array; also each window's first winner (row-major, as onnxruntime)."""
    N, C, H, W = a.shape
    spots = list(windows((H, W), k, s, p))
    Ho, Wo = spots[-1][0][0] + 1, spots[-1][0][1] + 1
    y = np.zeros((N, C, Ho, Wo))
    win = {}
    for n in range(N):
        for c in range(C):
            for o, cells in spots:
                vals = [a[n, c, i, j] for i, j in cells]
                w = cells[int(np.argmax(vals))]
                y[(n, c) + o] = a[(n, c) + w]
                win[(n, c) + o] = (n, c) + w
    return y, win


def moved_beyond_rounding(dx, a, a0):
    """The rewriter's "moved" test (rules/deeplift/delta.ts): elsewhere the gradient is the limit."""
    return np.abs(dx) > 1e-7 * (np.abs(a) + np.abs(a0))


def max_rule(g, a, a0, k, s, p, rule):
    """Multipliers of a max pool's input from its output's multipliers g (DeepLIFT eq. 11 with the
    reference's winner taking δy where x's winner moved less than δy; or Captum's split)."""
    y, win = pool(a, k, s, p)
    y0, win0 = pool(a0, k, s, p)
    routed, plain = np.zeros_like(a), np.zeros_like(a)
    stuck_windows = 0
    for o in np.ndindex(*y.shape):
        i, j = win[o], win0[o]
        plain[i] += g[o]
        change = y[o] - y0[o]
        if rule == "shapley":
            top = max(y[o], y0[o])
            routed[i] += g[o] * (top - y0[o])
            routed[j] += g[o] * (y[o] - top)
        elif abs(a[i] - a0[i]) < abs(change):
            routed[j] += g[o] * change
            stuck_windows += 1
        else:
            routed[i] += g[o] * change
    dx = a - a0
    moved = moved_beyond_rounding(dx, a, a0)
    return np.where(moved, routed / np.where(moved, dx, 1), plain), stuck_windows


def relu_rule(g, h, h0):
    dx = h - h0
    moved = moved_beyond_rounding(dx, h, h0)
    limit = ((h + h0) / 2 > 0).astype(np.float64)
    return g * np.where(moved, (np.maximum(h, 0) - np.maximum(h0, 0)) / np.where(moved, dx, 1), limit)


def conv_input_grad(conv, g, shape):
    w = conv.weight.detach().double()
    return torch.nn.grad.conv2d_input(shape, w, torch.from_numpy(g), padding=conv.padding).numpy()


def deeplift(model, x, x0, target, rule):
    """Attributions m·(x − x⁰) through the network, rule by rule; also the count of windows that
    sent δy to the reference's winner."""
    with torch.no_grad():
        def acts(v):
            h1 = model.conv1(torch.from_numpy(v)).numpy()
            a1 = np.maximum(h1, 0)
            p1 = pool(a1, 3, 2, 1)[0]
            h2 = model.conv2(torch.from_numpy(p1)).numpy()
            return h1, a1, p1, h2, pool(h2, 2, 2, 0)[0]
        h1, a1, p1, h2, p2 = acts(x)
        r1, ra1, _, r2, rp2 = acts(x0)
    g = model.fc.weight.detach().double().numpy()[target].reshape(p2.shape)
    g = relu_rule(g, p2, rp2)
    g, stuck2 = max_rule(g, h2, r2, 2, 2, 0, rule)
    g = conv_input_grad(model.conv2, g, p1.shape)
    g, stuck1 = max_rule(g, a1, ra1, 3, 2, 1, rule)
    g = relu_rule(g, h1, r1)
    g = conv_input_grad(model.conv1, g, x.shape)
    return g * (x - x0), stuck1 + stuck2


def main():
    torch.manual_seed(3)
    model = Net().double().eval()
    gen = np.random.RandomState(3)
    x = gen.randn(3, 3, 12, 12)
    x0 = 0.5 * gen.randn(3, 3, 12, 12)
    x0[2] = 0
    target = [1, 4, 2]
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "model.onnx")
    torch.onnx.export(model.float(), torch.from_numpy(x.astype(np.float32)), path, opset_version=13,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    onnx.checker.check_model(onnx.load(path))
    model.double()
    # The references use the float32 values the rewriter sees.
    x, x0 = x.astype(np.float32).astype(np.float64), x0.astype(np.float32).astype(np.float64)
    with torch.no_grad():
        change = (model(torch.from_numpy(x)) - model(torch.from_numpy(x0))).numpy()[np.arange(3), target]
    meta = {"target": target, "description": Net.__doc__}
    for rule in ("deeplift", "shapley"):
        attr, stuck = deeplift(model, x, x0, target, rule)
        sums = attr.reshape(3, -1).sum(1)
        assert np.allclose(sums, change, rtol=1e-9, atol=1e-12), (rule, sums, change)
        np.save(os.path.join(OUT, f"{rule}.npy"), attr.astype(np.float32))
        if rule == "deeplift":
            assert stuck > 0, "no window exercises the reference's winner"
            meta["windows_to_reference_winner"] = stuck
    np.save(os.path.join(OUT, "input.npy"), x.astype(np.float32))
    np.save(os.path.join(OUT, "baseline.npy"), x0.astype(np.float32))
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(meta)


if __name__ == "__main__":
    main()
