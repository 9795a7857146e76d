#!/usr/bin/env bash
# Lints the lab's CloudFormation templates (cloudformation/*.yaml) with
# cfn-lint from PyPI, installing it first when missing. A template passes when
# cfn-lint reports no error and no warning (informational findings are not
# shown by default and do not fail it). Linted for us-east-1 and the lab's
# default region, ap-southeast-2: the templates hard-code no region.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"

# Run cfn-lint through the interpreter pip installed it for, so that a fresh
# install works even before its script directory is on PATH.
cfn_lint() {
  python3 -c 'import sys; from cfnlint.runner import main; sys.exit(main())' "$@"
}

if ! python3 -c 'import cfnlint' >/dev/null 2>&1; then
  echo "pip install cfn-lint"
  python3 -m pip install -q cfn-lint
fi
echo "cfn-lint $(python3 -c 'from importlib.metadata import version; print(version("cfn-lint"))')"

passed=0
failed=0
for template in cloudformation/*.yaml; do
  [ -e "$template" ] || continue
  if cfn_lint --regions us-east-1 ap-southeast-2 -- "$template"; then
    echo "ok: $template"
    passed=$((passed + 1))
  else
    echo "FAILED: $template"
    failed=$((failed + 1))
  fi
done

echo "$passed passed, $failed failed"
[ "$passed" -gt 0 ] && [ "$failed" -eq 0 ]
