# shellcheck shell=bash
# Source this file (bash) to use the systemd 254 tools that
# scripts/install-test-prereqs.sh unpacked into <repo>/tools/systemd/:
#
#   source scripts/sysupdate-env.sh
#   "$SYSUPDATE_BIN" --definitions=DIR --root=DIR --verify=no list
#
# Exports:
#   SYSUPDATE_TOOLS_DIR     <repo>/tools/systemd
#   SYSUPDATE_BIN           unpacked systemd-sysupdate
#   SYSTEMD_PULL_PATH       unpacked systemd-pull (systemd-sysupdate execs the binary named
#                           by this variable; without it, it wants /lib/systemd/systemd-pull)
#   SYSTEMD_IMPORT_PATH     unpacked systemd-import     (same mechanism, for local sources)
#   SYSTEMD_IMPORT_FS_PATH  unpacked systemd-import-fs  (same mechanism, for local sources)
#   SYSUPDATE_LIB_DIR       directory holding libsystemd-shared-254.so
#   LD_LIBRARY_PATH         SYSUPDATE_LIB_DIR prepended (only once). It only holds
#                           libsystemd-shared-254.so / libsystemd-core-254.so, whose names
#                           no system binary asks for, so it is harmless for other programs.
#
# Returns non-zero (without exiting the calling shell) when the tools are not unpacked.

_sysupdate_env_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/tools/systemd"

_sysupdate_env_find() { # first existing executable among lib/systemd/NAME, usr/lib/systemd/NAME
  local c
  for c in "${_sysupdate_env_dir}/lib/systemd/$1" "${_sysupdate_env_dir}/usr/lib/systemd/$1"; do
    if [[ -x "$c" ]]; then printf '%s\n' "$c"; return 0; fi
  done
  return 1
}

_sysupdate_env_setup() {
  local lib
  if ! SYSUPDATE_BIN="$(_sysupdate_env_find systemd-sysupdate)" \
     || ! SYSTEMD_PULL_PATH="$(_sysupdate_env_find systemd-pull)"; then
    echo "sysupdate-env.sh: systemd tools not found in ${_sysupdate_env_dir};" \
         "run scripts/install-test-prereqs.sh first" >&2
    return 1
  fi
  lib="$(compgen -G "${_sysupdate_env_dir}/usr/lib/*/systemd/libsystemd-shared-*.so" | head -n1 || true)"
  if [[ -z "${lib}" ]]; then
    echo "sysupdate-env.sh: libsystemd-shared-*.so not found in ${_sysupdate_env_dir}" >&2
    return 1
  fi
  SYSUPDATE_LIB_DIR="$(dirname "${lib}")"
  SYSUPDATE_TOOLS_DIR="${_sysupdate_env_dir}"
  SYSTEMD_IMPORT_PATH="$(_sysupdate_env_find systemd-import || true)"
  SYSTEMD_IMPORT_FS_PATH="$(_sysupdate_env_find systemd-import-fs || true)"
  case ":${LD_LIBRARY_PATH:-}:" in
    *":${SYSUPDATE_LIB_DIR}:"*) ;;
    *) LD_LIBRARY_PATH="${SYSUPDATE_LIB_DIR}${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}" ;;
  esac
  export SYSUPDATE_TOOLS_DIR SYSUPDATE_BIN SYSTEMD_PULL_PATH SYSUPDATE_LIB_DIR LD_LIBRARY_PATH
  if [[ -n "${SYSTEMD_IMPORT_PATH}" ]]; then export SYSTEMD_IMPORT_PATH; else unset SYSTEMD_IMPORT_PATH; fi
  if [[ -n "${SYSTEMD_IMPORT_FS_PATH}" ]]; then export SYSTEMD_IMPORT_FS_PATH; else unset SYSTEMD_IMPORT_FS_PATH; fi
}

if [[ "${BASH_SOURCE[0]}" == "${0}" ]]; then
  echo "sysupdate-env.sh: source this file (source scripts/sysupdate-env.sh), do not execute it" >&2
fi
_sysupdate_env_setup
_sysupdate_env_rc=$?
unset -f _sysupdate_env_find _sysupdate_env_setup
unset _sysupdate_env_dir
# The status of the last command is the status of `source`.
eval "unset _sysupdate_env_rc; [[ ${_sysupdate_env_rc} -eq 0 ]]"
