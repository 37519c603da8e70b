#!/usr/bin/env bash
# The front door.
#   ./build.sh [--bilingual|--clinc150]  train the default model if there is none, build wasm + JS
#                                    (--bilingual: the English + Chinese default, models/bilingual;
#                                    --clinc150: CLINC150's 150 intents, models/clinc150)
#   ./build.sh serve [--bilingual|--clinc150]  the model, web/pkg and wasm-bindgen side by side, then
#                                    serve the demo at http://127.0.0.1:8080 while the other
#                                    wasm modules build
#   ./build.sh test                  install what the tests need, then run every test
#   ./build.sh wasm [MODULE...]      only build the wasm packages (web/pkg, web/pkg-relaxed,
#                                    web/pkg-train, web/pkg-encoder, web/pkg-train-encoder), or
#                                    the ones named
#   ./build.sh bench                 browser benchmark (with the candle-core baseline) -> bench/results/browser.md
#   ./build.sh fuzz [SECONDS]        each fuzz target for SECONDS (default 600) -> bench/results/fuzz.md
#   ./build.sh phase NAME MIN CMD... CMD as a timed phase with a budget of MIN minutes (.ci/run)
#   ./build.sh cuda [check]          the trainer with `--features cuda` -> target/cuda/release/trainer
#                                    (check: clippy only); CUDA's compiler from PyPI wheels into
#                                    .tools/cuda, exit status 77 when they cannot be installed
# Installs what is missing (Debian's wasm toolchain, wasm-bindgen-cli, Chromium, npm packages).
set -euo pipefail
cd "$(dirname "$0")"

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen crate version in Cargo.lock

# The two default models: English (all-MiniLM-L6-v2 table) and English + Chinese
# (multilingual-e5-small table pruned to 20k pieces). `--bilingual` picks the second.
ENGLISH=(models/default examples/everyday assets/minilm-l6-v2)
BILINGUAL=(models/bilingual examples/bilingual assets/multilingual-e5-small-20k)
# The second English demo model: CLINC150's 150 intents (`--clinc150`).
CLINC150=(models/clinc150 examples/clinc150 assets/minilm-l6-v2)
DEFAULT=("${ENGLISH[@]}")
args=()
for arg in "$@"; do
  case "$arg" in
    --bilingual) DEFAULT=("${BILINGUAL[@]}") ;;
    --clinc150) DEFAULT=("${CLINC150[@]}") ;;
    *) args+=("$arg") ;;
  esac
done
set -- "${args[@]+"${args[@]}"}"
MODEL_DIR="${DEFAULT[0]}"
# The trainer binary; empty: a release build. The tests set it to the binary `cargo test
# --workspace` built (a `cargo run -p trainer` would unify features differently and rebuild).
TRAINER_BIN=""

# Without the `table` feature (building token tables: faer, hf-hub), a fifth less to compile.
trainer() {
  if [ -n "$TRAINER_BIN" ]; then "$TRAINER_BIN" "$@"
  else cargo run -p trainer --release --no-default-features -- "$@"; fi
}
PORT="${PORT:-8080}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# phase NAME BUDGET_MIN CMD...: runs CMD (a command or a function of this script) as its own
# process group, says how long it took and fails when it runs past its budget, stopping the
# whole group (cargo, node, Chromium with it: SIGTERM, SIGKILL 30 s later). A signal to this
# script reaches the group too. Call it plainly (not under `if` or `||`) so `set -e` holds in
# CMD. Each phase's time is also appended to $PHASE_LOG when set (.ci/run's summary).
phase() {
  local name="$1" budget_min="$2"; shift 2
  local started=$SECONDS status=0 pid watchdog
  log "$name (budget $budget_min min)"
  set -m   # job control: the background job gets a process group of its own
  "$@" &
  pid=$!
  set +m
  sleep "$((budget_min * 60))" &
  watchdog=$!
  trap 'stop_group "$pid" INT; exit 130' INT
  trap 'stop_group "$pid" TERM; exit 143' TERM
  wait -n "$pid" "$watchdog" || status=$?
  if kill -0 "$pid" 2>/dev/null; then
    echo "phase \"$name\" ran past its budget of $budget_min min" >&2
    stop_group "$pid" TERM
    status=124
  fi
  kill "$watchdog" 2>/dev/null || true
  wait "$watchdog" 2>/dev/null || true
  trap - INT TERM
  local took="$(( (SECONDS - started) / 60 ))m$(( (SECONDS - started) % 60 ))s"
  log "$name: $took (budget $budget_min min)$([ "$status" = 0 ] || echo ", FAILED with status $status")"
  [ -z "${PHASE_LOG:-}" ] || printf '%-34s %8s  (budget %s min)%s\n' "$name" "$took" "$budget_min" \
    "$([ "$status" = 0 ] || echo "  FAILED ($status)")" >> "$PHASE_LOG"
  return "$status"
}

