#!/usr/bin/env python3
"""Export torchvision classifiers as users export them, for the benchmark (`npm run bench`).

    /usr/bin/python3 models/export_torchvision.py OUT_DIR [resnet18 resnet50 mobilenet_v2 ...]

Each model gets random weights (torchvision's own initialisation, fixed seed; nothing is
downloaded) and is exported with torch.onnx's defaults: eval mode (BatchNorm folded into the
preceding Conv), opset 13, input 'input' [N,3,224,224] with a dynamic batch, output 'logits'.
Writes OUT_DIR/<name>.onnx through a temporary file. Needs torch and torchvision.
"""
import inspect
import os
import sys
import warnings

import torch
import torchvision

warnings.filterwarnings("ignore")
torch.set_num_threads(2)
# torch >= 2.9 exports through dynamo by default; the TorchScript exporter is the one that folds
# BatchNorm into Conv, as the exports of earlier torch versions (and the bench's figures) have it.
TORCHSCRIPT = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


def export(name, out_dir):
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None).eval()
    file = os.path.join(out_dir, f"{name}.onnx")
    tmp = f"{file}.tmp-{os.getpid()}"
    torch.onnx.export(
        model, torch.zeros(1, 3, 224, 224), tmp, opset_version=13,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}}, **TORCHSCRIPT,
    )
    os.replace(tmp, file)
    print(f"wrote {file}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for name in sys.argv[2:] or ["resnet18", "resnet50", "mobilenet_v2"]:
        export(name, out_dir)


if __name__ == "__main__":
    main()
