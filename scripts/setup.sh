#!/usr/bin/env bash
# Brings a fresh Debian machine to what Keywatch needs, and skips what is
# already there. `scripts/setup.sh run` installs what building and running
# need; `scripts/setup.sh test` adds what the test tiers need;
# `scripts/setup.sh bench` adds what `make bench` compares against (jq) and
# the first-load bench's browser (Chromium, Playwright).
#
# The wasm32 target comes from rustup when it can (tried under a time limit);
# otherwise from Debian's rustc-web packages plus a one-time build of std for
# wasm32 (docs: ../shared/docs/toolchain.md). The choice is written to
# .toolchain.env, which the Makefile sources before every cargo command.
set -euo pipefail

profile="${1:-run}"
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
env_file="$root/.toolchain.env"
log() { printf '[setup] %s\n' "$*"; }

apt_updated=0
apt_install() {
  local missing=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# --- wasm32 target -----------------------------------------------------------
debian_toolchain() {
  apt_install rustc-web cargo-web rust-web-src rust-web-llvm lld-22
  local sysroot stamp libdir
  sysroot="$(/usr/bin/rustc --print sysroot)"
  libdir="$sysroot/lib/rustlib/wasm32-unknown-unknown/lib"
  stamp="$libdir/.keywatch-std-stamp"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(/usr/bin/rustc -vV)" ]; then
    return 0
  fi
  log "building std for wasm32 with Debian's rustc (once)"
  local work
  work="$(mktemp -d)"
  mkdir -p "$work/src"
  printf '[package]\nname = "wasm-std"\nversion = "0.0.0"\nedition = "2021"\n[lib]\npath = "src/lib.rs"\n' > "$work/Cargo.toml"
  : > "$work/src/lib.rs"
  # /usr/bin first: Debian's cargo must run Debian's rustc, not a rustup shim.
  # The Makefile's CARGO_TARGET_DIR must not redirect this throw-away build.
  (cd "$work" && unset CARGO_TARGET_DIR && PATH="/usr/bin:$PATH" RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTFLAGS=-Cembed-bitcode=yes \
    /usr/bin/cargo build -q --release \
    --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort,panic_unwind,proc_macro,test)
  mkdir -p "$libdir"
  find "$work/target/wasm32-unknown-unknown/release/deps" -name 'lib*.rlib' ! -name 'libwasm_std-*' -exec cp {} "$libdir/" \;
  /usr/bin/rustc -vV > "$stamp"
  rm -rf "$work"
}

choose_toolchain() {
  if command -v rustup >/dev/null 2>&1; then
    if rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
      echo '# rustup has the wasm32 target' > "$env_file"
      return 0
    fi
    log "rustup target add wasm32-unknown-unknown (up to 5 minutes)"
    if timeout 300 rustup target add wasm32-unknown-unknown; then
      echo '# rustup has the wasm32 target' > "$env_file"
      return 0
    fi
    log "rustup could not add wasm32; using Debian's rustc-web instead"
  fi
  debian_toolchain
  echo 'export PATH="/usr/bin:$PATH"' > "$env_file"
}

choose_toolchain
# shellcheck disable=SC1090
. "$env_file"

# --- cargo-leptos and wasm-bindgen-cli -------------------------------------
# Building these with LTO takes close to an hour on two cores; without it,
# about a third of that. Their locked dependencies may need a newer rustc
# than rustup's; Debian's rustc-web is then used for the install alone.
fast_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 "$@"
}

cargo_install() {
  local crate="$1" version="$2"
  log "cargo install $crate $version (slow: tens of minutes on a fresh machine)"
  # cargo-leptos 0.3.11's locked dependencies need a newer rustc than rustup's
  # 1.95 (measured: the rustup attempt failed after several minutes, then the
  # whole build ran again). Debian's rustc-web is newer, so tools are built
  # with it first time; rustup's toolchain is the fallback.
  apt_install rustc-web cargo-web
  # --locked first, for the versions the crate was released with; without it
  # when the lock names a version the registry no longer serves.
  if fast_install env RUSTC=/usr/bin/rustc /usr/bin/cargo install -q --locked "$crate" --version "$version" ||
    fast_install env RUSTC=/usr/bin/rustc /usr/bin/cargo install -q "$crate" --version "$version"; then
    return 0
  fi
  log "retrying $crate with rustup's toolchain"
  fast_install cargo install -q --locked "$crate" --version "$version" ||
    fast_install cargo install -q "$crate" --version "$version"
}

leptos_version="0.3.11"
if ! cargo leptos --version 2>/dev/null | grep -q "$leptos_version"; then
  cargo_install cargo-leptos "$leptos_version"
fi

# The CLI must be exactly the wasm-bindgen version in Cargo.lock.
bindgen_version="$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)"
if ! wasm-bindgen --version 2>/dev/null | grep -q " $bindgen_version\$"; then
  cargo_install wasm-bindgen-cli "$bindgen_version"
fi

# Release builds run wasm-opt; npm's binaryen package ships one.
if ! command -v wasm-opt >/dev/null 2>&1; then
  log "npm install -g binaryen (wasm-opt)"
  npm install -g --silent binaryen >/dev/null
fi

[ "$profile" = "run" ] && { log "ready to build and run"; exit 0; }
playwright_deps() {
  apt_install chromium
  if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then
    log "npm ci in end2end/ (Playwright, without its browser download)"
    (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund)
  fi
}
if [ "$profile" = "bench" ]; then
  apt_install jq
  # The first-load bench loads the console in Chromium through Playwright.
  playwright_deps
  log "ready to bench"
  exit 0
fi

# --- test tiers ----------------------------------------------------------------
playwright_deps
if ! python3 -c 'import boto3' >/dev/null 2>&1 || ! command -v aws >/dev/null 2>&1; then
  log "pip install awscli boto3"
  python3 -m pip install -q awscli boto3
fi
if ! python3 -c 'import cfnlint' >/dev/null 2>&1; then
  log "pip install cfn-lint"
  python3 -m pip install -q cfn-lint
fi
log "ready to test"