# stop_group PID SIGNAL: SIGNAL to PID's process group, SIGKILL if it outlives 30 s.
stop_group() {
  kill -"$2" -- "-$1" 2>/dev/null || return 0
  for _ in $(seq 30); do kill -0 "$1" 2>/dev/null || break; sleep 1; done
  kill -KILL -- "-$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

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

# Sets WASM_CARGO (an array) to a cargo invocation for wasm32, WASM_LINKER_FLAGS and
# WASM_SIZE_FLAGS.
setup_wasm_toolchain() {
  if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
    WASM_LINKER_FLAGS=''
    WASM_CARGO=(cargo)
    WASM_SIZE_FLAGS=''
  else
    # No rustup wasm32 target here: Debian's rustc with std built from source.
    apt_install rustc-web cargo-web rust-web-src lld-22
    # Only for this cargo: later native builds must keep the toolchain `cargo test` used,
    # or they rebuild every dependency.
    WASM_LINKER_FLAGS='-C linker=/usr/lib/llvm-22/bin/wasm-ld'
    WASM_CARGO=(env RUSTC_BOOTSTRAP=1 RUSTC=/usr/bin/rustc /usr/bin/cargo -Zbuild-std=std,panic_abort
                -Zbuild-std-features=optimize_for_size)
    # A std built here allows the size flags (113 kB less gzip, bench/results/payload.md): no
    # panic messages or locations (a panic traps either way under panic=abort), and derived
    # Debug prints type names only (error messages use Display).
    WASM_SIZE_FLAGS='-Zlocation-detail=none -Zfmt-debug=shallow -Zunstable-options -Cpanic=immediate-abort'
  fi
}

# wasm-bindgen-cli from crates.io (no registry serves a prebuilt one), compiled the cheap way:
# at opt-level 1 it builds in about half the time, and it runs for a second or two per module
# either way (bench/results/build-time.md).
install_wasm_bindgen() {
  wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION" && return
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false \
    cargo install -q wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
}

# Every wasm module is built with SIMD128, in one target dir, so the modules share what they
# have in common (std, the tokenizer, serde, ...); the relaxed-SIMD kernels are a cargo feature
# of the kernels crate for the same reason.
WASM_TARGET_FEATURES=+simd128
WASM_TARGET_DIR=target/wasm-simd128

# compile_wasm PACKAGE [PROFILE [CARGO_FEATURES]]: the cargo half of build_wasm.
compile_wasm() {
  local package="$1" profile="${2:-wasm}" features="${3:-}"
  setup_wasm_toolchain
  log "building $package for wasm32 (profile $profile${features:+, features $features})"
  RUSTFLAGS="-C target-feature=$WASM_TARGET_FEATURES $WASM_LINKER_FLAGS $WASM_SIZE_FLAGS" \
    "${WASM_CARGO[@]}" build --profile "$profile" --target wasm32-unknown-unknown \
    -p "$package" ${features:+--features "$features"} --target-dir "$WASM_TARGET_DIR"
}

# bindgen_wasm PACKAGE OUT_DIR [PROFILE]: the wasm-bindgen half, on what compile_wasm built
# last. The package appears at OUT_DIR whole (written aside, then renamed): web/serve.mjs may be
# serving it.
bindgen_wasm() {
  local package="$1" out="$2" profile="${3:-wasm}"
  install_wasm_bindgen
  rm -rf "$out.tmp"
  wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
    --out-dir "$out.tmp" "$WASM_TARGET_DIR/wasm32-unknown-unknown/$profile/${package//-/_}.wasm"
  rm -rf "$out"
  mv "$out.tmp" "$out"
}

# build_wasm PACKAGE OUT_DIR [PROFILE [CARGO_FEATURES]]: one wasm-bindgen package.
build_wasm() {
  compile_wasm "$1" "${3:-wasm}" "${4:-}"
  bindgen_wasm "$1" "$2" "${3:-wasm}"
}


# The classifier twice: SIMD128 for every browser, and with relaxed-SIMD fused multiply-add
# for browsers that have it (classifier.js picks at run time). One after the other: both
# write target/wasm-simd128/.../intent_web.wasm.
build_classifier() {
  build_wasm intent-web web/pkg
  build_wasm intent-web web/pkg-relaxed wasm relaxed-simd
}

# The training module of train.html (and trainClassifier): only that page fetches it.
build_trainer_wasm() {
  build_wasm intent-train-web web/pkg-train wasm-train
}

# The sentence-encoder kind's module (`trainer encoder` bundles): fetched only for them, and
# its matrix products are its whole cost, so speed over size as for the training module.
build_encoder_wasm() {
  build_wasm intent-encoder-web web/pkg-encoder wasm-train
}

# Training the sentence-encoder kind in a page: only trainClassifier({ kind: 'encoder' })
# fetches it.
build_encoder_trainer_wasm() {
  build_wasm intent-train-encoder-web web/pkg-train-encoder wasm-train
}

build_wasm_all() {
  build_classifier
  build_trainer_wasm
  build_encoder_wasm
  build_encoder_trainer_wasm
}

# train_default [OUT EXAMPLE TABLE [TRAINER FLAGS...]]: the default model (or the one named)
# unless it exists. EXAMPLE holds data.json + noise.json, or CLINC150's data_full.json.
train_default() {
  local out="${1:-${DEFAULT[0]}}" example="${2:-${DEFAULT[1]}}" table="${3:-${DEFAULT[2]}}"
  if [ -f "$out/model.safetensors" ]; then
    log "using the existing model in $out"
    return
  fi
  local data=(--data "$example/data.json" --noise "$example/noise.json")
  [ -f "$example/data_full.json" ] && data=(--data "$example/data_full.json")
  log "training $out from $example with the table $table ${*:4}"
  trainer train "${data[@]}" --table "$table" --out "$out" --quiet "${@:4}"
}

# CUDA 13.0, the release of the lent GPU machines' driver (580). Every wheel is pinned: an
# unpinned nvidia-nvvm emits PTX that this ptxas rejects.
CUDA_WHEELS=(nvidia-cuda-nvcc==13.0.88 nvidia-nvvm==13.0.88 nvidia-cuda-runtime==13.0.96
             nvidia-cuda-crt==13.0.88 nvidia-cuda-cccl==13.0.85)
CUDA_COMPUTE_CAP="${CUDA_COMPUTE_CAP:-90}"   # H100/H200; the kernels are compiled for this one

# nvcc and CUDA's headers into .tools/cuda (idempotent), and the environment candle's build
# scripts read. No GPU or driver is needed to build.
setup_cuda_toolchain() {
  local root=.tools/cuda stamp=".tools/cuda/wheels.txt"
  if [ ! -x "$root/nvidia/cu13/bin/nvcc" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${CUDA_WHEELS[*]}" ]; then
    log "installing CUDA's compiler from PyPI into $root"
    rm -rf "$root"
    if ! python3 -m pip install -q --disable-pip-version-check --no-deps --target "$root" \
        "${CUDA_WHEELS[@]}"; then
      echo "SKIP: cannot install ${CUDA_WHEELS[*]} with pip; the cuda build was not checked" >&2
      exit 77
    fi
    echo "${CUDA_WHEELS[*]}" > "$stamp"
  fi
  local cu13; cu13="$(pwd)/$root/nvidia/cu13"
  export PATH="$cu13/bin:$PATH" CUDA_ROOT="$cu13" CUDA_PATH="$cu13" CUDA_HOME="$cu13" \
    CUDA_COMPUTE_CAP
  # candle-kernels links `-lcudart`: the wheel's static runtime answers it, so the binary needs
  # no CUDA library to start (the static runtime opens the driver itself, if ever used).
  mkdir -p "$root/link"
  ln -sf ../nvidia/cu13/lib/libcudart_static.a "$root/link/libcudart.a"
  export LIBRARY_PATH="$PWD/$root/link${LIBRARY_PATH:+:$LIBRARY_PATH}"
}

# candle-core asks cudarc for `dynamic-linking`, which links libcuda, libcublas, ... into the
# binary: it would not link here (no driver) nor start on a machine without them. This copy of
# cudarc differs in one line of its build script: it loads those libraries at run time instead
# (cudarc's `dynamic-loading`). Sets CUDARC_OVERRIDE to the copy, for cargo's `paths`.
setup_cudarc_override() {
  local version src
  version="$(grep -A1 '^name = "cudarc"$' Cargo.lock | sed -n 's/^version = "\(.*\)"$/\1/p')"
  CUDARC_OVERRIDE=".tools/cudarc-$version"
  [ -f "$CUDARC_OVERRIDE/.dynamic-loading" ] && return
  cargo fetch -q
  src="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/"cudarc-$version" | head -1)"
  rm -rf "$CUDARC_OVERRIDE"
  cp -r "$src" "$CUDARC_OVERRIDE"
  sed -i 's|^    dynamic_linking(major, minor);$|    println!("cargo:rustc-cfg=feature=\\"dynamic-loading\\"");|' \
    "$CUDARC_OVERRIDE/build.rs"
  ! grep -q 'dynamic_linking(major, minor);' "$CUDARC_OVERRIDE/build.rs" ||
    { echo "cudarc $version's build.rs is not the one expected; update setup_cudarc_override" >&2; exit 1; }
  touch "$CUDARC_OVERRIDE/.dynamic-loading"
}

# cargo with the CUDA toolchain and the cudarc copy, in its own target dir (target/cuda).
cuda_cargo() {
  setup_cuda_toolchain
  setup_cudarc_override
  cargo "$1" --config "paths=[\"$CUDARC_OVERRIDE\"]" --target-dir "${CUDA_TARGET_DIR:-target/cuda}" \
    "${@:2}"
}

setup_browser_tests() {
  apt_install chromium chromium-driver
  if [ ! -d node_modules/playwright-core ] || [ ! -x node_modules/.bin/tsc ] || [ ! -d node_modules/vite ]; then
    log "installing npm packages for the browser tests"
    npm ci --no-audit --no-fund
  fi
  # The bundlers tests/bundlers builds examples/web-app with, at the versions its lockfile pins.
  local lock=tests/bundlers/package-lock.json installed=tests/bundlers/node_modules/.package-lock.json
  if [ ! -f "$installed" ] || [ "$lock" -nt "$installed" ]; then
    log "installing the bundlers for the bundler tests (Vite 6, 7, 8, webpack 5)"
    npm ci --prefix tests/bundlers --no-audit --no-fund
  fi
}

# FILE.br and FILE.gz beside the wasm and the model's files; web/serve.mjs sends them.
precompress() {
  log "precompressing the wasm and $MODEL_DIR (brotli, gzip)"
  node web/precompress.mjs web/pkg web/pkg-relaxed web/pkg-train web/pkg-encoder web/pkg-train-encoder "$MODEL_DIR"
}

serve() {
  local page="http://127.0.0.1:$PORT/"
  [ "$MODEL_DIR" = "${ENGLISH[0]}" ] || page+="?model=$MODEL_DIR/"
  log "serving $page (Ctrl-C stops); train your own at http://127.0.0.1:$PORT/train.html"
  exec node web/serve.mjs --port "$PORT"
}

# What the demo page needs to answer: the default model, the SIMD128 classifier and
# wasm-bindgen. The three are built side by side, so one's serial stretches (linking, LTO,
# training on one thread) fill the cores the others leave idle.
build_demo() {
  setup_wasm_toolchain
  local jobs=()
  install_wasm_bindgen & jobs+=($!)
  train_default & jobs+=($!)
  compile_wasm intent-web
  for job in "${jobs[@]}"; do wait "$job"; done
  bindgen_wasm intent-web web/pkg
  node web/precompress.mjs web/pkg "$MODEL_DIR"
}

# The other wasm modules, in the order pages want them: web/pkg-relaxed (faster kernels for the
# demo; web/serve.mjs sends web/pkg's files in its place until it is there), web/pkg-train
# (train.html), web/pkg-encoder (sentence-encoder bundles), web/pkg-train-encoder (training
# that kind in a page). Says on the console when each is
# ready; their compiler output goes to a log.
SERVE_LATER=(web/pkg-relaxed web/pkg-train web/pkg-encoder web/pkg-train-encoder)
build_after_serving() {
  local build_log=target/serve-build.log todo=("${SERVE_LATER[@]}") out
  mkdir -p target
  log "still building ${todo[*]} (log: $build_log)"
  for out in "${SERVE_LATER[@]}"; do
    if ! build_module "$out" >> "$build_log" 2>&1; then
      tail -n 20 "$build_log" >&2
      log "building $out FAILED (log: $build_log); the demo page keeps working"
      return 1
    fi
    node web/precompress.mjs "$out"
    todo=("${todo[@]:1}")
    log "built $out (${MODULE_USE[$out]})${todo[*]:+; still building ${todo[*]}}"
  done
  log "every wasm module is built"
}

declare -A MODULE_USE=([web/pkg-relaxed]='the demo uses it on reload in browsers with relaxed SIMD'
                       [web/pkg-train]='train.html works now' [web/pkg-encoder]='sentence-encoder bundles load now'
                       [web/pkg-train-encoder]='the sentence-encoder kind trains in a page now')
build_module() {
  case "$1" in
    web/pkg) build_wasm intent-web web/pkg ;;
    web/pkg-relaxed) build_wasm intent-web web/pkg-relaxed wasm relaxed-simd ;;
    web/pkg-train) build_trainer_wasm ;;
    web/pkg-encoder) build_encoder_wasm ;;
    web/pkg-train-encoder) build_encoder_trainer_wasm ;;
    *) echo "no wasm module $1 (web/pkg, web/pkg-relaxed, web/pkg-train, web/pkg-encoder, web/pkg-train-encoder)" >&2; return 2 ;;
  esac
}

