#!/usr/bin/env bash
# The Azure Functions hosting on this machine without Azure Functions Core Tools: the Functions host emulator
# (tests/FunctionsHost) starts the Release build of src/Functions as its worker, the way the host does, and
# serves http://localhost:PORT until Ctrl-C or SIGTERM, after which nothing it started is left running.
#
#   Registry__Url=http://127.0.0.1:5000 ./scripts/functions-host.sh [--port N]   (default 7071)
#
# The app settings come from the environment, as app settings do under Azure Functions (Registry__Url,
# Proxy__BlobDelivery, Signing__Key, Mappings__0__Path, ...). Builds first when a source is newer than the build.
# Exit status: 0 when every invocation ended in success, 3 when some did not, 1 when the worker failed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

port=7071
while [[ $# -gt 0 ]]; do
  case "$1" in
    --port) port="${2:?--port needs a number}"; shift 2 ;;
    --port=*) port="${1#*=}"; shift ;;
    -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (usage: $0 [--port N])" >&2; exit 2 ;;
  esac
done
[[ "$port" =~ ^[0-9]+$ ]] || { echo "--port: not a number: $port" >&2; exit 2; }

app=src/Functions/bin/Release/net10.0
emulator=tests/FunctionsHost/bin/Release/net10.0/SysextFunctions.FunctionsHost.dll
stale() { # true when $1 is missing or older than any source it is built from
  [[ ! -f "$1" ]] && return 0
  [[ -n "$(find src tests/FunctionsHost host.json Directory.Build.props Directory.Packages.props \
    -path '*/bin' -prune -o -path '*/obj' -prune -o -type f -newer "$1" -print -quit)" ]]
}
if stale "$app/SysextFunctions.dll" || stale "$emulator"; then
  echo "==> building src/Functions and the host emulator (Release)" >&2
  dotnet build src/Functions/Functions.csproj -c Release -nologo -v quiet >&2
  dotnet build tests/FunctionsHost/FunctionsHost.csproj -c Release -nologo -v quiet >&2
fi

# Its own process group (the worker is its child, in the same group), so that whatever happens to the emulator,
# the group can be cleaned up after it.
setsid dotnet "$emulator" --port "$port" --app-dir "$(pwd)/$app" &
pid=$!
stopping=
stop() { stopping=1; kill -TERM "$pid" 2>/dev/null || true; }
trap stop INT TERM
status=0
wait "$pid" || status=$?
# A signal ends that wait early: wait again, for the emulator to stop its worker and exit with its own status.
while [[ -n "$stopping" ]]; do stopping=; status=0; wait "$pid" || status=$?; done
kill -KILL -- "-$pid" 2>/dev/null || true
exit "$status"
