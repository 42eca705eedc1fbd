#!/usr/bin/env bash
# Builds and lints the Bicep templates under infra/ with the pinned Bicep CLI
# (scripts/install-bicep.sh). Fails on any diagnostic: errors, warnings and
# linter findings alike (infra/bicepconfig.json raises linter rules to error,
# and any printed diagnostic fails here too, since `bicep lint` exits 0 on warnings).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
BICEP="${REPO_ROOT}/tools/bicep/bicep"
INFRA="${REPO_ROOT}/infra"

# The Bicep CLI sends no telemetry, but it is a .NET app that needs ICU unless
# globalization is invariant (diagnostics are the same either way).
if ! ldconfig -p 2>/dev/null | grep -q 'libicuuc\.so'; then
  export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
fi
# Deterministic parameter-file builds: ignore whatever the caller's shell has set.
unset AZURE_ENV_NAME AZURE_REGISTRY_NAME AZURE_REGISTRY_RESOURCE_GROUP SYSEXT_SIGNING_KEY_SECRET_URI

if [[ ! -x "${BICEP}" ]]; then
  echo "error: ${BICEP} not found; run scripts/install-bicep.sh first" >&2
  exit 1
fi

# Every build prefetches the public module index (a DNS lookup and, if that
# resolves, an HTTPS request) in the background; no setting turns it off. It
# only serves public registry modules, which infra/ does not use, and fails
# quietly offline. Where we may, run bicep without a network so results never
# depend on it.
isolate=()
if unshare --net true 2>/dev/null; then
  isolate=(unshare --net)
fi

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT

failed=0
# run LABEL CMD...: runs a bicep command; any output (bicep prints only
# diagnostics when the result goes to a file) or a non-zero exit is a failure.
run() {
  local label="$1"; shift
  local out rc=0
  out="$("$@" 2>&1)" || rc=$?
  if [[ ${rc} -ne 0 || -n "${out}" ]]; then
    echo "FAIL: ${label} (exit ${rc})" >&2
    [[ -n "${out}" ]] && printf '%s\n' "${out}" >&2
    failed=1
  fi
}

run "bicep build main.bicep" "${isolate[@]}" "${BICEP}" build "${INFRA}/main.bicep" --outdir "${tmp}"
run "bicep lint main.bicep" "${isolate[@]}" "${BICEP}" lint "${INFRA}/main.bicep"
shopt -s nullglob
for params in "${INFRA}"/*.bicepparam; do
  name="$(basename "${params}")"
  run "bicep build-params ${name}" "${isolate[@]}" "${BICEP}" build-params "${params}" --outfile "${tmp}/${name%.bicepparam}.parameters.json"
  run "bicep lint ${name}" "${isolate[@]}" "${BICEP}" lint "${params}"
done

# azd's main.parameters.json is plain JSON with ${VAR} placeholders: it must
# parse and name only parameters the template declares.
if [[ -f "${INFRA}/main.parameters.json" && -f "${tmp}/main.json" ]]; then
  run "main.parameters.json matches main.bicep" python3 - "${INFRA}/main.parameters.json" "${tmp}/main.json" <<'PY'
import json, sys
params = json.load(open(sys.argv[1]))["parameters"]
declared = json.load(open(sys.argv[2]))["parameters"]
unknown = sorted(set(params) - set(declared))
missing = sorted(n for n, p in declared.items() if "defaultValue" not in p and n not in params)
if unknown:
    print("unknown parameters: " + ", ".join(unknown))
if missing:
    print("required parameters without a value: " + ", ".join(missing))
sys.exit(1 if unknown or missing else 0)
PY
fi

if [[ ${failed} -ne 0 ]]; then
  exit 1
fi
echo "OK: infra/ builds and lints clean ($("${BICEP}" --version))"
