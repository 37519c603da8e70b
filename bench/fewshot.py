"""CLINC150 benchmark sets in the trainer's CLINC layout, seeded, from data_full.json and
domains.json:

- few-shot: 5 evaluation domains (chosen once with the seed, written into the set); of
  their 75 intents the model sees K training sentences each (seeded subsets of `train`),
  K validation sentences each (of `val`) for the threshold, and CLINC150's `oos_train` /
  `oos_val` negatives; it is scored on the intents' whole `test` + `oos_test`.
- same-domain unknowns (TEXTOIR-style open intent): a quarter of each domain's intents
  (seeded) is held out; the model trains on the rest (`train`, `val`, `oos_*` as given) and
  the held-out intents' `test` sentences join `oos_test` as unknowns. Their `train`
  sentences are never used; their `val` sentences go only to same-domain-held-val.json, the
  unknowns of the same kind on validation, where levers are chosen (bench/ensemble_probe.py
  --held-val); no training run reads them.

  python3 bench/fewshot.py --data examples/clinc150/data_full.json \
      --domains examples/clinc150/domains.json --out-dir bench/out/fewshot --seed 1
"""
import argparse
import json
import random
from pathlib import Path

EVAL_DOMAINS = 5
SHOTS = (5, 10)
HELD_OUT_SHARE = 0.25


def by_intent(rows):
    out = {}
    for text, label in rows:
        out.setdefault(label, []).append([text, label])
    return out


def few_shot(data, domains, seed, shots):
    rng = random.Random(seed)
    names = sorted(domains)
    chosen = sorted(rng.sample(names, EVAL_DOMAINS))
    intents = sorted(i for d in chosen for i in domains[d])
    train, val = by_intent(data["train"]), by_intent(data["val"])
    sets = {}
    for k in shots:
        pick = random.Random(f"{seed}-{k}")
        sets[k] = {
            "train": [row for i in intents for row in pick.sample(train[i], k)],
            "val": [row for i in intents for row in pick.sample(val[i], min(k, len(val[i])))],
            "test": [row for row in data["test"] if row[1] in set(intents)],
            "oos_train": data["oos_train"],
            "oos_val": data["oos_val"],
            "oos_test": data["oos_test"],
        }
    return chosen, sets


def same_domain(data, domains, seed):
    rng = random.Random(f"{seed}-open")
    held = sorted(i for d in sorted(domains) for i in rng.sample(sorted(domains[d]), round(len(domains[d]) * HELD_OUT_SHARE)))
    keep = lambda rows: [r for r in rows if r[1] not in set(held)]
    unknown = [[text, "oos"] for text, label in data["test"] if label in set(held)]
    unknown_val = [text for text, label in data["val"] if label in set(held)]
    return held, unknown_val, {
        "train": keep(data["train"]),
        "val": keep(data["val"]),
        "test": keep(data["test"]),
        "oos_train": data["oos_train"],
        "oos_val": data["oos_val"],
        "oos_test": data["oos_test"] + unknown,
        "held_out_test": unknown,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", required=True)
    p.add_argument("--domains", required=True)
    p.add_argument("--out-dir", required=True)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    data = json.load(open(a.data))
    domains = json.load(open(a.domains))
    out = Path(a.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chosen, sets = few_shot(data, domains, a.seed, SHOTS)
    for k, s in sets.items():
        json.dump(s, open(out / f"{k}-shot.json", "w"))
    held, held_val, open_set = same_domain(data, domains, a.seed)
    # Only the held-out intents' test sentences, as unknowns: their own AUROC and recall.
    held_only = dict(open_set, oos_test=open_set.pop("held_out_test"))
    json.dump(open_set, open(out / "same-domain.json", "w"))
    json.dump(held_only, open(out / "same-domain-held-only.json", "w"))
    json.dump(held_val, open(out / "same-domain-held-val.json", "w"))
    json.dump({"seed": a.seed, "eval_domains": chosen, "held_out_intents": held}, open(out / "choices.json", "w"), indent=1)
    print(f"evaluation domains: {', '.join(chosen)}; held-out intents: {len(held)}")


if __name__ == "__main__":
    main()
