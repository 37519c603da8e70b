#!/usr/bin/env bash
# What each way of shrinking the sentence encoder costs, on the few-shot sets' validation
# split (bench/encoder_compression.py): 4-bit word embeddings, 4-bit matrices, fewer layers.
# Each variant is stored from the checkpoint (the compress_encoder example), embeds each set
# once (embed_set), and is scored against the int8 file, the shipped encoder.
#   bench/encoder_compression.sh [MODEL_DIR] [SET ...]   (default: ../shared/models/all-MiniLM-L6-v2; 5-shot 10-shot)
# A variant is "EMBEDDINGS MATRICES LAYERS [FEED-FORWARD]" (int8|int4, int8|int4, a count or
# "all", int8|int4: the feed-forward matrices apart from the other matrices); set
# VARIANTS to override the list below. Needs numpy (PYTHON=path/to/python for a venv that has it).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL="${1:-../shared/models/all-MiniLM-L6-v2}"
shift || true
SETS=("$@")
[ ${#SETS[@]} -gt 0 ] || SETS=(5-shot 10-shot)
[ -f "$MODEL/model.safetensors" ] || { echo "bench/encoder_compression.sh: no checkpoint at $MODEL" >&2; exit 1; }
OUT=bench/out/fewshot
DIR=bench/out/encoder-compression
python3 bench/fewshot.py --data examples/clinc150/data_full.json --domains examples/clinc150/domains.json \
  --out-dir "$OUT" --seed 1 > /dev/null
cargo build --release -q -p sentence-encoder --example compress_encoder --example embed_set
DEFAULT_VARIANTS=("int8 int8 all" "int4 int8 all" "int8 int4 all" "int4 int4 all" "int4 int8 all int4" "int4 int4 all int8"
  "int4 int4 5" "int4 int4 4" "int4 int4 3")
if [ -n "${VARIANTS:-}" ]; then IFS=';' read -ra LIST <<< "$VARIANTS"; else LIST=("${DEFAULT_VARIANTS[@]}"); fi
names=()
for variant in "${LIST[@]}"; do
  read -r embeddings matrices layers feed_forward <<< "$variant"
  feed_forward="${feed_forward:-$matrices}"
  name="emb-$embeddings.mat-$matrices.ffn-$feed_forward.layers-$layers"
  names+=("$name")
  if [ ! -s "$DIR/$name/encoder.safetensors" ]; then
    target/release/examples/compress_encoder "$MODEL" "$DIR/$name" "$embeddings" "$matrices" "$layers" "$feed_forward"
  fi
  for set in "${SETS[@]}"; do
    [ -s "$DIR/$name/$set.f32" ] || target/release/examples/embed_set "$DIR/$name" "$OUT/$set.json" "$DIR/$name/$set.f32"
    # same-domain also scores against its held-out intents' validation sentences.
    if [ "$set" = same-domain ] && [ ! -s "$DIR/$name/held-val.f32" ]; then
      target/release/examples/embed_set "$DIR/$name" "$OUT/same-domain-held-val.json" "$DIR/$name/held-val.f32"
    fi
  done
done
${PYTHON:-python3} bench/encoder_compression.py "$OUT" "$DIR" "${names[@]}" -- "${SETS[@]}"
