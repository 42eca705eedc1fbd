#!/usr/bin/env bash
# A newer systemd-sysupdate than the machine's, in a cached Debian chroot:
#
#   scripts/systemd-chroot.sh SUITE
#       builds (when missing, older than SYSEXT_CHROOT_MAX_AGE_DAYS, or FORCE_CHROOT_REBUILD=1) a
#       `debootstrap --variant=minbase` chroot of SUITE (trixie, testing, sid, ...) with systemd,
#       systemd-container (systemd-pull), gpg, curl (systemd-pull dlopen()s libcurl) and ca-certificates,
#       and prints its directory: /var/cache/sysext-functions/chroots/SUITE
#
#   scripts/systemd-chroot.sh run SUITE [--bind DIR]... [--keyring FILE] -- COMMAND [ARG]...
#       runs COMMAND inside the (already built) chroot, in a private mount namespace (`unshare -m`):
#       /proc and /dev bind-mounted (systemd-pull fails without /proc), a tmpfs on /tmp and /run, each DIR
#       bind-mounted at the same path, and with --keyring FILE a tmpfs over /etc/systemd holding FILE as
#       import-pubring.gpg and import-pubring.pgp (the names systemd-pull reads). Nothing of it is visible
#       outside, the cached chroot is not modified, and runs may overlap. The environment is reset to
#       PATH, plus any SYSTEMD_* variables of the caller.
#
# The mirror is taken from the machine's own /etc/apt/sources.list.d/debian.sources (the entry for
# bookworm); only the suite differs. A build goes into a temporary directory that is renamed into place,
# so an interrupted build leaves no half chroot behind. Needs root; installs debootstrap with apt when
# it is missing. A chroot that cannot be built fails with a message naming what is missing.
#
# Environment:
#   SYSEXT_CACHE                 the machine-wide cache (default /var/cache/sysext-functions)
#   SYSEXT_CHROOT_MAX_AGE_DAYS   rebuild a chroot older than this (default 7)
#   FORCE_CHROOT_REBUILD=1       rebuild now
set -euo pipefail
# shellcheck source=scripts/debian-mirror.sh
source "$(dirname "${BASH_SOURCE[0]}")/debian-mirror.sh"

die() { printf 'systemd-chroot.sh: %s\n' "$*" >&2; exit 1; }

cache="${SYSEXT_CACHE:-/var/cache/sysext-functions}/chroots"

check_suite() { [[ "$1" =~ ^[a-z][a-z0-9-]*$ ]] || die "not a suite name: $1"; }

# The chroot is usable: it has the programs the tests run, and finished building.
usable() {
  local root="$1"
  [[ -f "${root}/.complete" && -x "${root}/usr/lib/systemd/systemd-pull" ]] \
    && [[ -x "${root}/usr/lib/systemd/systemd-sysupdate" || -x "${root}/usr/bin/systemd-sysupdate" ]]
}

fresh() {
  local root="$1" max_age="${SYSEXT_CHROOT_MAX_AGE_DAYS:-7}"
  [[ "${max_age}" =~ ^[0-9]+$ ]] || die "SYSEXT_CHROOT_MAX_AGE_DAYS is not a number of days: ${max_age}"
  [[ -n "$(find "${root}/.complete" -mtime "-${max_age}" 2>/dev/null)" ]]
}

