#!/usr/bin/env bash
# Acceptance check of phased rollouts (docs/rollouts.md), run apart from the test suite: a throwaway registry, the
# standalone server built from this checkout with a schedule of `50%@0m,100%@2m`, and 40 machine roots, each
# with its own /etc/machine-id (drawn from a seed, so a run can be repeated) and the same transfer definition whose
# Path= has %m. With the real oras and the real systemd-sysupdate (254 from tools/systemd, or the newest client of
# the cached chroot with SYSEXT_ACCEPTANCE_CLIENT=newest):
#   1. split:     v1 (published long ago) reaches every machine, v2 (published now) between 30 % and 70 % of them;
#   2. halt:      a policy pushed with oras pauses v2; once the schedule's 100 % step has passed, v2 is still offered to
#                 exactly the machines that had it (the listing TTL is a few seconds, waited for once), and `update`
#                 installs it byte for byte on exactly those (only now: sysupdate lists what is installed as well);
#   3. promotion: a policy that promotes v2 puts it on all 40 at the next listing, and `update` installs it.
# Prints the figures of each, and PASS or FAIL (exit status 0 or 1). Takes three minutes or so, most of them waiting
# for the clock to pass the 100 % step. Needs root (the newest client runs in a private mount namespace) and
# the prerequisites of scripts/install-test-prereqs.sh; Ctrl-C stops everything and nothing is left behind.
#
# Environment:
#   SYSEXT_ACCEPTANCE_CLIENT   254 (default) or newest
#   SYSEXT_FLEET_SIZE          machines (default 40)
#   SYSEXT_FLEET_SEED          seed of the machine ids (default 18)
#   SYSEXT_STEP_MINUTES        when v2's 100 % step falls after publishing (default 2; the split must be done by then)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
client="${SYSEXT_ACCEPTANCE_CLIENT:-254}"
machines="${SYSEXT_FLEET_SIZE:-40}"
seed="${SYSEXT_FLEET_SEED:-18}"
step="${SYSEXT_STEP_MINUTES:-2}"
ttl=3
repository="acceptance/hello"
for number in "$machines" "$seed" "$step"; do
  [[ "$number" =~ ^[1-9][0-9]{0,4}$ ]] || { echo "FAIL: not a positive number: $number" >&2; exit 1; }
done
oras="$root/tools/oras/oras"
[[ -x "$oras" && -x /usr/bin/docker-registry ]] || { echo "FAIL: oras or docker-registry missing: run scripts/install-test-prereqs.sh" >&2; exit 1; }
case "$client" in
  254)
    # shellcheck source=scripts/sysupdate-env.sh
    source scripts/sysupdate-env.sh || { echo "FAIL: run scripts/install-test-prereqs.sh" >&2; exit 1; } ;;
  newest)
    chroot_dir="${SYSEXT_CACHE:-/var/cache/sysext-functions}/chroots/${SYSEXT_NEWEST_SUITE:-testing}"
    [[ -f "$chroot_dir/.complete" ]] || { echo "FAIL: no chroot at $chroot_dir: run scripts/systemd-chroot.sh ${SYSEXT_NEWEST_SUITE:-testing}" >&2; exit 1; } ;;
  *) echo "FAIL: SYSEXT_ACCEPTANCE_CLIENT is 254 or newest, not $client" >&2; exit 1 ;;
esac

work="$(mktemp -d /tmp/sysext-rollout-acceptance.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# shellcheck source=scripts/lib/registry.sh
source scripts/lib/registry.sh
rfc3339() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }

# Built first: v2's schedule starts when it is pushed, and the split must be seen before its 100 % step.
echo "==> building the server"
dotnet build src/Functions/Functions.csproj -c Release -nologo -v quiet >/dev/null

# The registry, and the two versions: v1 dated long ago (fully rolled out), v2 dated now by oras.
start_registry
push() { # $1 = tag, $2 = file, [$3 = media type], more oras arguments after
  local tag="$1" file="$2" type="${3:-}"; shift 3 || shift $#
  (cd "$work" && DOCKER_CONFIG="$work" "$oras" push --plain-http --no-tty "$@" \
    "${registry}/${repository}:${tag}" "${file}${type:+:$type}" >/dev/null)
}
policy() { # $1 = the JSON document
  printf '%s\n' "$1" >"$work/rollout.json"
  push _rollout rollout.json application/vnd.sysext-functions.rollout.v1+json
}
head -c $((256 * 1024)) /dev/urandom >"$work/hello-v1.raw"
head -c $((256 * 1024 + 1)) /dev/urandom >"$work/hello-v2.raw"
push v1 hello-v1.raw "" --annotation "org.opencontainers.image.created=2020-01-01T00:00:00Z"
published="$(date -u +%s)"
push v2 hello-v2.raw ""
echo "==> registry on ${registry}: ${repository} v1 (published 2020-01-01) and v2 (published $(rfc3339 "$published"))"

