#!/usr/bin/env python3
"""Regenerate models/lrp-composites/: a small CNN (biases on every layer, inputs of both signs) and
LRP relevances of Zennit's five composites, computed layer by layer in float64 with autograd.

Run from the repository root:

    /usr/bin/python3 models/make_lrp_composites.py

Requires torch (1.13), onnx (1.12), numpy and sklearn (make_digits' export); deterministic. See
models/README.md.

Each layer's rule is written out as the modified forward passes it shares relevance by (the
formulas of Montavon et al. 2019 and of Zennit's rules, in Zennit's generalised form for γ): the
relevance of a layer's input is Σ_k x_k ⊙ ∂(f_k(x_k) · s_k)/∂x_k with s_k = R / stab(z), no
augmented graph involved. ε = stabiliser = 1e-6; z⁺ and α-β leave the biases out, γ keeps them
(b + γb⁺), flat and z^B have none (z^B's cancel); MaxPool passes relevance to its winner.
"""
import json
import os
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_digits import export  # noqa: E402

warnings.filterwarnings("ignore")
torch.set_num_threads(2)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "lrp-composites")
EPS = 1e-6
GAMMA = 0.25
LOW, HIGH = -1.0, 1.0
DENSE_EPS = 0.25


class Net(nn.Module):
    """conv → ReLU → conv (stride 2) → ReLU → MaxPool(2) → linear → ReLU → linear."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 8, 3, stride=2, padding=1)
        self.fc1 = nn.Linear(8 * 4 * 4, 16)
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x):
        h = F.max_pool2d(torch.relu(self.conv2(torch.relu(self.conv1(x)))), 2)
        return self.fc2(torch.relu(self.fc1(h.flatten(1))))


def stab(z, eps=EPS):
    return z + eps * (2 * (z >= 0).double() - 1)


def pos(t):
    return t.clamp(min=0)


def neg(t):
    return t.clamp(max=0)


def shares(layer, terms, R, mask=None, bias=0, eps=EPS):
    """Σ_k σ_k x_k ⊙ ∂f(x_k; w_k)ᵀ s with s = R / stab(Σ_k σ_k f(x_k; w_k) + bias) (masked); terms: (x, w, σ)."""
    xs = [x.detach().clone().requires_grad_(True) for x, _, _ in terms]
    outs = [layer(x, w) for x, (_, w, _) in zip(xs, terms)]
    s = R / stab(sum(sign * o for o, (_, _, sign) in zip(outs, terms)) + bias, eps)
    if mask is not None:
        s = s * mask
    grads = torch.autograd.grad(sum((o * s.detach()).sum() for o in outs), xs)
    return sum(sign * x.detach() * g for x, g, (_, _, sign) in zip(xs, grads, terms))


def rule_relevance(rule, module, a, R, z, epsilon=EPS):
    """The relevance of a layer's input a from its output's R (z: its output, bias included); `epsilon`
    is the ε rule's, EPS every other rule's stabiliser."""
    w, b = module.weight.detach(), module.bias.detach()
    shape = b.shape + (1,) * (z.dim() - 2)
    if isinstance(module, nn.Conv2d):
        def layer(x, weights):
            return F.conv2d(x, weights, None, module.stride, module.padding)
    else:
        def layer(x, weights):
            return F.linear(x, weights)
    if rule == "epsilon":
        return shares(layer, [(a, w, 1)], R, bias=b.reshape(shape), eps=epsilon)
    if rule in ("zplus", "alpha2-beta1"):
        alpha, beta = (1, 0) if rule == "zplus" else (2, 1)
        plus = shares(layer, [(pos(a), pos(w), 1), (neg(a), neg(w), 1)], R)
        minus = shares(layer, [(pos(a), neg(w), 1), (neg(a), pos(w), 1)], R)
        return alpha * plus - beta * minus
    if rule == "gamma":
        up, down = w + GAMMA * pos(w), w + GAMMA * neg(w)
        bb = b.reshape(shape)
        r_up = shares(layer, [(pos(a), up, 1), (neg(a), down, 1)], R, (z > 0).double(), bb + GAMMA * pos(bb))
        r_down = shares(layer, [(pos(a), down, 1), (neg(a), up, 1)], R, (z < 0).double(), bb + GAMMA * neg(bb))
        return r_up + r_down
    if rule == "flat":
        ones = torch.ones_like(a).requires_grad_(True)
        out = layer(ones, torch.ones_like(w))
        return torch.autograd.grad((out * (R / stab(out)).detach()).sum(), ones)[0]
    if rule == "zbox":
        # z = W·x − W⁺·l − W⁻·h (the biases cancel).
        return shares(layer, [(a, w, 1), (torch.full_like(a, LOW), pos(w), -1), (torch.full_like(a, HIGH), neg(w), -1)], R)
    raise ValueError(rule)


COMPOSITES = {
    "lrp-epsilon-plus": {"first": None, "conv": "zplus"},
    "lrp-epsilon-plus-flat": {"first": "flat", "conv": "zplus"},
    "lrp-epsilon-alpha2-beta1": {"first": None, "conv": "alpha2-beta1"},
    "lrp-epsilon-alpha2-beta1-flat": {"first": "flat", "conv": "alpha2-beta1"},
    "lrp-epsilon-gamma-box": {"first": "zbox", "conv": "gamma"},
}


def relevance(model, x, target, composite, epsilon=EPS):
    """Input relevance of the target logit, rows independent; `epsilon` the dense layers' ε."""
    x = torch.from_numpy(x)
    a1 = torch.relu(model.conv1(x))
    z2 = model.conv2(a1)
    a2 = torch.relu(z2)
    a2v = a2.detach().requires_grad_(True)
    p = F.max_pool2d(a2v, 2)
    f = p.flatten(1)
    z3 = model.fc1(f)
    a3 = torch.relu(z3)
    z4 = model.fc2(a3)
    R = torch.zeros_like(z4)
    R[np.arange(len(target)), target] = z4.detach()[np.arange(len(target)), target]
    spec = COMPOSITES[composite]
    R = rule_relevance("epsilon", model.fc2, a3.detach(), R, z4.detach(), epsilon)
    R = rule_relevance("epsilon", model.fc1, f.detach(), R, z3.detach(), epsilon)
    # MaxPool: the winner takes the relevance (the pooling's gradient routes it).
    R = torch.autograd.grad((p * R.reshape(p.shape)).sum(), a2v)[0]
    R = rule_relevance(spec["conv"], model.conv2, a1.detach(), R, z2.detach())
    return rule_relevance(spec["first"] or spec["conv"], model.conv1, x, R, model.conv1(x).detach())


