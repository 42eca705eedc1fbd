#!/usr/bin/env bash
# Unpacks Debian packages of another suite (trixie, forky, sid, ...) into a machine-wide cache, without
# touching the system's apt sources, lists or installed packages:
#
#   scripts/debian-package.sh SUITE PACKAGE...
#
# prints one line per package: the directory its files were unpacked into (`dpkg -x`), for example
#   /var/cache/sysext-functions/debian/sid/oras_1.3.3-1_amd64
# so `$(scripts/debian-package.sh sid oras)/usr/bin/oras` is the program. Go tools (oras, cosign,
# notation) run on bookworm straight from there.
#
# The mirror and its keyring are taken from the machine's own /etc/apt/sources.list.d/debian.sources
# (the entry for bookworm); only the suite differs. Each suite has its own private apt state under the
# cache; its package lists are refreshed when older than a day, or when a package is not found.
# Idempotent: a package already unpacked at the suite's current version costs no network I/O.
#
# Environment:
#   SYSEXT_CACHE   the machine-wide cache (default /var/cache/sysext-functions)
set -euo pipefail
# shellcheck source=scripts/debian-mirror.sh
source "$(dirname "${BASH_SOURCE[0]}")/debian-mirror.sh"

die() { printf 'debian-package.sh: %s\n' "$*" >&2; exit 1; }

(($# >= 2)) || die "usage: debian-package.sh SUITE PACKAGE..."
suite="$1"; shift
[[ "${suite}" =~ ^[a-z][a-z0-9-]*$ ]] || die "not a suite name: ${suite}"

cache="${SYSEXT_CACHE:-/var/cache/sysext-functions}/debian/${suite}"
state="${cache}/.apt"

configure() {
  local entry uri signed_by
  entry="$(debian_mirror_entry)" || die "cannot derive the Debian mirror from ${DEBIAN_SOURCES}"
  [[ -n "${entry}" ]] || die "no bookworm entry with URIs: in ${DEBIAN_SOURCES}"
  uri="${entry%%$'\t'*}"
  signed_by="${entry#*$'\t'}"
  mkdir -p "${state}"/{lists/partial,cache/archives/partial,sources.list.d,preferences.d}
  {
    echo "Types: deb"
    echo "URIs: ${uri}"
    echo "Suites: ${suite}"
    echo "Components: main"
    [[ -n "${signed_by}" ]] && echo "Signed-By: ${signed_by}"
  } > "${state}/sources.list.d/${suite}.sources"
  cat > "${state}/apt.conf" <<EOF
// Private apt configuration for ${suite}: never touches the system's sources, lists or cache.
Dir::State::Lists "${state}/lists";
Dir::State::status "/dev/null";
Dir::Cache "${state}/cache";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "${state}/sources.list.d";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "${state}/preferences.d";
Acquire::Languages "none";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled "false";
#clear APT::Update::Post-Invoke-Success;
#clear APT::Update::Post-Invoke;
EOF
}

refresh() { apt-get update -qq >/dev/null || die "apt-get update of ${suite} failed"; }

candidate() { apt-cache show --no-all-versions "$1" 2>/dev/null | awk '/^Version:/ && !v { v = $2 } END { print v }'; }

mkdir -p "${cache}"
exec 9>"${cache}/.lock"
flock 9
configure
export APT_CONFIG="${state}/apt.conf"
if [[ -z "$(find "${state}/lists" -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n1)" ]]; then
  refresh
fi

for pkg in "$@"; do
  [[ "${pkg}" =~ ^[a-z0-9][a-z0-9.+-]*$ ]] || die "not a package name: ${pkg}"
  version="$(candidate "${pkg}")"
  if [[ -z "${version}" ]]; then
    refresh
    version="$(candidate "${pkg}")"
    [[ -n "${version}" ]] || die "${suite} has no package ${pkg}"
  fi
  arch="$(dpkg --print-architecture)"
  dest="${cache}/${pkg}_${version//:/%3a}_${arch}"
  if [[ ! -f "${dest}/.complete" ]]; then
    tmp="$(mktemp -d "${cache}/.unpack.XXXXXX")"
    chmod 755 "${tmp}"
    id _apt >/dev/null 2>&1 && chown _apt "${tmp}"
    (cd "${tmp}" && apt-get download -qq "${pkg}/${suite}" >/dev/null) \
      || { rm -rf "${tmp}"; die "apt-get download ${pkg}/${suite} failed"; }
    mkdir "${tmp}/root"
    dpkg -x "${tmp}"/*.deb "${tmp}/root"
    printf '%s\n' "${version}" > "${tmp}/root/.complete"
    rm -rf "${dest}"
    mv "${tmp}/root" "${dest}"
    rm -rf "${tmp}"
  fi
  printf '%s\n' "${dest}"
done
