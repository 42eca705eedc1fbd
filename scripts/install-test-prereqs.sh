#!/usr/bin/env bash
# Installs everything the tests and the demo need on a Debian 12 (bookworm) machine:
#
#   1. Debian packages (apt, only when missing): docker-registry (distribution 2.8),
#      apache2-utils (htpasswd), nginx-light, gpg, xz-utils, zstd, curl, util-linux,
#      squashfs-tools (the demo builds a real sysext image), chromium and
#      fonts-dejavu-core (headless render of the catalogue page).
#      The packaged docker-registry service is stopped and disabled: tests start
#      their own registry instances, and port 5000 must stay free for the demo.
#   2. systemd 254 from bookworm-backports (systemd, systemd-container,
#      libsystemd-shared), fetched with `apt-get download` under a PRIVATE apt
#      configuration (the system's apt sources are not touched) and unpacked with
#      `dpkg -x` into <repo>/tools/systemd/ (git-ignored). The system's own systemd
#      is never replaced. Use scripts/sysupdate-env.sh to get the environment for
#      the unpacked systemd-sysupdate / systemd-pull.
#   3. cosign 3 (sid) and cosign 2 (trixie) for the signature tests, unpacked by
#      scripts/debian-package.sh into its machine-wide cache and linked as
#      tools/cosign/cosign-3 and tools/cosign/cosign-2 (git-ignored).
#   4. The newer clients the end-to-end tests also run (docs/clients.md): Debian chroots with systemd from
#      trixie (257) and from ${SYSEXT_NEWEST_SUITE} (default testing), built by scripts/systemd-chroot.sh
#      into /var/cache/sysext-functions/chroots/ (cached; rebuilt when a week old), and Debian's oras from
#      the same newest suite, unpacked by scripts/debian-package.sh and linked as tools/oras/oras.
#   5. scripts/install-bicep.sh, when that file exists.
#   6. Verifies the result and prints a summary; exits non-zero when anything is missing.
#
# With --demo [--registry], only what scripts/demo.sh uses: curl and squashfs-tools, systemd 254 in tools/systemd,
# and with --registry also docker-registry and oras. No chromium, nginx, cosign, chroots or Bicep.
#
# Idempotent: a second run checks, finds everything in place and does no network I/O.
# Must run as root (apt-get install). Runs from any working directory.
#
# Environment knobs:
#   SYSTEMD_BACKPORTS_SUITE   suite to fetch systemd from (default: bookworm-backports)
#   FORCE_SYSTEMD_REFRESH=1   re-download and re-unpack tools/systemd even if present
#   SYSEXT_NEWEST_SUITE       Debian suite of the newest client and of oras (default testing; sid works too)
#   FORCE_CHROOT_REBUILD=1    rebuild the chroots now (see scripts/systemd-chroot.sh)
set -euo pipefail
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
TOOLS_DIR="${REPO_ROOT}/tools"
SYSTEMD_DIR="${TOOLS_DIR}/systemd"
STAMP="${SYSTEMD_DIR}/.installed-version"

BACKPORTS_SUITE="${SYSTEMD_BACKPORTS_SUITE:-bookworm-backports}"
SYSTEMD_PKGS=(systemd systemd-container libsystemd-shared)
MIN_SYSTEMD_MAJOR=254
APT_PKGS=(docker-registry apache2-utils nginx-light gpg xz-utils zstd curl util-linux squashfs-tools chromium fonts-dejavu-core)

DEMO=0 DEMO_REGISTRY=0
for arg in "$@"; do
  case "${arg}" in
    --demo) DEMO=1 ;;
    --registry) DEMO_REGISTRY=1 ;;
    *) printf 'ERROR: unknown argument %s (expected --demo [--registry])\n' "${arg}" >&2; exit 2 ;;
  esac
done
if ((DEMO)); then
  APT_PKGS=(curl squashfs-tools)
  ((DEMO_REGISTRY)) && APT_PKGS+=(docker-registry)
fi

export DEBIAN_FRONTEND=noninteractive
# Wait for a concurrent apt/dpkg run instead of failing at once.
APT_LOCK_WAIT=(-o DPkg::Lock::Timeout=300)

