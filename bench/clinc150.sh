#!/usr/bin/env bash
# CLINC150 (full) benchmark: train on `train` with `oos_train` as negatives, choose the
# threshold on `val` + `oos_val`, report on `test` + `oos_test`. One run per configuration;
# results land in bench/out/<name>/ and the table in bench/results/clinc150.md.
#   bench/clinc150.sh [CLINC_JSON] [EPOCHS] [CONFIG ...]
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/datasets/clinc150/data_full.json}"
epochs="${2:-50}"
shift 2 || true
[ -f "$data" ] || { echo "skip: $data not found (CLINC150 data_full.json)" >&2; exit 0; }

declare -A CONFIGS=(
  [default]=""
  [seed-loss]="--energy-loss seed"
  [seed-faithful]="--energy-loss seed --bn-stats per-pass --synthetic gaussian"
  [hinge-seed-bn]="--bn-stats per-pass --synthetic gaussian"
  [wide256]="--channels 256"
  [kernels2345]="--kernels 2,3,4,5 --paddings 1,1,1,2"
)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(default seed-loss seed-faithful hinge-seed-bn)

cargo build -q -p trainer --release
for name in "${names[@]}"; do
  out="bench/out/$name"
  mkdir -p bench/out
  echo "== $name: ${CONFIGS[$name]}" >&2
  # shellcheck disable=SC2086
  /usr/bin/time -v ./target/release/trainer --threads "${THREADS:-1}" train --data "$data" \
    --out "$out" --epochs "$epochs" --quiet ${CONFIGS[$name]} \
    > "bench/out/$name.log" 2> "bench/out/$name.err" || { tail "bench/out/$name.err"; exit 1; }
  grep -E "Maximum resident" "bench/out/$name.err" >> "bench/out/$name.log"
done
python3 bench/summarize.py "$data" "$epochs" "${names[@]}"