# Serves as soon as the demo page can answer, and builds the rest meanwhile.
serve_early() {
  build_demo
  local page="http://127.0.0.1:$PORT/" server
  [ "$MODEL_DIR" = "${ENGLISH[0]}" ] || page+="?model=$MODEL_DIR/"
  node web/serve.mjs --port "$PORT" --stand-in web/pkg-relaxed=web/pkg --building web/pkg-train,web/pkg-encoder,web/pkg-train-encoder &
  server=$!
  log "serving $page (Ctrl-C stops); train your own at http://127.0.0.1:$PORT/train.html"
  # Up to date, this takes seconds.
  build_after_serving || true
  wait "$server"
}

# The native references the browser tests compare against.
native_references() {
  trainer logits --bundle "${ENGLISH[0]}" \
    --texts tests/browser/parity-texts.json --out target/parity-native.json
  trainer logits --bundle "${BILINGUAL[0]}" \
    --texts tests/browser/parity-texts-bilingual.json --out target/parity-native-bilingual.json
  # What tests/browser/train.test.mjs trains again in the page, with the epochs and seed it
  # reads from this bundle. One epoch: after it AdamW magnifies float rounding (the test says
  # by how much), and the comparison would measure that, not the page.
  trainer train --data examples/everyday/data.json --noise examples/everyday/noise.json \
    --table assets/minilm-l6-v2 --epochs 1 --seed 42 --out target/train-parity --quiet > /dev/null
  # A sentence-encoder bundle over a tiny generated BERT (tests/node/encoder.test.mjs): the
  # real encoders are downloads, which tests must not need.
  # The example `cargo test --workspace` built; `cargo run -p` alone would unify features
  # differently and rebuild its dependencies.
  target/debug/examples/tiny_encoder assets/minilm-l6-v2/tokenizer.json target/tiny-encoder
  trainer encoder --data examples/everyday/data.json --noise examples/everyday/noise.json \
    --encoder target/tiny-encoder --out target/encoder-parity --quiet > /dev/null
  trainer logits --bundle target/encoder-parity \
    --texts tests/browser/parity-texts.json --out target/parity-native-encoder.json
}

