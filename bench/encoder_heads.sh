#!/usr/bin/env bash
# The sentence-encoder kind's head choices on the few-shot and same-domain sets
# (bench/encoder_heads.py): embeds each set once with a bundle's encoder, then compares heads.
#   bench/encoder_heads.sh BUNDLE_DIR [SET ...]     (default: 5-shot 10-shot same-domain)
# BUNDLE_DIR: any bundle of the sentence-encoder kind, e.g. bench/out/fewshot/model-5-shot
# after `ENCODER=../shared/models/all-MiniLM-L6-v2 bench/fewshot.sh - 5-shot`.
# SEED=2 bench/encoder_heads.sh ...: the sets drawn with another seed (other domains, other
# sentences), in bench/out/fewshot-seed2: a check on data the choice never saw.
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE="${1:?usage: bench/encoder_heads.sh BUNDLE_DIR [SET ...]}"
shift
SETS=("$@")
[ ${#SETS[@]} -gt 0 ] || SETS=(5-shot 10-shot same-domain)
SEED="${SEED:-1}"
OUT=bench/out/fewshot
[ "$SEED" = 1 ] || OUT="bench/out/fewshot-seed$SEED"
python3 bench/fewshot.py --data examples/clinc150/data_full.json --domains examples/clinc150/domains.json \
  --out-dir "$OUT" --seed "$SEED" > /dev/null
cargo build --release -q -p sentence-encoder --example embed_set
# Vectors are cached per encoder file: another encoder embeds afresh.
VECTORS="$OUT/vectors-$(sha256sum "$BUNDLE/encoder.safetensors" | cut -c1-12)"
mkdir -p "$VECTORS"
embed() { [ -s "$VECTORS/$2.f32" ] || target/release/examples/embed_set "$BUNDLE" "$1" "$VECTORS/$2.f32"; }
for set in "${SETS[@]}"; do embed "$OUT/$set.json" "$set"; done
embed "$OUT/same-domain-held-val.json" held-val
python3 bench/encoder_heads.py "$OUT" "$VECTORS" "${SETS[@]}"
