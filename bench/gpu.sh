#!/usr/bin/env bash
# Training speed on a GPU. Trains CLINC150 (full) with a prebuilt trainer for a fixed number of
# epochs, checks its test figures against a CPU run of the same flags on the same machine, and
# appends seconds per epoch and peak GPU memory to bench/results/gpu.md. Needs bash and python3,
# not Rust or a package registry: build the binary anywhere with `./build.sh cuda`.
#   bench/gpu.sh [--bin TRAINER] [--data data_full.json] [--noise FILE] [--epochs N]
#                [--device cuda|cpu] [--reference cpu|none|EVALUATION_JSON] [--tolerance T]
#                [--out DIR] [--results FILE] [-- TRAINER_TRAIN_FLAGS...]
# --reference cpu (default) trains the same flags with --device cpu and compares; a path compares
# with that run's evaluation.json instead. The check: test in-scope accuracy, out-of-scope recall
# and AUROC each within --tolerance (default 0.02, absolute) of the reference.
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${TRAINER:-target/cuda/release/trainer}"
data=../shared/datasets/clinc150/data_full.json
noise=""
epochs=50
device=cuda
reference=cpu
tolerance=0.02
out=bench/out/gpu
results=bench/results/gpu.md
usage() { sed -n '6,8p' "$0" | sed 's/^# *//' >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) bin="$2"; shift 2 ;;
    --data) data="$2"; shift 2 ;;
    --noise) noise="$2"; shift 2 ;;
    --epochs) epochs="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --reference) reference="$2"; shift 2 ;;
    --tolerance) tolerance="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --results) results="$2"; shift 2 ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
extra=("$@")

die() { echo "bench/gpu.sh: $*" >&2; exit 1; }
[ -x "$bin" ] || die "no trainer binary at $bin (build one with ./build.sh cuda; --bin or TRAINER=)"
[ -f "$data" ] || die "no data at $data (CLINC150 data_full.json; --data)"
command -v python3 >/dev/null || die "needs python3"
mkdir -p "$out" "$(dirname "$results")"

# The cuda build opens libcuda (the driver) and CUDA 13's cuBLAS, cuRAND and NVRTC at run time.
# Where they are not on the loader's path, look in Python's site-packages (PyTorch's wheels).
cuda_libraries() {
  local lib dir sp
  for lib in libcublas.so.13 libcublasLt.so.13 libcurand.so.10 libnvrtc.so.13; do
    ldconfig -p 2>/dev/null | grep "$lib" > /dev/null && continue
    for sp in $(python3 -c 'import site; print(" ".join(site.getsitepackages() + [site.getusersitepackages()]))'); do
      [ -d "$sp/nvidia" ] || continue
      dir="$(find "$sp/nvidia" -maxdepth 3 -name "$lib*" -printf '%h\n' -quit)"
      if [ -n "$dir" ]; then
        case ":${LD_LIBRARY_PATH:-}:" in *":$dir:"*) ;; *)
          echo "using $dir for $lib" >&2
          export LD_LIBRARY_PATH="$dir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;;
        esac
        break
      fi
    done
  done
}

# train NAME DEVICE: one run into $out/NAME; GPU memory sampled every 200 ms when nvidia-smi exists.
train() {
  local name="$1" dev="$2" sampler=""
  local smi=(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -i 0)
  rm -rf "${out:?}/$name" "$out/$name".*
  if [ "$dev" = cuda ] && command -v nvidia-smi >/dev/null; then
    "${smi[@]}" > "$out/$name.gpu-mib.base" || true
    "${smi[@]}" -lms 200 > "$out/$name.gpu-mib" &
    sampler=$!
  fi
  echo "== $name: $bin train --data $data ${noise:+--noise $noise }--epochs $epochs ${extra[*]}" >&2
  local start=$EPOCHREALTIME rc=0
  "$bin" train --data "$data" ${noise:+--noise "$noise"} --out "$out/$name" --epochs "$epochs" \
    --device "$dev" --quiet "${extra[@]}" > "$out/$name.log" 2>&1 || rc=$?
  echo "$start $EPOCHREALTIME" > "$out/$name.wall"
  [ -z "$sampler" ] || kill "$sampler" 2>/dev/null || true
  if [ $rc -ne 0 ]; then tail -5 "$out/$name.log" >&2; die "the $name run failed (log: $out/$name.log)"; fi
}

