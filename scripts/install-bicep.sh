#!/usr/bin/env bash
# Installs the Bicep CLI into <repo>/tools/bicep/bicep from the NuGet package
# Azure.Bicep.CommandLine.linux-x64 (via the machine's configured NuGet source).
# Idempotent: does nothing when the pinned version is already installed.
set -euo pipefail

BICEP_VERSION="${BICEP_VERSION:-0.49.2}"
PACKAGE_ID="Azure.Bicep.CommandLine.linux-x64"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "${SCRIPT_DIR}/.." && pwd)"
DEST_DIR="${REPO_ROOT}/tools/bicep"
DEST="${DEST_DIR}/bicep"

# Keep the dotnet CLI quiet and its telemetry off (bicep itself sends none).
export DOTNET_CLI_TELEMETRY_OPTOUT=1
export DOTNET_NOLOGO=1
export DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# bicep is a self-contained .NET app that is not built invariant: without
# libicu it would abort, so fall back to invariant globalization then.
if ! ldconfig -p 2>/dev/null | grep -q 'libicuuc\.so'; then
  export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1
fi

installed_version() {
  [[ -x "${DEST}" ]] || return 1
  "${DEST}" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n1
}

if [[ "$(installed_version || true)" == "${BICEP_VERSION}" ]]; then
  echo "bicep ${BICEP_VERSION} already installed at ${DEST}"
  exit 0
fi

# Architecture check: the package only ships a linux-x64 binary.
arch="$(uname -m)"
if [[ "${arch}" != "x86_64" ]]; then
  echo "error: ${PACKAGE_ID} only provides an x86_64 binary (this machine: ${arch})" >&2
  exit 1
fi

command -v dotnet >/dev/null 2>&1 || { echo "error: dotnet SDK not found on PATH" >&2; exit 1; }

tmp="$(mktemp -d)"
trap 'rm -rf "${tmp}"' EXIT

cat > "${tmp}/bicep-download.csproj" <<CSPROJ
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net$(dotnet --version | cut -d. -f1-2)</TargetFramework>
    <ImportDirectoryBuildProps>false</ImportDirectoryBuildProps>
    <ImportDirectoryBuildTargets>false</ImportDirectoryBuildTargets>
    <ImportDirectoryPackagesProps>false</ImportDirectoryPackagesProps>
    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="${PACKAGE_ID}" Version="[${BICEP_VERSION}]" />
  </ItemGroup>
</Project>
CSPROJ

echo "Restoring ${PACKAGE_ID} ${BICEP_VERSION} ..."
(cd "${tmp}" && dotnet restore bicep-download.csproj --verbosity quiet)

packages_dir="$(dotnet nuget locals global-packages --list | sed -E 's/^global-packages:[[:space:]]*//' | head -n1)"
pkg_dir="${packages_dir%/}/$(echo "${PACKAGE_ID}" | tr '[:upper:]' '[:lower:]')/${BICEP_VERSION}"
src="$(find "${pkg_dir}" -type f -name bicep 2>/dev/null | head -n1 || true)"
if [[ -z "${src}" ]]; then
  echo "error: bicep binary not found under ${pkg_dir}" >&2
  exit 1
fi

mkdir -p "${DEST_DIR}"
cp -f "${src}" "${DEST}.tmp"
chmod +x "${DEST}.tmp"
mv -f "${DEST}.tmp" "${DEST}"

got="$(installed_version || true)"
if [[ "${got}" != "${BICEP_VERSION}" ]]; then
  echo "error: installed bicep reports version '${got}', expected ${BICEP_VERSION}" >&2
  exit 1
fi
echo "Installed bicep ${got} at ${DEST}"
