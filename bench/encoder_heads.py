#!/usr/bin/env python3
"""Which head the sentence-encoder kind should put over its vectors, on the few-shot and
same-domain sets: the cosine head (each intent's unit mean training vector times 20), and
linear heads trained from it or from zero with full-batch Adam on cross-entropy plus an L2
penalty, their logits sharpened (multiplied) before the energy. Threshold by the trainer's
default rule on each set's validation split. Prints, per set and head, validation in-scope
accuracy and AUROC (and, for same-domain, AUROC against the held-out intents' `val`), then
the same on test; choose on the validation columns.

  bench/encoder_heads.py OUT_DIR VECTOR_DIR SET [SET ...]

OUT_DIR is bench/fewshot.sh's (its SET.json files and same-domain-held-only.json);
VECTOR_DIR holds SET.f32 and held-val.f32 (same-domain-held-val.json), `embed_set`'s vectors
of them (bench/encoder_heads.sh makes them).
The row "linear from means, 100 steps, L2 1e-4, x3" is `sentence_encoder::head::fit`, and
its test figures equal `ENCODER=... bench/fewshot.sh`'s. Needs numpy (and safetensors, for
bench/feature_scores.py's AUROC).
"""
import json
import sys

import numpy as np

from ensemble_probe import recall75
from feature_scores import auroc, energy

SPLITS = ["train", "val", "test", "oos_train", "oos_val", "oos_test"]


def load(out, vectors, name):
    """Vectors by split, integer labels by split, and the number of intents."""
    d = json.load(open(f"{out}/{name}.json"))
    v = np.fromfile(f"{vectors}/{name}.f32", dtype=np.float32).reshape(-1, 384)
    split, at = {}, 0
    for k in SPLITS:
        split[k] = v[at: at + len(d[k])]
        at += len(d[k])
    assert at == len(v), "one vector per sentence of the set"
    labels = sorted({l for _, l in d["train"]})
    index = {l: i for i, l in enumerate(labels)}
    y = {k: np.array([index[l] for _, l in d[k]]) for k in ("train", "val", "test")}
    if name == "same-domain":
        held = {t for t, _ in json.load(open(f"{out}/same-domain-held-only.json"))["oos_test"]}
        split["held_test"] = split["oos_test"][np.array([t in held for t, _ in d["oos_test"]])]
        split["held_val"] = np.fromfile(f"{vectors}/held-val.f32", dtype=np.float32).reshape(-1, 384)
    return split, y, len(labels)


def figures(split, y, logits_of):
    logits = {k: logits_of(x) for k, x in split.items() if k not in ("train", "oos_train")}
    e = {k: energy(l) for k, l in logits.items()}
    correct = {k: logits[k].argmax(1) == y[k] for k in ("val", "test")}
    t = recall75(e["val"], correct["val"], e["oos_val"])
    row = [((e["val"] <= t) & correct["val"]).mean() * 100, auroc(e["val"], e["oos_val"])]
    if "held_val" in e:
        row.append(auroc(e["val"], e["held_val"]))
    row += [((e["test"] <= t) & correct["test"]).mean() * 100, auroc(e["test"], e["oos_test"])]
    if "held_test" in e:
        row.append(auroc(e["test"], e["held_test"]))
    return row


def cosine_head(x, y, n):
    means = np.stack([x[y == c].mean(0) for c in range(n)])
    return 20 * means / np.linalg.norm(means, axis=1, keepdims=True), np.zeros(n)


def fit(x, y, n, steps, l2, from_means, lr=0.01):
    """Full-batch Adam (betas 0.9 / 0.999) on mean cross-entropy + l2/2 * |W|^2."""
    w, b = cosine_head(x, y, n) if from_means else (np.zeros((n, x.shape[1])), np.zeros(n))
    params, m, v = [w, b], [np.zeros_like(w), np.zeros_like(b)], [np.zeros_like(w), np.zeros_like(b)]
    onehot = np.eye(n)[y]
    for t in range(1, steps + 1):
        logits = x @ w.T + b
        p = np.exp(logits - logits.max(1, keepdims=True))
        g = (p / p.sum(1, keepdims=True) - onehot) / len(x)
        for i, grad in enumerate((g.T @ x + l2 * w, g.sum(0))):
            m[i] = 0.9 * m[i] + 0.1 * grad
            v[i] = 0.999 * v[i] + 0.001 * grad**2
            params[i] -= lr * (m[i] / (1 - 0.9**t)) / (np.sqrt(v[i] / (1 - 0.999**t)) + 1e-8)
    return w, b


def heads(x, y, n):
    """(name, weight, bias, sharpness) for every head compared."""
    yield "cosine head (class means x20)", *cosine_head(x, y, n), 1
    for steps in (100, 300):
        for l2 in (1e-4, 1e-3, 1e-2):
            for from_means in (True, False):
                w, b = fit(x, y, n, steps, l2, from_means)
                start = "from means" if from_means else "from zero"
                for sharpness in (1, 3):
                    yield f"linear {start}, {steps} steps, L2 {l2:g}, x{sharpness}", w, b, sharpness


def main():
    out, vectors, sets = sys.argv[1], sys.argv[2], sys.argv[3:]
    for name in sets:
        split, y, n = load(out, vectors, name)
        held = name == "same-domain"
        print(f"\n{name}\n")
        print("| head | val in-scope | val AUROC |" + (" val held-out AUROC |" if held else "")
              + " test in-scope | test AUROC |" + (" test held-out AUROC |" if held else ""))
        print("|---" * (7 if held else 5) + "|")
        for label, w, b, s in heads(split["train"], y["train"], n):
            row = figures(split, y, lambda x: s * (x @ w.T + b))
            cells = [f"{c:.2f}%" if i in (0, 3 if held else 2) else f"{c:.4f}" for i, c in enumerate(row)]
            print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
