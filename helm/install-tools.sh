#!/usr/bin/env bash
# Installs the tools helm/'s tests need. Idempotent.
# - helm/dashboards-check/node_modules: @grafana/schema + typescript for the dashboard type check
#   (`npm ci` reproduces package-lock.json exactly; no install scripts run).
# - promtool (Debian's prometheus package) for the alert rules: installed when missing and apt-get
#   is usable; otherwise the rules ITs fail and say so.
set -euo pipefail
cd "$(dirname "$0")"
bash ../.mvn/npm-tools.sh dashboards-check  # what the Maven build does (skipped when up to date)
if ! command -v promtool >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq --no-install-recommends prometheus >/dev/null 2>&1 \
      || (apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus >/dev/null)
  else
    echo "helm/install-tools.sh: promtool missing; install Debian's prometheus package" >&2
  fi
fi
command -v promtool >/dev/null 2>&1 && promtool --version 2>&1 | head -1
