#!/usr/bin/env python3
"""How far sentence vectors alone carry a few-shot set: nearest class mean (cosine) and a
softmax regression on the K training vectors of each intent, scored on val / test, with
AUROC against the oos splits (max cosine; energy of the regression's logits).

Usage: sentence_probe.py SET.json VECTORS.f32 [DIMS]
VECTORS.f32 holds one unit vector per sentence of SET.json, in the order train, val, test,
oos_train, oos_val, oos_test (as bench/distilled_body.sh writes them).
"""
import json, sys

import numpy as np

SPLITS = ["train", "val", "test", "oos_train", "oos_val", "oos_test"]


def texts(d):
    return [r[0] if isinstance(r, list) else r for k in SPLITS for r in d[k]]


def auroc(pos, neg):
    s = np.concatenate([pos, neg])
    r = s.argsort().argsort() + 1
    return (r[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))


def energy(z):
    m = z.max(1, keepdims=True)
    return (np.log(np.exp(z - m).sum(1, keepdims=True)) + m)[:, 0]


def main():
    d = json.load(open(sys.argv[1]))
    dims = int(sys.argv[3]) if len(sys.argv) > 3 else 384
    v = np.fromfile(sys.argv[2], dtype=np.float32).reshape(-1, dims)
    assert len(v) == len(texts(d)), "one vector per sentence of the set"
    split, at = {}, 0
    for k in SPLITS:
        split[k] = v[at: at + len(d[k])]
        at += len(d[k])
    labels = sorted({l for _, l in d["train"]})
    index = {l: i for i, l in enumerate(labels)}
    y = {k: np.array([index[l] for _, l in d[k]]) for k in ("train", "val", "test")}
    means = np.stack([split["train"][y["train"] == c].mean(0) for c in range(len(labels))])
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    # Softmax regression, full batch, fixed scale: enough to rank features, not tuned.
    w, b = np.zeros((dims, len(labels))), np.zeros(len(labels))
    x, onehot = split["train"], np.eye(len(labels))[y["train"]]
    for _ in range(500):
        z = x @ w * 20 + b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = (p - onehot) / len(x)
        w -= x.T @ g * 20 + 1e-3 * w
        b -= g.sum(0)
    for k, oos in (("val", "oos_val"), ("test", "oos_test")):
        sim = split[k] @ means.T
        ncm = (sim.argmax(1) == y[k]).mean()
        ncm_auroc = auroc(sim.max(1), (split[oos] @ means.T).max(1))
        z = split[k] @ w * 20 + b
        reg = (z.argmax(1) == y[k]).mean()
        reg_auroc = auroc(energy(z), energy(split[oos] @ w * 20 + b))
        print(f"{k}: class-mean {ncm:.2%} (AUROC {ncm_auroc:.4f}), "
              f"regression {reg:.2%} (AUROC {reg_auroc:.4f})")


if __name__ == "__main__":
    main()
