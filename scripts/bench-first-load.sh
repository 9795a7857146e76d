#!/usr/bin/env bash
# `make bench`'s first-load round: builds the console as `make run` does
# (release, hashed and precompressed bundle), reports the wasm's raw, gzip
# and brotli bytes, then loads `/` in Chromium with compression on and off
# (end2end/bench/first-load.mjs) against the console on its sandbox.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
port="${KEYWATCH_BENCH_PORT:-3019}"

cargo leptos build --release 2>&1 | grep -E "^(error|warning: unused)" || true
test -x "$target/release/keywatch" || { echo "bench-first-load: no release binary at $target/release/keywatch" >&2; exit 1; }
echo "bundle (keywatch precompress: raw, brotli q11, gzip -9)"
"$target/release/keywatch" precompress --site-root target/site | sed 's/^/  /'

if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
  echo "bench-first-load: something already listens on 127.0.0.1:$port; set KEYWATCH_BENCH_PORT" >&2
  exit 1
fi
data="$(mktemp -d)"
KEYWATCH_DATA_DIR="$data" KEYWATCH_AWS=sandbox LEPTOS_SITE_ROOT=target/site KEYWATCH_LISTEN="127.0.0.1:$port" \
  "$target/release/keywatch" serve >"$data/console.log" 2>&1 &
console=$!
trap 'kill "$console" 2>/dev/null; wait "$console" 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
(cd end2end && node bench/first-load.mjs "http://127.0.0.1:$port" "${KEYWATCH_BENCH_ROUNDS:-5}")
