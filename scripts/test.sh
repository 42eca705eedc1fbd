#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what the tests need (idempotent), builds,
# and runs every tier (tests/Unit, tests/Integration, tests/EndToEnd). Nothing is skipped: a missing prerequisite
# fails the run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash scripts/install-test-prereqs.sh

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

status=0
dotnet build SysextFunctions.sln -c Release -nologo -v quiet || exit 1
# Tier by tier, fastest first, each with a results file of its own name.
for tier in Unit Integration EndToEnd; do
  dotnet test "tests/$tier" -c Release --no-build \
    --logger "console;verbosity=minimal" \
    --logger "trx;LogFileName=$tier.trx" \
    --results-directory "$results" || status=$?
done

# The unit tier promises to need nothing but the SDK: hold it to that by running it again in an empty network
# namespace, where not even loopback is up.
unit=tests/Unit/bin/Release/net10.0/SysextFunctions.Tests.Unit
if [[ ! -x "$unit" ]]; then
  echo "tests: $unit was not built" >&2
  status=1
elif ! unshare -n "$unit" -noColor -noLogo >"$results/unit-offline.log" 2>&1; then
  echo "tests: the unit tier failed without a network (tests/Unit must not need one):" >&2
  grep -E '\[FAIL\]|Total:' "$results/unit-offline.log" >&2 || tail -n 20 "$results/unit-offline.log" >&2
  status=1
fi

# One plain closing line, whatever the runner printed above: the counters of every tier's results file, added up.
mapfile -t trx < <(find "$results" -name '*.trx')
if [[ ${#trx[@]} == 0 ]]; then
  echo "tests: no results file, the test run did not start" >&2
  exit 1
fi
count() { cat "${trx[@]}" | grep -o '<Counters [^>]*>' | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" | awk '{ n += $1 } END { print n + 0 }'; }
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
  }' "${trx[@]}" >&2
echo "tests: $(count passed) passed, $(count failed) failed"
exit "$status"
