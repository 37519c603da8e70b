#!/usr/bin/env bash
# Times `./build.sh serve` from a fresh clone on a cold machine, and appends the figures to
# bench/results/build-time.md:
#   - until the demo page answers: the server is up and the page, web/pkg's wasm and the
#     default model's files are served (HTTP 200);
#   - until every other wasm module is built (web/pkg-relaxed, web/pkg-train, web/pkg-encoder).
# Cold as in bench/cold-machine.sh: a fresh clone (no target/, no models/) and an empty cargo
# home (every crate downloaded and compiled, wasm-bindgen-cli installed anew); with COLD_APT=1
# Debian's wasm toolchain is removed first, so its install is timed too.
#   bench/build-time.sh [COMMIT]     (default: HEAD)
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/cold-machine.sh
repo="$PWD"
commit="$(git rev-parse "${1:-HEAD}")"
work="$(mktemp -d /tmp/intent-cold.XXXXXX)"
port="${PORT:-18080}"
log="$work/serve.log"
results="$repo/bench/results/build-time.md"
server_group=""

cleanup() {
  [ -z "$server_group" ] || kill -TERM -- "-$server_group" 2>/dev/null || true
  sleep 1
  [ -z "$server_group" ] || kill -KILL -- "-$server_group" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cold_apt rustc-web cargo-web rust-web-src lld-22
cold_clone "$commit" "$work"

served() {
  for path in index.html web/pkg/intent_web_bg.wasm models/default/model.safetensors \
      models/default/table.safetensors models/default/tokenizer.json; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/$path")" = 200 ] || return 1
  done
}

start=$SECONDS
set -m
# Each line of its output with the seconds since the start.
(cd "$work/clone" && PORT="$port" ./build.sh serve 2>&1 |
  while IFS= read -r line; do printf '%5ds  %s\n' "$((SECONDS - start))" "$line"; done > "$log") &
server_group=$!
set +m
deadline=$((start + 60 * 60))
until served; do
  kill -0 "$server_group" 2>/dev/null || { tail -n 40 "$log"; echo "./build.sh serve stopped before serving" >&2; exit 1; }
  [ "$SECONDS" -lt "$deadline" ] || { tail -n 40 "$log"; echo "no page after 60 minutes" >&2; exit 1; }
  sleep 2
done
answers=$((SECONDS - start))
echo "the page answers after $((answers / 60))m$((answers % 60))s"
until grep -q "every wasm module is built" "$log"; do
  grep -q "FAILED" "$log" && { tail -n 40 "$log"; echo "a later module failed to build" >&2; exit 1; }
  [ "$SECONDS" -lt "$deadline" ] || { echo "the other modules were not built after 60 minutes" >&2; exit 1; }
  sleep 5
done
everything=$((SECONDS - start))
echo "every module is built after $((everything / 60))m$((everything % 60))s"

{
  echo
  echo "## $(date -u +%Y-%m-%d), commit ${commit:0:7}$([ "${COLD_APT:-0}" = 1 ] && echo ', Debian toolchain installed in the run')"
  echo
  echo "- machine: $(machine_line)"
  echo "- command: \`$([ "${COLD_APT:-0}" = 1 ] && echo 'COLD_APT=1 ')bench/build-time.sh ${commit:0:7}\`"
  echo "- fresh clone to a page that answers: **$((answers / 60))m$((answers % 60))s**"
  echo "- fresh clone to every wasm module built: $((everything / 60))m$((everything % 60))s"
  echo "- the console's lines (\`==>\`), with the seconds since the start:"
  echo
  grep -a '==>' "$log" | sed 's/\x1b\[[0-9;]*m//g; s/^/    /'
} >> "$results"
echo "appended to $results"
