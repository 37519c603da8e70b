#!/usr/bin/env python3
"""What averaging the logits of separately trained bundles gives (an ensemble of seeds),
beside `trainer train --members K`, which trains K members side by side in one run.

  bench/ensemble_probe.py DATA.json [--held HELD_ONLY.json] [--held-val HELD_VAL.json]
                          BUNDLE [BUNDLE ...]

DATA.json is a CLINC150-layout set (bench/fewshot.py writes them; CLINC150's data_full.json
is one); HELD_ONLY.json's oos_test adds the AUROC of those unknowns alone against `test`, and
HELD_VAL.json (a list of sentences: the held-out intents' `val`) the same against `val`
(same-domain). Prints each bundle alone, then the mean logits of the first 2, 3, ... bundles: in-scope accuracy and
AUROC on validation, in-scope accuracy, out-of-scope recall and AUROC on test, the threshold
chosen by the trainer's default rule (`recall75`: the best validation in-scope accuracy that
still rejects 75% of `oos_val`). A single bundle's row reproduces `trainer evaluate
--threshold-rule recall75`. Logits come from `trainer logits` (cached beside each bundle).
"""
import argparse
import json
import os

import numpy as np

from feature_scores import auroc, bundle_labels, energy, features, texts


def recall75(e_known, correct, e_unknown):
    """The energy threshold of the default rule, over the observed energies."""
    best_accuracy, best = -1.0, None
    for t in np.unique(np.concatenate([e_known, e_unknown])):
        if (e_unknown > t).mean() < 0.75:
            continue
        accuracy = ((e_known <= t) & correct).mean()
        if accuracy > best_accuracy:
            best_accuracy, best = accuracy, t
    return best


def figures(logits, targets):
    """One row of the table: split name -> logits in, figure name -> value out."""
    e = {split: energy(l) for split, l in logits.items()}
    correct = {s: logits[s].argmax(1) == targets[s] for s in ("val", "test")}
    t = recall75(e["val"], correct["val"], e["oos_val"])
    row = {
        "val in-scope": ((e["val"] <= t) & correct["val"]).mean(),
        "val AUROC": auroc(e["val"], e["oos_val"]),
        "test in-scope": ((e["test"] <= t) & correct["test"]).mean(),
        "test OOS recall": (e["oos_test"] > t).mean(),
        "test AUROC": auroc(e["test"], e["oos_test"]),
    }
    if "held_val" in e:
        row["val held-out intents AUROC"] = auroc(e["val"], e["held_val"])
    if "held" in e:
        row["test held-out intents AUROC"] = auroc(e["test"], e["held"])
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data")
    parser.add_argument("--held")
    parser.add_argument("--held-val")
    parser.add_argument("bundles", nargs="+")
    args = parser.parse_args()
    data = json.load(open(args.data))
    splits = {s: texts(data[s]) for s in ("val", "oos_val", "test", "oos_test")}
    if args.held:
        splits["held"] = texts(json.load(open(args.held))["oos_test"])
    if args.held_val:
        splits["held_val"] = json.load(open(args.held_val))
    labels = bundle_labels(os.path.join(args.bundles[0], "model.safetensors"))
    targets = {s: np.array([labels.index(r[1]) for r in data[s]]) for s in ("val", "test")}
    members = []
    for bundle in args.bundles:
        if bundle_labels(os.path.join(bundle, "model.safetensors")) != labels:
            raise SystemExit(f"{bundle}: its labels differ from {args.bundles[0]}'s")
        members.append({s: features(bundle, s, t)[1] for s, t in splits.items()})
    rows = [(b, figures(m, targets)) for b, m in zip(args.bundles, members)]
    for k in range(2, len(members) + 1):
        mean = {s: np.mean([m[s] for m in members[:k]], axis=0) for s in splits}
        rows.append((f"mean logits of the first {k}", figures(mean, targets)))
    columns = list(rows[0][1])
    print("| bundle | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, row in rows:
        cells = [f"{v * 100:.2f}%" if "AUROC" not in c else f"{v:.4f}" for c, v in row.items()]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
