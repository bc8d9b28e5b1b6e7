#!/usr/bin/env bash
# Installs the billing-bridge chain toolchain (solc-js, forge, anvil) from the npm registry into
# billing-bridge/contracts/node_modules. Idempotent: `npm ci` reproduces package-lock.json exactly.
# Install scripts are skipped: the binaries ship inside the platform packages and nothing is downloaded.
set -euo pipefail
cd "$(dirname "$0")/contracts"
bash ../../.mvn/npm-tools.sh .  # the same install the Maven build does (skipped when up to date)
for tool in anvil forge; do
  bin="node_modules/@foundry-rs/${tool}-linux-amd64/bin/${tool}"
  if [[ -x "$bin" ]]; then "$bin" --version | head -1; else echo "warning: $bin missing (not linux-amd64?)" >&2; fi
done
