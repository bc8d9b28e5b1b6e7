#!/bin/sh
# Re-pins the operator image's base (helm/image/Dockerfile, ARG BASE_IMAGE) to the digest a tag
# points to now, e.g. after Red Hat publishes a patched UBI OpenJDK runtime:
#
#   helm/image/pin-base-image.sh registry.access.redhat.com/ubi9/openjdk-17-runtime:1.24
#
# Needs network access to the registry and skopeo (or crane). Review and commit the change: the
# image then builds on exactly that content until the next pin.
set -eu
ref=${1:?usage: $0 REGISTRY/REPOSITORY:TAG}
repository=${ref%:*}
if command -v skopeo >/dev/null 2>&1; then
  digest=$(skopeo inspect --format '{{.Digest}}' "docker://$ref")
elif command -v crane >/dev/null 2>&1; then
  digest=$(crane digest "$ref")
else
  echo "needs skopeo or crane to resolve $ref" >&2
  exit 1
fi
case "$digest" in
  sha256:*) ;;
  *) echo "unexpected digest '$digest' for $ref" >&2; exit 1 ;;
esac
dockerfile=$(dirname "$0")/Dockerfile
sed -i "s|^ARG BASE_IMAGE=.*|ARG BASE_IMAGE=$repository@$digest|" "$dockerfile"
echo "pinned $ref as $repository@$digest in $dockerfile"
