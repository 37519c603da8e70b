#!/usr/bin/env python3
"""Collects bench/out/<name>/ results into bench/results/clinc150.md (appends a dated section)."""
import json, os, platform, subprocess, sys, datetime, re

data, epochs, names = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = []
for name in names:
    ev = json.load(open(f"bench/out/{name}/evaluation.json"))
    log = [json.loads(l) for l in open(f"bench/out/{name}.metrics.jsonl")]
    secs = sum(e["seconds"] for e in log) / len(log)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(f"bench/out/{name}.log").read())
    t = ev["test"]
    size = sum(os.path.getsize(f"bench/out/{name}/{f}") for f in ("model.safetensors", "table.safetensors", "tokenizer.json"))
    rss = int(rss.group(1)) / 1024 if rss else float("nan")
    rows.append((name, t, secs, rss, size, log[-1]))
    # The same bundle with the threshold re-chosen on validation by the other rules.
    for rule in ("balanced", "recall75"):
        path = f"bench/out/{name}.{rule}.json"
        if os.path.exists(path):
            rows.append((f"{name}, {rule} threshold", json.load(open(path)), secs, rss, size, log[-1]))

cpu = "unknown"
try:
    cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
except Exception:
    pass
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
os.makedirs("bench/results", exist_ok=True)
with open("bench/results/clinc150.md", "a") as f:
    f.write(f"\n## {datetime.date.today()} · commit {commit} · {epochs} epochs\n\n")
    f.write(f"Command: `THREADS={os.environ.get('THREADS', '1')} bench/clinc150.sh {data} {epochs} {' '.join(names)}`  \n")
    f.write(f"Machine: {cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}\n\n")
    f.write("| config | in-scope acc | OOS recall | AUROC | FPR95 | threshold | mean E known / unknown | s/epoch | peak RSS MB | bundle MB |\n")
    f.write("|---|---|---|---|---|---|---|---|---|---|\n")
    for name, t, secs, rss, size, last in rows:
        f.write(f"| {name} | {t['in_scope_accuracy']*100:.2f}% | {t['oos_recall']*100:.2f}% | {t['auroc']:.4f} | {t['fpr95']:.4f} "
                f"| {t['threshold']:.3f} | {t['mean_energy_known']:.2f} / {t['mean_energy_unknown']:.2f} | {secs:.1f} | {rss:.0f} | {size/1e6:.2f} |\n")
print(open("bench/results/clinc150.md").read())
