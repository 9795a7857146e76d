# Sourced by the AWS CLI test tiers (test-aws-cli.sh, test-lab-original.sh),
# with the `keywatch` binary as $1: starts `keywatch sandbox` on a free
# loopback port with a throw-away state directory, stops it and removes the
# directory when the script exits, waits until it answers, and sets
# credentials the sandbox accepts (never the user's). Sets `root`, `state`
# and `endpoint`.

binary="${1:?usage: $(basename "$0") path/to/keywatch}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
endpoint="http://127.0.0.1:$port"

"$binary" sandbox --listen "127.0.0.1:$port" --state-dir "$state/sandbox" >"$state/sandbox.log" 2>&1 &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true; rm -rf "$state"' EXIT

for _ in $(seq 1 100); do
  curl -fsS "$endpoint/_keywatch/health" >/dev/null 2>&1 && break
  sleep 0.1
done

export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE AWS_SECRET_ACCESS_KEY=any-secret AWS_DEFAULT_REGION=ap-southeast-2
unset AWS_PROFILE AWS_SESSION_TOKEN
