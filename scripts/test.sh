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
  --logger "console;verbosity=minimal" \
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
# Each failed test again at the very end, where a truncated log still shows it: its name and the first lines of
# its message.
perl -0777 -ne '
  my %e = (lt => "<", gt => ">", amp => "&", quot => "\"", apos => "'"'"'");
  while (/<UnitTestResult\b([^>]*outcome="Failed"[^>]*)>(.*?)<\/UnitTestResult>/gs) {
    my ($attributes, $body) = ($1, $2);
    my ($name) = $attributes =~ /testName="([^"]*)"/;
    my ($message) = $body =~ /<Message>(.*?)<\/Message>/s;
    $_ = defined $_ ? s/&(lt|gt|amp|quot|apos);/$e{$1}/gr : "" for $name, $message;
    my @lines = split /\n/, $message;
    print "FAILED $name\n", map("  $_\n", @lines[0 .. ($#lines < 11 ? $#lines : 11)]);
  }' "$trx" >&2
echo "tests: $(count passed) passed, $(count failed) failed"
exit "$status"
