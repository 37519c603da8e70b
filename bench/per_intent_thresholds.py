#!/usr/bin/env python3
"""Per-intent vs global energy thresholds on CLINC150, for an existing bundle.

    python3 bench/per_intent_thresholds.py BUNDLE_DIR [CLINC_JSON]

Thresholds are chosen on val (+ oos_val), figures reported on test (+ oos_test).
Needs numpy and a release trainer build (for `trainer logits`).
"""
import json, os, struct, subprocess, sys, tempfile

import numpy as np

bundle = sys.argv[1]
data_path = sys.argv[2] if len(sys.argv) > 2 else "../shared/datasets/clinc150/data_full.json"
data = json.load(open(data_path))
splits = ["val", "oos_val", "test", "oos_test"]
texts = [t for s in splits for t, _ in data[s]]
with tempfile.TemporaryDirectory() as tmp:
    src, out = os.path.join(tmp, "texts.json"), os.path.join(tmp, "logits.json")
    json.dump(texts, open(src, "w"))
    subprocess.run(["./target/release/trainer", "logits", "--bundle", bundle, "--texts", src, "--out", out], check=True)
    logits = np.array([r["logits"] for r in json.load(open(out))], dtype=np.float64)

raw = open(os.path.join(bundle, "model.safetensors"), "rb").read()
header = json.loads(raw[8 : 8 + struct.unpack("<Q", raw[:8])[0]])
labels = {l: i for i, l in enumerate(json.loads(header["__metadata__"]["labels"]))}


def energy(l):
    m = l.max(1, keepdims=True)
    return -(m[:, 0] + np.log(np.exp(l - m).sum(1)))


parts, start = {}, 0
for s in splits:
    parts[s] = logits[start : start + len(data[s])]
    start += len(data[s])
y = {s: np.array([labels[l] for _, l in data[s]]) for s in ("val", "test")}
E = {s: energy(parts[s]) for s in splits}
pred = {s: parts[s].argmax(1) for s in splits}


def test_figures(thr_known, thr_unknown):
    in_scope = np.mean((E["test"] <= thr_known) & (pred["test"] == y["test"]))
    return in_scope, np.mean(E["oos_test"] > thr_unknown)


print(f"closed-set accuracy: val {np.mean(pred['val'] == y['val']):.4f}, test {np.mean(pred['test'] == y['test']):.4f}")
print("rule                                   in-scope  OOS recall (test)")
for q in (0.95, 0.97, 0.98, 0.985, 0.99):
    t = np.quantile(E["val"], q)
    print(f"global, accept {q:.1%} of known val      {test_figures(t, t)[0]:.4f}    {test_figures(t, t)[1]:.4f}")
for q in (0.95, 0.97, 0.99):
    for shrink in (0, 5, 20):
        global_t = np.quantile(E["val"], q)
        thr = np.full(len(labels), global_t)
        for c in range(len(labels)):
            e = E["val"][pred["val"] == c]
            if len(e):
                thr[c] = (len(e) * np.quantile(e, q) + shrink * global_t) / (len(e) + shrink)
        a, r = test_figures(thr[pred["test"]], thr[pred["oos_test"]])
        print(f"per-intent {q:.0%}, shrink {shrink:>2}                {a:.4f}    {r:.4f}")
