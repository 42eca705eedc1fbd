#!/usr/bin/env bash
# The product on a working default, from a fresh Debian 12 machine:
#   1. installs only what it uses (scripts/install-test-prereqs.sh --demo): curl, squashfs-tools and
#      systemd-sysupdate 254 unpacked into tools/; with --registry also Debian's docker-registry and Debian's oras
#      linked as tools/oras/oras;
#   2. builds a sample sysext "hello" in two versions (real squashfs sysext images) and puts them in an
#      OCI image layout directory, as `oras push --oci-layout` would: no registry needed. With --registry,
#      starts a throwaway registry on 127.0.0.1:5000 instead and pushes them there with the real `oras push`;
#   3. starts Sysext Functions standalone on http://localhost:5001 in front of it, runs
#      `systemd-sysupdate list` against it once, and prints the transfer definition to use.
# Ctrl-C stops everything; the sample content is deleted.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo_root="$(pwd)"
registry_port="${DEMO_REGISTRY_PORT:-5000}"
proxy_url="${DEMO_PROXY_URL:-http://localhost:5001}"

upstream=layout
[[ "${1:-}" == "--registry" ]] && upstream=registry

started=$SECONDS
# The build needs nothing the prerequisites bring: run both at once.
dotnet build src/Server -c Release -v quiet -nologo >/tmp/sysext-demo-build.log 2>&1 &
build=$!
if [[ "$upstream" == registry ]]; then
  bash scripts/install-test-prereqs.sh --demo --registry >/dev/null
else
  bash scripts/install-test-prereqs.sh --demo >/dev/null
fi
echo "==> prerequisites in place"

work="$(mktemp -d /tmp/sysext-demo.XXXXXX)"
pids=("$build")
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [[ "$upstream" == registry ]]; then
cat >"$work/registry.yml" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:${registry_port}
YAML
/usr/bin/docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:${registry_port}/v2/" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "http://127.0.0.1:${registry_port}/v2/" || { cat "$work/registry.log"; echo "registry did not start" >&2; exit 1; }
echo "==> registry on http://127.0.0.1:${registry_port}"
fi

arch="$(uname -m | sed 's/_/-/g')" # systemd's %a: x86_64 -> x86-64
for version in v1.0 v1.1; do
  tree="$work/hello-$version"
  mkdir -p "$tree/usr/lib/extension-release.d" "$tree/usr/bin"
  printf 'ID=_any\nSYSEXT_LEVEL=1.0\n' >"$tree/usr/lib/extension-release.d/extension-release.hello-${version}-${arch}"
  printf '#!/bin/sh\necho "hello from sysext %s"\n' "$version" >"$tree/usr/bin/hello"
  chmod +x "$tree/usr/bin/hello"
  image="$work/hello-${version}-${arch}.raw"
  mksquashfs "$tree" "$image" -quiet -noappend -all-root >/dev/null
  if [[ "$upstream" == registry ]]; then
    # From the image's folder: the layer's title is the file name as given, and it names the file served.
    (cd "$work" && "${repo_root}/tools/oras/oras" push --plain-http --no-tty \
      "127.0.0.1:${registry_port}/sysexts/hello:${version}-${arch}" "$(basename "$image")" >/dev/null)
    echo "pushed sysexts/hello:${version}-${arch} with oras"
  fi
done

if [[ "$upstream" == registry ]]; then
  export Registry__Url="http://127.0.0.1:${registry_port}"
else
  bash scripts/oci-layout.sh "$work/layout/sysexts/hello" \
    "v1.0-${arch}" "$work/hello-v1.0-${arch}.raw" "v1.1-${arch}" "$work/hello-v1.1-${arch}.raw"
  export Registry__Layout="$work/layout"
  echo "==> OCI layout in $work/layout/sysexts/hello"
fi

echo "==> starting Sysext Functions on ${proxy_url}"
wait "$build" || { cat /tmp/sysext-demo-build.log; echo "build failed" >&2; exit 1; }
# Human-readable logs for the demo (the standalone default is JSON lines, for log collectors).
Logging__Console__FormatterName=simple dotnet src/Server/bin/Release/net10.0/SysextFunctions.Server.dll --urls "${proxy_url}" &
pids+=($!)
for _ in $(seq 300); do curl -fsS -o /dev/null "${proxy_url}/" 2>/dev/null && break; sleep 0.1; done
echo "==> serving after $((SECONDS - started)) s"

mkdir -p "$work/sysupdate.d" "$work/opt/extensions/hello" "$work/etc/extensions"
conf="[Transfer]
Verify=false

[Source]
Type=url-file
Path=${proxy_url}/sysexts/hello
MatchPattern=hello-@v-%a.raw

[Target]
InstancesMax=3
Type=regular-file
Path=/opt/extensions/hello
MatchPattern=hello-@v-%a.raw
CurrentSymlink=/etc/extensions/hello.raw"
printf '%s\n' "$conf" >"$work/sysupdate.d/50-hello.conf"

echo
echo "==> ${proxy_url}/sysexts/hello/SHA256SUMS:"
curl -fsS "${proxy_url}/sysexts/hello/SHA256SUMS"
echo
echo "==> systemd-sysupdate list (the real one, 254, from tools/systemd):"
# shellcheck source=scripts/sysupdate-env.sh
source scripts/sysupdate-env.sh
"$SYSUPDATE_BIN" --definitions="$work/sysupdate.d" --root="$work" --no-pager list
echo
cat <<TEXT
==> Use it from any machine that can reach ${proxy_url}: put this in /etc/sysupdate.hello.d/oci.conf
    (or /etc/sysupdate.d/50-hello.conf) and run 'systemd-sysupdate -C hello list' / 'update':

${conf}

    Try it here without touching /etc:
    source ${repo_root}/scripts/sysupdate-env.sh
    "\$SYSUPDATE_BIN" --definitions=$work/sysupdate.d --root=$work list

Sysext Functions is serving on ${proxy_url}; Ctrl-C stops it and the registry.
TEXT
wait "${pids[-1]}"
