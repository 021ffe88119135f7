#!/usr/bin/env python3
"""Simulated genomics example after Shrikumar et al. 2016 ("Not Just a Black Box").

Generates one-hot DNA sequences with embedded GATA / CAGATG motifs, trains a small
Conv1d classifier, exports it to ONNX and writes a small held-out test set.

Run from the repository root (deterministic on one machine; about 2 minutes on one CPU core):

    /usr/bin/python3 examples/genomics/make_genomics.py

Writes, next to this script:
    model.onnx         opset 13, input 'input' [N,4,200] float32 one-hot (rows A,C,G,T),
                       output 'logits' [N,2] (class 1 = positive), batch axis dynamic
    test.npy           float32 [400,4,200]: 200 positives then 200 negatives (held-out split)
    test-labels.json   labels, inserted motif start positions, chance occurrences, accuracy

Requires torch (1.13), onnx (1.12), numpy. Seed: SEED below (numpy Generator for the data,
torch.manual_seed for initialisation / batch order).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn

warnings.filterwarnings("ignore")
# One thread and deterministic kernels (as models/make_digits.py): the same weights on every run on one machine.
torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20160401
SEQ_LEN = 200
ALPHABET = "ACGT"
BACKGROUND = [0.25, 0.25, 0.25, 0.25]
MOTIFS = {"gata": "GATA", "cagatg": "CAGATG"}
TRAIN_SIZE = 20000
TEST_SIZE = 4000          # held-out split; the committed test.npy is a subset of it
COMMIT_PER_CLASS = 200
EPOCHS = 8
BATCH = 100
LR = 1e-3


# ----------------------------------------------------------------------------- data
def place(rng, lengths):
    """Random non-overlapping start positions for motifs of the given lengths."""
    while True:
        starts = [int(rng.integers(0, SEQ_LEN - L + 1)) for L in lengths]
        spans = sorted((s, s + L) for s, L in zip(starts, lengths))
        if all(a[1] <= b[0] for a, b in zip(spans, spans[1:])):
            return starts


def find_all(seq, motif):
    out, i = [], seq.find(motif)
    while i >= 0:
        out.append(i)
        i = seq.find(motif, i + 1)
    return out


def make_sequence(rng, kind):
    """kind: 'both' (positive), 'gata' or 'cagatg' (negatives). Each motif 1-2 copies."""
    names = []
    if kind in ("both", "gata"):
        names += ["gata"] * int(rng.integers(1, 3))
    if kind in ("both", "cagatg"):
        names += ["cagatg"] * int(rng.integers(1, 3))
    seq = list(rng.choice(list(ALPHABET), size=SEQ_LEN, p=BACKGROUND))
    starts = place(rng, [len(MOTIFS[n]) for n in names])
    inserted = {"gata": [], "cagatg": []}
    for n, s in zip(names, starts):
        seq[s:s + len(MOTIFS[n])] = list(MOTIFS[n])
        inserted[n].append(s)
    seq = "".join(seq)
    for n in inserted:
        inserted[n].sort()
    # Occurrences in the final sequence that were not inserted (chance / background).
    chance = {n: [p for p in find_all(seq, m) if p not in inserted[n]] for n, m in MOTIFS.items()}
    return seq, inserted, chance


def make_dataset(rng, n):
    """n/2 positives, n/4 GATA-only and n/4 CAGATG-only negatives, shuffled."""
    kinds = ["both"] * (n // 2) + ["gata"] * (n // 4) + ["cagatg"] * (n - n // 2 - n // 4)
    kinds = [kinds[i] for i in rng.permutation(n)]
    recs = [make_sequence(rng, k) for k in kinds]
    x = np.zeros((n, 4, SEQ_LEN), dtype=np.float32)
    lut = {c: i for i, c in enumerate(ALPHABET)}
    for i, (seq, _, _) in enumerate(recs):
        x[i, [lut[c] for c in seq], np.arange(SEQ_LEN)] = 1.0
    y = np.array([1 if k == "both" else 0 for k in kinds], dtype=np.int64)
    return x, y, kinds, recs


# ----------------------------------------------------------------------------- model
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(4, 20, kernel_size=15)
        self.act1 = nn.PReLU(20)
        # 186 conv positions -> 3 windows of 50; ceil_mode adds a 4th window over positions
        # 150..185 so that motifs near the 3' end are not invisible to the classifier.
        self.pool = nn.MaxPool1d(kernel_size=50, stride=50, ceil_mode=True)
        self.flat = nn.Flatten()
        self.fc1 = nn.Linear(20 * 4, 200)
        self.act2 = nn.PReLU(200)
        self.fc2 = nn.Linear(200, 200)
        self.act3 = nn.PReLU(200)
        self.fc3 = nn.Linear(200, 2)

    def forward(self, x):
        x = self.pool(self.act1(self.conv(x)))
        x = self.act2(self.fc1(self.flat(x)))
        x = self.act3(self.fc2(x))
        return self.fc3(x)


def accuracy(model, x, y):
    with torch.no_grad():
        pred = model(torch.from_numpy(x)).argmax(1).numpy()
    return float((pred == y).mean())


NODE_CHECK = r"""
const fs = require('fs');
const ort = require(process.argv[1]);
const [model, dir] = process.argv.slice(2);
const f32 = (f) => { const b = fs.readFileSync(f); return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)); };
(async () => {
  const s = await ort.InferenceSession.create(model);
  const x = f32(dir + '/x.bin'), ref = f32(dir + '/logits.bin');
  const n = ref.length / 2;
  let maxDiff = 0;
  for (const [lo, hi] of [[0, n], [0, 1], [n - 3, n]]) {  // full batch, N=1, N=3: dynamic batch axis
    const r = await s.run({ input: new ort.Tensor('float32', x.slice(lo * 800, hi * 800), [hi - lo, 4, 200]) });
    const y = r.logits;
    if (y.dims.join() !== [hi - lo, 2].join()) throw new Error('bad output dims ' + y.dims);
    y.data.forEach((v, i) => { maxDiff = Math.max(maxDiff, Math.abs(v - ref[lo * 2 + i])); });
  }
  console.log(JSON.stringify({ inputs: s.inputNames, outputs: s.outputNames, maxDiff }));
})().catch((e) => { console.error(e); process.exit(1); });
"""


def check_onnxruntime_node(onnx_path, xs, logits):
    """Compare the ONNX model (onnxruntime-node, if installed in the repo) with PyTorch."""
    ort_dir = os.path.join(HERE, "..", "..", "node_modules", "onnxruntime-node")
    node = shutil.which("node")
    if node is None or not os.path.isdir(ort_dir):
        print("onnxruntime-node check skipped (node or node_modules/onnxruntime-node missing)")
        return
    with tempfile.TemporaryDirectory() as d:
        xs.astype("<f4").tofile(os.path.join(d, "x.bin"))
        logits.astype("<f4").tofile(os.path.join(d, "logits.bin"))
        out = subprocess.run([node, "-e", NODE_CHECK, os.path.abspath(ort_dir), onnx_path, d],
                             capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError("onnxruntime-node check failed:\n" + out.stderr)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    print("onnxruntime-node vs PyTorch: max |diff| %.2e, io %s -> %s" % (res["maxDiff"], res["inputs"], res["outputs"]))
    if res["inputs"] != ["input"] or res["outputs"] != ["logits"] or res["maxDiff"] > 1e-4:
        raise RuntimeError("ONNX model does not match PyTorch")


def main():
    rng = np.random.default_rng(SEED)
    torch.manual_seed(SEED)
    xtr, ytr, _, _ = make_dataset(rng, TRAIN_SIZE)
    xte, yte, kte, rte = make_dataset(rng, TEST_SIZE)

    # Reference: the rule "both motif strings occur anywhere" (incl. chance occurrences).
    rule = np.array([int(all(r[1][n] or r[2][n] for n in MOTIFS)) for r in rte])
    rule_acc = float((rule == yte).mean())

    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    lossf = nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(xtr), torch.from_numpy(ytr)
    for epoch in range(EPOCHS):
        model.train()
        perm = torch.randperm(TRAIN_SIZE)
        total = 0.0
        for i in range(0, TRAIN_SIZE, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = lossf(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += float(loss) * len(idx)
        model.eval()
        print("epoch %2d  loss %.4f  test acc %.4f" % (epoch + 1, total / TRAIN_SIZE, accuracy(model, xte, yte)),
              flush=True)
    model.eval()
    train_acc = accuracy(model, xtr[:4000], ytr[:4000])
    test_acc = accuracy(model, xte, yte)

    # ---- export
    onnx_path = os.path.join(HERE, "model.onnx")
    torch.onnx.export(model, torch.from_numpy(xte[:2]), onnx_path, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}})
    m = onnx.load(onnx_path)
    onnx.checker.check_model(m, full_check=True)
    ops = sorted({n.op_type for n in m.graph.node})

    # ---- committed subset: first 200 positives, then first 200 negatives of the held-out split
    pos = np.flatnonzero(yte == 1)[:COMMIT_PER_CLASS]
    neg = np.flatnonzero(yte == 0)[:COMMIT_PER_CLASS]
    sel = np.concatenate([pos, neg])
    xs = np.ascontiguousarray(xte[sel], dtype=np.float32)
    np.save(os.path.join(HERE, "test.npy"), xs)
    with torch.no_grad():
        logits = model(torch.from_numpy(xs)).numpy()
    sub_acc = float((logits.argmax(1) == yte[sel]).mean())
    meta = {
        "description": "Simulated DeepLIFT-paper genomics task: positives contain GATA and CAGATG "
                       "(each inserted 1-2x), negatives only one of them (1-2x). One-hot rows A,C,G,T. "
                       "Rows 0-199 positives, 200-399 negatives. gata/cagatg = inserted start "
                       "positions (ground truth); *_chance = other exact occurrences (background).",
        "labels": [int(v) for v in yte[sel]],
        "kind": [kte[i] for i in sel],
        "gata": [rte[i][1]["gata"] for i in sel],
        "cagatg": [rte[i][1]["cagatg"] for i in sel],
        "gata_chance": [rte[i][2]["gata"] for i in sel],
        "cagatg_chance": [rte[i][2]["cagatg"] for i in sel],
        "seed": SEED,
        "test_accuracy": round(test_acc, 4),
        "train_accuracy_first4000": round(train_acc, 4),
        "test_size": TEST_SIZE,
        "subset_accuracy": round(sub_acc, 4),
        "motif_rule_accuracy": round(rule_acc, 4),
        "train_size": TRAIN_SIZE,
        "epochs": EPOCHS,
        "background": BACKGROUND,
        "alphabet": ALPHABET,
        "seq_len": SEQ_LEN,
    }
    with open(os.path.join(HERE, "test-labels.json"), "w") as f:
        json.dump(meta, f, separators=(",", ":"))
        f.write("\n")

    print("test accuracy (%d held-out): %.4f; committed 400: %.4f; 'both strings present' rule: %.4f"
          % (TEST_SIZE, test_acc, sub_acc, rule_acc))
    check_onnxruntime_node(onnx_path, xs, logits)
    print("train accuracy (first 4000): %.4f" % train_acc)
    print("model.onnx %d B, ops %s" % (os.path.getsize(onnx_path), ops))
    print("test.npy %d B" % os.path.getsize(os.path.join(HERE, "test.npy")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
