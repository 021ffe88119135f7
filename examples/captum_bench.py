#!/usr/bin/env python3
"""Times Captum's Saliency and DeepLift on a torchvision model, for `npm run bench`'s comparison.

    PYTHONPATH=/path/to/captum /usr/bin/python3 examples/captum_bench.py MODEL BATCHES RUNS THREADS

MODEL is resnet18 or resnet50 with the weights models/export_torchvision.py exports (torchvision's
initialisation, seed 0), BATCHES a comma list. Prints one JSON object per line: batch, method
(saliency, deeplift-zero, deeplift-per-row), the median milliseconds of RUNS calls and the
fastest call (PyTorch's times swing by 2-3x from call to call on this machine); targets as
the bench's ((r·97 + 7) mod 1000 per row). PyTorch runs on THREADS threads, as many as the
bench's onnxruntime sessions (PyTorch's own default counts physical cores, as onnxruntime's does).
Captum's DeepLift hooks nn.ReLU modules and needs one module per use: torchvision's blocks reuse
one ReLU, so each block gets its own ReLU per use (what Captum's tutorials do).
"""
import json
import sys
import time
import warnings

import torch
import torch.nn as nn
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck

warnings.filterwarnings("ignore")
from captum.attr import DeepLift, Saliency  # noqa: E402


def basic_forward(self, x):
    out = self.relu_a(self.bn1(self.conv1(x)))
    out = self.bn2(self.conv2(out))
    return self.relu_out(out + (self.downsample(x) if self.downsample is not None else x))


def bottleneck_forward(self, x):
    out = self.relu_a(self.bn1(self.conv1(x)))
    out = self.relu_b(self.bn2(self.conv2(out)))
    out = self.bn3(self.conv3(out))
    return self.relu_out(out + (self.downsample(x) if self.downsample is not None else x))


def model(name):
    torch.manual_seed(0)
    m = getattr(torchvision.models, name)(weights=None).eval()
    m.relu = nn.ReLU()
    for block in m.modules():
        if isinstance(block, (BasicBlock, Bottleneck)):
            block.relu_a, block.relu_b, block.relu_out = nn.ReLU(), nn.ReLU(), nn.ReLU()
            forward = basic_forward if isinstance(block, BasicBlock) else bottleneck_forward
            block.forward = forward.__get__(block)
    return m


def times_ms(f, runs):
    f()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        f()
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"ms": times[len(times) // 2], "fastest_ms": times[0]}


def main():
    name, batches, runs = sys.argv[1], [int(b) for b in sys.argv[2].split(",")], int(sys.argv[3])
    torch.set_num_threads(int(sys.argv[4]))
    m = model(name)
    saliency, deeplift = Saliency(m), DeepLift(m)
    torch.manual_seed(1)
    for b in batches:
        x = torch.rand(b, 3, 224, 224) * 4 - 2
        target = [(r * 97 + 7) % 1000 for r in range(b)]
        cases = {
            "saliency": lambda: saliency.attribute(x, target=target, abs=False),
            "deeplift-zero": lambda: deeplift.attribute(x, target=target),
            "deeplift-per-row": lambda: deeplift.attribute(x, baselines=torch.rand(b, 3, 224, 224) * 4 - 2, target=target),
        }
        for method, f in cases.items():
            print(json.dumps({"batch": b, "method": method, **times_ms(f, runs)}), flush=True)


if __name__ == "__main__":
    main()
