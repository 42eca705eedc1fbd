#!/usr/bin/env bash
# Writes an OCI image layout for one repository, in the shape `oras push --oci-layout DIR:TAG FILE` writes:
# per tag an artifact manifest with an empty config and one layer titled with the file's name, and an
# index.json naming each tag in org.opencontainers.image.ref.name. Existing content of DIR is replaced.
# Usage: oci-layout.sh DIR TAG FILE [TAG FILE ...]
#   e.g. oci-layout.sh /srv/sysexts/hello v1.0-x86-64 hello-v1.0-x86-64.raw v1.1-x86-64 hello-v1.1-x86-64.raw
set -euo pipefail

dir="${1:?layout directory}"
shift
(( $# > 0 && $# % 2 == 0 )) || { echo "usage: $0 DIR TAG FILE [TAG FILE ...]" >&2; exit 2; }

rm -rf "$dir"
mkdir -p "$dir/blobs/sha256"
printf '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"

add_blob() { # $1 = file; prints the digest
  local hex
  hex="$(sha256sum "$1" | cut -d' ' -f1)"
  cp "$1" "$dir/blobs/sha256/$hex"
  printf 'sha256:%s' "$hex"
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
printf '{}' >"$tmp/empty"
config_digest="$(add_blob "$tmp/empty")"

entries=()
while (( $# > 0 )); do
  tag="$1" file="$2"
  shift 2
  layer_digest="$(add_blob "$file")"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.unknown.artifact.v1","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"%s","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.title":"%s"}}]}' \
    "$config_digest" "$layer_digest" "$(stat -c %s "$file")" "$(basename "$file")" >"$tmp/manifest"
  manifest_digest="$(add_blob "$tmp/manifest")"
  entries+=("$(printf '{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}' \
    "$manifest_digest" "$(stat -c %s "$tmp/manifest")" "$tag")")
  echo "added ${tag} ($(basename "$file"), ${layer_digest})"
done

# index.json last, as oras does: a reader never sees tags whose blobs are not there yet.
(IFS=,; printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[%s]}' "${entries[*]}") >"$dir/index.json"