build() {
  local suite="$1" root="${cache}/$1"
  if [[ "${FORCE_CHROOT_REBUILD:-0}" != 1 ]] && usable "${root}" && fresh "${root}"; then
    printf '%s\n' "${root}"
    return
  fi
  [[ "$(id -u)" == 0 ]] || die "building a chroot needs root"
  if ! command -v debootstrap >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends debootstrap >/dev/null \
      || die "debootstrap is missing and apt-get install debootstrap failed"
  fi
  local entry uri signed_by
  entry="$(debian_mirror_entry)" || die "cannot derive the Debian mirror from ${DEBIAN_SOURCES}"
  [[ -n "${entry}" ]] || die "no bookworm entry with URIs: in ${DEBIAN_SOURCES}"
  uri="${entry%%$'\t'*}"
  signed_by="${entry#*$'\t'}"

  # bookworm's debootstrap knows no script for suites named after it (forky, ...); they all bootstrap like sid.
  local script="/usr/share/debootstrap/scripts/${suite}"
  [[ -e "${script}" ]] || script="/usr/share/debootstrap/scripts/sid"
  local include="systemd,systemd-container,gpg,curl,ca-certificates"
  # trixie leaves systemd-container unconfigured without dbus; newer suites pull what they need.
  [[ "${suite}" == trixie ]] && include+=",dbus"

  mkdir -p "${cache}"
  exec 9>"${cache}/.${suite}.lock"
  flock 9
  # Another build may have finished while this one waited for the lock.
  if [[ "${FORCE_CHROOT_REBUILD:-0}" != 1 ]] && usable "${root}" && fresh "${root}"; then
    printf '%s\n' "${root}"
    return
  fi
  local tmp log
  tmp="$(mktemp -d "${cache}/.${suite}.build.XXXXXX")"
  chmod 755 "${tmp}"
  log="${cache}/.${suite}.debootstrap.log"
  local keyring=()
  [[ -n "${signed_by}" && -r "${signed_by}" ]] && keyring=(--keyring="${signed_by}")
  printf 'systemd-chroot.sh: building the %s chroot (debootstrap, a few minutes; log: %s)\n' "${suite}" "${log}" >&2
  if ! debootstrap --variant=minbase "${keyring[@]}" --include="${include}" "${suite}" "${tmp}" "${uri}" "${script}" >"${log}" 2>&1; then
    rm -rf "${tmp}"
    die "debootstrap of ${suite} failed (last lines of ${log}):
$(tail -n 15 "${log}")"
  fi
  chroot "${tmp}" /usr/bin/systemd-sysupdate --version >/dev/null 2>&1 \
    || chroot "${tmp}" /usr/lib/systemd/systemd-sysupdate --version >/dev/null 2>&1 \
    || { rm -rf "${tmp}"; die "the ${suite} chroot has no runnable systemd-sysupdate"; }
  [[ -x "${tmp}/usr/lib/systemd/systemd-pull" ]] || { rm -rf "${tmp}"; die "the ${suite} chroot has no systemd-pull (systemd-container)"; }
  compgen -G "${tmp}/usr/lib/*/libcurl.so.4" >/dev/null || { rm -rf "${tmp}"; die "the ${suite} chroot has no libcurl (systemd-pull dlopen()s it)"; }
  rm -rf "${tmp}/var/cache/apt/archives/"*.deb
  date -u +%FT%TZ > "${tmp}/.complete"
  # Swap atomically enough: the old chroot is moved aside first, so the name never points at a half tree.
  if [[ -e "${root}" ]]; then
    mv "${root}" "${tmp}.old"
  fi
  mv "${tmp}" "${root}"
  rm -rf "${tmp}.old"
  printf '%s\n' "${root}"
}

run() {
  local suite="$1"; shift
  check_suite "${suite}"
  local root="${cache}/${suite}" binds=() keyring=""
  while (($#)); do
    case "$1" in
      --bind) [[ $# -ge 2 ]] || die "--bind needs a directory"; binds+=("$(realpath "$2")"); shift 2 ;;
      --keyring) [[ $# -ge 2 ]] || die "--keyring needs a file"; keyring="$(realpath "$2")"; shift 2 ;;
      --) shift; break ;;
      *) die "unknown option $1 (usage: run SUITE [--bind DIR]... [--keyring FILE] -- COMMAND...)" ;;
    esac
  done
  (($#)) || die "run: no command given"
  usable "${root}" || die "no ${suite} chroot at ${root}: run scripts/install-test-prereqs.sh (or scripts/systemd-chroot.sh ${suite})"
  [[ -z "${keyring}" || -r "${keyring}" ]] || die "keyring ${keyring} not readable"
  local env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8)
  local name
  while IFS= read -r name; do env+=("${name}=${!name}"); done < <(compgen -e | grep '^SYSTEMD_' | grep -v '_PATH$' || true)
  # The inner shell sets up the mounts inside the new namespace, then chroots; "$@" after `--` is the command.
  exec unshare --mount --propagation private /bin/bash -euc '
    root="$1" keyring="$2" nbinds="$3"; shift 3
    binds=("${@:1:nbinds}"); shift "${nbinds}"
    mount --rbind /proc "${root}/proc"
    mount --rbind /dev "${root}/dev"
    mount -t tmpfs -o mode=1777 tmpfs "${root}/tmp"
    mount -t tmpfs -o mode=755 tmpfs "${root}/run"
    for dir in "${binds[@]}"; do
      mkdir -p "${root}${dir}"
      mount --bind "${dir}" "${root}${dir}"
    done
    if [[ -n "${keyring}" ]]; then
      mount -t tmpfs -o mode=755 tmpfs "${root}/etc/systemd"
      cp "${keyring}" "${root}/etc/systemd/import-pubring.gpg"
      cp "${keyring}" "${root}/etc/systemd/import-pubring.pgp"
    fi
    exec chroot "${root}" /usr/bin/env -i "$@"
  ' systemd-chroot "${root}" "${keyring}" "${#binds[@]}" "${binds[@]}" "${env[@]}" "$@"
}

(($# >= 1)) || die "usage: systemd-chroot.sh SUITE | systemd-chroot.sh run SUITE [--bind DIR]... [--keyring FILE] -- COMMAND..."
if [[ "$1" == run ]]; then
  shift
  (($# >= 1)) || die "run: no suite given"
  run "$@"
else
  check_suite "$1"
  build "$1"
fi
