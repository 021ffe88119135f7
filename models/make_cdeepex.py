#!/usr/bin/env python3
"""Train and export the CDeepEx digits models: classifiers and VAE generators, clean and biased.

Run from the repository root:

    /usr/bin/python3 models/make_cdeepex.py

Requires torch (1.13), onnx (1.12), numpy and scikit-learn (the 8x8 digits ship with sklearn).
Deterministic (fixed seeds, CPU, one thread); about a minute. Writes models/cdeepex/:

  clean/classifier.onnx, clean/generator.onnx     trained on the digits (16x16, [0, 1])
  biased/classifier.onnx, biased/generator.onnx   same, but every '8' carries a 3x3 square of ink
                                                  in the upper-left corner ("planted bias")
  samples.npy, sample-labels.json                 clean test digits used by the example study
  reference/                                      PyTorch float64 autograd references for the tests
"""
import json
import os
import sys
import warnings

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_digits import DigitsCNN, export, prepare, seed_everything  # noqa: E402

warnings.filterwarnings("ignore")

SEED = 0
LATENT = 12
OPSET = 13
SQUARE = (slice(1, 4), slice(1, 4))  # rows 1..3, columns 1..3 of the 16x16 image
BIASED_CLASS = 8
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cdeepex")


class Classifier(DigitsCNN):
    """The CDeepEx paper's MNIST net at 16x16: (Conv, MaxPool, ReLU) x2, two fully connected layers
    (the demo CNN's layers, pooled before the ReLU as in the paper)."""

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(LATENT, 128)
        self.fc2 = nn.Linear(128, 32 * 4 * 4)
        self.up1 = nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1)
        self.up2 = nn.ConvTranspose2d(16, 1, 4, stride=2, padding=1)

    def forward(self, z):
        h = F.relu(self.fc2(F.relu(self.fc1(z)))).view(-1, 32, 4, 4)
        return torch.sigmoid(self.up2(F.relu(self.up1(h))))


