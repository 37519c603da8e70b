#!/usr/bin/env python3
"""What a sentence encoder's vectors alone give on a few-shot or same-domain set: each
intent's mean training vector, a query's score its highest cosine to them, the threshold by
the trainer's default rule (75% of the set's `oos_val` rejected). Prints closed-set and
in-scope accuracy, AUROC, OOS recall and in-scope recall on val and test; with the
held-out-only set of same-domain, AUROC and recall on the held-out intents alone.

Usage: encoder_probe.py SET.json VECTORS.f32 [HELD_ONLY.json]
VECTORS.f32 holds one unit vector (384 f32) per sentence of SET.json, in the order train,
val, test, oos_train, oos_val, oos_test: `target/release/examples/sentence_embed
../shared/models/all-MiniLM-L6-v2 TEXTS.json VECTORS.f32` at commit af6b88d, TEXTS.json
being those sentences as a JSON list. Figures: bench/results/fewshot.md. Needs numpy and
safetensors (the AUROC is bench/feature_scores.py's).
"""
import json
import sys

import numpy as np

from feature_scores import auroc

SPLITS = ["train", "val", "test", "oos_train", "oos_val", "oos_test"]


def cosine_auroc(known, unknown):
    """AUROC of max-cosine scores (higher meaning known), with feature_scores' convention."""
    return auroc(-known, -unknown)


def main():
    d = json.load(open(sys.argv[1]))
    v = np.fromfile(sys.argv[2], dtype=np.float32).reshape(-1, 384)
    split, at = {}, 0
    for k in SPLITS:
        split[k] = v[at: at + len(d[k])]
        at += len(d[k])
    assert at == len(v), "one vector per sentence of the set"
    labels = sorted({l for _, l in d["train"]})
    index = {l: i for i, l in enumerate(labels)}
    y = {k: np.array([index[l] for _, l in d[k]]) for k in ("train", "val", "test")}
    means = np.stack([split["train"][y["train"] == c].mean(0) for c in range(len(labels))])
    means /= np.linalg.norm(means, axis=1, keepdims=True)
    threshold = np.quantile((split["oos_val"] @ means.T).max(1), 0.75)
    for k, oos in (("val", "oos_val"), ("test", "oos_test")):
        sim = split[k] @ means.T
        unknown = (split[oos] @ means.T).max(1)
        correct, accepted = sim.argmax(1) == y[k], sim.max(1) >= threshold
        print(f"{k}: closed-set {correct.mean():.2%}, in-scope {(correct & accepted).mean():.2%}, "
              f"AUROC {cosine_auroc(sim.max(1), unknown):.4f}, OOS recall {(unknown < threshold).mean():.2%}, "
              f"in-scope recall {accepted.mean():.2%}")
    if len(sys.argv) > 3:
        held = {r[0] for r in json.load(open(sys.argv[3]))["oos_test"]}
        mask = np.array([r[0] in held for r in d["oos_test"]])
        unknown = (split["oos_test"] @ means.T).max(1)[mask]
        known = (split["test"] @ means.T).max(1)
        print(f"test, held-out intents only ({mask.sum()}): AUROC {cosine_auroc(known, unknown):.4f}, "
              f"OOS recall {(unknown < threshold).mean():.2%}")


if __name__ == "__main__":
    main()
