# Sourced by bench/build-time.sh and bench/test-time.sh: a fresh clone on a cold machine.
#   cold_apt PACKAGE...    with COLD_APT=1, removes the packages and apt's cache, so a run
#                          times their install too (it changes this machine, hence opt-in)
#   cold_clone COMMIT DIR  clones this repository at COMMIT into DIR/clone, and points cargo at
#                          an empty home in DIR/cargo (every crate downloaded and compiled, every
#                          `cargo install` anew); rustup's toolchain stays

cold_apt() {
  [ "${COLD_APT:-0}" = 1 ] || return 0
  echo "removing $* and apt's cache (COLD_APT=1)"
  DEBIAN_FRONTEND=noninteractive apt-get remove -y -q "$@" > /dev/null
  apt-get clean
}

cold_clone() {
  local commit="$1" dir="$2" toolchain_bin
  git clone -q --no-local "$(git rev-parse --show-toplevel)" "$dir/clone"
  git -C "$dir/clone" checkout -q "$commit"
  toolchain_bin="$(dirname "$(rustup which cargo)")"
  export CARGO_HOME="$dir/cargo" RUSTUP_HOME="${RUSTUP_HOME:-$HOME/.rustup}"
  export PATH="$CARGO_HOME/bin:$toolchain_bin:$(printf '%s' "$PATH" | tr ':' '\n' | grep -v "$HOME/.cargo/bin" | paste -sd:)"
}

# machine_line: cores, processor, memory.
machine_line() {
  echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/ {print $2}') GiB"
}
