#!/usr/bin/env python3
"""Regenerate the text-classifier fixtures under models/text/.

Run from the repository root:

    /usr/bin/python3 models/make_text.py

A BERT-style sequence classifier with tiny sizes (token, position and segment embeddings,
LayerNorm, masked multi-head self-attention, erf-GELU feed-forward, pooler Tanh on the first
token, linear classifier), exported by torch.onnx at opsets 13 to 17 with inputs input_ids,
attention_mask and token_type_ids (int64, [N, L]). References are PyTorch float64 autograd with
respect to the word-embedding output (the Gather from the embedding table), Captum's
LayerIntegratedGradients / LayerGradient convention. See models/README.md.
"""
import json
import math
import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn as nn

torch.set_num_threads(2)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_ROOT = os.path.join(HERE, "text")
VOCAB, HIDDEN, HEADS, FFN, LAYERS, MAX_LEN, CLASSES = 40, 16, 2, 32, 2, 16, 3
SEQ = 8
LN_IG_STEPS = 8


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.ModuleList(nn.Linear(HIDDEN, HIDDEN) for _ in range(3))
        self.out = nn.Linear(HIDDEN, HIDDEN)
        self.ln1 = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.ffn1, self.ffn2 = nn.Linear(HIDDEN, FFN), nn.Linear(FFN, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN, eps=1e-12)

    def forward(self, h, mask_bias):
        n, l, _ = h.shape
        d = HIDDEN // HEADS
        q, k, v = (m(h).view(n, l, HEADS, d).transpose(1, 2) for m in self.qkv)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + mask_bias
        ctx = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(n, l, HIDDEN)
        h = self.ln1(h + self.out(ctx))
        gelu = nn.functional.gelu(self.ffn1(h))  # erf form
        return self.ln2(h + self.ffn2(gelu))


class Bert(nn.Module):
    """HF BertForSequenceClassification's structure at tiny sizes."""

    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.position = nn.Embedding(MAX_LEN, HIDDEN)
        self.segment = nn.Embedding(2, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.pooler = nn.Linear(HIDDEN, HIDDEN)
        self.classifier = nn.Linear(HIDDEN, CLASSES)
        self.register_buffer("position_ids", torch.arange(MAX_LEN).unsqueeze(0))

    def embeddings(self, input_ids, token_type_ids, word=None):
        if word is None:
            word = self.word(input_ids)
        positions = self.position_ids[:, :input_ids.shape[1]]
        return self.ln(word + self.position(positions) + self.segment(token_type_ids))

    def forward(self, input_ids, attention_mask, token_type_ids, word=None, h=None):
        if h is None:
            h = self.embeddings(input_ids, token_type_ids, word)
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(h.dtype)) * -10000.0
        for layer in self.layers:
            h = layer(h, mask_bias)
        pooled = torch.tanh(self.pooler(h[:, 0]))
        return self.classifier(pooled)


def make_inputs():
    r = np.random.RandomState(7)
    ids = r.randint(3, VOCAB, size=(3, SEQ))
    ids[:, 0] = 1  # [CLS]
    mask = np.ones((3, SEQ), np.int64)
    ids[1, 5] = 2  # [SEP], then padding
    ids[1, 6:] = 0
    mask[1, 6:] = 0
    ids[[0, 2], SEQ - 1] = 2
    types = np.zeros((3, SEQ), np.int64)
    types[2, 4:] = 1
    return ids.astype(np.int64), mask, types


def main():
    shutil.rmtree(OUT_ROOT, ignore_errors=True)
    torch.manual_seed(3)
    model = Bert().eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(torch.rand(HIDDEN) + 0.5)
                m.bias.copy_(torch.randn(HIDDEN) * 0.2)
    ids, mask, types = make_inputs()
    target = np.random.RandomState(0).randint(CLASSES, size=ids.shape[0])
    md = model.double()
    t_ids, t_mask, t_types = (torch.from_numpy(a) for a in (ids, mask, types))
    word = md.word(t_ids).detach().requires_grad_(True)
    logits = md(t_ids, t_mask, t_types, word=word)
    (grad,) = torch.autograd.grad(logits[torch.arange(3), torch.from_numpy(target)].sum(), word)
    # Layer attribution at the embeddings' LayerNorm output (Captum's LayerIntegratedGradients(model,
    # model.embeddings)): its gradient, and integrated gradients from the layer on the baseline
    # tokens (id 0 everywhere, same token types) with numpy's Gauss-Legendre nodes, explicit loop.
    pick = (torch.arange(3), torch.from_numpy(target))
    ln_x = md.embeddings(t_ids, t_types).detach().requires_grad_(True)
    (grad_ln,) = torch.autograd.grad(md(t_ids, t_mask, t_types, h=ln_x)[pick].sum(), ln_x)
    ln_0 = md.embeddings(torch.zeros_like(t_ids), t_types).detach()
    nodes, weights = np.polynomial.legendre.leggauss(LN_IG_STEPS)
    ig_ln = torch.zeros_like(ln_x)
    for node, weight in zip(nodes, weights):
        point = (ln_0 + 0.5 * (1 + node) * (ln_x - ln_0)).detach().requires_grad_(True)
        (g,) = torch.autograd.grad(md(t_ids, t_mask, t_types, h=point)[pick].sum(), point)
        ig_ln += 0.5 * weight * g
    ig_ln = ig_ln * (ln_x - ln_0)
    model.float()
    for opset in (13, 14, 15, 16, 17):
        d = os.path.join(OUT_ROOT, "bert_op%d" % opset)
        os.makedirs(d)
        path = os.path.join(d, "model.onnx")
        axes = {0: "batch", 1: "sequence"}
        torch.onnx.export(model, (t_ids, t_mask, t_types), path, opset_version=opset,
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "logits": {0: "batch"}},
                          do_constant_folding=True)
        m = onnx.load(path)
        onnx.checker.check_model(m)
        ops = {n.op_type for n in m.graph.node}
        assert "Erf" in ops and ("LayerNormalization" in ops) == (opset >= 17), ops
        for name, a in (("input_ids", ids), ("attention_mask", mask), ("token_type_ids", types),
                        ("output", logits.detach().numpy().astype(np.float32)),
                        ("embedding", word.detach().numpy().astype(np.float32)),
                        ("grad_embedding", grad.numpy().astype(np.float32)),
                        ("grad_ln", grad_ln.numpy().astype(np.float32)),
                        ("ig_ln", ig_ln.detach().numpy().astype(np.float32))):
            np.save(os.path.join(d, name + ".npy"), a)
        ln_name = [n for n in m.graph.node if n.name.startswith("/ln/")][-1].output[0]
        meta = {"opset": opset, "target": [int(t) for t in target], "vocab": VOCAB, "hidden": HIDDEN,
                "ln": ln_name, "ln_ig_steps": LN_IG_STEPS,
                "description": "BERT-style classifier (2 layers, 2 heads, hidden 16); grad_embedding = "
                               "d logit[target] / d word-embedding output, float64 autograd; grad_ln, ig_ln: "
                               "the gradient and integrated gradients (baseline token 0, Gauss-Legendre "
                               "ln_ig_steps) at the embeddings' LayerNorm output `ln`"}
        with open(os.path.join(d, "meta.json"), "w") as f:
            json.dump(meta, f, indent=2)
            f.write("\n")
        size = sum(os.path.getsize(os.path.join(d, fn)) for fn in os.listdir(d))
        print("bert_op%d %6d B  %s" % (opset, size, ", ".join(sorted(ops))))


if __name__ == "__main__":
    main()
