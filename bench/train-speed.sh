#!/usr/bin/env bash
# Training speed of the TextCNN: `trainer train` against the same model and loss in PyTorch
# (bench/train_speed_torch.py), on the same data, interleaved (PyTorch, trainer, PyTorch,
# trainer) in one run, per data set:
#   everyday   examples/everyday (10 intents, 527 training sentences, short);
#   clinc150   examples/clinc150/data_full.json (150 intents, 15,000 sentences, short);
#   long       CLINC150 with two or three training sentences of one intent joined into one
#              (bench/out/train-speed/long.json; about 30 tokens a sentence).
# Each run reports, per epoch, the training steps and the validation pass separately. The
# table goes to bench/results/train-speed.md with the machine.
#   bench/train-speed.sh [EPOCHS] [SET ...]        (default: 2 epochs, every set)
#   THREADS=1 bench/train-speed.sh                  both sides on one thread
# PyTorch (CPU, from PyPI) is installed into bench/out/torch-venv the first time; nothing
# else uses it.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs="${1:-2}"
shift || true
sets=("$@")
[ ${#sets[@]} -gt 0 ] || sets=(everyday clinc150 long)
threads="${THREADS:-$(nproc)}"
out=bench/out/train-speed
mkdir -p "$out"

venv=bench/out/torch-venv
if ! "$venv/bin/python" -c 'import torch, tokenizers' 2>/dev/null; then
  echo "== installing PyTorch 2.15.0 (CPU use) and tokenizers into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q torch==2.15.0 tokenizers numpy
fi
cargo build -q -p trainer --release --no-default-features
trainer=./target/release/trainer

# The long-sentence set: each intent's sentences joined two or three at a time, in order.
python3 - "$out/long.json" <<'EOF'
import json, sys
data = json.load(open("examples/clinc150/data_full.json"))
def joined(rows):
    by_intent = {}
    for text, intent in rows:
        by_intent.setdefault(intent, []).append(text)
    out = []
    for intent, texts in by_intent.items():
        i, k = 0, 2
        while i < len(texts):
            out.append([", and ".join(texts[i:i + k]), intent])
            i += k
            k = 5 - k  # 2, 3, 2, 3, ...
    return out
json.dump({split: joined(rows) for split, rows in data.items()}, open(sys.argv[1], "w"))
EOF

data_of() {
  case "$1" in
    everyday) echo "--data examples/everyday/data.json --noise examples/everyday/noise.json" ;;
    clinc150) echo "--data examples/clinc150/data_full.json" ;;
    long) echo "--data $out/long.json" ;;
  esac
}

# run_torch SET REP / run_trainer SET REP: one timed run, its per-epoch JSON lines in $out.
run_torch() {
  # shellcheck disable=SC2046
  "$venv/bin/python" bench/train_speed_torch.py $(data_of "$1") \
    --tokenizer assets/minilm-l6-v2/tokenizer.json --epochs "$epochs" --threads "$threads" \
    > "$out/$1-torch-$2.jsonl"
}
run_trainer() {
  rm -rf "$out/$1-trainer-$2" "$out/$1-trainer-$2.metrics.jsonl"
  # shellcheck disable=SC2046
  RAYON_NUM_THREADS="$threads" "$trainer" train $(data_of "$1") --table assets/minilm-l6-v2 \
    --epochs "$epochs" --threads "$threads" --out "$out/$1-trainer-$2" --quiet > /dev/null
}

# timed SET SIDE REP: runs run_SIDE, appending its whole wall time to $out/wall.tsv.
timed() {
  local start end
  echo "== $1, run $3: $2" >&2
  start=$(date +%s.%N)
  "run_$2" "$1" "$3"
  end=$(date +%s.%N)
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$(python3 -c "print(round($end - $start, 2))")" >> "$out/wall.tsv"
}

rm -f "$out/wall.tsv"
for set in "${sets[@]}"; do
  for rep in 1 2; do
    timed "$set" torch "$rep"
    timed "$set" trainer "$rep"
  done
done

python3 bench/train_speed_summary.py "$out" "$epochs" "$threads" "${sets[@]}" | tee -a bench/results/train-speed.md