class VAE(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Flatten(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 2 * LATENT))
        self.dec = Decoder()

    def forward(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.dec(z), mu, logvar


def plant(x, y):
    """Copies of the images where every '8' carries the square."""
    x = x.clone()
    x[y == BIASED_CLASS, 0, SQUARE[0], SQUARE[1]] = 1.0
    return x


def batches(n, size, gen):
    perm = torch.randperm(n, generator=gen)
    return [perm[i : i + size] for i in range(0, n, size)]


def train_classifier(x, y, epochs=30):
    model = Classifier()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(SEED)
    for _ in range(epochs):
        for idx in batches(len(x), 64, gen):
            opt.zero_grad()
            F.cross_entropy(model(x[idx]), y[idx]).backward()
            opt.step()
    return model.eval()


def train_vae(x, epochs=150):
    vae = VAE()
    opt = torch.optim.Adam(vae.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(SEED)
    for epoch in range(epochs):
        total = 0.0
        for idx in batches(len(x), 64, gen):
            opt.zero_grad()
            rec, mu, logvar = vae(x[idx])
            bce = F.binary_cross_entropy(rec, x[idx], reduction="sum")
            kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss = (bce + kl) / len(idx)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        if (epoch + 1) % 50 == 0:
            print(f"  vae epoch {epoch + 1}: loss {total / len(x):.2f}")
    return vae.eval()


def save(name, array):
    np.save(os.path.join(OUT, "reference", name), np.asarray(array, dtype=np.float32))


def references(clf, dec, x_te):
    """Float64 autograd of the objectives the rewriter emits, on the clean pair."""
    clf, dec = clf.double(), dec.double()
    rng = np.random.RandomState(SEED)
    z = torch.tensor(rng.randn(3, LATENT), requires_grad=True)
    images = x_te[:3].double()
    save("z.npy", z.detach())
    save("images.npy", images)
    # (a) reconstruction: ||G(z) - I||^2 per row and its gradient w.r.t. z.
    loss = ((dec(z) - images) ** 2).sum(dim=(1, 2, 3))
    (grad,) = torch.autograd.grad(loss.sum(), z)
    save("recon_loss.npy", loss.detach())
    save("recon_grad.npy", grad)
    # (b) augmented Lagrangian on D(G(z) + r): see rewriter/contrast-graphs.ts for the formula.
    z0 = torch.tensor(rng.randn(3, LATENT))
    residual = torch.tensor(rng.randn(3, 1, 16, 16) * 0.05)
    class_a, class_b = [3, 1, 7], [8, 7, 9]
    ea = F.one_hot(torch.tensor(class_a), 10).double()
    eb = F.one_hot(torch.tensor(class_b), 10).double()
    others = 1 - ea - eb
    lam = torch.tensor(rng.randn(3, 1))
    rho = torch.tensor(rng.uniform(0.5, 4, (3, 1)))
    mu_a = torch.tensor(rng.uniform(0, 1, (3, 10))) * others
    mu_b = torch.tensor(rng.uniform(0, 1, (3, 10))) * others
    logits = clf(dec(z) + residual)
    la, lb = (logits * ea).sum(1, keepdim=True), (logits * eb).sum(1, keepdim=True)
    h = la - lb
    ca = torch.relu(mu_a + rho * (logits - la)) * others
    cb = torch.relu(mu_b + rho * (logits - lb)) * others
    objective = (
        ((z - z0) ** 2).sum(1)
        + (lam * h).squeeze(1)
        + (rho / 2 * h**2).squeeze(1)
        + ((ca**2 + cb**2 - (mu_a**2 + mu_b**2) * others).sum(1, keepdim=True) / (2 * rho)).squeeze(1)
    )
    (grad,) = torch.autograd.grad(objective.sum(), z)
    for name, value in [("z0", z0), ("residual", residual), ("class_a", ea), ("class_b", eb), ("others", others), ("lambda", lam),
                        ("rho", rho), ("mu_a", mu_a), ("mu_b", mu_b), ("al_objective", objective), ("al_grad", grad), ("al_logits", logits)]:
        save(f"{name}.npy", value.detach())
    # Composed logit gradient: d logit_k(D(G(z))) / dz.
    (grad,) = torch.autograd.grad((clf(dec(z)) * eb).sum(), z)
    save("logit_grad.npy", grad)
    # Maximisation objective: mean of channel 5 after the second (Conv, MaxPool, ReLU) block minus
    # 0.1 * TV (beta 2) and 0.01 * mean |x|^6, both means as in rewriter/regularizers.ts.
    x = torch.tensor(rng.uniform(0, 1, (1, 1, 16, 16)), requires_grad=True)
    act = F.relu(F.max_pool2d(clf.conv2(F.relu(F.max_pool2d(clf.conv1(x), 2))), 2))
    dh = x[:, :, :-1, 1:] - x[:, :, :-1, :-1]
    dv = x[:, :, 1:, :-1] - x[:, :, :-1, :-1]
    tv = (dh**2 + dv**2 + 1e-8).mean()
    lp = (x.abs() ** 6).mean()
    objective = act[:, 5].mean() - 0.1 * tv - 0.01 * lp
    (grad,) = torch.autograd.grad(objective, x)
    save("max_input.npy", x.detach())
    save("max_objective.npy", objective.detach().reshape(1))
    save("max_grad.npy", grad)
    clf.float(), dec.float()


def second_relu(path):
    relus = [n.output[0] for n in onnx.load(path).graph.node if n.op_type == "Relu"]
    return relus[1]


def main():
    seed_everything(SEED)
    digits = load_digits()
    x_tr, x_te, y_tr, y_te = train_test_split(digits.images, digits.target, test_size=0.2, random_state=SEED, stratify=digits.target)
    x_tr, x_te = prepare(x_tr), prepare(x_te)
    y_tr, y_te = torch.from_numpy(y_tr).long(), torch.from_numpy(y_te).long()
    os.makedirs(os.path.join(OUT, "reference"), exist_ok=True)
    meta = {"latent": LATENT, "opset": OPSET, "square": {"rows": [1, 4], "cols": [1, 4]}, "biased_class": BIASED_CLASS}
    for variant in ["clean", "biased"]:
        xs_tr = plant(x_tr, y_tr) if variant == "biased" else x_tr
        xs_te = plant(x_te, y_te) if variant == "biased" else x_te
        print(f"{variant}: training the classifier")
        clf = train_classifier(xs_tr, y_tr)
        with torch.no_grad():
            acc = (clf(xs_te).argmax(1) == y_te).float().mean().item()
            acc_clean = (clf(x_te).argmax(1) == y_te).float().mean().item()
            eights = clf(x_te[y_te == BIASED_CLASS]).argmax(1)
        print(f"  test accuracy {acc:.4f} (on clean test digits {acc_clean:.4f}); clean 8s called 8: {(eights == 8).float().mean().item():.2f}")
        print(f"{variant}: training the VAE")
        vae = train_vae(xs_tr)
        with torch.no_grad():
            mu = vae.enc(xs_te).chunk(2, dim=1)[0]
            rec_err = ((vae.dec(mu) - xs_te) ** 2).sum(dim=(1, 2, 3)).mean().item()
        print(f"  mean squared reconstruction error per test image {rec_err:.3f}")
        folder = os.path.join(OUT, variant)
        os.makedirs(folder, exist_ok=True)
        export(clf, xs_te[:1], os.path.join(folder, "classifier.onnx"), "input", "logits", "models/make_cdeepex.py")
        export(vae.dec, torch.zeros(1, LATENT), os.path.join(folder, "generator.onnx"), "z", "image", "models/make_cdeepex.py")
        meta[variant] = {"test_accuracy": round(acc, 4), "clean_test_accuracy": round(acc_clean, 4),
                         "clean_eights_called_8": round((eights == 8).float().mean().item(), 4), "reconstruction_error": round(rec_err, 4)}
        if variant == "clean":
            references(clf, vae.dec, x_te)
            meta["maximize_layer"] = second_relu(os.path.join(folder, "classifier.onnx"))
            meta["maximize_channel"] = 5
    # Clean test digits for the study: the first five of each class.
    picks = [i for c in range(10) for i in [j for j in range(len(y_te)) if y_te[j] == c][:5]]
    np.save(os.path.join(OUT, "samples.npy"), x_te[picks].numpy().astype(np.float32))
    with open(os.path.join(OUT, "sample-labels.json"), "w") as f:
        json.dump({"labels": [int(y_te[i]) for i in picks]}, f)
        f.write("\n")
    with open(os.path.join(OUT, "meta.json"), "w") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(json.dumps(meta))


if __name__ == "__main__":
    main()
