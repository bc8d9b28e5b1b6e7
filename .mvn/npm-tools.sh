#!/usr/bin/env bash
# Installs a folder's npm tools from its package-lock.json when they are missing or stale; the Maven
# build calls it (billing-bridge: solc-js, anvil, forge; helm: @grafana/schema, tsc) so a fresh clone
# needs only the system packages. Up to date = node_modules/.gpupool-lock.sha256 holds the lock
# file's hash: then nothing runs (no network, a few milliseconds). Install scripts are skipped: the
# binaries ship inside the packages.
#   usage: .mvn/npm-tools.sh DIR      (DIR holds package.json and package-lock.json)
set -euo pipefail
dir="${1:?usage: npm-tools.sh DIR}"
cd "$dir"
lock="package-lock.json"
stamp="node_modules/.gpupool-lock.sha256"
[ -f "$lock" ] || { echo "npm-tools: no $lock in $PWD" >&2; exit 1; }

want="$(sha256sum "$lock" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "npm-tools: '$tool' is not installed; the build installs $PWD/node_modules with it." >&2
    echo "npm-tools: install the system packages: sudo apt-get install -y nodejs npm" >&2
    exit 1
  fi
done

echo "npm-tools: installing $PWD/node_modules from $lock (npm ci)" >&2
# --prefer-offline: a machine that installed these once before needs no registry access.
npm ci --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error >&2
echo "$want" >"$stamp"