log()  { printf '==> %s\n' "$*"; }
warn() { printf 'WARNING: %s\n' "$*" >&2; }
die()  { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

START_TS=$(date +%s)

if [[ "$(id -u)" != 0 ]]; then
  die "must run as root (apt-get install / apt-get download need it)"
fi

# ---------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------
pkg_installed() {
  [[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" == "installed" ]]
}

pkg_has_candidate() {
  local cand
  cand="$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/ {print $2; exit}')"
  [[ -n "${cand}" && "${cand}" != "(none)" ]]
}

missing=()
for p in "${APT_PKGS[@]}"; do
  pkg_installed "$p" || missing+=("$p")
done

JUST_INSTALLED=" "
if ((${#missing[@]})); then
  log "Installing Debian packages: ${missing[*]}"
  need_update=0
  for p in "${missing[@]}"; do
    pkg_has_candidate "$p" || { need_update=1; break; }
  done
  if ((need_update)); then
    log "apt lists lack some packages: running apt-get update"
    apt-get "${APT_LOCK_WAIT[@]}" update -qq
  fi
  install_cmd=(apt-get "${APT_LOCK_WAIT[@]}" install -y -qq --no-install-recommends "${missing[@]}")
  if ! "${install_cmd[@]}"; then
    # Stale lists (e.g. a version that is no longer on the mirror): refresh and retry once.
    ((need_update)) && die "apt-get install failed: ${missing[*]}"
    warn "apt-get install failed; refreshing apt lists and retrying once"
    apt-get "${APT_LOCK_WAIT[@]}" update -qq
    "${install_cmd[@]}" || die "apt-get install failed: ${missing[*]}"
  fi
  JUST_INSTALLED=" ${missing[*]} "
else
  log "Debian packages already installed: ${APT_PKGS[*]}"
fi

systemd_booted() { [[ -d /run/systemd/system ]]; }

# Stops and disables the distribution-provided service NAME (packaged systemd unit
# and/or SysV init script). Cheap no-op when it is neither running nor enabled.
stop_and_disable_service() {
  local name="$1" initd="/etc/init.d/$1"
  if systemd_booted; then
    if systemctl is-active --quiet "${name}.service" 2>/dev/null; then
      log "Stopping packaged ${name}.service"
      systemctl stop "${name}.service" || warn "could not stop ${name}.service"
    fi
  elif [[ -x "${initd}" ]] && "${initd}" status >/dev/null 2>&1; then
    log "Stopping packaged ${name} (init script)"
    "${initd}" stop >/dev/null 2>&1 || warn "could not stop ${name} via ${initd}"
  fi
  # Disable autostart (works offline, also without systemd as PID 1).
  if compgen -G "/etc/systemd/system/*.wants/${name}.service" >/dev/null; then
    log "Disabling ${name}.service autostart"
    systemctl disable --quiet "${name}.service" >/dev/null 2>&1 \
      || deb-systemd-helper disable "${name}.service" >/dev/null 2>&1 \
      || warn "could not disable ${name}.service"
  fi
  if [[ -x "${initd}" ]] && compgen -G "/etc/rc[2-5].d/S[0-9][0-9]${name}" >/dev/null; then
    log "Disabling ${name} init script autostart"
    update-rc.d "${name}" disable >/dev/null 2>&1 || warn "could not disable ${initd}"
  fi
}

# The tests and the demo start their own docker-registry; the packaged one (port 5000) must not run.
pkg_installed docker-registry && stop_and_disable_service docker-registry
# Only touch nginx's default service when this run installed it (it would hold port 80).
if [[ "${JUST_INSTALLED}" == *" nginx-light "* ]]; then
  stop_and_disable_service nginx
fi

# ---------------------------------------------------------------------------
# 2. systemd 254 from bookworm-backports, unpacked into tools/systemd
# ---------------------------------------------------------------------------

systemd_tools_ok() {
  [[ -f "${STAMP}" ]] || return 1
  local bin
  for bin in systemd-sysupdate systemd-pull; do
    [[ -x "${SYSTEMD_DIR}/lib/systemd/${bin}" || -x "${SYSTEMD_DIR}/usr/lib/systemd/${bin}" ]] || return 1
  done
  compgen -G "${SYSTEMD_DIR}/usr/lib/*/systemd/libsystemd-shared-*.so" >/dev/null || return 1
}

fetch_systemd_backports() {
  # Each package is unpacked once into the machine-wide cache (scripts/debian-package.sh: a private apt
  # configuration for the suite, never the system's); tools/systemd is their union.
  log "Fetching ${SYSTEMD_PKGS[*]} from ${BACKPORTS_SUITE}"
  local dirs
  dirs="$(bash "${SCRIPT_DIR}/debian-package.sh" "${BACKPORTS_SUITE}" "${SYSTEMD_PKGS[@]}")" \
    || die "could not unpack ${SYSTEMD_PKGS[*]} from ${BACKPORTS_SUITE}"
  local tmp dir
  tmp="$(mktemp -d "${TOOLS_DIR}/.systemd-unpack.XXXXXX")"
  while IFS= read -r dir; do
    cp -a "${dir}/." "${tmp}/"
  done <<<"${dirs}"
  # The version of the systemd package itself (the first one asked for).
  cat "$(head -n1 <<<"${dirs}")/.complete" > "${tmp}/.installed-version"
  rm -f "${tmp}/.complete"
  rm -rf "${SYSTEMD_DIR}"
  mv "${tmp}" "${SYSTEMD_DIR}"
}

mkdir -p "${TOOLS_DIR}"
if [[ "${FORCE_SYSTEMD_REFRESH:-0}" != 1 ]] && systemd_tools_ok; then
  log "systemd $(cat "${STAMP}") already unpacked in ${SYSTEMD_DIR}"
else
  fetch_systemd_backports
fi

# The demo needs oras only with --registry, and nothing below.
NEWEST_SUITE="${SYSEXT_NEWEST_SUITE:-testing}"
link_oras() {
  local oras_dir
  oras_dir="$("${SCRIPT_DIR}/debian-package.sh" "${NEWEST_SUITE}" oras)" \
    || die "oras from Debian ${NEWEST_SUITE} could not be unpacked; see the message above"
  [[ -x "${oras_dir}/usr/bin/oras" ]] || die "the oras package of ${NEWEST_SUITE} has no usr/bin/oras (${oras_dir})"
  mkdir -p "${TOOLS_DIR}/oras"
  ln -sfn "${oras_dir}/usr/bin/oras" "${TOOLS_DIR}/oras/oras"
}
if ((DEMO)); then
  ((DEMO_REGISTRY)) && link_oras
  # shellcheck source=scripts/sysupdate-env.sh disable=SC1091
  source "${SCRIPT_DIR}/sysupdate-env.sh" || die "the unpacked systemd in ${SYSTEMD_DIR} is incomplete"
  "${SYSUPDATE_BIN}" --version >/dev/null || die "${SYSUPDATE_BIN} does not run"
  log "demo prerequisites present ($(( $(date +%s) - START_TS ))s)"
  exit 0
fi

# ---------------------------------------------------------------------------
# 3. cosign 3 and cosign 2 (Go programs that run on bookworm straight from the package)
# ---------------------------------------------------------------------------
COSIGN_DIR="${TOOLS_DIR}/cosign"
mkdir -p "${COSIGN_DIR}"
for spec in sid:cosign-3 trixie:cosign-2; do
  unpacked="$(bash "${SCRIPT_DIR}/debian-package.sh" "${spec%%:*}" cosign)" \
    || die "could not unpack cosign from ${spec%%:*}"
  [[ -x "${unpacked}/usr/bin/cosign" ]] || die "${unpacked}/usr/bin/cosign is missing"
  ln -sfn "${unpacked}/usr/bin/cosign" "${COSIGN_DIR}/${spec#*:}"
done
# 3b. Newer clients (chroots) and oras
# ---------------------------------------------------------------------------
CLIENT_SUITES=(trixie "${NEWEST_SUITE}")
for suite in "${CLIENT_SUITES[@]}"; do
  "${SCRIPT_DIR}/systemd-chroot.sh" "${suite}" >/dev/null \
    || die "the ${suite} chroot (systemd-sysupdate for the end-to-end tests) could not be built; see the message above"
done
link_oras

# ---------------------------------------------------------------------------
# 4. Bicep CLI (script owned by another component)
# ---------------------------------------------------------------------------
BICEP_SCRIPT="${SCRIPT_DIR}/install-bicep.sh"
if [[ -x "${BICEP_SCRIPT}" ]]; then
  "${BICEP_SCRIPT}"
elif [[ -f "${BICEP_SCRIPT}" ]]; then
  bash "${BICEP_SCRIPT}"
fi

# ---------------------------------------------------------------------------
# 5. Verification and summary
# ---------------------------------------------------------------------------
# shellcheck source=scripts/sysupdate-env.sh disable=SC1091
source "${SCRIPT_DIR}/sysupdate-env.sh" \
  || die "sourcing ${SCRIPT_DIR}/sysupdate-env.sh failed (unpacked systemd incomplete?)"

failures=()
check() { # check LABEL COMMAND... : runs COMMAND, records its first output line
  local label="$1"; shift
  local out
  if out="$("$@" 2>&1)"; then
    printf '  %-18s %s\n' "${label}" "$(head -n1 <<<"${out}")"
  else
    printf '  %-18s MISSING/BROKEN: %s\n' "${label}" "$(head -n1 <<<"${out}")"
    failures+=("${label}")
  fi
}

echo
echo "Summary:"
check docker-registry docker-registry --version
check htpasswd        bash -c 'command -v htpasswd'
check nginx           nginx -v
check gpg             bash -c 'gpg --version | head -n1'
check xz              bash -c 'xz --version | head -n1'
check zstd            zstd --version
check curl            bash -c 'curl --version | head -n1'
check unshare         bash -c 'unshare --version'
check chromium        bash -c '/usr/bin/chromium --version 2>/dev/null'
check systemd-sysupdate "${SYSUPDATE_BIN}" --version
check systemd-pull    "${SYSTEMD_PULL_PATH}" --version
check cosign-3        bash -c "'${COSIGN_DIR}/cosign-3' version >/dev/null 2>&1 && readlink -f '${COSIGN_DIR}/cosign-3'"
check cosign-2        bash -c "'${COSIGN_DIR}/cosign-2' version >/dev/null 2>&1 && readlink -f '${COSIGN_DIR}/cosign-2'"
for suite in "${CLIENT_SUITES[@]}"; do
  check "sysupdate ${suite}" "${SCRIPT_DIR}/systemd-chroot.sh" run "${suite}" -- /usr/lib/systemd/systemd-sysupdate --version
done
check oras            bash -c "'${TOOLS_DIR}/oras/oras' version | head -n1"
if [[ -x "${REPO_ROOT}/tools/bicep/bicep" ]]; then
  check bicep "${REPO_ROOT}/tools/bicep/bicep" --version
fi

sysupdate_major="$("${SYSUPDATE_BIN}" --version 2>/dev/null | awk 'NR==1 {print $2}')"
if ! [[ "${sysupdate_major}" =~ ^[0-9]+$ ]] || ((sysupdate_major < MIN_SYSTEMD_MAJOR)); then
  failures+=("systemd-sysupdate version '${sysupdate_major}' < ${MIN_SYSTEMD_MAJOR}")
fi

if (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null; then
  warn "something is listening on 127.0.0.1:5000 (the demo registry port)"
fi

echo "  SYSUPDATE_BIN=${SYSUPDATE_BIN}"
echo "  SYSTEMD_PULL_PATH=${SYSTEMD_PULL_PATH}"
echo "  LD_LIBRARY_PATH+=${SYSUPDATE_LIB_DIR}"
echo "  (source scripts/sysupdate-env.sh to get these)"

if ((${#failures[@]})); then
  die "test prerequisites incomplete: ${failures[*]}"
fi
echo "All test prerequisites present ($(( $(date +%s) - START_TS ))s)."
