#!/usr/bin/env bash
# Drives `keywatch sandbox` with the AWS CLI and boto3, as a user following
# the README would: any credentials, --endpoint-url pointing at the sandbox.
set -euo pipefail

# shellcheck source=scripts/cli-sandbox.sh
. "$(dirname "$0")/cli-sandbox.sh"

passed=0
failed=0
check() {
  local name="$1"
  shift
  if "$@"; then
    echo "ok: $name"
    passed=$((passed + 1))
  else
    echo "FAILED: $name"
    failed=$((failed + 1))
  fi
}

caller_identity() {
  local output
  output="$(aws --endpoint-url "$endpoint" sts get-caller-identity --output json)"
  python3 - "$output" <<'PY'
import json, sys
identity = json.loads(sys.argv[1])
assert identity == {
    "UserId": "AIDASANDBOXADMIN00001",
    "Account": "111122223333",
    "Arn": "arn:aws:iam::111122223333:user/sandbox-admin",
}, identity
PY
}

unknown_operation() {
  local output
  if output="$(aws --endpoint-url "$endpoint" sts get-session-token 2>&1)"; then
    echo "expected an error, got: $output"
    return 1
  fi
  grep -q "InvalidAction" <<<"$output"
}

s3_buckets() {
  local bucket="keywatch-cli-$$"
  aws --endpoint-url "$endpoint" s3 mb "s3://$bucket" >/dev/null || return 1
  printf 'one' >"$state/one.txt" || return 1
  aws --endpoint-url "$endpoint" s3 cp "$state/one.txt" "s3://$bucket/dir/one.txt" >/dev/null || return 1
  aws --endpoint-url "$endpoint" s3 cp "$state/one.txt" "s3://$bucket/dir/two words.txt" >/dev/null || return 1
  aws --endpoint-url "$endpoint" s3 ls | grep -q " $bucket\$" || return 1
  aws --endpoint-url "$endpoint" s3 ls "s3://$bucket/dir/" | grep -q "two words.txt" || return 1
  [ "$(aws --endpoint-url "$endpoint" s3 cp "s3://$bucket/dir/one.txt" -)" = "one" ] || return 1
  # `check` runs these in an `if`, where `set -e` does not apply: every
  # step returns on failure. `rb --force` lists and deletes the objects (DeleteObjects), then the bucket.
  aws --endpoint-url "$endpoint" s3 rb --force "s3://$bucket" >/dev/null || return 1
  ! aws --endpoint-url "$endpoint" s3 ls | grep -q " $bucket\$" || return 1
}

secrets_manager() {
  aws --endpoint-url "$endpoint" secretsmanager create-secret --name "keywatch-cli/db" \
    --secret-string '{"username":"admin","password":"p"}' >/dev/null || return 1
  local value
  value="$(aws --endpoint-url "$endpoint" secretsmanager get-secret-value --secret-id "keywatch-cli/db" \
    --query SecretString --output text)" || return 1
  [ "$value" = '{"username":"admin","password":"p"}' ] || return 1
}

ecr_images() {
  aws --endpoint-url "$endpoint" ecr create-repository --repository-name keywatch-cli >/dev/null || return 1
  aws --endpoint-url "$endpoint" ecr put-image --repository-name keywatch-cli --image-tag latest \
    --image-manifest '{"schemaVersion":2,"layers":[{"size":42}]}' >/dev/null || return 1
  local tags
  tags="$(aws --endpoint-url "$endpoint" ecr describe-images --repository-name keywatch-cli \
    --query 'imageDetails[0].imageTags[0]' --output text)" || return 1
  [ "$tags" = "latest" ] || return 1
}

check "aws sts get-caller-identity answers like AWS" caller_identity
check "aws s3 mb, cp, ls and rb --force" s3_buckets
check "aws secretsmanager get-secret-value" secrets_manager
check "aws ecr describe-images" ecr_images
check "an operation the sandbox lacks fails with AWS's InvalidAction" unknown_operation
for script in "$root"/sandbox/tests/*.py; do
  [ -e "$script" ] || continue
  check "boto3: $(basename "$script")" python3 "$script" "$endpoint"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