# The server: one schedule for every repository, a short listing TTL so that a policy shows up within seconds.
server="http://127.0.0.1:$(free_port)"
Registry__Url="http://${registry}" Rollout__Steps="50%@0m,100%@${step}m" Rollout__MachineKeySecret="acceptance-$seed" \
  Cache__ChecksumsTtl="00:00:0${ttl}" Logging__Console__FormatterName=simple \
  dotnet src/Functions/bin/Release/net10.0/SysextFunctions.dll --urls "$server" >"$work/server.log" 2>&1 &
pids+=($!)
wait_for "$server/" "$work/server.log"
echo "==> server on $server, Rollout:Steps=50%@0m,100%@${step}m, Cache:ChecksumsTtl=${ttl}s"

# The fleet: machine ids from the seed (formatted as systemd makes them: v4 UUIDs without dashes).
mkdir -p "$work/fleet"
for i in $(seq -w 1 "$machines"); do
  m="$work/fleet/m$i"
  mkdir -p "$m/etc/sysupdate.d" "$m/opt/extensions"
  printf '%s' "fleet-$seed-$i" | sha256sum | cut -c1-32 | sed -E 's/^(.{12}).(.{3}).(.{15})$/\14\2a\3/' >"$m/etc/machine-id"
  printf 'ID=debian\nVERSION_ID=12\n' >"$m/etc/os-release"
  printf '[Transfer]\nVerify=no\n\n[Source]\nType=url-file\nPath=%s/_m/%%m/%s\nMatchPattern=hello-@v.raw\n\n[Target]\nInstancesMax=3\nType=regular-file\nPath=/opt/extensions\nMatchPattern=hello-@v.raw\n' \
    "$server" "$repository" >"$m/etc/sysupdate.d/50-hello.conf"
done
[[ "$(cat "$work"/fleet/*/etc/machine-id | sort -u | wc -l)" -eq "$machines" ]] || { echo "FAIL: machine ids collide"; exit 1; }
echo "==> $machines machine roots in $work/fleet, each with its own /etc/machine-id; the transfer's Path=:"
grep '^Path=http' "$work/fleet/m$(seq -w 1 "$machines" | head -1)/etc/sysupdate.d/50-hello.conf" | sed 's/^/    /'

# sysupdate on one root (--root: %m is the root's machine id, the definitions are the root's, and so are targets).
sysupdate() { # $1 = machine root, then sysupdate's arguments
  local m="$1"; shift
  if [[ "$client" == 254 ]]; then
    timeout 60 "$SYSUPDATE_BIN" --root="$m" --no-pager "$@"
  else
    timeout 60 scripts/systemd-chroot.sh run "${SYSEXT_NEWEST_SUITE:-testing}" --bind "$work/fleet" -- \
      /usr/lib/systemd/systemd-sysupdate --root="$m" --no-pager "$@"
  fi
}
export -f sysupdate
export client work SYSUPDATE_BIN LD_LIBRARY_PATH SYSTEMD_PULL_PATH
# Every machine, four at a time: $1 = a name for this round, then sysupdate's arguments. Writes <root>/<name>.out.
fleet() {
  local name="$1"; shift
  find "$work/fleet" -mindepth 1 -maxdepth 1 -type d -print0 | sort -z \
    | xargs -0 -P 4 -I{} bash -c 'sysupdate "$1" "${@:3}" >"$1/$2.out" 2>"$1/$2.err" || { echo "FAIL: sysupdate ${*:3} on $1:"; tail -5 "$1/$2.err"; exit 255; }' _ {} "$name" "$@" \
    || { echo "FAIL"; exit 1; }
}
# The machines whose listing of round $1 has version $2.
having() {
  local r="$1" v="$2" m
  for m in "$work"/fleet/m*; do
    if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); vs=[e["version"] for e in d] if isinstance(d,list) else d["all"]; sys.exit(0 if sys.argv[2] in vs else 1)' "$m/$r.out" "$v"; then
      basename "$m"
    fi
  done
}
catalogue() { # the catalogue's rollout fields for v2, as far as the server has them
  curl -fsS "$server/$repository/" | python3 -c '
import json, sys
d = json.load(sys.stdin)
for v in d.get("versions", []):
    if isinstance(v, dict) and v.get("version", v.get("tag")) == "v2":
        print("    catalogue: v2 " + ", ".join(f"{k}={v[k]}" for k in ("share", "nextStep", "halted", "promoted", "phased") if k in v))
if "rolloutPolicy" in d:
    print("    catalogue: rolloutPolicy=" + str(d["rolloutPolicy"]))' || true
}
failed=0
check() { # $1 = condition text for the message; the rest is the test
  local what="$1"; shift
  if "$@"; then echo "    ok: $what"; else echo "    FAIL: $what"; failed=1; fi
}