# bench/gpu.sh on the CPU with the example data (the GPU run is bench/gpu.sh on a GPU machine).
gpu_bench_on_cpu() {
  bench/gpu.sh --device cpu --bin target/debug/trainer --epochs 2 --data examples/everyday/data.json \
    --noise examples/everyday/noise.json --out target/gpu-ci --results target/gpu-ci.md > /dev/null
}

# Every test, one phase each (name, budget in minutes, command); a new phase is one more line.
run_tests() {
  local summary=""
  if [ -z "${PHASE_LOG:-}" ]; then   # not under .ci/run, which prints its own summary
    mkdir -p target; PHASE_LOG=target/test-phases.txt; : > "$PHASE_LOG"; summary=1
  fi
  phase "native build + tests" 45 cargo test --workspace
  TRAINER_BIN=target/debug/trainer
  # A short run of each fuzz target so regressions surface; the long runs are ./build.sh fuzz.
  # The budget covers a cold start: installing cargo-fuzz and building the targets.
  phase "fuzz, ${FUZZ_SECONDS:-30}s a target" 30 bench/fuzz.sh "${FUZZ_SECONDS:-30}" target/fuzz-ci.md
  phase "wasm builds" 40 build_wasm_all
  phase "model training (English)" 20 train_default "${ENGLISH[@]}"
  phase "model training (bilingual)" 20 train_default "${BILINGUAL[@]}"
  # CLINC150 for tests/browser/clinc150.test.mjs: 3 epochs, not the default 50, so CI stays short.
  phase "model training (CLINC150, 3 epochs)" 20 train_default target/clinc150-ci "${CLINC150[@]:1}" --epochs 3
  phase "browser test setup" 15 setup_browser_tests
  phase "native references for the browser tests" 5 native_references
  phase "bench/gpu.sh on the CPU" 10 gpu_bench_on_cpu
  phase "type check of examples/web-app" 5 node_modules/.bin/tsc -p examples/web-app --noEmit
  phase "type check of examples/node" 5 node_modules/.bin/tsc -p examples/node --noEmit
  phase "Node.js tests" 10 node --test --test-concurrency=1 tests/node/
  phase "bundler tests (Vite 6, 7, 8 and webpack 5 builds in Chromium)" 5 node --test --test-concurrency=1 tests/bundlers/
  phase "browser tests (headless Chromium)" 20 node --test --test-concurrency=1 tests/browser/
  [ -z "$summary" ] || { log "every phase passed:"; cat "$PHASE_LOG" >&2; }
}

case "${1:-build}" in
  build) train_default; build_wasm_all; precompress; log "done: ./build.sh serve" ;;
  serve) serve_early ;;
  wasm) if [ $# -gt 1 ]; then for out in "${@:2}"; do build_module "${out%/}"; done; else build_wasm_all; fi ;;
  bench) train_default; build_classifier; build_wasm candle-baseline web/pkg-candle; setup_browser_tests
         precompress; node bench/browser.mjs ;;
  test) run_tests ;;
  fuzz) bench/fuzz.sh "${2:-600}" ;;
  phase) shift; phase "$@" ;;
  cuda) if [ "${2:-}" = check ]; then
          cuda_cargo clippy --release -p trainer --features cuda --all-targets -q -- -D warnings
        else
          cuda_cargo build --release -p trainer --features cuda
          log "built ${CUDA_TARGET_DIR:-target/cuda}/release/trainer (bench/gpu.sh runs it on a GPU machine)"
        fi ;;
  *) echo "usage: $0 [--bilingual|--clinc150] [build|serve|test|wasm|bench|fuzz|cuda|phase]" >&2; exit 2 ;;
esac
