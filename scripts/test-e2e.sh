#!/usr/bin/env bash
# Playwright in headless Chromium against the console that `cargo leptos
# end-to-end` builds and serves, on the sandbox, with a throw-away database.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
# KEYWATCH_E2E_PORT lets two checkouts run their end-to-end tests side by side.
port="${KEYWATCH_E2E_PORT:-3000}"
if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
  echo "test-e2e: something already listens on 127.0.0.1:$port (a running 'make run'?); stop it first" >&2
  exit 1
fi
export KEYWATCH_LISTEN="127.0.0.1:$port" LEPTOS_SITE_ADDR="127.0.0.1:$port" KEYWATCH_URL="http://127.0.0.1:$port"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
# Each stack resource takes 300 ms in the sandbox so the wizard's tests can
# watch progress advance; default runs elsewhere stay instant.
KEYWATCH_DATA_DIR="$data" KEYWATCH_AWS=sandbox \
  KEYWATCH_SANDBOX_STACK_PACE_MS="${KEYWATCH_SANDBOX_STACK_PACE_MS:-300}" cargo leptos end-to-end