echo "==> 1. split"
fleet split --json=short list
having split v1 >"$work/split.v1"
having split v2 >"$work/split.v2"
offered="$(wc -l <"$work/split.v2")"
echo "    v1 listed on $(wc -l <"$work/split.v1") of $machines machines, v2 on $offered of $machines ($((100 * offered / machines)) %)"
catalogue
check "v1 on every machine" test "$(wc -l <"$work/split.v1")" -eq "$machines"
check "v2 on 30-70 % of the fleet" test "$((100 * offered))" -ge "$((30 * machines))" -a "$((100 * offered))" -le "$((70 * machines))"
echo "==> 2. halt"
if (($(date -u +%s) >= published + step * 60)); then
  echo "FAIL: the split took longer than v2's first step (${step}m): run again with a larger SYSEXT_STEP_MINUTES"; exit 1
fi
policy "{\"versions\": {\"v2\": {\"pauses\": [{\"from\": \"$(rfc3339 "$(date -u +%s)")\"}]}}}"
echo "    pushed with oras: $(cat "$work/rollout.json")"
until_step=$((published + step * 60 + ttl + 1 - $(date -u +%s)))
if ((until_step > 0)); then
  echo "    waiting ${until_step}s for v2's 100 % step (published + ${step}m) to pass"
  sleep "$until_step"
fi
fleet halt --json=short list
having halt v2 >"$work/halt.v2"
echo "    after the 100 % step: v2 on $(wc -l <"$work/halt.v2") of $machines machines"
catalogue
check "no new machine got v2 while halted, every machine that had it keeps it" cmp -s "$work/split.v2" "$work/halt.v2"

fleet update-1 update
installed=0 wrong=0
for m in "$work"/fleet/m*; do
  if [[ -e "$m/opt/extensions/hello-v2.raw" ]]; then
    installed=$((installed + 1))
    cmp -s "$work/hello-v2.raw" "$m/opt/extensions/hello-v2.raw" || wrong=$((wrong + 1))
    grep -qx "$(basename "$m")" "$work/split.v2" || wrong=$((wrong + 1))
  elif grep -qx "$(basename "$m")" "$work/split.v2"; then
    wrong=$((wrong + 1))
  fi
done
echo "    update installed v2 on $installed machines"
check "update (while halted) installs v2 byte for byte on exactly the $offered offered at the split" test "$installed" -eq "$offered" -a "$wrong" -eq 0

echo "==> 3. promotion"
policy '{"versions": {"v2": {"pauses": [], "promote": true}}}'
echo "    pushed with oras: $(cat "$work/rollout.json")"
sleep "$ttl"
fleet promoted --json=short list
having promoted v2 >"$work/promoted.v2"
echo "    v2 on $(wc -l <"$work/promoted.v2") of $machines machines"
catalogue
check "v2 promoted to every machine" test "$(wc -l <"$work/promoted.v2")" -eq "$machines"
fleet update-2 update
intact="$(for m in "$work"/fleet/m*; do cmp -s "$work/hello-v2.raw" "$m/opt/extensions/hello-v2.raw" && echo; done | wc -l)"
check "update installs v2 byte for byte on all $machines (it has $intact)" test "$intact" -eq "$machines"

if grep -Fq -f <(cat "$work"/fleet/*/etc/machine-id) "$work/server.log"; then
  echo "    FAIL: a machine id appears in the server's log"; failed=1
else
  echo "    ok: no machine id in the server's log"
fi

if [[ $failed -eq 0 ]]; then echo "PASS: split, halt and promotion as docs/rollouts.md describes"; else echo "FAIL"; fi
exit "$failed"
