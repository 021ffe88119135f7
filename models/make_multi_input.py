#!/usr/bin/env python3
"""Regenerate models/multi/two_inputs/: a classifier with two float inputs (an image-like
signal [N,2,12] and a tabular vector [N,5]), with PyTorch autograd references for joint
attribution to both inputs; and models/multi/clip_prompts/: a CLIP-style zero-shot scorer of
images [N,3,16,16] against prompts [K,6] (logits [N,K]).

Run from the repository root:

    /usr/bin/python3 models/make_multi_input.py

Requires torch (1.13), onnx (1.12) and numpy; deterministic. See models/README.md.
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn

torch.set_num_threads(2)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "multi", "two_inputs")


class TwoInputs(nn.Module):
    """signal → Conv1d-Relu-MaxPool-Flatten; tabular → Linear-Tanh; the signal branch gated by a
    Sigmoid of the tabular one (product of two activations), both reading `tabular` again through
    a skip (fan-out), then Linear-Relu-Linear to 4 logits."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(2, 3, 3, padding=1)
        self.pool = nn.MaxPool1d(2)
        self.tab = nn.Linear(5, 6)
        self.gate = nn.Linear(5, 18)
        self.fc1 = nn.Linear(18 + 6 + 5, 10)
        self.fc2 = nn.Linear(10, 4)

    def forward(self, signal, tabular):
        s = self.pool(torch.relu(self.conv(signal))).flatten(1)
        s = s * torch.sigmoid(self.gate(tabular))
        t = torch.tanh(self.tab(tabular))
        h = torch.relu(self.fc1(torch.cat([s, t, tabular], dim=1)))
        return self.fc2(h)


def main():
    torch.manual_seed(0)
    net = TwoInputs().eval()
    os.makedirs(OUT, exist_ok=True)
    signal = torch.randn(3, 2, 12)
    tabular = torch.randn(3, 5)
    base_signal = 0.1 * torch.randn(1, 2, 12)
    base_tabular = 0.1 * torch.randn(1, 5)
    torch.onnx.export(net, (signal, tabular), os.path.join(OUT, "model.onnx"), opset_version=13,
                      input_names=["signal", "tabular"], output_names=["logits"],
                      dynamic_axes={"signal": {0: "N"}, "tabular": {0: "N"}, "logits": {0: "N"}})
    target = [1, 3, 0]
    net64 = net.double()

    def grads(s, t):
        s = s.double().clone().requires_grad_(True)
        t = t.double().clone().requires_grad_(True)
        y = net64(s, t)
        y[torch.arange(len(target)), target].sum().backward()
        return s.grad, t.grad

    gs, gt = grads(signal, tabular)
    # Integrated gradients (riemann_middle, 16 steps): Σ_k 1/16 · ∇f(x⁰ + α_k (x − x⁰)) · (x − x⁰).
    steps = 16
    ig_s = torch.zeros_like(gs)
    ig_t = torch.zeros_like(gt)
    for k in range(steps):
        alpha = (k + 0.5) / steps
        a, b = grads(base_signal + alpha * (signal - base_signal), base_tabular + alpha * (tabular - base_tabular))
        ig_s += a / steps
        ig_t += b / steps
    ig_s *= signal.double() - base_signal.double()
    ig_t *= tabular.double() - base_tabular.double()
    with torch.no_grad():
        y = net64(signal.double(), tabular.double())
        y0 = net64(base_signal.double(), base_tabular.double())
    arrays = {
        "signal": signal, "tabular": tabular, "base_signal": base_signal, "base_tabular": base_tabular,
        "logits": y, "grad_signal": gs, "grad_tabular": gt, "ig_signal": ig_s, "ig_tabular": ig_t,
        "explained": y[torch.arange(3), target] - y0[0, target],
    }
    for name, a in arrays.items():
        np.save(os.path.join(OUT, f"{name}.npy"), a.detach().numpy().astype(np.float32))
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump({"target": target, "ig_steps": steps, "ig_method": "riemann_middle",
                   "description": "two float inputs; float64 autograd gradients of logit[target] w.r.t. both, "
                                  "integrated gradients (riemann_middle, 16 steps) from base_* to the inputs, "
                                  "f(x) − f(x⁰) of the target logit"}, f, indent=1)


class ClipPrompts(nn.Module):
    """CLIP's zero-shot scores at tiny sizes: a CNN image encoder and a one-layer attention text
    encoder (mean over the unmasked tokens), both L2-normalised, logits = 10 · images · promptsᵀ
    [N, K]: the images' batch N and the prompts' K are two batch axes (optimum's CLIP export)."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2, self.img = nn.Conv2d(3, 8, 3, padding=1), nn.Conv2d(8, 12, 3, stride=2, padding=1), nn.Linear(12, 16)
        self.emb, self.pos = nn.Embedding(30, 16), nn.Parameter(torch.randn(1, 6, 16) * 0.1)
        self.q, self.k, self.v, self.ln = nn.Linear(16, 16), nn.Linear(16, 16), nn.Linear(16, 16), nn.LayerNorm(16)

    def forward(self, image, input_ids, attention_mask):
        a = self.img(torch.relu(self.c2(torch.relu(self.c1(image)))).mean((2, 3)))
        h, m = self.emb(input_ids) + self.pos, attention_mask.to(image.dtype)
        att = self.q(h) @ self.k(h).transpose(1, 2) / 4.0 + (1.0 - m[:, None, :]) * -1e4
        h = self.ln(h + torch.softmax(att, -1) @ self.v(h))
        b = (h * m[:, :, None]).sum(1) / m.sum(1, keepdim=True)
        return 10.0 * nn.functional.normalize(a, dim=-1) @ nn.functional.normalize(b, dim=-1).t()


def clip_prompts():
    torch.manual_seed(5)
    net = ClipPrompts().eval()
    out = os.path.join(HERE, "multi", "clip_prompts")
    os.makedirs(out, exist_ok=True)
    image = torch.randn(3, 3, 16, 16)
    ids = torch.randint(1, 30, (3, 6))
    mask = torch.tensor([[1] * 6, [1] * 4 + [0] * 2, [1] * 5 + [0]])
    torch.onnx.export(net, (image, ids, mask), os.path.join(out, "model.onnx"), opset_version=17,
                      input_names=["image", "input_ids", "attention_mask"], output_names=["logits"],
                      dynamic_axes={"image": {0: "N"}, "input_ids": {0: "K"}, "attention_mask": {0: "K"}, "logits": {0: "N", 1: "K"}})
    target = [0, 2, 1]
    net64 = net.double()
    x = image.double().requires_grad_(True)
    logits = net64(x, ids, mask)
    (grad,) = torch.autograd.grad(logits[torch.arange(3), target].sum(), x)
    for name, a in {"image": image, "input_ids": ids, "attention_mask": mask, "logits": logits, "grad_image": grad}.items():
        np.save(os.path.join(out, f"{name}.npy"), a.detach().numpy().astype(np.int64 if name in ("input_ids", "attention_mask") else np.float32))
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump({"target": target, "description": ClipPrompts.__doc__.replace("\n    ", " ") +
                   " grad_image = d logits[n, target[n]] / d image, float64 autograd, the three prompts fed"}, f, indent=1)


if __name__ == "__main__":
    import sys
    if sys.argv[1:] and sys.argv[1:] != ["clip"]:
        sys.exit("make_multi_input.py: give clip, or nothing for all (got %r)" % " ".join(sys.argv[1:]))
    {"clip": clip_prompts}.get(" ".join(sys.argv[1:]), main)()
