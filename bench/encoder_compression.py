#!/usr/bin/env python3
"""What each way of shrinking the sentence encoder costs (issue: a quarter of the weight):
per variant, the encoder file's bytes (raw and gzip -9), the cosine of its sentence vectors
to the int8 file's (the shipped encoder), and the product head's figures
(`sentence_encoder::head::fit`: linear from the class means, 100 full-batch Adam steps, L2
1e-4, logits x3; threshold by the trainer's default rule on validation). Choose on the
validation columns; the test columns are reported, not chosen on.

  bench/encoder_compression.py OUT_DIR VARIANTS_DIR BASELINE VARIANT [VARIANT ...] -- SET [SET ...]

VARIANTS_DIR/NAME holds encoder.safetensors and NAME's vectors (SET.f32, as embed_set writes
them); bench/encoder_compression.sh makes them.
"""
import gzip
import os
import sys

import numpy as np

from encoder_heads import figures, fit, load


def cosines(a, b):
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


def main():
    args = sys.argv[1:]
    split_at = args.index("--")
    out, variants_dir, baseline, *variants = args[:split_at]
    sets = args[split_at + 1:]
    columns = {s: ["val in-scope", "val AUROC"] + (["val held-out AUROC"] if s == "same-domain" else [])
               + ["test in-scope", "test AUROC"] + (["test held-out AUROC"] if s == "same-domain" else []) for s in sets}
    print("| variant | encoder bytes | gzip | " + " | ".join(
        f"{s} cosine mean / min | " + " | ".join(f"{s} {c}" for c in columns[s]) for s in sets) + " |")
    print("|---" * (3 + sum(1 + len(c) for c in columns.values())) + "|")
    for name in [baseline, *variants]:
        path = f"{variants_dir}/{name}/encoder.safetensors"
        raw = open(path, "rb").read()
        cells = [f"{len(raw) / 1e6:.2f} MB", f"{len(gzip.compress(raw, 9)) / 1e6:.2f} MB"]
        for s in sets:
            split, y, n = load(out, f"{variants_dir}/{name}", s)
            base, _, _ = load(out, f"{variants_dir}/{baseline}", s)
            c = np.concatenate([cosines(split[k], base[k]) for k in split if k in base])
            w, b = fit(split["train"], y["train"], n, 100, 1e-4, True)
            row = figures(split, y, lambda x: 3 * (x @ w.T + b))
            cells.append(f"{c.mean():.4f} / {c.min():.4f}")
            cells += [f"{v:.2f}%" if "in-scope" in col else f"{v:.4f}" for col, v in zip(columns[s], row)]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    main()
