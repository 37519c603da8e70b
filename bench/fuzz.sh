#!/usr/bin/env bash
# Coverage-guided fuzzing (cargo-fuzz / libFuzzer) of both kinds' bundle loaders, classify on
# arbitrary text, and the trainer's data readers.
#   bench/fuzz.sh [SECONDS] [RESULTS]    each target for SECONDS (default 600), one after the
#                                        other on one core; figures to RESULTS
#                                        (default bench/results/fuzz.md)
# Exits non-zero when a target crashes; the crashing input is in fuzz/artifacts/<target>/.
# cargo-fuzz needs nightly flags: RUSTC_BOOTSTRAP=1 lets the stable toolchain take them.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET="${1:-600}"
RESULTS="${2:-bench/results/fuzz.md}"
# FUZZ_TARGETS="a b" picks targets (e.g. to run them in parallel).
read -r -a TARGETS <<<"${FUZZ_TARGETS:-bundle_loader encoder_bundle_loader classify data_readers}"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi
cd fuzz
cargo fuzz build -O >&2

rows=()
failed=0
for t in "${TARGETS[@]}"; do
  # New inputs go to a scratch corpus under target/; the committed seeds stay small.
  scratch="target/corpus-run/$t"
  mkdir -p "$scratch"
  log="target/fuzz-$t.log"
  echo "==> fuzzing $t for ${SECONDS_PER_TARGET}s" >&2
  set +e
  cargo fuzz run -O "$t" "$scratch" "corpus/$t" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  crashes=$(ls "artifacts/$t" 2>/dev/null | grep -c -E '^(crash|oom|timeout|leak)-' || true)
  if [ "$rc" != 0 ]; then
    failed=1
    tail -40 "$log" >&2
  fi
  rows+=("| $t | ${SECONDS_PER_TARGET} | ${execs:-?} | ${cov:-?} | $crashes | $rc |")
done
cd ..

mkdir -p "$(dirname "$RESULTS")"
{
  echo "# Fuzzing (cargo-fuzz, libFuzzer)"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores (shared), one fuzzing process at a time; $(rustc --version); $(date -u +%Y-%m-%dT%H:%MZ)."
  echo
  echo "Command: \`bench/fuzz.sh $SECONDS_PER_TARGET\`"
  echo
  echo "| target | seconds | executions | coverage (edges) | crashes/timeouts/OOMs | exit |"
  echo "|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Targets: \`bundle_loader\` (three files split from the input, or one file of a valid tiny"
  echo "bundle overwritten or truncated), \`encoder_bundle_loader\` (the same for the sentence-encoder"
  echo "kind, over a generated two-layer BERT), \`classify\` (any bytes as lossy UTF-8, real tokenizer,"
  echo "tiny model), \`data_readers\` (data.json / noise.json / CLINC layout, via files and parsers)."
} >"$RESULTS"
cat "$RESULTS"
exit $failed
