#!/usr/bin/env bash
# The front door.
#   ./build.sh [--bilingual]         train the default model if there is none, build wasm + JS
#   ./build.sh serve                 the above, then serve the demo at http://127.0.0.1:8080
#   ./build.sh test                  install what the tests need, then run every test
#   ./build.sh wasm                  only build the wasm package (web/pkg)
#   ./build.sh bench                 browser benchmark (with the candle-core baseline) -> bench/results/browser.md
# Installs what is missing (Debian's wasm toolchain, wasm-bindgen-cli, Chromium, npm packages).
set -euo pipefail
cd "$(dirname "$0")"

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate version in Cargo.lock
MODEL_DIR=models/default
PORT="${PORT:-8080}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -q
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
}

# Sets WASM_CARGO (an array) to a cargo invocation that targets wasm32 with SIMD128.
setup_wasm_toolchain() {
  if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    export RUSTFLAGS='-C target-feature=+simd128'
    WASM_CARGO=(cargo)
  else
    # No rustup wasm32 target here: Debian's rustc with std built from source.
    apt_install rustc-web cargo-web rust-web-src lld-22
    export RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc
    export RUSTFLAGS='-C target-feature=+simd128 -C linker=/usr/lib/llvm-22/bin/wasm-ld'
    WASM_CARGO=(/usr/bin/cargo -Zbuild-std=std,panic_abort)
  fi
  if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
  fi
}

# build_wasm PACKAGE OUT_DIR
build_wasm() {
  local package="${1:-intent-web}" out="${2:-web/pkg}"
  setup_wasm_toolchain
  log "building $package for wasm32 + SIMD128"
  "${WASM_CARGO[@]}" build --profile wasm --target wasm32-unknown-unknown \
    -p "$package" --target-dir target/wasm
  wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
    --out-dir "$out" \
    "target/wasm/wasm32-unknown-unknown/wasm/${package//-/_}.wasm"
}

train_default() {
  if [ -f "$MODEL_DIR/model.safetensors" ]; then
    log "using the existing model in $MODEL_DIR"
    return
  fi
  log "training the default model into $MODEL_DIR"
  cargo run -p trainer --release -- train \
    --data examples/everyday/data.json --noise examples/everyday/noise.json \
    --table assets/minilm-l6-v2 --out "$MODEL_DIR" --quiet
}

setup_browser_tests() {
  apt_install chromium chromium-driver
  if [ ! -d node_modules/playwright-core ]; then
    log "installing npm packages for the browser tests"
    npm ci --no-audit --no-fund
  fi
}

serve() {
  log "serving http://127.0.0.1:$PORT/ (Ctrl-C stops)"
  exec node web/serve.mjs --port "$PORT"
}

run_tests() {
  log "native tests"
  cargo test --workspace
  build_wasm
  train_default
  setup_browser_tests
  log "native reference outputs for the browser tests"
  cargo run -q -p trainer --release -- logits --bundle "$MODEL_DIR" \
    --texts tests/browser/parity-texts.json --out target/parity-native.json
  log "browser tests (headless Chromium)"
  node --test --test-concurrency=1 tests/browser/
}

case "${1:-build}" in
  build) train_default; build_wasm; log "done: ./build.sh serve" ;;
  serve) train_default; build_wasm; serve ;;
  wasm) build_wasm "${@:2}" ;;
  bench) train_default; build_wasm; build_wasm candle-baseline web/pkg-candle; setup_browser_tests
         node bench/browser.mjs ;;
  test) run_tests ;;
  *) echo "usage: $0 [build|serve|test|wasm|bench]" >&2; exit 2 ;;
esac
