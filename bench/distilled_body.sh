#!/usr/bin/env bash
# A TextCNN body distilled from all-MiniLM-L6-v2's sentence vectors, as a few-shot lever:
# builds the unlabelled corpus from what a body may learn from (bench/distill_corpus.py),
# embeds it with the teacher, distils the body, compares student and teacher vectors on the
# 5-shot set (bench/sentence_probe.py), then runs bench/fewshot.sh with --body.
#   bench/distilled_body.sh [small|large] [DISTILL_EPOCHS]   (default: small 3)
# Needs ../shared/models/all-MiniLM-L6-v2. Figures: bench/results/fewshot.md.
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE="${1:-small}"
EPOCHS="${2:-3}"
TEACHER=../shared/models/all-MiniLM-L6-v2
[ -f "$TEACHER/model.safetensors" ] || { echo "bench/distilled_body.sh: the teacher $TEACHER is absent" >&2; exit 1; }
OUT=bench/out/distilled
mkdir -p "$OUT"
cargo build --release -p trainer --bin trainer --examples
python3 bench/fewshot.py --data examples/clinc150/data_full.json --domains examples/clinc150/domains.json \
  --out-dir bench/out/fewshot --seed 1
python3 bench/distill_corpus.py bench/out/fewshot/pretrain.json assets/minilm-l6-v2/tokenizer.json \
  "$SIZE" "$OUT/corpus-$SIZE.json"
# The teacher's vectors take minutes; kept for the next run of the same corpus.
[ -f "$OUT/teacher-$SIZE.f32" ] || target/release/examples/sentence_embed "$TEACHER" \
  "$OUT/corpus-$SIZE.json" "$OUT/teacher-$SIZE.f32"
python3 -c "
import json, sys
d = json.load(open('bench/out/fewshot/5-shot.json'))
splits = ['train', 'val', 'test', 'oos_train', 'oos_val', 'oos_test']
json.dump([r[0] if isinstance(r, list) else r for k in splits for r in d[k]], open(sys.argv[1], 'w'))
" "$OUT/5-shot-texts.json"
[ -f "$OUT/teacher-5-shot.f32" ] || target/release/examples/sentence_embed "$TEACHER" \
  "$OUT/5-shot-texts.json" "$OUT/teacher-5-shot.f32"
body="$OUT/body-$SIZE-$EPOCHS.safetensors"
target/release/examples/distill_body assets/minilm-l6-v2 "$OUT/corpus-$SIZE.json" \
  "$OUT/teacher-$SIZE.f32" "$body" "$EPOCHS" 0.002 "$OUT/5-shot-texts.json" "$OUT/student-5-shot.f32"
echo "teacher on the 5-shot set:"
python3 bench/sentence_probe.py bench/out/fewshot/5-shot.json "$OUT/teacher-5-shot.f32"
echo "student ($SIZE corpus, $EPOCHS epochs) on the 5-shot set:"
python3 bench/sentence_probe.py bench/out/fewshot/5-shot.json "$OUT/student-5-shot.f32"
python3 -c "
import sys
import numpy as np
t, s = (np.fromfile(p, dtype=np.float32).reshape(-1, 384) for p in sys.argv[1:3])
print(f'mean cosine, student to teacher, on the 5-shot set: {(t * s).sum(1).mean():.4f}')
" "$OUT/teacher-5-shot.f32" "$OUT/student-5-shot.f32"
EXTRA="--body $body" bench/fewshot.sh 50 5-shot 10-shot
