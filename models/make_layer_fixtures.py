#!/usr/bin/env python3
"""Regenerate models/layers/: models whose useful value is an intermediate tensor, with PyTorch
autograd references for explaining intermediate tensors and for layer attribution.

Run from the repository root:

    /usr/bin/python3 models/make_layer_fixtures.py

Requires torch (1.13), onnx (1.12) and numpy; deterministic. See models/README.md.
"""
import json
import os
import shutil
import warnings

import numpy as np
import onnx
import onnx.helper as oh
import torch
import torch.nn as nn

warnings.filterwarnings("ignore")
torch.set_num_threads(2)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_ROOT = os.path.join(HERE, "layers")


class Net(nn.Module):
    """Conv-Relu (layer1) → Conv-Relu (features) → GAP → Linear (logits)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.fc = nn.Linear(6, 5)

    def forward(self, x):
        layer1 = torch.relu(self.conv1(x))
        features = torch.relu(self.conv2(layer1))
        logits = self.fc(features.mean(dim=(2, 3)))
        return logits, layer1, features


def output_name(model, op_type, index):
    return [n for n in model.graph.node if n.op_type == op_type][index].output[0]


def threshold_if(out_dir):
    """The exported graph ends in Softmax → If(max prob > 0.5: probs, else zeros) and ArgMax: the
    graph outputs have no gradient; the logits, the feature maps and layer1 are intermediate."""
    torch.manual_seed(0)
    net = Net().eval()
    x = torch.randn(3, 3, 8, 8)
    path = os.path.join(out_dir, "model.onnx")
    torch.onnx.export(net, x, path, opset_version=13, input_names=["input"], output_names=["logits_out"],
                      dynamic_axes={"input": {0: "N"}, "logits_out": {0: "N"}})
    m = onnx.load(path)
    # Keep only the logits' producer; the model's outputs become the post-processing below.
    gemm = [n for n in m.graph.node if n.op_type == "Gemm"][0]
    gemm.output[0] = "logits"
    layer1 = output_name(m, "Relu", 0)
    features = output_name(m, "Relu", 1)
    del m.graph.output[:]
    zero = oh.make_tensor("zero", onnx.TensorProto.FLOAT, [], [0.0])
    half = oh.make_tensor("half", onnx.TensorProto.FLOAT, [], [0.5])
    m.graph.initializer.extend([zero, half])
    then_branch = oh.make_graph([oh.make_node("Identity", ["probs"], ["kept"])], "then", [],
                                [oh.make_tensor_value_info("kept", onnx.TensorProto.FLOAT, ["N", 5])])
    else_branch = oh.make_graph([oh.make_node("Mul", ["probs", "zero"], ["dropped"])], "else", [],
                                [oh.make_tensor_value_info("dropped", onnx.TensorProto.FLOAT, ["N", 5])])
    m.graph.node.extend([
        oh.make_node("Softmax", ["logits"], ["probs"], axis=1),
        oh.make_node("ReduceMax", ["probs"], ["top"], keepdims=0),
        oh.make_node("Greater", ["top", "half"], ["confident"]),
        oh.make_node("If", ["confident"], ["score"], then_branch=then_branch, else_branch=else_branch),
        oh.make_node("ArgMax", ["probs"], ["label"], axis=1, keepdims=0),
    ])
    m.graph.output.extend([
        oh.make_tensor_value_info("score", onnx.TensorProto.FLOAT, ["N", 5]),
        oh.make_tensor_value_info("label", onnx.TensorProto.INT64, ["N"]),
    ])
    onnx.checker.check_model(m)
    onnx.save(m, path)

    targets = [1, 3, 4]
    channel = 4  # mean over H, W of features[n, 4]
    x64 = x.double().requires_grad_(True)
    net64 = Net()
    net64.load_state_dict(net.state_dict())
    net64 = net64.double().eval()
    logits, l1, feats = net64(x64)
    # The pixel of the feature maps most active in every row: features[n, c, i, j].
    weakest = feats.detach().min(dim=0).values
    pixel = tuple(int(v) for v in np.unravel_index(int(weakest.argmax()), weakest.shape))
    l1.retain_grad()

    def grad_of(value, wrt):
        return torch.autograd.grad(value, wrt, retain_graph=True)[0].detach().numpy().astype(np.float32)

    rows = torch.arange(3)
    refs = {
        "grad_logits": grad_of(logits[rows, targets].sum(), x64),
        "grad_pixel": grad_of(feats[:, pixel[0], pixel[1], pixel[2]].sum(), x64),
        "grad_channel_mean": grad_of(feats[:, channel].mean(dim=(1, 2)).sum(), x64),
        "layer_grad": grad_of(logits[rows, targets].sum(), l1),
        "layer_activation": l1.detach().numpy().astype(np.float32),
        "logits": logits.detach().numpy().astype(np.float32),
    }
    refs["layer_grad_x_act"] = refs["layer_grad"] * refs["layer_activation"]
    # Layer integrated gradients (Captum's LayerIntegratedGradients, zero input baseline): the layer
    # runs from layer(0) to layer(x) at numpy's Gauss-Legendre nodes (n = 8) mapped to [0, 1].
    nodes, weights = np.polynomial.legendre.leggauss(8)
    l1_ref = torch.relu(net64.conv1(torch.zeros_like(x64))).detach()
    total = torch.zeros_like(l1)
    for alpha, w in zip(0.5 * (1 + nodes), 0.5 * weights):
        point = (l1_ref + float(alpha) * (l1.detach() - l1_ref)).requires_grad_(True)
        head = net64.fc(torch.relu(net64.conv2(point)).mean(dim=(2, 3)))
        total += float(w) * torch.autograd.grad(head[rows, targets].sum(), point)[0]
    refs["layer_ig"] = (total * (l1.detach() - l1_ref)).numpy().astype(np.float32)
    np.save(os.path.join(out_dir, "input.npy"), x.numpy().astype(np.float32))
    for k, v in refs.items():
        np.save(os.path.join(out_dir, f"{k}.npy"), v)
    meta = {
        "opset": 13, "targets": targets, "pixel": list(pixel), "channel": channel,
        "logits": "logits", "layer": layer1, "features": features,
        "description": "CNN whose graph outputs pass Softmax, an If on max prob > 0.5 and ArgMax",
    }
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)


def leggauss_reference():
    """numpy's Gauss-Legendre nodes and weights on [-1, 1] (Captum's IG default quadrature)."""
    ref = {}
    for n in [1, 2, 3, 7, 50]:
        x, w = np.polynomial.legendre.leggauss(n)
        ref[n] = {"nodes": x.tolist(), "weights": w.tolist()}
    with open(os.path.join(OUT_ROOT, "leggauss.json"), "w") as f:
        json.dump(ref, f)


def main():
    if os.path.exists(OUT_ROOT):
        shutil.rmtree(OUT_ROOT)
    os.makedirs(OUT_ROOT)
    leggauss_reference()
    for name, make in [("threshold_if", threshold_if)]:
        out_dir = os.path.join(OUT_ROOT, name)
        os.makedirs(out_dir)
        make(out_dir)
        print("wrote", out_dir)


if __name__ == "__main__":
    main()
