#!/usr/bin/env python3
"""Train and export the bundled demo model: a small CNN on sklearn's 8x8 digits.

Run from the repository root:

    /usr/bin/python3 models/make_digits.py

Requires torch (1.13), onnx (1.12), numpy and scikit-learn (the digits data set
ships with sklearn, no download). Deterministic (fixed seeds, CPU, fixed thread
count); takes a few seconds. Writes models/digits/{model.onnx, sample.npy,
sample-labels.json, README.md}.
"""
import json
import os
import random
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

warnings.filterwarnings("ignore")

SEED = 0
EPOCHS = 30
BATCH = 64
LR = 1e-3
OPSET = 13

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "digits")


def export(model, example, path, input_name, output_name, script):
    """ONNX export with a dynamic batch, checked, doc strings stripped, producer = the script."""
    torch.onnx.export(
        model, example, path, opset_version=OPSET, input_names=[input_name], output_names=[output_name],
        dynamic_axes={input_name: {0: "N"}, output_name: {0: "N"}}, do_constant_folding=True,
    )
    m = onnx.load(path)
    onnx.checker.check_model(m)
    m.producer_name = f"onnx-explain {script}"
    for node in m.graph.node:
        node.doc_string = ""
    onnx.save(m, path)


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # [N,16,8,8]
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # [N,32,4,4]
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def prepare(images):
    """uint-ish 0..16 [N,8,8] -> float32 [N,1,16,16] in [0,1] (bilinear x2)."""
    x = torch.from_numpy(images.astype(np.float32) / 16.0).unsqueeze(1)
    x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    return x.clamp(0.0, 1.0).contiguous()


def main():
    seed_everything(SEED)
    digits = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(
        digits.images, digits.target, test_size=0.2, random_state=SEED, stratify=digits.target
    )
    x_tr, x_te = prepare(x_tr), prepare(x_te)
    y_tr, y_te = torch.from_numpy(y_tr).long(), torch.from_numpy(y_te).long()

    model = DigitsCNN()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(len(x_tr), generator=gen)
        total = 0.0
        for i in range(0, len(perm), BATCH):
            idx = perm[i : i + BATCH]
            opt.zero_grad()
            loss = F.cross_entropy(model(x_tr[idx]), y_tr[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        if (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1:2d}  train loss {total / len(x_tr):.4f}")

    model.eval()
    with torch.no_grad():
        pred_te = model(x_te).argmax(1)
        train_acc = (model(x_tr).argmax(1) == y_tr).float().mean().item()
    test_acc = (pred_te == y_te).float().mean().item()
    print(f"train accuracy {train_acc:.4f}  test accuracy {test_acc:.4f} ({len(y_te)} test images)")
    assert test_acc > 0.95, "test accuracy unexpectedly low"

    os.makedirs(OUT, exist_ok=True)
    onnx_path = os.path.join(OUT, "model.onnx")
    export(model, x_te[:1], onnx_path, "input", "logits", "models/make_digits.py")

    # Four correctly classified test digits of different classes (first of each wanted class).
    want = [0, 3, 7, 8]
    picks = []
    for c in want:
        idx = [i for i in range(len(y_te)) if y_te[i] == c and pred_te[i] == c]
        picks.append(idx[0])
    sample = x_te[picks].numpy().astype(np.float32)
    labels = [int(y_te[i]) for i in picks]
    np.save(os.path.join(OUT, "sample.npy"), sample)
    with open(os.path.join(OUT, "sample-labels.json"), "w") as f:
        json.dump({"labels": labels}, f)
        f.write("\n")

    # Check the exported model against PyTorch if onnxruntime is around (optional).
    try:
        import onnxruntime as ort  # noqa: F401

        s = ort.InferenceSession(onnx_path, providers=["CPUExecutionProvider"])
        got = s.run(None, {"input": sample})[0]
        with torch.no_grad():
            ref = model(torch.from_numpy(sample)).numpy()
        print(f"onnxruntime max |diff| vs torch: {np.abs(got - ref).max():.2e}")
    except ImportError:
        pass

    size = os.path.getsize(onnx_path)
    params = sum(p.numel() for p in model.parameters())
    readme = f"""# Demo model: digits CNN

A small CNN for sklearn's 8x8 handwritten digits (1797 images, 10 classes), used by
`examples/demo.ts` (`npm run demo`). Regenerate (seeded: the same files on every run on one
machine; another CPU's float kernels change the trained weights' last bits, which training
amplifies, so the model may differ from the committed one by a few hundredths; CPU, a few seconds):

    /usr/bin/python3 models/make_digits.py

Needs torch 1.13, onnx 1.12, numpy, scikit-learn (the data set ships with sklearn).

## Input

`input`: float32 `[N, 1, 16, 16]`, grayscale. Each 8x8 digit (values 0..16) is divided by
16 and upsampled x2 with bilinear interpolation (`F.interpolate`, `align_corners=False`),
so values are in [0, 1], 0 = background, 1 = ink.

## Model

`logits`: float32 `[N, 10]` (no softmax). Batch axis `N` is dynamic. ONNX opset {OPSET}.

    Conv(1->16, 3x3, pad 1) Relu MaxPool(2)
    Conv(16->32, 3x3, pad 1) Relu MaxPool(2)
    Flatten Gemm(512->64) Relu Gemm(64->10)

{params} parameters, {size // 1024} KB.

## Training

Stratified 80/20 split (`train_test_split(..., test_size=0.2, random_state={SEED})`):
{len(y_tr)} training images, {len(y_te)} test images. Adam (lr {LR}), batch {BATCH},
{EPOCHS} epochs, cross-entropy, seed {SEED}, no augmentation.

Train accuracy {train_acc * 100:.2f}%, **test accuracy {test_acc * 100:.2f}%**.

## Files

| file | content |
|------|---------|
| `model.onnx` | the exported model |
| `sample.npy` | float32 `[4, 1, 16, 16]`: four test digits (classes {labels}), each correctly classified |
| `sample-labels.json` | `{{"labels": {labels}}}`, the true classes of `sample.npy` |
"""
    with open(os.path.join(OUT, "README.md"), "w") as f:
        f.write(readme)
    print(f"wrote {OUT}/ (model.onnx {size} bytes, {params} params); sample labels {labels}")


if __name__ == "__main__":
    main()
