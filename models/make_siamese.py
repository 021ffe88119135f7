#!/usr/bin/env python3
"""Regenerate models/multi/siamese/: a Siamese tracker's score head whose Conv weights are computed
from the input — the exemplar's features correlated with the search region's (SiamFC's
cross-correlation with a bias from the exemplar, SiamRPN++'s depthwise form with the exemplar's
channels as groups) and a ConvTranspose upsampling with a kernel predicted from the exemplar —
exported at batch 1 as trackers are, the exemplar cropped from the same frame so that one input
feeds both branches. References: PyTorch float64 autograd of the target score (grad.npy).

Run from the repository root:

    /usr/bin/python3 models/make_siamese.py

Requires torch (1.13), onnx (1.12) and numpy; deterministic. See models/README.md.
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "multi", "siamese")


class SiameseHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 8, 3, stride=2))
        self.mix = nn.Conv2d(8, 1, 1)
        self.kernel = nn.Linear(8, 9)

    def forward(self, frame):
        search = self.features(frame)                      # [1, 8, 15, 15]
        exemplar = self.features(frame[:, :, 8:23, 8:23])  # [1, 8, 7, 7]
        xcorr = F.conv2d(search, exemplar, bias=exemplar.mean().view(1))  # [1, 1, 9, 9]
        depthwise = F.conv2d(search, exemplar.view(8, 1, 7, 7), groups=8, padding=1)  # [1, 8, 11, 11]
        score = xcorr + self.mix(torch.relu(depthwise))[:, :, 1:10, 1:10]
        kernel = torch.tanh(self.kernel(exemplar.mean((2, 3)))).view(1, 1, 3, 3)
        return F.conv_transpose2d(score, kernel, stride=2).flatten(1)  # [1, 361]


def main():
    torch.manual_seed(0)
    net = SiameseHead().eval()
    os.makedirs(OUT, exist_ok=True)
    frame = torch.randn(1, 3, 31, 31)
    torch.onnx.export(net, (frame,), os.path.join(OUT, "model.onnx"), opset_version=13,
                      input_names=["frame"], output_names=["scores"])
    target = int(net(frame)[0].argmax())
    net64 = net.double()
    x = frame.double().clone().requires_grad_(True)
    net64(x)[0, target].backward()
    np.save(os.path.join(OUT, "input.npy"), frame.numpy())
    np.save(os.path.join(OUT, "grad.npy"), x.grad.float().numpy())
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump({"opset": 13, "target": [target], "softmax": False, "batch_fixed": True}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
