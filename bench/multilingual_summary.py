#!/usr/bin/env python3
"""Collects bench/multilingual.sh's outputs into bench/results/multilingual.md (appends a
dated section)."""
import datetime, json, os, platform, re, subprocess, sys

out, flags = sys.argv[1], sys.argv[2:]
tables = "bench/out/tables"


def size(d, files=("table.safetensors", "tokenizer.json")):
    return sum(os.path.getsize(os.path.join(d, f)) for f in files)


def trained_rule(bundle):
    """The threshold rule recorded in a bundle's training metadata."""
    import struct
    raw = open(os.path.join(bundle, "model.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    meta = json.loads(raw[8:8 + n])["__metadata__"]
    return json.loads(meta["training"])["args"]["threshold_rule"].lower()


def gz(path):
    import gzip
    return len(gzip.compress(open(path, "rb").read(), 9))


cpu = "unknown"
try:
    cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
except Exception:
    pass
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
lines = [f"\n## {datetime.date.today()} · commit {commit}\n",
         f"Command: `{' '.join(['bench/multilingual.sh'] + flags)}` (CLINC150 rows: the latest `bench/clinc150.sh` runs in bench/out)  ",
         f"Machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; one thread\n",
         "### Tables (`trainer table`, PCA to 128 dims, int8)\n",
         "| table | pieces | build s | peak RSS MB | explained variance | table MB | tokenizer MB (gzip) |",
         "|---|---|---|---|---|---|---|"]
for name in ("e5-full", "e5-bilingual30k", "e5-clinc30k"):
    tpath = f"{out}/{name}.time"
    if not os.path.exists(tpath):
        continue
    secs, kb = open(tpath).read().split()[-2:]
    log = open(f"{out}/{name}.table.log").read()
    var = re.search(r"explained variance ([0-9.]+)", log).group(1)
    rows = re.search(r"over (\d+) rows", log).group(1)
    d = f"{tables}/{name}"
    lines.append(f"| {name} | {rows} | {float(secs):.1f} | {int(kb) / 1024:.0f} | {var} "
                 f"| {os.path.getsize(d + '/table.safetensors') / 1e6:.2f} "
                 f"| {os.path.getsize(d + '/tokenizer.json') / 1e6:.2f} ({gz(d + '/tokenizer.json') / 1e6:.2f}) |")
lines += ["", "Tokenization after pruning (the pruned tokenizer against the full one; a token is unchanged "
          "when the pruned split has the same piece over the same characters):", ""]
for name in ("e5-bilingual30k", "e5-clinc30k"):
    p = f"{out}/{name}.table.log"
    if os.path.exists(p):
        for l in open(p):
            if "tokens unchanged" in l or l.startswith("pruned"):
                lines.append(f"- {name}: {l.strip().replace(out + '/', '')}")
lines += ["", "### Quality on the bilingual example (`bench/bilingual_splits.py`; threshold on val, figures on test)\n",
          "`both`: both languages, test = 15% of each intent's sentences + every held-out query. "
          "`en-to-zh`: trained on English sentences and negatives only, tested on every Chinese one.\n",
          "| split | table | in-scope acc | OOS recall | AUROC | FPR95 | bundle MB |", "|---|---|---|---|---|---|---|"]
for split in ("both", "en-to-zh"):
    for name in ("minilm", "e5-full", "e5-pruned"):
        d = f"{out}/{split}-{name}"
        if not os.path.exists(d + "/evaluation.json"):
            continue
        t = json.load(open(d + "/evaluation.json"))["test"]
        lines.append(f"| {split} | {name} | {t['in_scope_accuracy'] * 100:.2f}% | {t['oos_recall'] * 100:.2f}% "
                     f"| {t['auroc']:.4f} | {t['fpr95']:.4f} | {size(d, ('model.safetensors', 'table.safetensors', 'tokenizer.json')) / 1e6:.2f} |")
clinc = [("minilm (default)", "bench/out/default"), ("e5-full", "bench/out/e5-full"), ("e5-pruned", "bench/out/e5-pruned")]
if any(os.path.exists(d + "/evaluation.json") for _, d in clinc[1:]):
    lines += ["", "### CLINC150 full (50 epochs, default settings; threshold on val + oos_val, figures on test + oos_test)\n",
              "`e5-pruned` keeps the pieces of CLINC150's train and oos_train sentences (not val or test).\n",
              "| table, threshold rule | in-scope acc | OOS recall | AUROC | FPR95 | bundle MB |", "|---|---|---|---|---|---|"]
    for name, d in clinc:
        if not os.path.exists(d + "/evaluation.json"):
            continue
        rule = trained_rule(d)
        rows = [(rule, d + "/evaluation.json")]
        if rule != "recall75" and os.path.exists(d + ".recall75.json"):
            rows.append(("recall75, re-chosen on val", d + ".recall75.json"))
        for rule, path in rows:
            t = json.load(open(path))
            t = t.get("test", t)
            lines.append(f"| {name}, {rule} | {t['in_scope_accuracy'] * 100:.2f}% | {t['oos_recall'] * 100:.2f}% | {t['auroc']:.4f} "
                         f"| {t['fpr95']:.4f} | {size(d, ('model.safetensors', 'table.safetensors', 'tokenizer.json')) / 1e6:.2f} |")
os.makedirs("bench/results", exist_ok=True)
with open("bench/results/multilingual.md", "a") as f:
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
