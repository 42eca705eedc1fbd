#!/usr/bin/env bash
# Acceptance check of the Azure Functions hosting, run apart from the test suite: a throwaway registry with two
# versions of a sysext image, the standalone server and ./scripts/functions-host.sh (the built worker behind the
# Functions host emulator) in front of it, then
#   1. the same requests to both, compared answer by answer (status, Content-Length, Content-Type, ETag,
#      Location, body);
#   2. the real systemd-sysupdate 254 `list` and `update` against each, compared (listing, installed file);
#   3. functions-host.sh stopped with SIGTERM: it must report every invocation a success and leave no process.
# Exit status 0 when all of that holds. Ctrl-C stops everything; nothing is left behind.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
bash scripts/install-test-prereqs.sh >/dev/null
# shellcheck source=scripts/sysupdate-env.sh
source scripts/sysupdate-env.sh

work="$(mktemp -d /tmp/sysext-functions-acceptance.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# shellcheck source=scripts/lib/registry.sh
source scripts/lib/registry.sh

start_registry
for version in v1 v2; do
  head -c $((3 * 1024 * 1024)) /dev/urandom >"$work/hello-${version}.raw"
  (cd "$work" && "$root/tools/oras/oras" push --plain-http --no-tty \
    "${registry}/acceptance/hello:${version}" "hello-${version}.raw" >/dev/null)
done
echo "==> registry on ${registry} with acceptance/hello v1 and v2"

export Registry__Url="http://${registry}"
export Logging__Console__FormatterName=simple
dotnet build src/Functions/Functions.csproj -c Release -nologo -v quiet >/dev/null
standalone="http://127.0.0.1:$(free_port)"
dotnet src/Functions/bin/Release/net10.0/SysextFunctions.dll --urls "$standalone" >"$work/standalone.log" 2>&1 &
pids+=($!)
functions_port="$(free_port)"
functions="http://127.0.0.1:${functions_port}"
./scripts/functions-host.sh --port "$functions_port" >"$work/functions.log" 2>&1 &
functions_pid=$!
pids+=("$functions_pid")
wait_for "$standalone/" "$work/standalone.log"
wait_for "$functions/" "$work/functions.log"
echo "==> standalone on $standalone, Functions host emulator on $functions"

failed=0
long="/$(printf 'a%.0s' $(seq 100))"; long="$long$long$long$long$long$long$long$long$long$long$long/SHA256SUMS"
while read -r method target; do
  for side in standalone functions; do
    base="$standalone"; [[ "$side" == functions ]] && base="$functions"
    if [[ "$method" == HEAD ]]; then
      curl -s --path-as-is --head -D "$work/$side.head" -o /dev/null "$base$target" || true
      : >"$work/$side.body"
    else
      curl -s --path-as-is -X "$method" -D "$work/$side.head" -o "$work/$side.body" "$base$target" || true
    fi
    { tr -d '\r' <"$work/$side.head" | head -1 | cut -d' ' -f2
      tr -d '\r' <"$work/$side.head" | tr '[:upper:]' '[:lower:]' | grep -E '^(content-length|content-type|etag|location):' | sort || true
      sha256sum <"$work/$side.body"; } >"$work/$side.summary"
  done
  if diff -u "$work/standalone.summary" "$work/functions.summary" >"$work/diff"; then
    echo "same: $method ${target:0:60} -> $(head -1 "$work/standalone.summary") ($(sed -n 's/^content-length: //p' "$work/standalone.summary") bytes)"
  else
    echo "DIFFERENT: $method $target"; cat "$work/diff"; failed=1
  fi
done <<REQUESTS
GET /
GET /acceptance/hello/SHA256SUMS
HEAD /acceptance/hello/SHA256SUMS
GET /acceptance/hello/hello-v1.raw
HEAD /acceptance/hello/hello-v2.raw
GET /acceptance/hello/SHA256SUMS.gpg
GET /acceptance/hello/hello-v9.raw
GET /acceptance/Upper/SHA256SUMS
GET /acceptance/hello/SHA256SUMS?x=1
GET /acceptance//hello/SHA256SUMS
POST /acceptance/hello/SHA256SUMS
GET $long
REQUESTS

for side in standalone functions; do
  base="$standalone"; [[ "$side" == functions ]] && base="$functions"
  root="$work/root-$side"
  mkdir -p "$root/definitions" "$root/opt/extensions/hello"
  cp "$work/hello-v1.raw" "$root/opt/extensions/hello/hello-v1.raw"
  printf '[Transfer]\nVerify=no\n\n[Source]\nType=url-file\nPath=%s/acceptance/hello\nMatchPattern=hello-@v.raw\n\n[Target]\nInstancesMax=3\nType=regular-file\nPath=/opt/extensions/hello\nMatchPattern=hello-@v.raw\n' \
    "$base" >"$root/definitions/50-hello.conf"
  "$SYSUPDATE_BIN" --definitions="$root/definitions" --root="$root" --no-pager --json=short list >"$work/$side.list" 2>"$work/$side.list.log" \
    || { echo "FAIL: sysupdate list against $side"; cat "$work/$side.list.log"; failed=1; }
  "$SYSUPDATE_BIN" --definitions="$root/definitions" --root="$root" --no-pager update >"$work/$side.update.log" 2>&1 \
    || { echo "FAIL: sysupdate update against $side"; cat "$work/$side.update.log"; failed=1; }
  cmp -s "$work/hello-v2.raw" "$root/opt/extensions/hello/hello-v2.raw" \
    || { echo "FAIL: sysupdate update against $side did not install hello-v2.raw intact"; failed=1; }
done
if diff -u "$work/standalone.list" "$work/functions.list"; then
  echo "same: systemd-sysupdate list -> $(cat "$work/functions.list")"
else
  echo "DIFFERENT: systemd-sysupdate list"; failed=1
fi
[[ $failed -eq 0 ]] && echo "same: systemd-sysupdate update installed hello-v2.raw through both"

kill -TERM "$functions_pid"
status=0
wait "$functions_pid" || status=$?
tail -1 "$work/functions.log"
if [[ $status -ne 0 ]]; then
  echo "FAIL: functions-host.sh exited with $status (3: an invocation did not succeed)"; grep -i "INVOCATION FAILED" "$work/functions.log" || true; failed=1
fi
if pgrep -f "$(pwd)/src/Functions/bin/Release/net10.0" >/dev/null; then
  echo "FAIL: a worker outlived functions-host.sh"; failed=1
fi

if [[ $failed -eq 0 ]]; then echo "PASS: the Functions hosting answers like the standalone server"; else echo "FAIL"; fi
exit "$failed"
