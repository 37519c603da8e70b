#!/usr/bin/env bash
# CLINC150 (full) benchmark, end to end: train on `train` with `oos_train` as negatives,
# choose the threshold on `val` + `oos_val`, report on `test` + `oos_test`; then re-choose the
# threshold on validation with the other rules. One run per configuration; bundles land in
# bench/out/<name>/ (with their plots) and the table in bench/results/clinc150.md.
#   bench/clinc150.sh [CLINC_JSON] [EPOCHS] [CONFIG ...]     (no CONFIG: every one below)
#   JOBS=3 THREADS=1 TRAINER=target/debug/trainer bench/clinc150.sh ...   three at once, no release build
# Per-intent thresholds for a bundle: python3 bench/per_intent_thresholds.py bench/out/NAME
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-../shared/datasets/clinc150/data_full.json}"
epochs="${2:-50}"
shift 2 || true
minilm="${MINILM_DIR:-../shared/models/all-MiniLM-L6-v2}"
[ -f "$data" ] || { echo "skip: $data not found (CLINC150 data_full.json)" >&2; exit 0; }

declare -A CONFIGS=(
  [default]=""
  [distilled]="--table bench/out/tables/distilled"
  [wide256]="--channels 256"
  [wide256-f16]="--channels 256 --weights-dtype f16"
  [wide256-f16-seed7]="--channels 256 --weights-dtype f16 --seed 7"
  [wide256-f16-seed13]="--channels 256 --weights-dtype f16 --seed 13"
  [e5-full]="--table bench/out/tables/e5-full"
  [e5-pruned]="--table bench/out/tables/e5-clinc30k"
  [batch128]="--batch-size 128 --lr 0.0018"
  [default-seed7]="--seed 7"
  [default-seed13]="--seed 13"
  [typo20]="--typo-rate 0.2"
  [typo20-seed7]="--typo-rate 0.2 --seed 7"
  [typo20-seed13]="--typo-rate 0.2 --seed 13"
  [f32-weights]="--weights-dtype f32"
  [members3]="--members 3"
  [members3-seed7]="--members 3 --seed 7"
  [members3-seed13]="--members 3 --seed 13"
  [constant-lr]="--lr-schedule constant"
  [constant-lr-seed7]="--lr-schedule constant --seed 7"
  [constant-lr-seed13]="--lr-schedule constant --seed 13"
  [kernels2345]="--kernels 2,3,4,5 --paddings 1,1,1,2"
  [tokens-noise]="--synthetic tokens"
  [spliced-noise]="--synthetic spliced"
  [label-smoothing]="--label-smoothing 0.1"
  [seed-loss]="--energy-loss seed"
  [seed-faithful]="--energy-loss seed --bn-stats per-pass --synthetic gaussian"
  [hinge-seed-bn]="--bn-stats per-pass --synthetic gaussian"
)
RULES=(balanced recall75)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(default distilled wide256 kernels2345 seed-loss seed-faithful hinge-seed-bn)

# TRAINER=path/to/trainer: that binary (e.g. target/debug/trainer, same weights) instead of a release build.
if [ -z "${TRAINER:-}" ]; then cargo build -q -p trainer --release; fi
trainer="${TRAINER:-./target/release/trainer}"
mkdir -p bench/out
if [[ " ${names[*]} " == *" distilled "* && ! -f bench/out/tables/distilled/table.safetensors ]]; then
  [ -f "$minilm/model.safetensors" ] || { echo "skip distilled: $minilm not found" >&2; exit 1; }
  echo "== distilling the token table from $minilm" >&2
  $trainer table --model-dir "$minilm" --embeddings distilled --out bench/out/tables/distilled
fi
run_config() {
  local name="$1" out="bench/out/$1"
  echo "== $name: ${CONFIGS[$name]}" >&2
  # shellcheck disable=SC2086
  /usr/bin/time -v $trainer --threads "${THREADS:-1}" train --data "$data" \
    --out "$out" --epochs "$epochs" --quiet ${CONFIGS[$name]} \
    > "bench/out/$name.log" 2> "bench/out/$name.err" || { tail "bench/out/$name.err"; return 1; }
  grep -E "Maximum resident" "bench/out/$name.err" >> "bench/out/$name.log"
  for rule in "${RULES[@]}"; do
    $trainer evaluate --bundle "$out" --data "$data" --threshold-rule "$rule" \
      --json "bench/out/$name.$rule.json" --plots "bench/out/$name.$rule-plots" > /dev/null
  done
}
for name in "${names[@]}"; do
  [ -n "${CONFIGS[$name]+set}" ] || { echo "unknown config $name (${!CONFIGS[*]})" >&2; exit 2; }
done
# JOBS=N trains N configurations at once (each on THREADS threads).
pids=()
for name in "${names[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "${JOBS:-1}" ]; do wait -n || exit 1; done
  run_config "$name" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || exit 1; done
python3 bench/summarize.py "$data" "$epochs" "${names[@]}"
