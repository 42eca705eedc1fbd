#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what the tests need (idempotent), builds,
# and runs every test. Nothing is skipped: a missing prerequisite fails the run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-test-prereqs.sh

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

status=0
dotnet test SysextFunctions.sln -c Release \
  --logger "console;verbosity=normal" \
  --logger "trx;LogFileName=results.trx" \
  --results-directory "$results" || status=$?

# One plain closing line, whatever the runner printed above.
trx="$(find "$results" -name results.trx | head -n1)"
if [[ -z "$trx" ]]; then
  echo "tests: no results file, the test run did not start" >&2
  exit 1
fi
counters="$(grep -o '<Counters [^>]*>' "$trx")"
count() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
executed="$(count executed)"
if [[ "${executed:-0}" == 0 ]]; then
  echo "tests: no test was executed" >&2
  exit 1
fi
echo "tests: $(count passed) passed, $(count failed) failed"
exit "$status"