def main():
    torch.manual_seed(5)
    model = Net().double().eval()
    with torch.no_grad():
        for m in (model.conv1, model.conv2, model.fc1, model.fc2):
            m.bias.normal_(0, 0.3)
    gen = np.random.RandomState(5)
    x = gen.uniform(LOW, HIGH, (2, 3, 16, 16))
    target = [3, 1]
    os.makedirs(OUT, exist_ok=True)
    export(model.float(), torch.from_numpy(x.astype(np.float32)), os.path.join(OUT, "model.onnx"), "input", "logits", "make_lrp_composites.py")
    model.double()
    # The references use the float32 values the rewriter sees.
    x = x.astype(np.float32).astype(np.float64)
    meta = {"target": target, "gamma": GAMMA, "box": [LOW, HIGH], "epsilon": EPS, "description": Net.__doc__, "sums": {}}
    for name in COMPOSITES:
        r = relevance(model, x, target, name).numpy()
        meta["sums"][name] = r.reshape(2, -1).sum(1).tolist()
        np.save(os.path.join(OUT, f"{name}.npy"), r.astype(np.float32))
    # Zennit's epsilon and stabilizer apart: ε = 0.25 at the dense layers, 10⁻⁶ in every other rule.
    meta["dense_epsilon"] = DENSE_EPS
    r = relevance(model, x, target, "lrp-epsilon-plus-flat", DENSE_EPS).numpy()
    np.save(os.path.join(OUT, "lrp-epsilon-plus-flat-dense-epsilon.npy"), r.astype(np.float32))
    np.save(os.path.join(OUT, "input.npy"), x.astype(np.float32))
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print(json.dumps(meta["sums"]))


if __name__ == "__main__":
    main()
