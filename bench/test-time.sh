#!/usr/bin/env bash
# Times `.ci/run` (formatting, clippy, then `./build.sh test`) from a fresh clone on a cold
# machine, and appends its phases to bench/results/build-time.md. Cold as in
# bench/cold-machine.sh; with COLD_APT=1 Chromium and Debian's wasm toolchain are removed
# first, so their install is timed too.
#   bench/test-time.sh [COMMIT]     (default: HEAD)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/cold-machine.sh
repo="$PWD"
commit="$(git rev-parse "${1:-HEAD}")"
work="$(mktemp -d /tmp/intent-cold-test.XXXXXX)"
results="$repo/bench/results/build-time.md"
trap 'rm -rf "$work"' EXIT

cold_apt chromium chromium-driver rustc-web cargo-web rust-web-src lld-22
cold_clone "$commit" "$work"
start=$SECONDS
status=0
(cd "$work/clone" && CI=true bash .ci/run > "$work/ci.log" 2>&1) || status=$?
took=$((SECONDS - start))
tail -n 30 "$work/ci.log"
cp "$work/ci.log" "$repo/target/test-time-ci.log" 2>/dev/null || true
[ "$status" = 0 ] || { echo ".ci/run failed with status $status (log: target/test-time-ci.log)" >&2; exit "$status"; }

{
  echo
  echo "## \`.ci/run\` from a fresh clone: $(date -u +%Y-%m-%d), commit ${commit:0:7}$([ "${COLD_APT:-0}" = 1 ] && echo ', Chromium and the Debian toolchain installed in the run')"
  echo
  echo "- machine: $(machine_line)"
  echo "- command: \`$([ "${COLD_APT:-0}" = 1 ] && echo 'COLD_APT=1 ')bench/test-time.sh ${commit:0:7}\`"
  echo "- total: **$((took / 60))m$((took % 60))s**; its phases (minutes and seconds):"
  echo
  sed -n '/^==> phases/,$p' "$work/ci.log" | tail -n +2 | sed 's/^/    /'
} >> "$results"
echo "appended to $results"
