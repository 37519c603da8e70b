#!/usr/bin/env python3
"""Unknown-detection scores on a bundle's pooled features beside its energy (the levers of
bench/results/fewshot.md): AUROC of each score on validation (val + oos_val), where a lever
is chosen, and on test (test + oos_test).

  bench/feature_scores.py BUNDLE DATA.json [HELD_ONLY.json]

DATA.json is a CLINC150-layout set (bench/fewshot.py writes them); HELD_ONLY.json's oos_test
adds a column for those unknowns alone. Features and logits come from `trainer logits
--features` (cached beside the bundle as feat-*.npz); the head's weights from
model.safetensors. Scores, higher meaning "more unknown":
  energy           -logsumexp(logits), what the bundle thresholds
  react{90,95,99}  energy with the features clipped at that percentile of the training
                   features (ReAct)
  maha-diag        least Mahalanobis distance to a class mean, per-feature variances
  maha-full        the same with the shared covariance (ridge 1e-2)
  cos              minus the largest cosine to a class mean
  knn10            minus the cosine to the 10th nearest training sentence
  energy+X         the sum of the two scores, each standardized on the validation known rows
Needs numpy and safetensors (pip install numpy safetensors).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TRAINER = os.environ.get("TRAINER", os.path.join(ROOT, "target/release/trainer"))


def features(bundle, name, texts):
    """(features, logits) of `texts`, cached in BUNDLE/feat-NAME.npz."""
    cache = os.path.join(bundle, f"feat-{name}.npz")
    if os.path.exists(cache):
        z = np.load(cache)
        return z["f"], z["l"]
    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "texts.json"), os.path.join(tmp, "out.json")
        json.dump(texts, open(src, "w"))
        subprocess.run([TRAINER, "logits", "--bundle", bundle, "--texts", src, "--out", out, "--features"], check=True)
        rows = json.load(open(out))
    f = np.array([r["features"] for r in rows], dtype=np.float32)
    l = np.array([r["logits"] for r in rows], dtype=np.float32)
    np.savez(cache, f=f, l=l)
    return f, l


def texts(rows):
    """The sentences of a split: CLINC-layout rows are [text, label]."""
    return [r[0] if isinstance(r, list) else r for r in rows]


def bundle_labels(path):
    with safe_open(path, "numpy") as f:
        return json.loads(f.metadata()["labels"])


def head(bundle):
    m = load_file(os.path.join(bundle, "model.safetensors"))
    w = m["classifier.weight"].astype(np.float32)
    if m["classifier.weight"].dtype == np.int8:
        w = w * m["classifier.weight_scale"][:, None]
    return w, m["classifier.bias"]


def auroc(known, unknown):
    """P(unknown score > known score), ties half (Mann-Whitney)."""
    s = np.concatenate([known, unknown])
    ranks = s.argsort().argsort() + 1.0
    return (ranks[len(known):].sum() - len(unknown) * (len(unknown) + 1) / 2) / (len(known) * len(unknown))


def energy(logits):
    m = logits.max(1)
    return -(np.log(np.exp(logits - m[:, None]).sum(1)) + m)


def unit(x):
    return x / (np.linalg.norm(x, axis=1, keepdims=True) + 1e-9)


def scores(f_train, y_train, n_labels, w, b):
    """name -> score(features, logits)."""
    means = np.array([f_train[y_train == k].mean(0) for k in range(n_labels)])
    residual = f_train - means[y_train]
    variance = residual.var(0) + 1e-3
    precision = np.linalg.inv(np.cov(residual.T) + 1e-2 * np.eye(residual.shape[1]))
    unit_means, unit_train = unit(means), unit(f_train)

    def maha_full(f, _):
        return np.min([np.einsum("ij,jk,ik->i", f - mu, precision, f - mu) for mu in means], axis=0)

    out = {"energy": lambda f, l: energy(l)}
    for p in (90, 95, 99):
        clip = np.percentile(f_train, p)
        out[f"react{p}"] = lambda f, l, clip=clip: energy(np.minimum(f, clip) @ w.T + b)
    out["maha-diag"] = lambda f, l: (((f[:, None, :] - means[None]) ** 2) / variance).sum(-1).min(1)
    out["maha-full"] = maha_full
    out["cos"] = lambda f, l: -(unit(f) @ unit_means.T).max(1)
    out["knn10"] = lambda f, l: -np.sort(unit(f) @ unit_train.T, axis=1)[:, -10]
    return out


def main():
    bundle, data = sys.argv[1], json.load(open(sys.argv[2]))
    held = json.load(open(sys.argv[3]))["oos_test"] if len(sys.argv) > 3 else None
    labels = bundle_labels(os.path.join(bundle, "model.safetensors"))
    f_train, l_train = features(bundle, "train", texts(data["train"]))
    y_train = np.array([labels.index(r[1]) for r in data["train"]])
    splits = {name: features(bundle, name, texts(data[name])) for name in ("val", "oos_val", "test", "oos_test")}
    if held is not None:
        splits["held"] = features(bundle, "held", texts(held))
    w, b = head(bundle)
    assert np.allclose(f_train @ w.T + b, l_train, atol=1e-3), "features do not give the bundle's logits"
    table = scores(f_train, y_train, len(labels), w, b)
    base = table["energy"]
    for name in ("maha-diag", "maha-full", "cos", "knn10"):
        other = table[name]
        ref_e, ref_o = base(*splits["val"]), other(*splits["val"])
        z = lambda s, ref: (s - ref.mean()) / ref.std()
        table[f"energy+{name}"] = (lambda f, l, other=other, ref_e=ref_e, ref_o=ref_o:
                                   z(base(f, l), ref_e) + z(other(f, l), ref_o))
    print(f"| score | validation AUROC | test AUROC |{' held-out intents AUROC |' if held is not None else ''}")
    print("|---|---|---|" + ("---|" if held is not None else ""))
    for name, score in table.items():
        known_val, known_test = score(*splits["val"]), score(*splits["test"])
        row = f"| {name} | {auroc(known_val, score(*splits['oos_val'])):.4f} | {auroc(known_test, score(*splits['oos_test'])):.4f} |"
        if held is not None:
            row += f" {auroc(known_test, score(*splits['held'])):.4f} |"
        print(row)


if __name__ == "__main__":
    main()
