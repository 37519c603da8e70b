#!/usr/bin/env bash
# Few-shot across domains and unknowns from the same domain, on CLINC150 (bench/fewshot.py
# makes the sets, seeded; the choices land in bench/out/fewshot/choices.json):
#   5-shot, 10-shot   75 intents of 5 evaluation domains, K train + K val sentences each
#   same-domain       a quarter of each domain's intents held out as unknown
# Each set: trainer train (threshold on its val + oos_val by the default rule), then
# trainer evaluate on its test + oos_test. Writes bench/results/fewshot.md.
#   bench/fewshot.sh [EPOCHS] [SET ...]        (default: 50 epochs, every set)
#   TRAINER=target/debug/trainer EXTRA="--synthetic tokens" bench/fewshot.sh 50 5-shot
#   ENCODER=../shared/models/all-MiniLM-L6-v2 bench/fewshot.sh - 5-shot   the sentence-encoder
#                                    kind (`trainer encoder`) in place of the TextCNN; no epochs
set -euo pipefail
cd "$(dirname "$0")/.."
EPOCHS="${1:-50}"
shift || true
SETS=("$@")
[ ${#SETS[@]} -gt 0 ] || SETS=(5-shot 10-shot same-domain)
TRAINER="${TRAINER:-target/release/trainer}"
OUT=bench/out/fewshot
[ -x "$TRAINER" ] || { echo "bench/fewshot.sh: no trainer at $TRAINER (cargo build -p trainer --release)" >&2; exit 1; }
python3 bench/fewshot.py --data examples/clinc150/data_full.json --domains examples/clinc150/domains.json \
  --out-dir "$OUT" --seed 1
for set in "${SETS[@]}"; do
  started=$SECONDS
  if [ -n "${ENCODER:-}" ]; then
    "$TRAINER" encoder --data "$OUT/$set.json" --encoder "$ENCODER" --out "$OUT/model-$set" \
      --quiet > "$OUT/$set.train.txt"
  else
    # shellcheck disable=SC2086  # EXTRA is a list of flags
    "$TRAINER" train --data "$OUT/$set.json" --table assets/minilm-l6-v2 --out "$OUT/model-$set" \
      --epochs "$EPOCHS" --quiet ${EXTRA:-} > "$OUT/$set.train.txt"
  fi
  echo $((SECONDS - started)) > "$OUT/$set.seconds"
  "$TRAINER" evaluate --bundle "$OUT/model-$set" --data "$OUT/$set.json" --json "$OUT/$set.report.json" \
    --plots "$OUT/plots-$set" > /dev/null
  if [ "$set" = same-domain ]; then
    "$TRAINER" evaluate --bundle "$OUT/model-$set" --data "$OUT/same-domain-held-only.json" \
      --json "$OUT/$set.held-only.report.json" --plots "$OUT/plots-$set-held" > /dev/null
  fi
done
python3 - "$OUT" "$EPOCHS" "${EXTRA:-}" "${ENCODER:-}" "${SETS[@]}" <<'PY'
import datetime, json, sys
out, epochs, extra, encoder, *sets = sys.argv[1:]
choices = json.load(open(f"{out}/choices.json"))

def in_scope_recall(r):
    # Known sentences accepted: the binary figures count unknown as the positive class.
    b, unknown = r["binary"], r["unknown"]
    tp = b["recall"] * unknown
    fp = tp / b["precision"] - tp if b["precision"] > 0 else 0.0
    return 1 - fp / r["known"]

rows = []
for s in sets:
    r = json.load(open(f"{out}/{s}.report.json"))
    secs = open(f"{out}/{s}.seconds").read().strip()
    rows.append(f"| {s} | {r['known']} / {r['unknown']} | {r['in_scope_accuracy']*100:.2f}% | {r['closed_set_accuracy']*100:.2f}% |"
                f" {r['auroc']:.4f} | {r['oos_recall']*100:.2f}% | {in_scope_recall(r)*100:.2f}% | {secs} s |")
    if s == "same-domain":
        h = json.load(open(f"{out}/{s}.held-only.report.json"))
        rows.append(f"| same-domain, held-out intents only | {h['known']} / {h['unknown']} | {h['in_scope_accuracy']*100:.2f}% |"
                    f" {h['closed_set_accuracy']*100:.2f}% | {h['auroc']:.4f} | {h['oos_recall']*100:.2f}% | {in_scope_recall(h)*100:.2f}% | |")
if encoder:
    what = f"the sentence-encoder kind, `trainer encoder --encoder {encoder}`"
    command = f'ENCODER={encoder} bench/fewshot.sh - {" ".join(sets)}'
else:
    what = f"{epochs} epochs, default flags{(' + ' + extra) if extra else ''}"
    command = f"{('EXTRA=' + chr(34) + extra + chr(34) + ' ') if extra else ''}bench/fewshot.sh {epochs} {' '.join(sets)}"
text = f"""
## {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC: {what}

`{command}`; seed 1. Evaluation domains: {', '.join(choices['eval_domains'])}.
Held out in same-domain: {len(choices['held_out_intents'])} intents (in choices.json). Threshold: the trainer's default
rule on each set's own validation split; "in-scope recall" is the share of known test sentences accepted at it.

| set | known / unknown test | in-scope acc | closed-set acc | AUROC | OOS recall | in-scope recall | train time |
|---|---|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n"
open("bench/results/fewshot.md", "a").write(text)
print(text)
PY
