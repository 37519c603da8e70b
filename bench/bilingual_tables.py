#!/usr/bin/env python3
"""Bilingual quality of candidate token tables, over several seeds (bench/results/payload.md).

  bench/bilingual_tables.py TABLE_DIR [TABLE_DIR ...] [--seeds 42,7,13,1,2]

For each table and seed: a model trained on examples/bilingual, scored on heldout.json (known
queries right per language, unknown queries accepted per language: what
tests/browser/bilingual.test.mjs checks), and a model trained on the `both` split of
bench/bilingual_splits.py, scored on its test part (threshold on its validation part). Prints a
Markdown table of the means. Models go to bench/out/bilingual-tables; TRAINER overrides
target/release/trainer.
"""
import argparse, json, os, re, statistics, subprocess, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TRAINER = os.environ.get("TRAINER", os.path.join(ROOT, "target/release/trainer"))
OUT = os.path.join(ROOT, "bench/out/bilingual-tables")
EXAMPLE = os.path.join(ROOT, "examples/bilingual")


def language(s):
    cjk, latin = re.search(r"[\u3400-\u9fff]", s), re.search(r"[A-Za-z]", s)
    return "mixed" if cjk and latin else "zh" if cjk else "en"


def trainer(*args):
    subprocess.run([TRAINER, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def heldout_counts(table, seed, held, texts_path):
    model = os.path.join(OUT, f"{os.path.basename(table)}-s{seed}")
    trainer("train", "--data", f"{EXAMPLE}/data.json", "--noise", f"{EXAMPLE}/noise.json",
            "--table", table, "--out", model, "--seed", str(seed), "--quiet")
    trainer("logits", "--bundle", model, "--texts", texts_path, "--out", f"{model}/heldout.json")
    rows = json.load(open(f"{model}/heldout.json"))
    counts = {}
    for known, row in zip(held["known"], rows):
        key = "known " + language(known["text"])
        counts[key] = counts.get(key, 0) + (row["result"]["intent"] == known["intent"])
    for text, row in zip(held["unknown"], rows[len(held["known"]):]):
        key = "accepted " + language(text)
        counts[key] = counts.get(key, 0) + bool(row["result"]["known"])
    return counts


def split_figures(table, seed, split):
    model = os.path.join(OUT, f"both-{os.path.basename(table)}-s{seed}")
    trainer("train", "--data", split, "--table", table, "--out", model, "--seed", str(seed), "--quiet")
    trainer("evaluate", "--bundle", model, "--data", split, "--json", f"{model}/report.json")
    r = json.load(open(f"{model}/report.json"))
    return {"in-scope": r["in_scope_accuracy"], "OOS recall": r["oos_recall"], "AUROC": r["auroc"]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("tables", nargs="+")
    p.add_argument("--seeds", default="42,7,13,1,2")
    a = p.parse_args()
    if not os.access(TRAINER, os.X_OK):
        sys.exit(f"no trainer at {TRAINER} (cargo build -p trainer --release)")
    os.makedirs(OUT, exist_ok=True)
    subprocess.run([sys.executable, os.path.join(ROOT, "bench/bilingual_splits.py"), f"{OUT}/splits"], check=True)
    held = json.load(open(f"{EXAMPLE}/heldout.json"))
    texts_path = f"{OUT}/heldout-texts.json"
    json.dump([k["text"] for k in held["known"]] + held["unknown"], open(texts_path, "w"), ensure_ascii=False)
    seeds = [int(s) for s in a.seeds.split(",")]
    columns = ["known en", "known zh", "known mixed", "accepted en", "accepted zh", "in-scope", "OOS recall", "AUROC"]
    print(f"| table | {' | '.join(columns)} | worst seed's accepted en / zh |")
    print("|---" * (len(columns) + 2) + "|")
    for table in a.tables:
        runs = []
        for seed in seeds:
            run = heldout_counts(table, seed, held, texts_path)
            run.update(split_figures(table, seed, f"{OUT}/splits/both.json"))
            runs.append(run)
            print(f"{table} seed {seed}: {run}", file=sys.stderr)
        mean = {c: statistics.mean(r.get(c, 0) for r in runs) for c in columns}
        shown = [f"{mean[c]:.1f}" if c.startswith(("known", "accepted")) else
                 f"{mean[c]:.4f}" if c == "AUROC" else f"{mean[c] * 100:.2f}%" for c in columns]
        worst = f"{max(r.get('accepted en', 0) for r in runs)} / {max(r.get('accepted zh', 0) for r in runs)}"
        print(f"| {table} | {' | '.join(shown)} | {worst} |")


if __name__ == "__main__":
    main()
