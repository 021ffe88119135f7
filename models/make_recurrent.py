#!/usr/bin/env python3
"""Regenerate the recurrent text-classifier fixtures under models/recurrent/.

Run from the repository root:

    /usr/bin/python3 models/make_recurrent.py

Token classifiers with nn.Embedding feeding nn.LSTM / nn.GRU / nn.RNN (exported by torch.onnx as
the ONNX LSTM, GRU and RNN ops), input input_ids (int64, [N, L], batch and sequence dynamic; the ids in input.npy).
References are PyTorch float64 autograd with respect to the embedding output (the Gather from the
embedding table), as Captum's LayerGradient / LayerIntegratedGradients on the embeddings.
See models/README.md.
"""
import json
import os
import shutil

import numpy as np
import onnx
import torch
import torch.nn as nn

torch.set_num_threads(2)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_ROOT = os.path.join(HERE, "recurrent")
VOCAB, EMBED, HIDDEN, CLASSES, SEQ, ROWS = 30, 8, 6, 3, 6, 3


class Classifier(nn.Module):
    """Embedding, a recurrent stack, and a linear head on the last step, the mean over time or h_n."""

    def __init__(self, cell, head, **kwargs):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMBED)
        self.rnn = cell(EMBED, HIDDEN, batch_first=True, **kwargs)
        width = HIDDEN * (2 if kwargs.get("bidirectional") else 1)
        self.head = head
        self.fc = nn.Linear(width if head != "h_n" else HIDDEN, CLASSES)

    def forward(self, input_ids, word=None):
        if word is None:
            word = self.embedding(input_ids)
        out, state = self.rnn(word)
        if self.head == "last":
            return self.fc(out[:, -1])
        if self.head == "mean":
            return self.fc(out.mean(dim=1))
        h_n = state[0] if isinstance(state, tuple) else state
        return self.fc(h_n[-1])


CASES = [
    # name, opset, cell, head, kwargs
    ("lstm_op13", 13, nn.LSTM, "last", {}),
    ("lstm2_op9", 9, nn.LSTM, "h_n", {"num_layers": 2}),
    ("gru_bi_op14", 14, nn.GRU, "mean", {"num_layers": 2, "bidirectional": True}),
    ("rnn_relu_op11", 11, nn.RNN, "h_n", {"nonlinearity": "relu"}),
]


def main():
    shutil.rmtree(OUT_ROOT, ignore_errors=True)
    r = np.random.RandomState(5)
    ids = r.randint(1, VOCAB, size=(ROWS, SEQ)).astype(np.int64)
    ids[1, 4:] = 0  # padding at the end, as a batch of unequal texts
    target = np.random.RandomState(0).randint(CLASSES, size=ROWS)
    t_ids = torch.from_numpy(ids)
    pick = (torch.arange(ROWS), torch.from_numpy(target))
    for k, (name, opset, cell, head, kwargs) in enumerate(CASES):
        torch.manual_seed(11 + k)
        model = Classifier(cell, head, **kwargs).eval()
        md = model.double()
        word = md.embedding(t_ids).detach().requires_grad_(True)
        logits = md(t_ids, word=word)
        (grad,) = torch.autograd.grad(logits[pick].sum(), word)
        model.float()
        d = os.path.join(OUT_ROOT, name)
        os.makedirs(d)
        path = os.path.join(d, "model.onnx")
        torch.onnx.export(model, (t_ids,), path, opset_version=opset, input_names=["input_ids"], output_names=["logits"],
                          dynamic_axes={"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch"}})
        m = onnx.load(path)
        onnx.checker.check_model(m)
        ops = sorted({n.op_type for n in m.graph.node})
        assert cell.__name__ in ops, ops
        for file, a in (("input", ids), ("output", logits.detach().numpy().astype(np.float32)),
                        ("embedding", word.detach().numpy().astype(np.float32)),
                        ("grad_embedding", grad.numpy().astype(np.float32))):
            np.save(os.path.join(d, file + ".npy"), a)
        meta = {"opset": opset, "target": [int(t) for t in target], "cell": cell.__name__, "head": head,
                "kwargs": {key: str(v) for key, v in kwargs.items()},
                "description": "Embedding(%d, %d) -> %s(hidden %d, %s) -> Linear on %s; grad_embedding = "
                               "d logit[target] / d embedding output, float64 autograd"
                               % (VOCAB, EMBED, cell.__name__, HIDDEN, kwargs, head)}
        with open(os.path.join(d, "meta.json"), "w") as f:
            json.dump(meta, f, indent=2)
            f.write("\n")
        size = sum(os.path.getsize(os.path.join(d, fn)) for fn in os.listdir(d))
        print("%-14s %6d B  %s" % (name, size, ", ".join(ops)))


if __name__ == "__main__":
    main()
