#!/usr/bin/env python3
"""Regenerate the class-activation-map fixtures under models/cam-fixtures/.

Run from the repository root:

    /usr/bin/python3 models/make_cam_fixtures.py

Small CNNs whose last convolutional map goes through global average pooling and one linear layer,
exported to ONNX, with references computed in PyTorch (float64) from forward hooks and
tensor.retain_grad():

- cam.npy               CAM (Zhou et al. 2016): sum_k w[target, k] * A_k, A = last conv map
- gradcam_<layer>.npy   Grad-CAM without ReLU: sum_c mean_hw(d logit / d A_c) * A_c, shape (N,1,h,w)
- gradcam_up.npy        ReLU(Grad-CAM at 'last') upsampled to the input size by F.interpolate
                        (linear / bilinear / trilinear, align_corners=False): Captum's LayerAttribution.interpolate
- guided_gradcam.npy    Captum GuidedGradCam: guided backprop * F.interpolate(ReLU(Grad-CAM at 'last'),
                        input size, mode='nearest')
Deterministic (fixed seeds). Reuses make_fixtures.py's guided-backprop ReLU hooks.
"""
import json
import os
import shutil
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402

OUT_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cam-fixtures")


class MeanHW(nn.Module):
    """Global average pooling as x.mean((2, 3)) (exports ReduceMean keepdims=0)."""

    def forward(self, x):
        return x.mean((2, 3))


class MatMulAdd(nn.Module):
    """A linear layer exported as MatMul + Add (weight stored [K, C])."""

    def __init__(self, k, c):
        super().__init__()
        self.w = nn.Parameter(torch.randn(k, c) * 0.3)
        self.b = nn.Parameter(torch.randn(c) * 0.1)

    def forward(self, x):
        return x @ self.w + self.b

    def class_weights(self):
        return self.w.t()


def conv_body_2d(head):
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), *head)


MODELS = {
    # name: (opset, input shape, classes, softmax, body factory, layer indices)
    "cam_gap": (11, (3, 3, 16, 16), 5, False,
                lambda: conv_body_2d([nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 5)])),
    "cam_mean": (13, (3, 3, 16, 16), 5, True, lambda: conv_body_2d([MeanHW(), MatMulAdd(16, 5)])),
    "cam_seq": (11, (3, 4, 24), 3, False, lambda: nn.Sequential(
        nn.Conv1d(4, 8, 5, padding=2), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(8, 8, 3, padding=1), nn.ReLU(), nn.Conv1d(8, 8, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(8, 3))),
    # A video net (N, C, T, H, W) as torchvision's r3d/mc3: Conv3d, MaxPool3d, global average pooling.
    "cam_video": (13, (3, 3, 4, 8, 8), 5, False, lambda: nn.Sequential(
        nn.Conv3d(3, 6, 3, padding=1), nn.ReLU(), nn.MaxPool3d((1, 2, 2)),
        nn.Conv3d(6, 8, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2),
        nn.Conv3d(8, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1), nn.Flatten(), nn.Linear(8, 5))),
}
# Layers (indices into the body) whose Grad-CAM is saved; 'last' is the map CAM uses.
LAYERS = {"cam_gap": {"last": 7, "mid": 4}, "cam_mean": {"last": 7, "mid": 4}, "cam_seq": {"last": 6, "mid": 4},
          "cam_video": {"last": 7, "mid": 4}}


def hooked_forward(model, x, layers):
    """Logits and each hooked module's output (float64) with retained gradients."""
    acts = {}
    handles = []
    for key, i in layers.items():
        def hook(mod, inp, out, key=key):
            out.retain_grad()
            acts[key] = out
        handles.append(model.body[i].register_forward_hook(hook))
    logits = model.body(x)
    for h in handles:
        h.remove()
    return logits, acts


def make(name):
    opset, shape, classes, softmax, factory = MODELS[name]
    torch.manual_seed(sum(map(ord, name)))
    model = mf.Net(factory(), softmax).eval()
    x = np.random.RandomState(1).randn(*shape).astype(np.float32)
    target = np.random.RandomState(0).randint(classes, size=shape[0]).astype(np.int64)
    d = os.path.join(OUT_ROOT, name)
    os.makedirs(d)
    m = mf.export(model, x, os.path.join(d, "model.onnx"), opset)
    produced = {o for n in m.graph.node for o in n.output}
    op = "Relu"
    names = {key: "/body/body.%d/%s_output_0" % (i, op) for key, i in LAYERS[name].items()}
    assert all(v in produced for v in names.values()), names

    md = model.double()
    xd = torch.from_numpy(x.astype(np.float64))
    logits, acts = hooked_forward(md, xd, LAYERS[name])
    logits.gather(1, torch.from_numpy(target).view(-1, 1)).sum().backward()
    spatial = tuple(range(2, xd.dim()))
    refs = {}
    for key, a in acts.items():
        weights = a.grad.mean(spatial, keepdim=True)
        refs["gradcam_" + key] = (weights * a).sum(1, keepdim=True).detach()
    last = acts["last"].detach()
    head = md.body[-1]
    w = head.class_weights() if isinstance(head, MatMulAdd) else head.weight
    cam = torch.einsum("nk,nk...->n...", w[torch.from_numpy(target)], last).unsqueeze(1).detach()
    refs["cam"] = cam
    # With global average pooling, d logit / dA_k = w_k / (h·w): Grad-CAM = CAM / (h·w).
    assert torch.allclose(refs["gradcam_last"] * last[0, 0].numel(), cam, atol=1e-10)
    size = tuple(x.shape[2:])
    relu_last = F.relu(refs["gradcam_last"])
    refs["gradcam_up"] = F.interpolate(relu_last, size=size, mode={1: "linear", 2: "bilinear", 3: "trilinear"}[len(size)], align_corners=False)
    guided, _ = mf.grad_ref(model, x, target, "guided")
    refs["guided_gradcam"] = torch.from_numpy(guided) * F.interpolate(relu_last, size=size, mode="nearest")
    model.float()
    with torch.no_grad():
        out = model(torch.from_numpy(x)).numpy()
    np.save(os.path.join(d, "input.npy"), x)
    np.save(os.path.join(d, "output.npy"), out.astype(np.float32))
    for key, v in refs.items():
        np.save(os.path.join(d, key + ".npy"), v.numpy().astype(np.float32))
    meta = {"opset": opset, "target": [int(t) for t in target], "softmax": softmax, "batch_fixed": False,
            "layers": names, "description": "GAP + linear head; CAM / Grad-CAM references from hooks"}
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    print("%-8s opset %d input %s layers %s" % (name, opset, list(shape), names))


def main():
    if os.path.isdir(OUT_ROOT):
        shutil.rmtree(OUT_ROOT)
    os.makedirs(OUT_ROOT)
    for name in MODELS:
        make(name)


if __name__ == "__main__":
    sys.exit(main())
