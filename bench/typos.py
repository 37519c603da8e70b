#!/usr/bin/env python3
"""Perturbed copies of CLINC150's test + oos_test with seeded character edits.

In a given share of the words of 4+ letters, one random edit: a deletion, a swap of two
neighbours, a substitution or an insertion (letters a-z). Each output file keeps the
data_full.json layout: `train`/`val`/`oos_train`/`oos_val` unchanged (so the trainer reads
it and `trainer evaluate` keeps the bundle's threshold rule inputs), `test` and `oos_test`
perturbed.

  bench/typos.py --data examples/clinc150/data_full.json --out-dir bench/out/typos [--seed 1]
writes light.json (10% of the words), default.json (25%) and heavy.json (50%), and the same
for validation: val-clean.json, val-light.json, val-default.json, val-heavy.json hold `val` +
`oos_val` (perturbed but for val-clean) in the place of `test` + `oos_test`. Levers (such as
`--typo-rate`) are kept or dropped on the val-* figures; the test figures are reported.
"""
import argparse
import json
import random
import string
import sys
from pathlib import Path

RATES = {"light": 0.10, "default": 0.25, "heavy": 0.50}
EDITS = ("delete", "swap", "substitute", "insert")


def edit_word(word, rng):
    """One random character edit of `word` (4+ letters)."""
    kind = rng.choice(EDITS)
    i = rng.randrange(len(word))
    if kind == "delete":
        return word[:i] + word[i + 1:]
    if kind == "swap":
        i = rng.randrange(len(word) - 1)
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    letter = rng.choice(string.ascii_lowercase)
    if kind == "substitute":
        others = [c for c in string.ascii_lowercase if c != word[i]]
        return word[:i] + rng.choice(others) + word[i + 1:]
    return word[:i] + letter + word[i:]


def perturb(text, rate, rng):
    """Edits each word of 4+ letters with probability `rate`."""
    words = text.split(" ")
    return " ".join(
        edit_word(w, rng) if len(w) >= 4 and w.isalpha() and rng.random() < rate else w
        for w in words
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True, help="CLINC150 data_full.json")
    ap.add_argument("--out-dir", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    try:
        data = json.loads(args.data.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        sys.exit(f"{args.data}: {e}")
    for split in ("train", "val", "test", "oos_val", "oos_test"):
        if not isinstance(data.get(split), list):
            sys.exit(f"{args.data}: no `{split}` list; expected CLINC150's data_full.json layout")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    sources = {"": ("test", "oos_test"), "val-": ("val", "oos_val")}
    variants = [("val-clean", 0.0, sources["val-"])]
    variants += [(prefix + name, rate, splits) for prefix, splits in sources.items() for name, rate in RATES.items()]
    for name, rate, (known, unknown) in variants:
        # The test files' seeds are "{seed}-{name}" as before the val-* files existed.
        rng = random.Random(f"{args.seed}-{name}")
        out = dict(data)
        changed = total = 0
        for split, source in (("test", known), ("oos_test", unknown)):
            rows = []
            for text, label in data[source]:
                new = perturb(text, rate, rng)
                changed += new != text
                total += 1
                rows.append([new, label])
            out[split] = rows
        path = args.out_dir / f"{name}.json"
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(out), encoding="utf-8")
        tmp.replace(path)
        print(f"{path}: {rate:.0%} of 4+ letter words of {known} + {unknown} edited, {changed}/{total} queries changed")

if __name__ == "__main__":
    main()
