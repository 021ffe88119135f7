#!/usr/bin/env python3
"""Independent references for CDeepEx's constrained search on the biased digits pair: SLSQP (scipy)
on PyTorch float64 models of the committed ONNX weights.

Run from the repository root, after models/make_cdeepex.py:

    /usr/bin/python3 models/make_cdeepex_nearest.py

Requires torch, onnx, numpy and scipy. For each of the 50 study samples (models/cdeepex/samples.npy)
with A = the biased classifier's answer and B = 8: z0 = the best of 8 seeded Adam runs on
‖G(z) − I‖² (lr 0.05, 300 steps, as the runtime's defaults), residual = I − G(z0), and
ze = argmin ‖z − z0‖² s.t. llh_A = llh_B ≥ llh_i (every other i) by SLSQP from z0 (and from a
second start, the first feasible point it reached, shifted back halfway to z0), the nearest feasible end kept.
Writes models/cdeepex/reference/nearest.json.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnx.numpy_helper
import torch
import torch.nn.functional as F
from scipy.optimize import minimize

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_cdeepex import BIASED_CLASS, LATENT, OUT, Classifier, Decoder  # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)


def load(module, name):
    weights = {i.name: torch.tensor(onnx.numpy_helper.to_array(i).copy()) for i in onnx.load(os.path.join(OUT, "biased", f"{name}.onnx")).graph.initializer}
    module.load_state_dict(weights)
    return module.double().eval()


def reconstruct(dec, image, seed):
    z = torch.tensor(np.random.RandomState(seed).randn(8, LATENT), requires_grad=True)
    opt = torch.optim.Adam([z], lr=0.05)
    for _ in range(300):
        opt.zero_grad()
        ((dec(z) - image) ** 2).sum().backward()
        opt.step()
    with torch.no_grad():
        loss = ((dec(z) - image) ** 2).sum(dim=(1, 2, 3))
    return z[loss.argmin()].detach().numpy()


def nearest(clf, dec, z0, residual, a, b):
    others = [k for k in range(10) if k not in (a, b)]

    def constraints(z):
        llh = F.log_softmax(clf(dec(z[None]) + residual), 1)[0]
        return torch.cat([(llh[a] - llh[b])[None], llh[a] - llh[others], llh[b] - llh[others]])

    value = lambda z: constraints(torch.tensor(z)).detach().numpy()
    jac = lambda z: torch.autograd.functional.jacobian(constraints, torch.tensor(z)).numpy()
    cons = [{"type": "eq", "fun": lambda z: value(z)[:1], "jac": lambda z: jac(z)[:1]},
            {"type": "ineq", "fun": lambda z: value(z)[1:], "jac": lambda z: jac(z)[1:]}]
    best = None
    starts = [z0 + 1e-3 * np.random.RandomState(0).randn(LATENT)]
    while starts:
        res = minimize(lambda z: ((z - z0) ** 2).sum(), starts.pop(), jac=lambda z: 2 * (z - z0), method="SLSQP", constraints=cons,
                       options={"maxiter": 500, "ftol": 1e-12})
        c = value(res.x)
        if abs(c[0]) <= 1e-4 and c[1:].min() >= -1e-4 and (best is None or np.linalg.norm(res.x - z0) < np.linalg.norm(best - z0)):
            if best is None:
                starts.append(z0 + 0.5 * (res.x - z0))
            best = res.x
    return best


def short(values):
    """float32 precision (9 significant digits) keeps the file small; the runtime reads float32."""
    return [float(f"{v:.9g}") for v in np.asarray(values).tolist()]


def main():
    clf, dec = load(Classifier(), "classifier"), load(Decoder(), "generator")
    samples = torch.tensor(np.load(os.path.join(OUT, "samples.npy")).astype(np.float64))
    cases = []
    for index in range(len(samples)):
        image = samples[index : index + 1]
        with torch.no_grad():
            a = int(clf(image).argmax())
        z0 = reconstruct(dec, image, index)
        with torch.no_grad():
            residual = image - dec(torch.tensor(z0)[None])
        ze = nearest(clf, dec, z0, residual, a, BIASED_CLASS)
        case = {"index": index, "a": a, "b": BIASED_CLASS, "z0": short(z0), "residual": short(residual.flatten()),
                "ze": None if ze is None else short(ze), "distance": None if ze is None else float(np.linalg.norm(ze - z0))}
        cases.append(case)
        print(f"sample {index}: A {a}, ‖ze − z0‖ {case['distance']}", flush=True)
    with open(os.path.join(OUT, "reference", "nearest.json"), "w") as f:
        json.dump({"cases": cases}, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
