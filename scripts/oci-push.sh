#!/usr/bin/env bash
# Pushes one file to an OCI registry the way `oras push REGISTRY/REPO:TAG FILE` does, with nothing but curl:
# an artifact manifest with an empty config and one layer titled with the file's name.
# Usage: oci-push.sh http://127.0.0.1:5000 sysexts/hello v1.0 hello-v1.0.raw
# Anonymous registries only; use oras, skopeo or docker for real ones.
set -euo pipefail

registry="${1:?registry URL}"
repository="${2:?repository}"
tag="${3:?tag}"
file="${4:?file}"

push_blob() { # $1 = file; prints the digest
  local digest location
  digest="sha256:$(sha256sum "$1" | cut -d' ' -f1)"
  location="$(curl -fsS -X POST -o /dev/null -D - "${registry}/v2/${repository}/blobs/uploads/" \
    | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')"
  [[ "$location" == http* ]] || location="${registry}${location}"
  if [[ "$location" == *\?* ]]; then location="${location}&digest=${digest}"; else location="${location}?digest=${digest}"; fi
  curl -fsS -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$1" -o /dev/null "$location"
  printf '%s' "$digest"
}

empty="$(mktemp)"
trap 'rm -f "$empty"' EXIT
printf '{}' >"$empty"

config_digest="$(push_blob "$empty")"
layer_digest="$(push_blob "$file")"
size="$(stat -c %s "$file")"
title="$(basename "$file")"

manifest="$(cat <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.unknown.artifact.v1","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"${config_digest}","size":2},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"${layer_digest}","size":${size},"annotations":{"org.opencontainers.image.title":"${title}"}}]}
JSON
)"
curl -fsS -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary "$manifest" -o /dev/null \
  "${registry}/v2/${repository}/manifests/${tag}"
echo "pushed ${repository}:${tag} (${title}, ${layer_digest})"
