#!/usr/bin/env bash
# Multilingual tables (multilingual-e5-small, full and pruned to 30k pieces) against the
# English MiniLM table: build time and peak memory, how pruning changes tokenization, and
# classifier quality on the bilingual example (both languages; English -> Chinese transfer)
# and, with --clinc, on CLINC150 (two 50-epoch runs). -> bench/results/multilingual.md
#   bench/multilingual.sh [--clinc]
# The e5 model directory: E5_DIR (default models/multilingual-e5-small), written by
# ../shared/tools/multilingual-e5-small.py when missing and that tool is there.
set -euo pipefail
cd "$(dirname "$0")/.."
e5="${E5_DIR:-models/multilingual-e5-small}"
clinc="${CLINC_JSON:-../shared/datasets/clinc150/data_full.json}"
out=bench/out/multilingual
tables=bench/out/tables
if [ ! -f "$e5/model.safetensors" ]; then
  tool=../shared/tools/multilingual-e5-small.py
  [ -f "$tool" ] || { echo "skip: no $e5 and no $tool to write it" >&2; exit 0; }
  python3 "$tool" "$e5"
fi
cargo build -q -p trainer --release
trainer=./target/release/trainer
mkdir -p "$out" "$tables"
python3 bench/bilingual_splits.py "$out/splits"

# table NAME ARGS...: one `trainer table` run, its output and "seconds peak-KB" kept.
table() {
  local name="$1"; shift
  echo "== table $name" >&2
  /usr/bin/time -f "%e %M" -o "$out/$name.time" \
    $trainer --threads 1 table --model "$e5" --quiet "$@" --out "$tables/$name" > "$out/$name.table.log"
}
table e5-full
table e5-bilingual30k --prune 30000 \
  --keep-texts examples/bilingual/data.json examples/bilingual/noise.json \
  --compare-texts "$out"/splits/texts-{en,zh,mixed}.json
if [ -f "$clinc" ]; then
  python3 - "$clinc" "$out" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
json.dump([t for t, _ in d["train"] + d["oos_train"]], open(f"{sys.argv[2]}/clinc-train-texts.json", "w"))
json.dump([t for t, _ in d["test"] + d["oos_test"]], open(f"{sys.argv[2]}/clinc-test-texts.json", "w"))
PY
  table e5-clinc30k --prune 30000 --keep-texts "$out/clinc-train-texts.json" \
    --compare-texts "$out/clinc-test-texts.json"
fi

# Quality on the bilingual example: threshold on val, figures on test (see bilingual_splits.py).
for split in both en-to-zh; do
  for spec in minilm=assets/minilm-l6-v2 e5-full="$tables/e5-full" e5-pruned="$tables/e5-bilingual30k"; do
    name="${spec%%=*}"
    echo "== $split with $name" >&2
    $trainer --threads 1 train --data "$out/splits/$split.json" --table "${spec#*=}" \
      --out "$out/$split-$name" --quiet > "$out/$split-$name.log"
  done
done

if [ "${1:-}" = --clinc ] && [ -f "$clinc" ]; then
  bench/clinc150.sh "$clinc" 50 e5-full e5-pruned
fi
python3 bench/multilingual_summary.py "$out" "$@"
