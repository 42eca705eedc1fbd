#!/usr/bin/env bash
# The benchmark: a real registry (Debian's docker-registry), the proxy as its own process and nginx-light, all
# on loopback, measured side by side; prints a table of ratios with pass/fail per target (exit 1 on a miss).
#   ./scripts/bench.sh                  the table (about two minutes on 2 cores)
#   ./scripts/bench.sh --micro          BenchmarkDotNet micro-benchmarks of the hot paths (path parsing, SHA256SUMS)
#   ./scripts/bench.sh --only blob      one part: checksums | load | blob | rollout | coldstart
# Installs what it needs when missing (docker-registry, nginx-light, wrk, oras: needs root then); idempotent.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

missing=()
for p in docker-registry nginx-light wrk; do
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" == "installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  [[ "$(id -u)" == 0 ]] || { echo "ERROR: ${missing[*]} missing; run as root to install them" >&2; exit 1; }
  echo "==> Installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" \
    || { apt-get -o DPkg::Lock::Timeout=300 update -qq && apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}"; }
  # The packages' own services must not hold ports or run in the background: the bench starts its own.
  for service in docker-registry nginx; do
    if [[ -d /run/systemd/system ]]; then
      systemctl disable --now --quiet "${service}.service" 2>/dev/null || true
    elif [[ -x "/etc/init.d/${service}" ]]; then
      "/etc/init.d/${service}" stop >/dev/null 2>&1 || true
    fi
  done
fi

# The rollout rows push with the real oras, as the tests do (tools/oras/oras, from Debian's newest suite): the demo's
# installer with --registry links it (and unpacks systemd 254, which the bench does not use).
if [[ ! -x tools/oras/oras ]]; then
  [[ "$(id -u)" == 0 ]] || { echo "ERROR: tools/oras/oras missing; run as root to install it" >&2; exit 1; }
  echo "==> Installing oras into tools/oras"
  scripts/install-test-prereqs.sh --demo --registry
fi

# Release build of the proxy and the bench (the bench starts the proxy from src/Functions/bin/Release).
dotnet build bench/Bench.csproj -c Release -nologo -v quiet -clp:"ErrorsOnly;NoSummary"
# The same app published for linux-x64, which the csproj makes ReadyToRun: the cold-start rows compare it with the
# build output (JIT).
if [[ " $* " != *" --only "* || " $* " == *" --only coldstart "* ]]; then
  dotnet publish src/Functions -c Release -r linux-x64 --self-contained false \
    -o bench/bin/publish-r2r -nologo -v quiet -clp:"ErrorsOnly;NoSummary"
fi
exec dotnet bench/bin/Release/net10.0/SysextFunctions.Bench.dll "$@"
