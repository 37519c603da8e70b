#!/usr/bin/env bash
# Rebuilds this folder's table.safetensors (20,000 pieces, PCA-128, product-quantized at two
# values per byte) and pruned tokenizer.json from intfloat/multilingual-e5-small. The model
# comes from MODEL (a directory with tokenizer.json and model.safetensors, or a Hugging Face
# id resolved through the Hugging Face cache); by default models/multilingual-e5-small, written first by
# ../shared/tools/multilingual-e5-small.py when that tool is present.
# TRAINER=path/to/trainer uses that binary instead of a release build.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
model="${MODEL:-models/multilingual-e5-small}"
if [ -z "${MODEL:-}" ] && [ ! -f "$model/model.safetensors" ]; then
  tool=../shared/tools/multilingual-e5-small.py
  [ -f "$tool" ] || { echo "give MODEL=<dir or intfloat/multilingual-e5-small>; no $model and no $tool" >&2; exit 1; }
  python3 "$tool" "$model"
fi
${TRAINER:-cargo run -p trainer --release --} table \
  --model "$model" \
  --prune 20000 \
  --keep-texts examples/bilingual/data.json examples/bilingual/noise.json \
  --dims 128 --pq-sub-dim 2 \
  --source "intfloat/multilingual-e5-small embeddings.word_embeddings.weight (MIT)" \
  --out "$here/.rebuilt"
mv "$here/.rebuilt/table.safetensors" "$here/.rebuilt/tokenizer.json" "$here/"
rmdir "$here/.rebuilt"
