"""The table of bench/train-speed.sh: per data set and side, seconds per epoch for the
training steps and the validation pass, and the whole run, from the runs' logs."""

import json
import os
import platform
import subprocess
import sys
from datetime import datetime, timezone

out, epochs, threads, *sets = sys.argv[1:]


def lines(path):
    return [json.loads(l) for l in open(path) if l.strip()]


def per_epoch(set_name, side, rep):
    """[(train seconds, validation seconds)] per epoch of one run."""
    if side == "torch":
        return [(e["train_seconds"], e["validation_seconds"]) for e in lines(f"{out}/{set_name}-torch-{rep}.jsonl")]
    rows = lines(f"{out}/{set_name}-trainer-{rep}.metrics.jsonl")
    return [(e["seconds"] - e["validation_seconds"], e["validation_seconds"]) for e in rows]


wall = {}
for row in open(f"{out}/wall.tsv"):
    s, side, rep, seconds = row.split("\t")
    wall[(s, side, rep)] = float(seconds)

cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "unknown CPU")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
torch_version = subprocess.run(
    ["bench/out/torch-venv/bin/python", "-c", "import torch; print(torch.__version__)"], capture_output=True, text=True
).stdout.strip()
print(f"## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, commit {commit}")
print()
print(
    f"`bench/train-speed.sh {epochs} {' '.join(sets)}` on {platform.system()} {platform.machine()}, "
    f"{os.cpu_count()} cores ({cpu}), {threads} threads each side; PyTorch {torch_version} (CPU). "
    "Runs interleaved: PyTorch, trainer, PyTorch, trainer. Seconds per epoch, each run's epochs "
    "in order; \"whole run\" includes start-up, tokenizing and (trainer) the bundle's evaluation and files."
)
print()
print("| set | side | training steps, s / epoch | validation pass, s / epoch | whole run, s | trainer / PyTorch, training steps |")
print("|---|---|---|---|---|---|")
for s in sets:
    means = {}
    for side, name in (("torch", "PyTorch"), ("trainer", "`trainer train`")):
        runs = [per_epoch(s, side, rep) for rep in ("1", "2")]
        train = " / ".join(", ".join(f"{t:.2f}" for t, _ in run) for run in runs)
        val = " / ".join(", ".join(f"{v:.2f}" for _, v in run) for run in runs)
        whole = " / ".join(f"{wall[(s, side, rep)]:.1f}" for rep in ("1", "2"))
        # The first epoch of each run is left out of the mean: it pays for warm-up.
        steady = [t for run in runs for t, _ in (run[1:] or run)]
        means[side] = sum(steady) / len(steady)
        ratio = f"{means['trainer'] / means['torch']:.2f}" if side == "trainer" else ""
        print(f"| {s} | {name} | {train} | {val} | {whole} | {ratio} |")
print()