if [ "$device" = cuda ]; then cuda_libraries; fi
train "$device" "$device"
case "$reference" in
  cpu) train cpu-reference cpu; ref_json="$out/cpu-reference/evaluation.json" ;;
  none) ref_json="" ;;
  *) [ -f "$reference" ] || die "no reference at $reference"; ref_json="$reference" ;;
esac

gpu_info="none"
if command -v nvidia-smi >/dev/null; then
  gpu_info="$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader -i 0 || echo unknown)"
fi
cpu_info="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(nproc) cores"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

# Figures, the check and the results file; exits 1 when the check fails.
python3 - "$out" "$device" "$reference" "$ref_json" "$tolerance" "$results" "$epochs" "$data" \
  "$noise" "$bin" "$gpu_info" "$cpu_info" "$commit" "$*" <<'EOF'
import json, math, os, statistics, sys, time

(out, device, reference, ref_json, tolerance, results, epochs, data, noise, binary, gpu_info,
 cpu_info, commit, extra) = sys.argv[1:]
tolerance = float(tolerance)
KEYS = [("in_scope_accuracy", "in-scope accuracy"), ("oos_recall", "out-of-scope recall"),
        ("auroc", "AUROC")]

def run(dev):
    epochs = [json.loads(l) for l in open(f"{out}/{dev}.metrics.jsonl") if l.strip()]
    seconds = [e["seconds"] for e in epochs]
    peak = ""
    samples = f"{out}/{dev}.gpu-mib"
    if os.path.exists(samples):
        used = [int(s) for s in open(samples).read().split() if s.isdigit()]
        base = [int(s) for s in open(samples + ".base").read().split() if s.isdigit()] or [0]
        peak = f"{max(used) - base[0]}" if used else "no samples"
    test = json.load(open(f"{out}/{dev}/evaluation.json"))["test"]
    return dict(first=seconds[0], median=statistics.median(seconds[1:] or seconds),
                total=sum(seconds), wall=(lambda a, b: b - a)(*map(float, open(f"{out}/{dev}.wall").read().split())), peak=peak, test=test)

def pct(x):
    return "n/a" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"

runs = {device: run(device)}
if reference == "cpu":
    runs["cpu-reference"] = run("cpu-reference")
if ref_json:
    ref = json.load(open(ref_json))["test"]
    mine = runs[device]["test"]
    lines, ok = [], True
    for key, name in KEYS:
        a, b = mine[key], ref[key]
        same = (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tolerance
        ok &= same
        lines.append(f"{name} {a:.4f} vs {b:.4f}: {'ok' if same else 'DIFFERS'}")
    check = (f"{'PASS' if ok else 'FAIL'}: test figures of the {device} run within ±{tolerance} "
             f"of the CPU reference ({ref_json}): " + "; ".join(lines))
else:
    ok, check = True, "not checked (--reference none)"

rows = []
for dev, r in runs.items():
    t = r["test"]
    rows.append(f"| {dev} | {r['first']:.2f} | {r['median']:.2f} | {r['total']:.1f} | {r['wall']:.1f} "
                f"| {r['peak'] or '-'} | {pct(t['in_scope_accuracy'])} | {pct(t['oos_recall'])} "
                f"| {t['auroc']:.3f} |")
command = (f"bench/gpu.sh --bin {binary} --data {data}" + (f" --noise {noise}" if noise else "")
           + f" --epochs {epochs} --device {device}"
           + (f" --reference {reference}" if reference != "cpu" else "")
           + (f" --tolerance {tolerance}" if tolerance != 0.02 else "")
           + (f" -- {extra}" if extra else ""))
text = f"""
## {time.strftime('%Y-%m-%d', time.gmtime())} · commit {commit} · {device}

`{command}` (commit {commit}, {time.strftime('%Y-%m-%d', time.gmtime())}), default training flags
unless given after `--`.

Machine: GPU {gpu_info}; CPU {cpu_info}.

| run | first epoch (s) | median epoch, 2.. (s) | all epochs (s) | wall incl. load and evaluation (s) | peak GPU memory (MiB) | test in-scope accuracy | test out-of-scope recall | test AUROC |
|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

Check: {check}

Peak GPU memory is the device's `memory.used` (nvidia-smi, every 200 ms) minus its value before
the run. The first epoch includes loading CUDA's kernels.
"""
new_file = not os.path.exists(results)
with open(results, "a") as f:
    f.write(("# Training on a GPU: seconds per epoch and peak memory\n" if new_file else "") + text)
print(text)
sys.exit(0 if ok else 1)
EOF
