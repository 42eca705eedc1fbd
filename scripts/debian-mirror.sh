# shellcheck shell=bash
# Sourced by the scripts that fetch from Debian suites other than the machine's own (install-test-prereqs.sh,
# debian-package.sh, systemd-chroot.sh), so the mirror is derived in one place: the machine's own
# /etc/apt/sources.list.d/debian.sources, never a host name written into the project.
#
#   debian_mirror_entry   prints "URI<TAB>SIGNED_BY" of the enabled deb822 entry that lists bookworm;
#                         prints nothing when there is none; returns 1 when the sources file is unreadable.

DEBIAN_SOURCES="${DEBIAN_SOURCES:-/etc/apt/sources.list.d/debian.sources}"

debian_mirror_entry() {
  if [[ ! -r "${DEBIAN_SOURCES}" ]]; then
    printf '%s not found: cannot derive the Debian mirror\n' "${DEBIAN_SOURCES}" >&2
    return 1
  fi
  awk '
    BEGIN { RS = ""; FS = "\n" }
    {
      uris = ""; suites = ""; sb = ""; types = ""; enabled = "yes"
      for (i = 1; i <= NF; i++) {
        line = $i
        if (line ~ /^[ \t]*#/) continue
        if (line ~ /^Types:/)     { sub(/^Types:[ \t]*/, "", line); types = line }
        if (line ~ /^URIs:/)      { sub(/^URIs:[ \t]*/, "", line); uris = line }
        if (line ~ /^Suites:/)    { sub(/^Suites:[ \t]*/, "", line); suites = line }
        if (line ~ /^Signed-By:/) { sub(/^Signed-By:[ \t]*/, "", line); sb = line }
        if (line ~ /^Enabled:/)   { sub(/^Enabled:[ \t]*/, "", line); enabled = line }
      }
      if (enabled == "no" || types !~ /(^|[ \t])deb([ \t]|$)/) next
      n = split(suites, a, /[ \t]+/)
      for (j = 1; j <= n; j++) if (a[j] == "bookworm") { split(uris, u, /[ \t]+/); print u[1] "\t" sb; exit }
    }' "${DEBIAN_SOURCES}"
}
